package mailconn

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// nested builds a mail whose multiparts are nested depth deep.
func nested(depth int) []byte {
	var b strings.Builder
	b.WriteString("From: a@example.bg\r\nSubject: x\r\nMIME-Version: 1.0\r\n")
	for i := range depth {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n", i, i)
	}
	b.WriteString("Content-Type: text/plain\r\n\r\nдълбоко\r\n")
	for i := depth - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\r\n", i)
	}
	return []byte(b.String())
}

// manyParts builds a mail with n attachments.
func manyParts(n int) []byte {
	var b strings.Builder
	b.WriteString("From: a@example.bg\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"x\"\r\n\r\n")
	for i := range n {
		fmt.Fprintf(&b, "--x\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"f%d.bin\"\r\n\r\n%d\r\n", i, i)
	}
	b.WriteString("--x--\r\n")
	return []byte(b.String())
}

func TestParseLimits(t *testing.T) {
	lim := limits{parts: 10, depth: 3}
	if m, err := parseMail(nested(3), lim); err != nil || strings.TrimSpace(m.Text) != "дълбоко" {
		t.Errorf("depth 3: %v %+v", err, m)
	}
	if _, err := parseMail(nested(4), lim); !errors.Is(err, errLimit) || !strings.Contains(err.Error(), "max_depth") {
		t.Errorf("depth 4: %v, want max_depth", err)
	}
	if m, err := parseMail(manyParts(9), lim); err != nil || len(m.Attachments) != 9 {
		t.Errorf("9 parts and the multipart: %v", err)
	}
	if _, err := parseMail(manyParts(10), lim); !errors.Is(err, errLimit) || !strings.Contains(err.Error(), "max_parts") {
		t.Errorf("11 parts: %v, want max_parts", err)
	}
}

func TestParsePDFMail(t *testing.T) {
	pdf := testPDF()
	m, err := parseMail(mailWithPDF(3, pdf), limits{parts: 10, depth: 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Attachments) != 1 || !bytes.Equal(m.Attachments[0].Content, pdf) || m.Attachments[0].Filename != "заявление.pdf" {
		t.Fatalf("attachment %+v", m.Attachments)
	}
	if m.Subject != "Заявление 3" || m.From[0] != "Иван Петров <ivan.petrov@example.bg>" || m.Date != "2026-12-04T08:00:00Z" {
		t.Errorf("headers %q %q %q", m.Subject, m.From, m.Date)
	}
}

func TestMaskHidesPersonalData(t *testing.T) {
	for in, want := range map[string]string{
		"Иван Петров <ivan.petrov@example.bg>": "i***@e***.bg",
		"ivan@mail.example.bg":                 "i***@m***.bg",
		"not-an-address":                       "n***",
		"":                                     "",
	} {
		if got := maskAddr(in); got != want {
			t.Errorf("maskAddr(%q) = %q, want %q", in, got, want)
		}
	}
	if got := maskSubject("Заявление от Иван Петров"); strings.Contains(got, "Иван") {
		t.Errorf("maskSubject shows the subject: %q", got)
	}
}

func FuzzParseMail(f *testing.F) {
	f.Add(mailWithPDF(1, []byte("%PDF-1.4")))
	f.Add(nested(5))
	f.Add(manyParts(3))
	f.Add([]byte("From: =?windows-1251?Q?=C8=E2=E0=ED?= <a@b>\r\nContent-Type: text/plain; charset=koi8-r\r\n\r\n\xf0\xf2\xe9\xf7\xe5\xf4"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := parseMail(raw, limits{parts: 20, depth: 4})
		if err == nil && m == nil {
			t.Fatal("no mail and no error")
		}
		if err == nil && len(m.Attachments) > 20 {
			t.Fatalf("%d attachments past max_parts 20", len(m.Attachments))
		}
	})
}
