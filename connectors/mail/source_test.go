package mailconn

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/emersion/go-imap"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/connectors/connectortest"
	"github.com/aiskao/aiskao/connectors/mail/mailtest"
	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/store"
)

// testPDF is a small PDF with every byte value after its header, so that any re-encoding shows.
func testPDF() []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n")
	for i := range 4096 {
		b.WriteByte(byte(i * 31))
	}
	b.WriteString("\n%%EOF\n")
	return b.Bytes()
}

// mailWithPDF is an RFC 5322 mail as a mail program writes it: Cyrillic subject and text in
// windows-1251 quoted-printable, a PDF attachment in base64 with a Cyrillic file name.
func mailWithPDF(n int, pdf []byte) []byte {
	enc := base64.StdEncoding.EncodeToString(pdf)
	var lines []string
	for len(enc) > 76 {
		lines, enc = append(lines, enc[:76]), enc[76:]
	}
	lines = append(lines, enc)
	return []byte(strings.ReplaceAll(fmt.Sprintf(`From: =?UTF-8?B?0JjQstCw0L0g0J/QtdGC0YDQvtCy?= <ivan.petrov@example.bg>
To: hub@localhost
Subject: =?UTF-8?B?0JfQsNGP0LLQu9C10L3QuNC1?= %d
Date: Fri, 4 Dec 2026 10:00:00 +0200
Message-ID: <app-%d@example.bg>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain; charset=windows-1251
Content-Transfer-Encoding: quoted-printable

=C7=E0=FF=E2=EB=E5=ED=E8=E5 =E7=E0 =F3=E4=EE=F1=F2=EE=E2=E5=F0=E5=ED=E8=E5
--b1
Content-Type: application/pdf; name="=?UTF-8?B?0LfQsNGP0LLQu9C10L3QuNC1LnBkZg==?="
Content-Disposition: attachment; filename="=?UTF-8?B?0LfQsNGP0LLQu9C10L3QuNC1LnBkZg==?="
Content-Transfer-Encoding: base64

%s
--b1--
`, n, n, strings.Join(lines, "\n")), "\n", "\r\n"))
}

func mustSource(t *testing.T, c *Config, st store.Store) *source {
	t.Helper()
	if c.PollInterval == 0 {
		c.PollInterval = spec.Duration(50 * time.Millisecond)
	}
	src, err := newSource(c, connectors.Env{Name: "mailbox", State: st})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// recorder is an emit that keeps every message it stored, in order.
type recorder struct {
	mu   sync.Mutex
	msgs []*message.Message
	// crashAt, when positive, makes the call of that number store its messages and then end the
	// source's goroutine without returning, as a hub killed right after storing would.
	crashAt int
	calls   int
}

func (r *recorder) emit(_ context.Context, msgs ...*message.Message) error {
	r.mu.Lock()
	r.msgs = append(r.msgs, msgs...)
	r.calls++
	crash := r.calls == r.crashAt
	r.mu.Unlock()
	if crash {
		runtime.Goexit()
	}
	return nil
}

func (r *recorder) ids() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []string
	for _, m := range r.msgs {
		ids = append(ids, m.UUID)
	}
	return ids
}

// run runs src until wait returns true or max passes, then stops it.
func run(t *testing.T, src *source, r *recorder, wait func() bool, max time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = src.Run(ctx, r.emit) }()
	deadline := time.Now().Add(max)
	for !wait() && time.Now().Before(deadline) {
		select {
		case <-done:
			cancel()
			return // crashed
		case <-time.After(50 * time.Millisecond):
		}
	}
	cancel()
	<-done
}

