package mailconn

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/mail"
	"strings"

	"github.com/aiskao/aiskao/internal/tlsconf"
	"github.com/aiskao/aiskao/spec"
)

// Config is the options of a mail connector. The server, its security and the account are
// shared; the imap source and the smtp sink each read their own options and ignore the others'.
type Config struct {
	Protocol   string        `yaml:"protocol" doc:"imap: the connector is a source reading a mailbox; smtp: a sink sending mail." enum:"imap,smtp" required:"true" example:"imap"`
	Host       string        `yaml:"host" doc:"Name or address of the mail server; the server's certificate must be valid for it (or for server_name)." required:"true" example:"mail.example.bg"`
	Port       int           `yaml:"port" doc:"TCP port; 0 takes the usual one: imap 143 (starttls) or 993 (tls), smtp 587 (starttls) or 465 (tls)." min:"0" max:"65535" example:"587"`
	Security   string        `yaml:"security" doc:"starttls: a plain connection upgraded with STARTTLS, refused when the server does not offer it; tls: TLS from the first byte (implicit TLS). There is no plain mode: passwords and personal data never cross the network in clear." enum:"starttls,tls" default:"starttls"`
	CA         string        `yaml:"ca" doc:"File of the PEM CA certificates that the server's certificate must chain to, instead of the system's; relative to the configuration's folder." example:"certs/mail-ca.pem"`
	ServerName string        `yaml:"server_name" doc:"Name the server's certificate is checked against when it is not host." example:"mail.example.bg"`
	Username   string        `yaml:"username" doc:"Account name; imap requires one, smtp authenticates only when it is set." example:"zayavleniya@example.bg"`
	Password   string        `yaml:"password" doc:"Account password; write it as ${NAME} to keep it out of the file." example:"${MAIL_PASSWORD}"`
	Timeout    spec.Duration `yaml:"timeout" doc:"How long connecting or one command may take." default:"30s" example:"1m"`

	Mailbox      string        `yaml:"mailbox" doc:"imap: the mailbox read." default:"INBOX" example:"Заявления"`
	Format       string        `yaml:"format" doc:"imap: raw makes the whole RFC 5322 mail the payload (message/rfc822); json makes it an object with message_id, from, to, cc, subject, date, text, html and attachments (filename, content_type, content in base64). smtp: json builds the mail from such an object (from, to, cc, bcc, subject, text, html, attachments); raw sends the payload as a ready RFC 5322 mail." enum:"raw,json" default:"json"`
	After        string        `yaml:"after" doc:"imap: what happens to a mail once its message is stored: seen marks it \\Seen; move moves it to move_to." enum:"seen,move" default:"seen"`
	MoveTo       string        `yaml:"move_to" doc:"imap, after move: the mailbox taken mails are moved to; it must exist." example:"Приети"`
	PollInterval spec.Duration `yaml:"poll_interval" doc:"imap: how often the mailbox is read." default:"30s" example:"1m"`
	MaxSize      spec.ByteSize `yaml:"max_size" doc:"imap: largest mail taken; a larger one is flagged \\Flagged, left in the mailbox and logged." default:"25MiB" min:"1" example:"10MiB"`
	MaxParts     int           `yaml:"max_parts" doc:"imap, json: most MIME parts read in one mail; a mail with more goes on as the raw mail (message/rfc822) with the reason in the metadata mail_parse_error, which a route expecting JSON dead-letters." default:"100" min:"1" max:"10000"`
	MaxDepth     int           `yaml:"max_depth" doc:"imap, json: deepest nesting of multipart parts; a mail nested deeper goes on as max_parts says." default:"8" min:"1" max:"64"`
	Batch        int           `yaml:"batch" doc:"imap: most mails read and stored at once; up to batch × max_size bytes are held in memory." default:"20" min:"1" max:"1000"`
	MessageType  string        `yaml:"message_type" doc:"imap: value of the envelope's type; empty leaves it unset." example:"application.Email"`

	Auth string   `yaml:"auth" doc:"smtp: the SASL mechanism used with username, only over TLS." enum:"plain,login" default:"plain"`
	From string   `yaml:"from" doc:"smtp: sender address used when the message names none (json) and as the envelope sender." example:"Община Примерно <deloviodstvo@example.bg>"`
	To   []string `yaml:"to" doc:"smtp: recipients used when the message names none." example:"[arhiv@example.bg]"`
}

// The values of the enumerated options.
const (
	ProtoIMAP = "imap"
	ProtoSMTP = "smtp"

	SecStartTLS = "starttls"
	SecTLS      = "tls"

	FormatRaw  = "raw"
	FormatJSON = "json"

	AfterSeen = "seen"
	AfterMove = "move"

	AuthPlain = "plain"
	AuthLogin = "login"
)

// Validate checks the options after defaults (spec.Options applies them from the tags).
func (c *Config) Validate() error {
	var errs []error
	add := func(field, format string, args ...any) { errs = append(errs, spec.FieldErrorf(field, format, args...)) }
	if strings.TrimSpace(c.Host) == "" || strings.ContainsAny(c.Host, " /:") && !strings.HasPrefix(c.Host, "[") {
		add("host", "%q is not a host name or address such as mail.example.bg", c.Host)
	}
	if c.Timeout <= 0 {
		add("timeout", "must be more than 0, such as 30s")
	}
	if (c.Username == "") != (c.Password == "") {
		add("password", "username and password go together: give both or neither")
	}
	switch c.Protocol {
	case ProtoIMAP:
		if c.Username == "" {
			add("username", "required for imap: the account whose mailbox is read")
		}
		if strings.TrimSpace(c.Mailbox) == "" {
			add("mailbox", "required: the mailbox read, such as INBOX")
		}
		if c.After == AfterMove && strings.TrimSpace(c.MoveTo) == "" {
			add("move_to", "required with after: move: the mailbox taken mails go to")
		}
		if c.After == AfterMove && c.MoveTo == c.Mailbox {
			add("move_to", "%q is the mailbox read: mails would be taken again", c.MoveTo)
		}
		if c.PollInterval <= 0 {
			add("poll_interval", "must be more than 0, such as 30s")
		}
	case ProtoSMTP:
		if c.From != "" {
			if _, err := mail.ParseAddress(c.From); err != nil {
				add("from", "%q is not an address such as Name <user@example.bg>: %v", c.From, err)
			}
		}
		for i, to := range c.To {
			if _, err := mail.ParseAddress(to); err != nil {
				add("to", "item %d %q is not an address: %v", i+1, to, err)
			}
		}
	}
	return errors.Join(errs...)
}

// addr returns host:port with the usual port for the protocol and security when none is given.
func (c *Config) addr() string {
	port := c.Port
	if port == 0 {
		port = map[string]int{ProtoIMAP + SecStartTLS: 143, ProtoIMAP + SecTLS: 993, ProtoSMTP + SecStartTLS: 587, ProtoSMTP + SecTLS: 465}[c.Protocol+c.Security]
	}
	host := strings.Trim(c.Host, "[]")
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return fmt.Sprintf("%s:%d", host, port)
}

// tlsConfig returns the client TLS settings: TLS 1.2 at least, the server checked against the
// system's CAs or those of ca.
func (c *Config) tlsConfig(baseDir string) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: strings.Trim(c.Host, "[]")}
	if c.ServerName != "" {
		tc.ServerName = c.ServerName
	}
	if c.CA != "" {
		pool, err := tlsconf.Roots(tlsconf.Path(baseDir, c.CA))
		if err != nil {
			return nil, spec.FieldErrorf("ca", "%v", err)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}
