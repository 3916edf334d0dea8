package mailconn

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/smtp"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/connectors/connectortest"
	"github.com/aiskao/aiskao/connectors/mail/mailtest"
	"github.com/aiskao/aiskao/fault"
	"github.com/aiskao/aiskao/spec"
)

func mustSink(t *testing.T, c *Config) *sink {
	t.Helper()
	if c.Timeout == 0 {
		c.Timeout = spec.Duration(10 * time.Second)
	}
	s, err := newSink(c, connectors.Env{Name: "out"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// waitMails returns the mails of INBOX once there are n, or fails after 20 s.
func waitMails(t *testing.T, srv *mailtest.Server, n int) [][]byte {
	t.Helper()
	c := srv.Client(t)
	deadline := time.Now().Add(20 * time.Second)
	for {
		raws, _ := srv.FetchAll(t, c, "INBOX")
		if len(raws) >= n || time.Now().After(deadline) {
			if len(raws) != n {
				t.Fatalf("%d mails in the mailbox, want %d", len(raws), n)
			}
			return raws
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestSMTPSinkDeliversWithAttachment(t *testing.T) {
	srv := mailtest.Start(t)
	pdf := testPDF()
	for i, auth := range []string{AuthPlain, AuthLogin} {
		cfg := smtpConfig(srv)
		cfg.Auth = auth
		s := mustSink(t, cfg)
		body, _ := json.Marshal(Mail{
			To: []string{"Hub <hub@localhost>"}, Subject: fmt.Sprintf("Отговор по заявление %d", i),
			Text:        "Уважаеми г-н Петров, прилагаме удостоверението.",
			Attachments: []Attachment{{Filename: "удостоверение.pdf", ContentType: "application/pdf", Content: pdf}},
		})
		msg := message.NewMessage(fmt.Sprintf("0b1f5f7e-0000-4000-8000-00000000000%d", i), body)
		if err := s.Send(context.Background(), msg); err != nil {
			t.Fatalf("%s: %v", auth, err)
		}
		raws := waitMails(t, srv, i+1)
		got, err := parseMail(raws[i], limits{parts: 10, depth: 4})
		if err != nil {
			t.Fatal(err)
		}
		if got.Subject != fmt.Sprintf("Отговор по заявление %d", i) || !strings.Contains(got.Text, "Петров") {
			t.Errorf("%s: subject %q text %q", auth, got.Subject, got.Text)
		}
		if len(got.From) != 1 || got.From[0] != "Община Примерно <deloviodstvo@example.bg>" {
			t.Errorf("%s: from %q", auth, got.From)
		}
		if got.MessageID != msg.UUID+"@aiskao" {
			t.Errorf("%s: message id %q", auth, got.MessageID)
		}
		if len(got.Attachments) != 1 || got.Attachments[0].Filename != "удостоверение.pdf" || !bytes.Equal(got.Attachments[0].Content, pdf) {
			t.Errorf("%s: the PDF did not arrive intact", auth)
		}
	}
}

func TestSMTPSinkRawAndImplicitTLSRefusal(t *testing.T) {
	srv := mailtest.Start(t)
	cfg := smtpConfig(srv)
	cfg.Format = FormatRaw
	raw := mailWithPDF(7, testPDF())
	if err := mustSink(t, cfg).Send(context.Background(), message.NewMessage("raw-1", raw)); err != nil {
		t.Fatal(err)
	}
	got := waitMails(t, srv, 1)
	if !bytes.Contains(got[0], raw[bytes.Index(raw, []byte("--b1")):]) {
		t.Error("the raw mail's body changed on the way")
	}
	// Implicit TLS against a port that speaks plain SMTP first: the handshake fails, retryable.
	cfg = smtpConfig(srv)
	cfg.Security = SecTLS
	err := mustSink(t, cfg).Send(context.Background(), message.NewMessage("x", []byte(`{"to":["hub@localhost"],"subject":"x"}`)))
	if err == nil || fault.IsPermanent(err) {
		t.Errorf("implicit TLS to a STARTTLS port: %v, want a retryable error", err)
	}
}

func TestSMTPSinkErrors(t *testing.T) {
	srv := mailtest.Start(t)
	good := `{"to":["hub@localhost"],"subject":"Тест"}`
	cases := []struct {
		name      string
		cfg       func(*Config)
		payload   string
		permanent bool
		want      string
	}{
		{"wrong password is 5xx", func(c *Config) { c.Password = "wrong" }, good, true, "535"},
		{"4xx is retried", nil, `{"to":["busy@localhost"]}`, false, "450"},
		{"5xx recipient is permanent", nil, `{"to":["gone@localhost"]}`, true, "550"},
		{"closed port is retried", func(c *Config) { c.Port = mailtest.FreePort(t) }, good, false, "connect"},
		{"not a mail object", nil, `[1,2]`, true, "not a mail object"},
		{"bad recipient", nil, `{"to":["not an address"]}`, true, "to item 1"},
		{"no recipient", nil, `{"subject":"x"}`, true, "no recipient"},
		{"unknown CA", func(c *Config) { c.CA = writeOtherCA(t) }, good, false, "certificate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := smtpConfig(srv)
			if tc.cfg != nil {
				tc.cfg(cfg)
			}
			err := mustSink(t, cfg).Send(context.Background(), message.NewMessage("e", []byte(tc.payload)))
			if err == nil || fault.IsPermanent(err) != tc.permanent || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v (permanent %v), want permanent=%v containing %q", err, fault.IsPermanent(err), tc.permanent, tc.want)
			}
			if strings.Contains(err.Error(), "@localhost") {
				t.Errorf("the error shows an address unmasked: %v", err)
			}
		})
	}
}

func writeOtherCA(t *testing.T) string {
	ca, _, _ := mailtest.WriteCert(t, t.TempDir())
	return ca
}

// fakeSMTP answers like a server without STARTTLS, or one that offers AUTH without TLS, and
// records whether a password was sent.
func fakeSMTP(t *testing.T, ehlo string) (port int, got *bytes.Buffer) {
	t.Helper()
	l := listen(t)
	got = new(bytes.Buffer)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		fmt.Fprint(c, "220 fake ESMTP\r\n")
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			got.WriteString(line)
			switch cmd := strings.ToUpper(strings.Fields(line + " x")[0]); cmd {
			case "EHLO":
				fmt.Fprint(c, ehlo)
			case "QUIT":
				fmt.Fprint(c, "221 bye\r\n")
				return
			default:
				fmt.Fprint(c, "250 ok\r\n")
			}
		}
	}()
	return l.Addr().(*net.TCPAddr).Port, got
}

func TestSMTPSinkRefusesWithoutSTARTTLS(t *testing.T) {
	port, got := fakeSMTP(t, "250-fake\r\n250 AUTH PLAIN LOGIN\r\n")
	cfg := &Config{Protocol: ProtoSMTP, Host: "127.0.0.1", Port: port, Username: "u", Password: "секрет", From: "a@example.bg"}
	err := mustSink(t, cfg).Send(context.Background(), message.NewMessage("s", []byte(`{"to":["b@example.bg"]}`)))
	if err == nil || !fault.IsPermanent(err) || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("got %v, want a permanent refusal naming STARTTLS", err)
	}
	time.Sleep(50 * time.Millisecond)
	if strings.Contains(got.String(), "AUTH") || strings.Contains(got.String(), "MAIL") {
		t.Errorf("the sink went on without TLS: %q", got.String())
	}
}

func TestAuthRefusedWithoutTLS(t *testing.T) {
	for name, a := range map[string]smtp.Auth{"plain": plainAuth{"u", "p"}, "login": loginAuth{"u", "p"}} {
		if _, _, err := a.Start(&smtp.ServerInfo{Name: "x", TLS: false}); err == nil {
			t.Errorf("%s: started without TLS", name)
		}
		if _, _, err := a.Start(&smtp.ServerInfo{Name: "x", TLS: true}); err != nil {
			t.Errorf("%s: refused over TLS: %v", name, err)
		}
	}
}

func TestSMTPSinkBuildsNoInjectedHeaders(t *testing.T) {
	s := mustSink(t, &Config{Protocol: ProtoSMTP, Host: "h", From: "a@example.bg"})
	body, _ := json.Marshal(Mail{
		To: []string{"b@example.bg"}, Subject: "Отговор\r\nBcc: evil@example.com",
		Attachments: []Attachment{{Filename: "a.pdf\r\nBcc: evil@example.com", ContentType: "application/pdf", Content: []byte("%PDF")}},
	})
	_, rcpts, raw, err := s.build(message.NewMessage("id-1", body))
	if err != nil {
		t.Fatal(err)
	}
	if len(rcpts) != 1 || bytes.Contains(bytes.ToLower(raw), []byte("\nbcc:")) {
		t.Errorf("a header was injected: recipients %v\n%s", rcpts, raw)
	}
	body, _ = json.Marshal(Mail{To: []string{"b@example.bg"}, Attachments: []Attachment{{Filename: "a", ContentType: "text/plain\r\nBcc: evil@example.com"}}})
	if _, _, _, err := s.build(message.NewMessage("id-2", body)); err == nil || !strings.Contains(err.Error(), "content_type") {
		t.Errorf("a content type with a line break: %v", err)
	}
	body, _ = json.Marshal(Mail{To: []string{"b@example.bg", "c@example.bg"}, Bcc: []string{"d@example.bg"}, Subject: "x"})
	_, rcpts, raw, err = s.build(message.NewMessage("id-3", body))
	if err != nil || len(rcpts) != 3 || bytes.Contains(raw, []byte("d@example.bg")) {
		t.Errorf("bcc must be a recipient but not a header: %v %v\n%s", err, rcpts, raw)
	}
}

// TestImplicitTLS reads and sends over TLS from the first byte (ports 993 and 465 in practice).
func TestImplicitTLS(t *testing.T) {
	srv := mailtest.Start(t)
	cfg := smtpConfig(srv)
	cfg.Security, cfg.Port = SecTLS, srv.SMTPSPort
	body := []byte(`{"to":["hub@localhost"],"subject":"През TLS","text":"здравейте"}`)
	if err := mustSink(t, cfg).Send(context.Background(), message.NewMessage("tls-1", body)); err != nil {
		t.Fatalf("send over implicit TLS: %v", err)
	}
	waitMails(t, srv, 1)

	icfg := imapConfig(srv)
	icfg.Security, icfg.Port = SecTLS, srv.IMAPSPort
	st := connectortest.NewStore(t)
	rec := &recorder{}
	run(t, mustSource(t, icfg, st), rec, func() bool { return savedUID(t, st) == 1 }, 20*time.Second)
	if ids := rec.ids(); len(ids) != 1 || rec.msgs[0].Metadata.Get(MetaSubject) != "През TLS" {
		t.Fatalf("read over implicit TLS: %d messages", len(ids))
	}
}