func TestIMAPSourceMailWithPDF(t *testing.T) {
	srv := mailtest.Start(t)
	c := srv.Client(t)
	pdf := testPDF()
	raw := mailWithPDF(1, pdf)
	srv.Append(t, c, "INBOX", raw)

	for _, format := range []string{FormatJSON, FormatRaw} {
		t.Run(format, func(t *testing.T) {
			if format == FormatRaw { // the JSON run marked the first one \Seen; a new one for this run
				srv.Append(t, c, "INBOX", raw)
			}
			cfg := imapConfig(srv)
			cfg.Format = format
			st := connectortest.NewStore(t)
			if format == FormatRaw {
				// Go on from the first mail, as the same connector would.
				if err := st.PutState(context.Background(), "connector:mailbox", stateKey, mustJSON(t, position{Mailbox: "INBOX", UIDValidity: uidValidity(t, c), UID: 1})); err != nil {
					t.Fatal(err)
				}
			}
			rec := &recorder{}
			run(t, mustSource(t, cfg, st), rec, func() bool { return len(rec.ids()) >= 1 }, 20*time.Second)
			time.Sleep(200 * time.Millisecond)
			if n := len(rec.ids()); n != 1 {
				t.Fatalf("got %d messages, want 1", n)
			}
			m := rec.msgs[0]
			if got := m.Metadata.Get(MetaMessageID); got != "app-1@example.bg" {
				t.Errorf("message id metadata %q", got)
			}
			if got := m.Metadata.Get(MetaFrom); !strings.Contains(got, "ivan.petrov@example.bg") || !strings.Contains(got, "Иван Петров") {
				t.Errorf("from metadata %q", got)
			}
			if got := m.Metadata.Get(MetaSubject); got != "Заявление 1" {
				t.Errorf("subject metadata %q", got)
			}
			if format == FormatRaw {
				if !bytes.Equal(m.Payload, raw) {
					t.Errorf("raw payload differs from the mail appended (%d vs %d bytes)", len(m.Payload), len(raw))
				}
				return
			}
			var got Mail
			if err := json.Unmarshal(m.Payload, &got); err != nil {
				t.Fatalf("payload not JSON: %v", err)
			}
			if len(got.Attachments) != 1 {
				t.Fatalf("%d attachments, want 1", len(got.Attachments))
			}
			a := got.Attachments[0]
			if a.Filename != "заявление.pdf" || a.ContentType != "application/pdf" {
				t.Errorf("attachment %q %q", a.Filename, a.ContentType)
			}
			if !bytes.Equal(a.Content, pdf) {
				t.Errorf("the PDF changed on the way: %d bytes, want %d", len(a.Content), len(pdf))
			}
			if strings.TrimSpace(got.Text) != "Заявление за удостоверение" {
				t.Errorf("text %q: windows-1251 not decoded", got.Text)
			}
			_, flags := srv.FetchAll(t, c, "INBOX")
			if !slices.Contains(flags[0], imap.SeenFlag) {
				t.Errorf("the taken mail is not \\Seen: %v", flags[0])
			}
		})
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func uidValidity(t *testing.T, c interface {
	Select(string, bool) (*imap.MailboxStatus, error)
}) uint32 {
	t.Helper()
	mb, err := c.Select("INBOX", true)
	if err != nil {
		t.Fatal(err)
	}
	return mb.UidValidity
}

// TestIMAPSourceCrashNeitherRepeatsNorSkips stops the source as a killed hub would: right after
// the hub stored a batch, before the mails were marked and the position remembered. The restarted
// source takes that batch again under the same ids (which the routes' idempotency drops) and then
// the rest: every mail arrives, none under two ids, none outside the crashed batch twice.
func TestIMAPSourceCrashNeitherRepeatsNorSkips(t *testing.T) {
	for _, after := range []string{AfterSeen, AfterMove} {
		t.Run(after, func(t *testing.T) {
			srv := mailtest.Start(t)
			c := srv.Client(t)
			const total = 23
			for i := range total {
				srv.Append(t, c, "INBOX", mailWithPDF(i, []byte(fmt.Sprintf("%%PDF-1.4 %d", i))))
			}
			st := connectortest.NewStore(t)
			cfg := func() *Config {
				c := imapConfig(srv)
				c.After, c.MoveTo = after, "Taken"
				return c
			}
			first := &recorder{crashAt: 3}
			run(t, mustSource(t, cfg(), st), first, func() bool { return false }, 20*time.Second)
			if n := len(first.ids()); n != 15 {
				t.Fatalf("before the crash %d messages stored, want 3 batches of 5", n)
			}
			second := &recorder{}
			run(t, mustSource(t, cfg(), st), second, func() bool { return savedUID(t, st) == total }, 20*time.Second)

			byID := map[string]string{} // id to subject
			for _, m := range append(slices.Clone(first.msgs), second.msgs...) {
				subj := m.Metadata.Get(MetaSubject)
				if prev, ok := byID[m.UUID]; ok && prev != subj {
					t.Fatalf("id %s names two mails: %q and %q", m.UUID, prev, subj)
				}
				byID[m.UUID] = subj
			}
			subjects := map[string]int{}
			for _, s := range byID {
				subjects[s]++
			}
			for i := range total {
				if s := fmt.Sprintf("Заявление %d", i); subjects[s] != 1 {
					t.Errorf("mail %q arrived under %d ids, want 1", s, subjects[s])
				}
			}
			// Only the batch stored at the crash is taken again.
			again := 0
			for _, id := range second.ids() {
				if slices.Contains(first.ids(), id) {
					again++
				}
			}
			if again != 5 || len(second.ids()) != total-10 {
				t.Errorf("after the restart %d messages, %d of them again; want %d, 5 again", len(second.ids()), again, total-10)
			}
			// And a third start takes nothing.
			third := &recorder{}
			run(t, mustSource(t, cfg(), st), third, func() bool { return false }, time.Second)
			if n := len(third.ids()); n != 0 {
				t.Errorf("a restart with nothing new took %d mails", n)
			}
			raws, flags := srv.FetchAll(t, c, "INBOX")
			switch after {
			case AfterMove:
				if len(raws) != 0 {
					t.Errorf("%d mails left in INBOX after move", len(raws))
				}
				if moved, _ := srv.FetchAll(t, c, "Taken"); len(moved) != total {
					t.Errorf("%d mails in Taken, want %d", len(moved), total)
				}
			case AfterSeen:
				for i, f := range flags {
					if !slices.Contains(f, imap.SeenFlag) {
						t.Errorf("mail %d not \\Seen", i)
					}
				}
			}
		})
	}
}

// savedUID returns the last UID the source remembered.
func savedUID(t *testing.T, st store.Store) uint32 {
	b, err := st.GetState(context.Background(), "connector:mailbox", stateKey)
	if err != nil {
		return 0
	}
	var p position
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	return p.UID
}

func TestIMAPSourceLeavesMailOverMaxSize(t *testing.T) {
	srv := mailtest.Start(t)
	c := srv.Client(t)
	srv.Append(t, c, "INBOX", mailWithPDF(1, bytes.Repeat([]byte("%PDF"), 4096)))
	srv.Append(t, c, "INBOX", mailWithPDF(2, []byte("%PDF-1.4")))
	cfg := imapConfig(srv)
	cfg.MaxSize = 8 << 10
	st := connectortest.NewStore(t)
	rec := &recorder{}
	run(t, mustSource(t, cfg, st), rec, func() bool { return savedUID(t, st) == 2 }, 20*time.Second)
	if ids := rec.ids(); len(ids) != 1 || rec.msgs[0].Metadata.Get(MetaSubject) != "Заявление 2" {
		t.Fatalf("got %d messages, want only the small mail", len(ids))
	}
	_, flags := srv.FetchAll(t, c, "INBOX")
	if !slices.Contains(flags[0], imap.FlaggedFlag) || slices.Contains(flags[0], imap.SeenFlag) {
		t.Errorf("the large mail's flags %v, want \\Flagged and not \\Seen", flags[0])
	}
}

// fakeIMAP greets like a server that offers no STARTTLS and records what the client sends.
func fakeIMAP(t *testing.T) (port int, got *bytes.Buffer) {
	t.Helper()
	l := listen(t)
	got = new(bytes.Buffer)
	var mu sync.Mutex
	go func() {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		fmt.Fprint(conn, "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] fake\r\n")
		r := bufio.NewReader(conn)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			mu.Lock()
			got.WriteString(line)
			mu.Unlock()
			tag := strings.Fields(line + " x")[0]
			if strings.Contains(strings.ToUpper(line), "CAPABILITY") {
				fmt.Fprint(conn, "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n")
			}
			fmt.Fprintf(conn, "%s OK done\r\n", tag)
		}
	}()
	return l.Addr().(*net.TCPAddr).Port, got
}

func TestIMAPSourceRefusesWithoutSTARTTLS(t *testing.T) {
	port, got := fakeIMAP(t)
	cfg := &Config{Protocol: ProtoIMAP, Host: "127.0.0.1", Port: port, Username: "u", Password: "секрет"}
	src := mustSource(t, cfg, connectortest.NewStore(t))
	_ = spec.FillDefaults(&src.cfg)
	err := src.poll(context.Background(), (&recorder{}).emit)
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("got %v, want a refusal naming STARTTLS", err)
	}
	time.Sleep(50 * time.Millisecond)
	if strings.Contains(strings.ToUpper(got.String()), "LOGIN") || strings.Contains(got.String(), "секрет") {
		t.Errorf("the source logged in without TLS: %q", got.String())
	}
}

