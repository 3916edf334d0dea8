package mailconn

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	gomail "github.com/emersion/go-message/mail"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/fault"
)

// maxRecipients bounds the recipients of one mail.
const maxRecipients = 100

type sink struct {
	name    string
	cfg     Config
	tls     *tls.Config
	log     *slog.Logger
	sendRaw bool
}

func newSink(cfg any, env connectors.Env) (*sink, error) {
	c, err := options(cfg, env, ProtoSMTP)
	if err != nil {
		return nil, fmt.Errorf("mail sink %s: %w", env.Name, err)
	}
	tc, err := c.tlsConfig(env.BaseDir)
	if err != nil {
		return nil, fmt.Errorf("mail sink %s: %w", env.Name, err)
	}
	return &sink{name: env.Name, cfg: c, tls: tc, log: env.Log(), sendRaw: c.Format == FormatRaw}, nil
}

// Close releases nothing: each Send has its own connection.
func (s *sink) Close() error { return nil }

// Send delivers one message as one mail.
func (s *sink) Send(ctx context.Context, msg *message.Message) error {
	from, rcpts, body, err := s.build(msg)
	if err != nil {
		return fault.Permanent(fmt.Errorf("mail sink %s: message %s: %w", s.name, msg.UUID, err))
	}
	if err := s.deliver(ctx, from, rcpts, body); err != nil {
		masked := make([]string, len(rcpts))
		for i, r := range rcpts {
			masked[i] = maskAddr(r)
		}
		err = maskedError{fmt.Errorf("mail sink %s: message %s to %s: %w", s.name, msg.UUID, strings.Join(masked, ", "), err)}
		var te *textproto.Error
		if errors.As(err, &te) && te.Code >= 500 {
			return fault.Permanent(err)
		}
		return err
	}
	return nil
}

// build returns the envelope sender, the recipients and the mail of msg.
func (s *sink) build(msg *message.Message) (string, []string, []byte, error) {
	if s.sendRaw {
		return s.buildRaw(msg.Payload)
	}
	var m Mail
	dec := json.NewDecoder(bytes.NewReader(msg.Payload))
	if err := dec.Decode(&m); err != nil {
		return "", nil, nil, fmt.Errorf("the payload is not a mail object (from, to, subject, text, attachments): %w", err)
	}
	if len(m.From) == 0 && s.cfg.From != "" {
		m.From = []string{s.cfg.From}
	}
	if len(m.To)+len(m.Cc)+len(m.Bcc) == 0 {
		m.To = s.cfg.To
	}
	if len(m.From) != 1 {
		return "", nil, nil, fmt.Errorf("from: need one sender (in the message or the connector's from), got %d", len(m.From))
	}
	from, err := gomail.ParseAddress(m.From[0])
	if err != nil {
		return "", nil, nil, fmt.Errorf("from: not an address: %w", err)
	}
	var h gomail.Header
	h.SetDate(time.Now())
	h.SetAddressList("From", []*gomail.Address{from})
	var rcpts []string
	for _, f := range []struct {
		key  string
		list []string
	}{{"To", m.To}, {"Cc", m.Cc}, {"Bcc", m.Bcc}} {
		var as []*gomail.Address
		for i, a := range f.list {
			pa, err := gomail.ParseAddress(a)
			if err != nil {
				return "", nil, nil, fmt.Errorf("%s item %d: not an address: %w", strings.ToLower(f.key), i+1, err)
			}
			as = append(as, pa)
			rcpts = append(rcpts, pa.Address)
		}
		if len(as) > 0 && f.key != "Bcc" {
			h.SetAddressList(f.key, as)
		}
	}
	if len(rcpts) == 0 {
		return "", nil, nil, errors.New("to: no recipient in the message nor the connector's to")
	}
	if len(rcpts) > maxRecipients {
		return "", nil, nil, fmt.Errorf("to: %d recipients, more than %d", len(rcpts), maxRecipients)
	}
	h.SetSubject(oneLine(m.Subject))
	// The same message id on every retry, so that a mail sent twice is seen as one.
	h.SetMessageID(msg.UUID + "@aiskao")
	var buf bytes.Buffer
	w, err := gomail.CreateWriter(&buf, h)
	if err != nil {
		return "", nil, nil, err
	}
	if m.Text != "" || m.HTML != "" || len(m.Attachments) == 0 {
		iw, err := w.CreateInline()
		if err != nil {
			return "", nil, nil, err
		}
		for _, p := range []struct{ ct, body string }{{"text/plain", m.Text}, {"text/html", m.HTML}} {
			if p.body == "" && (p.ct == "text/html" || m.HTML != "") {
				continue
			}
			var ph gomail.InlineHeader
			ph.SetContentType(p.ct, map[string]string{"charset": "utf-8"})
			pw, err := iw.CreatePart(ph)
			if err != nil {
				return "", nil, nil, err
			}
			_, _ = pw.Write([]byte(p.body))
			_ = pw.Close()
		}
		_ = iw.Close()
	}
	for i, a := range m.Attachments {
		if strings.TrimSpace(a.Filename) == "" {
			return "", nil, nil, fmt.Errorf("attachments item %d: filename is empty", i+1)
		}
		ct := a.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil || !strings.Contains(mt, "/") || strings.HasPrefix(mt, "multipart/") {
			return "", nil, nil, fmt.Errorf("attachments item %d: content_type %q is not a media type such as application/pdf", i+1, oneLine(ct))
		}
		var ah gomail.AttachmentHeader
		ah.SetContentType(mt, params)
		ah.SetFilename(oneLine(a.Filename))
		aw, err := w.CreateAttachment(ah)
		if err != nil {
			return "", nil, nil, fmt.Errorf("attachments item %d: %w", i+1, err)
		}
		_, _ = aw.Write(a.Content)
		_ = aw.Close()
	}
	if err := w.Close(); err != nil {
		return "", nil, nil, err
	}
	return from.Address, rcpts, buf.Bytes(), nil
}

