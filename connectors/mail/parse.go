package mailconn

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"regexp"
	"strings"
	"time"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // decodes windows-1251, koi8-r and the other charsets of old mail programs
	"github.com/emersion/go-message/mail"
)

// Mail is the JSON form of a mail: what the source emits with format json, and what the sink
// builds a mail from.
type Mail struct {
	MessageID   string       `json:"message_id,omitempty"`
	From        []string     `json:"from,omitempty"`
	To          []string     `json:"to,omitempty"`
	Cc          []string     `json:"cc,omitempty"`
	Bcc         []string     `json:"bcc,omitempty"`
	Subject     string       `json:"subject,omitempty"`
	Date        string       `json:"date,omitempty"`
	Text        string       `json:"text,omitempty"`
	HTML        string       `json:"html,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
}

// Attachment is one attached file; Content is base64 in JSON.
type Attachment struct {
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Content     []byte `json:"content"`
}

// limits bound the parsing of one mail.
type limits struct{ parts, depth int }

// errLimit marks a mail over max_parts or max_depth.
var errLimit = errors.New("over the limit")

// parseMail reads raw into its JSON form. It reads each part once, keeps at most limits.parts
// parts and descends at most limits.depth multiparts; raw is already bounded by max_size.
func parseMail(raw []byte, lim limits) (*Mail, error) {
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
		return nil, fmt.Errorf("read the header: %w", err)
	}
	h := mail.Header{Header: e.Header}
	m := &Mail{}
	m.MessageID, _ = h.MessageID()
	m.From = addresses(h, "From")
	m.To = addresses(h, "To")
	m.Cc = addresses(h, "Cc")
	if s, err := h.Subject(); err == nil {
		m.Subject = s
	} else {
		m.Subject = h.Get("Subject")
	}
	if d, err := h.Date(); err == nil && !d.IsZero() {
		m.Date = d.UTC().Format(time.RFC3339)
	}
	n := 0
	if err := walk(e, 0, lim, &n, m); err != nil {
		return nil, err
	}
	return m, nil
}

func addresses(h mail.Header, key string) []string {
	list, err := h.AddressList(key)
	if err != nil {
		if v := h.Get(key); v != "" {
			return []string{v} // kept as written rather than lost
		}
		return nil
	}
	out := make([]string, 0, len(list))
	for _, a := range list {
		out = append(out, formatAddr(a))
	}
	return out
}

// walk visits the parts of e depth first.
func walk(e *message.Entity, depth int, lim limits, n *int, m *Mail) error {
	*n++
	if *n > lim.parts {
		return fmt.Errorf("more than %d MIME parts (max_parts): %w", lim.parts, errLimit)
	}
	if mr := e.MultipartReader(); mr != nil {
		if depth >= lim.depth {
			return fmt.Errorf("multipart nested deeper than %d (max_depth): %w", lim.depth, errLimit)
		}
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				return nil
			}
			if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
				return fmt.Errorf("part %d: %w", *n+1, err)
			}
			if err := walk(p, depth+1, lim, n, m); err != nil {
				return err
			}
		}
	}
	ct, params, err := e.Header.ContentType()
	if err != nil || ct == "" {
		ct = "text/plain"
	}
	disp, dparams, _ := e.Header.ContentDisposition()
	filename := dparams["filename"]
	if filename == "" {
		filename = params["name"]
	}
	if filename != "" {
		if dec, err := new(mime.WordDecoder).DecodeHeader(filename); err == nil {
			filename = dec
		}
	}
	body, err := io.ReadAll(e.Body)
	if err != nil {
		return fmt.Errorf("part %d (%s): %w", *n, ct, err)
	}
	switch {
	case disp != "attachment" && filename == "" && ct == "text/plain" && m.Text == "":
		m.Text = string(body)
	case disp != "attachment" && filename == "" && ct == "text/html" && m.HTML == "":
		m.HTML = string(body)
	default:
		if filename == "" {
			filename = fmt.Sprintf("part-%d", *n)
		}
		m.Attachments = append(m.Attachments, Attachment{Filename: filename, ContentType: ct, Content: body})
	}
	return nil
}

// maskAddr shows an address as its first letter and its domain's: "и***@e***.bg"; personal data
// does not go to the logs.
func maskAddr(addr string) string {
	if a, err := mail.ParseAddress(addr); err == nil {
		addr = a.Address
	}
	local, domain, ok := strings.Cut(addr, "@")
	first := func(s string) string {
		for _, r := range s {
			return string(r) + "***"
		}
		return ""
	}
	if !ok {
		return first(local)
	}
	tld := ""
	if i := strings.LastIndex(domain, "."); i >= 0 {
		tld = domain[i:]
	}
	return first(local) + "@" + first(domain) + tld
}

// maskSubject shows only a subject's length.
func maskSubject(s string) string { return fmt.Sprintf("(%d characters)", len([]rune(s))) }

// formatAddr writes an address readably, the name decoded (a.String would MIME-encode it):
// Иван Петров <ivan@example.bg>, the name quoted when it holds characters special in addresses.
func formatAddr(a *mail.Address) string {
	if a.Name == "" {
		return a.Address
	}
	name := a.Name
	if strings.ContainsAny(name, `()<>[]:;@\,."`) {
		name = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name) + `"`
	}
	return name + " <" + a.Address + ">"
}

// addrInText matches what looks like an e-mail address in free text.
var addrInText = regexp.MustCompile(`[^\s<>"'(),;:@]+@[^\s<>"'(),;:@]+`)

// maskText masks every address in s.
func maskText(s string) string { return addrInText.ReplaceAllStringFunc(s, maskAddr) }