// TestIMAPSourceUIDValidityChange: a remembered position of another UIDVALIDITY (the mailbox
// was recreated or restored) does not hide the new mails behind its UID; the source takes the
// mails not yet \Seen and leaves those read before.
func TestIMAPSourceUIDValidityChange(t *testing.T) {
	srv := mailtest.Start(t)
	c := srv.Client(t)
	srv.Append(t, c, "INBOX", mailWithPDF(1, []byte("%PDF-1.4")))
	if err := c.Append("INBOX", []string{imap.SeenFlag}, time.Now(), literalBytes(mailWithPDF(2, []byte("%PDF-1.4")))); err != nil {
		t.Fatal(err)
	}
	st := connectortest.NewStore(t)
	stale := position{Mailbox: "INBOX", UIDValidity: uidValidity(t, c) + 1, UID: 999}
	if err := st.PutState(context.Background(), "connector:mailbox", stateKey, mustJSON(t, stale)); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	// Polls go on for a second: those after the first must take nothing.
	run(t, mustSource(t, imapConfig(srv), st), rec, func() bool { return false }, time.Second)
	if got := savedUID(t, st); got != 2 {
		t.Errorf("position at UID %d, want 2: past the mail read before", got)
	}
	if ids := rec.ids(); len(ids) != 1 || rec.msgs[0].Metadata.Get(MetaSubject) != "Заявление 1" {
		t.Fatalf("got %d messages, want only the unread mail 1", len(ids))
	}
}

func literalBytes(b []byte) imap.Literal { return bytes.NewBuffer(b) }