// buildRaw takes a ready mail: the envelope from the connector's from and to, or else from the
// mail's own From, To and Cc.
func (s *sink) buildRaw(raw []byte) (string, []string, []byte, error) {
	m, err := parseMail(raw, limits{parts: 1000, depth: 64})
	if err != nil {
		return "", nil, nil, fmt.Errorf("the payload is not an RFC 5322 mail: %w", err)
	}
	from := s.cfg.From
	if from == "" && len(m.From) > 0 {
		from = m.From[0]
	}
	fa, err := gomail.ParseAddress(from)
	if err != nil {
		return "", nil, nil, errors.New("from: no sender address in the connector's from nor the mail's From")
	}
	list := s.cfg.To
	if len(list) == 0 {
		list = append(append([]string{}, m.To...), m.Cc...)
	}
	var rcpts []string
	for _, a := range list {
		pa, err := gomail.ParseAddress(a)
		if err != nil {
			return "", nil, nil, fmt.Errorf("to: %w", err)
		}
		rcpts = append(rcpts, pa.Address)
	}
	if len(rcpts) == 0 || len(rcpts) > maxRecipients {
		return "", nil, nil, fmt.Errorf("to: %d recipients; need 1 to %d", len(rcpts), maxRecipients)
	}
	return fa.Address, rcpts, raw, nil
}

// deliver runs one SMTP transaction.
func (s *sink) deliver(ctx context.Context, from string, rcpts []string, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout.D())
	defer cancel()
	d := &net.Dialer{}
	conn, err := d.DialContext(ctx, "tcp", s.cfg.addr())
	if err != nil {
		return fmt.Errorf("connect to %s: %w", s.cfg.addr(), err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	if s.cfg.Security == SecTLS {
		tc := tls.Client(conn, s.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = conn.Close()
			return fmt.Errorf("tls with %s: %w", s.cfg.addr(), err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, s.tls.ServerName)
	if err != nil {
		_ = conn.Close()
		return fmt.Errorf("greeting of %s: %w", s.cfg.addr(), err)
	}
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		return err
	}
	if s.cfg.Security == SecStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return fault.Permanent(fmt.Errorf("%s does not offer STARTTLS; refusing to send without TLS", s.cfg.addr()))
		}
		if err := c.StartTLS(s.tls); err != nil {
			return fmt.Errorf("starttls with %s: %w", s.cfg.addr(), err)
		}
	}
	if s.cfg.Username != "" {
		var a smtp.Auth = loginAuth{s.cfg.Username, s.cfg.Password}
		if s.cfg.Auth == AuthPlain {
			a = plainAuth{s.cfg.Username, s.cfg.Password}
		}
		if err := c.Auth(a); err != nil {
			return fmt.Errorf("authenticate as %s: %w", maskAddr(s.cfg.Username), err)
		}
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	for _, r := range rcpts {
		if err := c.Rcpt(r); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(body); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	_ = c.Quit()
	return nil
}

// plainAuth is AUTH PLAIN (RFC 4616), sent only over TLS: net/smtp's own allows a plain
// connection to localhost, which this connector never makes.
type plainAuth struct{ user, pass string }

func (a plainAuth) Start(si *smtp.ServerInfo) (string, []byte, error) {
	if !si.TLS {
		return "", nil, errors.New("refusing AUTH PLAIN without TLS")
	}
	return "PLAIN", []byte("\x00" + a.user + "\x00" + a.pass), nil
}

func (a plainAuth) Next(_ []byte, more bool) ([]byte, error) {
	if more {
		return nil, errors.New("unexpected server challenge for AUTH PLAIN")
	}
	return nil, nil
}

// loginAuth is AUTH LOGIN, the older mechanism some servers still offer alone; only over TLS.
type loginAuth struct{ user, pass string }

func (a loginAuth) Start(si *smtp.ServerInfo) (string, []byte, error) {
	if !si.TLS {
		return "", nil, errors.New("refusing AUTH LOGIN without TLS")
	}
	return "LOGIN", nil, nil
}

func (a loginAuth) Next(challenge []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	switch strings.ToLower(strings.TrimSpace(string(challenge))) {
	case "username:", "user name", "username":
		return []byte(a.user), nil
	case "password:", "password":
		return []byte(a.pass), nil
	}
	return nil, fmt.Errorf("unexpected AUTH LOGIN challenge %q", challenge)
}

// maskedError shows its error with the addresses in it masked: servers repeat the recipient in
// their answers ("<ivan@example.bg>: Recipient address rejected"), and errors end up in logs and
// dead letters.
type maskedError struct{ err error }

func (e maskedError) Error() string { return maskText(e.err.Error()) }
func (e maskedError) Unwrap() error { return e.err }

// oneLine folds line breaks into spaces: a header value taken from a message must not start a
// header of its own (a Bcc, say).
func oneLine(s string) string {
	return strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ").Replace(s)
}
