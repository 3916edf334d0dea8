package esoed

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"time"
	"unicode/utf8"
)

// dateTimeLayout writes Header/MessageDate as an xsd:dateTime with its offset and as many
// fractional digits as needed: 2024-03-12T10:15:30.123+02:00.
const dateTimeLayout = "2006-01-02T15:04:05.999999999Z07:00"

// dateLayout writes an xsd:date without a time zone, as the samples do: 2024-03-12.
const dateLayout = "2006-01-02"

// Marshal returns the message as XML; with a signer it carries an enveloped signature. See
// [Write].
func Marshal(m *Message, s *Signer) ([]byte, error) {
	var b bytes.Buffer
	if err := Write(&b, m, s); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Write writes the message as XML valid against EGovMessaging.xsd: an XML declaration, then the
// Message element in the messaging namespace, with no indentation. Header.MessageType is taken
// from the body; an empty Header.Version becomes [DefaultVersion].
//
// The output is already in canonical form (XML c14n 1.0), so a signer needs no second pass:
// with a non-nil s, Write hashes the Message element as it writes it and appends the
// XML-DSig enveloped Signature before the closing tag (see [Signer]). Attachment contents are
// read from their readers and base64-encoded on the way out, never held whole.
//
// Write checks what the schema would reject (a missing or malformed GUID, an unknown status,
// characters XML cannot carry) before writing anything that depends on it; on an error, what
// was written is incomplete and must be discarded.
func Write(w io.Writer, m *Message, s *Signer) error {
	if err := m.check(); err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 32<<10)
	c := &cw{out: bw}
	if s != nil {
		c.h = s.digest.New()
	}
	if _, err := bw.WriteString(`<?xml version="1.0" encoding="utf-8"?>`); err != nil {
		return fmt.Errorf("esoed: write: %w", err)
	}
	c.raw(`<Message xmlns="` + Namespace + `">`)
	m.writeHeader(c)
	c.open("Body")
	switch {
	case m.Body.RegistrationRequest != nil:
		m.Body.RegistrationRequest.write(c)
	case m.Body.StatusRequest != nil:
		c.open("DocumentStatusRequest")
		m.Body.StatusRequest.DocID.write(c, "DocID")
		c.close("DocumentStatusRequest")
	case m.Body.StatusResponse != nil:
		m.Body.StatusResponse.write(c)
	case m.Body.Error != nil:
		e := m.Body.Error
		c.open("Error")
		c.opt("MessageGUID", e.MessageGUID)
		c.elem("ErrorType", e.Type)
		c.elem("ErrorDescription", e.Description)
		c.close("Error")
	}
	c.close("Body")
	if c.err == nil && s != nil {
		// The digest covers the Message element without the Signature, closing tag included.
		c.h.Write([]byte("</Message>"))
		sig, err := s.signature(c.h.Sum(nil))
		if err != nil {
			return err
		}
		c.h = nil
		c.raw(sig)
	}
	c.raw("</Message>")
	if c.err != nil {
		return fmt.Errorf("esoed: write: %w", c.err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("esoed: write: %w", err)
	}
	return nil
}

// check finds what would make the output invalid, before anything is written.
func (m *Message) check() error {
	if m.Body.Type() == "" {
		return errors.New("esoed: write: Body must hold exactly one of RegistrationRequest, StatusRequest, StatusResponse, Error")
	}
	h := m.Header
	for _, g := range []struct{ field, v string }{
		{"Header/Sender/GUID", h.Sender.GUID}, {"Header/Recipient/GUID", h.Recipient.GUID}, {"Header/MessageGUID", h.MessageGUID},
	} {
		if !ValidGUID(g.v) {
			return fmt.Errorf("esoed: write: %s: %q is not a GUID in braces", g.field, g.v)
		}
	}
	if h.MessageDate.IsZero() {
		return errors.New("esoed: write: Header/MessageDate is missing")
	}
	docID := func(field string, d *DocID) error {
		if d.Number != nil && d.URI != nil {
			return fmt.Errorf("esoed: write: %s: DocumentNumber and DocumentURI are exclusive", field)
		}
		if d.Number != nil && d.Number.Date.IsZero() {
			return fmt.Errorf("esoed: write: %s/DocumentNumber/DocDate is missing", field)
		}
		if u := d.URI; u != nil && (u.RegisterIndex < 0 || u.SequenceNumber < 0) {
			return fmt.Errorf("esoed: write: %s/DocumentURI: RegisterIndex and SequenceNumber must be at least 1", field)
		}
		if !ValidGUID(d.GUID) {
			return fmt.Errorf("esoed: write: %s/DocumentGUID: %q is not a GUID in braces", field, d.GUID)
		}
		return nil
	}
	b := m.Body
	switch {
	case b.RegistrationRequest != nil:
		d := &b.RegistrationRequest.Document
		if err := docID("Document/DocID", &d.ID); err != nil {
			return err
		}
		if d.ParentID != nil {
			if err := docID("Document/DocParentID", d.ParentID); err != nil {
				return err
			}
		}
		for i, c := range d.Correspondents {
			if c.Kind != "" && c.Kind != CorrApplicant && c.Kind != CorrOther {
				return fmt.Errorf("esoed: write: Corespondent[%d]/CorKind: %q is not Corr_Applicant or Corr_Other", i+1, c.Kind)
			}
		}
		for i, a := range d.Attachments {
			if a.Content == nil {
				return fmt.Errorf("esoed: write: Attachment[%d] %q has no Content", i+1, a.FileName)
			}
		}
	case b.StatusRequest != nil:
		return docID("DocID", &b.StatusRequest.DocID)
	case b.StatusResponse != nil:
		if !statuses[b.StatusResponse.Status] {
			return fmt.Errorf("esoed: write: DocRegStatus: %q is not a document status", b.StatusResponse.Status)
		}
		return docID("DocID", &b.StatusResponse.DocID)
	case b.Error != nil:
		if b.Error.MessageGUID != "" && !ValidGUID(b.Error.MessageGUID) {
			return fmt.Errorf("esoed: write: Error/MessageGUID: %q is not a GUID in braces", b.Error.MessageGUID)
		}
		if b.Error.Type != ErrorInternal && b.Error.Type != ErrorExternal {
			return fmt.Errorf("esoed: write: Error/ErrorType: %q is not ERR_INTERNAL or ERR_EXTERNAL", b.Error.Type)
		}
	}
	return nil
}

var statuses = map[string]bool{
	StatusWaitRegistration: true, StatusRegistered: true, StatusStopped: true, StatusClosed: true,
	StatusNotFound: true, StatusAlreadyReceived: true, StatusRejected: true,
}

func (m *Message) writeHeader(c *cw) {
	h := m.Header
	c.open("Header")
	v := h.Version
	if v == "" {
		v = DefaultVersion
	}
	c.elem("Version", v)
	c.elem("MessageType", m.Body.Type())
	c.elem("MessageDate", h.MessageDate.Format(dateTimeLayout))
	for _, p := range []struct {
		name string
		p    Participant
	}{{"Sender", h.Sender}, {"Recipient", h.Recipient}} {
		c.open(p.name)
		c.elem("Identifier", p.p.Identifier)
		c.elem("AdministrativeBodyName", p.p.AdministrativeBodyName)
		c.elem("GUID", p.p.GUID)
		c.close(p.name)
	}
	c.elem("MessageGUID", h.MessageGUID)
	c.close("Header")
}

func (d *DocID) write(c *cw, name string) {
	c.open(name)
	switch {
	case d.Number != nil:
		c.open("DocumentNumber")
		c.elem("DocNumber", d.Number.Number)
		c.elem("DocDate", d.Number.Date.Format(dateLayout))
		c.close("DocumentNumber")
	case d.URI != nil:
		c.open("DocumentURI")
		seg := func(name, v string) {
			c.raw("<" + name + ` xmlns="` + SegmentNamespace + `">`)
			c.text(v)
			c.raw("</" + name + ">")
		}
		if d.URI.RegisterIndex > 0 {
			seg("RegisterIndex", strconv.FormatInt(d.URI.RegisterIndex, 10))
		}
		if d.URI.SequenceNumber > 0 {
			seg("SequenceNumber", strconv.FormatInt(d.URI.SequenceNumber, 10))
		}
		if !d.URI.ReceiptOrSigningDate.IsZero() {
			seg("ReceiptOrSigningDate", d.URI.ReceiptOrSigningDate.Format(dateLayout))
		}
		c.close("DocumentURI")
	}
	c.elem("DocumentGUID", d.GUID)
	c.close(name)
}

func (r *RegistrationRequest) write(c *cw) {
	d := &r.Document
	c.open("DocumentRegistrationRequest")
	c.open("Document")
	d.ID.write(c, "DocID")
	if d.ParentID != nil {
		d.ParentID.write(c, "DocParentID")
	}
	c.elem("DocKind", d.Kind)
	if len(d.Correspondents) > 0 {
		c.open("DocCorrespondentList")
		for _, k := range d.Correspondents {
			c.open("Corespondent")
			c.elem("CorName", k.Name)
			c.elem("CorCity", k.City)
			c.opt("CorAddress", k.Address)
			c.opt("CorEGN", k.EGN)
			c.opt("CorIDCard", k.IDCard)
			c.opt("CorBULSTAT", k.BULSTAT)
			c.opt("CorEMail", k.Email)
			c.opt("CorPhone", k.Phone)
			c.opt("CorMobilePhone", k.MobilePhone)
			c.opt("CorMOL", k.MOL)
			c.opt("CorComment", k.Note)
			c.opt("CorKind", k.Kind)
			c.close("Corespondent")
		}
		c.close("DocCorrespondentList")
	}
	if len(d.Attachments) > 0 {
		c.open("DocAttachmentList")
		for _, a := range d.Attachments {
			c.open("Attachment")
			c.elem("AttFileName", a.FileName)
			c.open("AttBody")
			c.base64(a.Content)
			c.close("AttBody")
			c.opt("AttComment", a.Comment)
			c.elem("AttMIMEType", a.MIMEType)
			c.close("Attachment")
		}
		c.close("DocAttachmentList")
	}
	c.opt("DocAbout", d.About)
	if s := d.Service; s != nil {
		c.open("DocService")
		c.elem("ServiceName", s.Name)
		c.elem("ServiceType", s.Type)
		c.elem("ServiceCode", s.Code)
		c.close("DocService")
	}
	c.opt("DocComment", d.Comment)
	c.rawXML("DocAddData", d.AddData)
	c.optDate("DocReqDateClose", d.ReqDateClose)
	c.opt("DocAttentionTo", d.AttentionTo)
	if len(d.Signature) > 0 {
		c.fragment(d.Signature)
	}
	c.close("Document")
	c.elem("Comment", r.Comment)
	c.close("DocumentRegistrationRequest")
}

func (r *StatusResponse) write(c *cw) {
	c.open("DocumentStatusResponse")
	r.DocID.write(c, "DocID")
	c.elem("DocRegStatus", r.Status)
	c.opt("RejectionReason", r.RejectionReason)
	c.optDate("DocExpectCloseDate", r.ExpectCloseDate)
	c.rawXML("DocAddData", r.AddData)
	c.close("DocumentStatusResponse")
}

// cw writes canonical XML to out and, while h is set, to h too; the first error sticks.
type cw struct {
	out *bufio.Writer
	h   hash.Hash
	err error
	buf []byte
}

func (c *cw) write(p []byte) {
	if c.err != nil {
		return
	}
	if _, err := c.out.Write(p); err != nil {
		c.err = err
		return
	}
	if c.h != nil {
		c.h.Write(p)
	}
}

func (c *cw) raw(s string) {
	c.buf = append(c.buf[:0], s...)
	c.write(c.buf)
}

func (c *cw) open(name string)  { c.raw("<" + name + ">") }
func (c *cw) close(name string) { c.raw("</" + name + ">") }

func (c *cw) elem(name, v string) {
	c.open(name)
	c.text(v)
	c.close(name)
}

func (c *cw) opt(name, v string) {
	if v != "" {
		c.elem(name, v)
	}
}

func (c *cw) optDate(name string, t time.Time) {
	if !t.IsZero() {
		c.elem(name, t.Format(dateLayout))
	}
}

// text writes character data escaped as c14n does; it refuses what XML 1.0 cannot carry.
func (c *cw) text(s string) {
	if c.err != nil {
		return
	}
	b := c.buf[:0]
	for i, r := range s {
		switch {
		case r == '&':
			b = append(b, "&amp;"...)
		case r == '<':
			b = append(b, "&lt;"...)
		case r == '>':
			b = append(b, "&gt;"...)
		case r == '\r':
			b = append(b, "&#xD;"...)
		case r == utf8.RuneError && !validRuneAt(s, i):
			c.err = fmt.Errorf("text %q is not valid UTF-8", clip(s))
			return
		case !isXMLChar(r):
			c.err = fmt.Errorf("text %q holds the character %U, which XML cannot carry", clip(s), r)
			return
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	c.buf = b
	c.write(b)
}

func validRuneAt(s string, i int) bool {
	r, n := utf8.DecodeRuneInString(s[i:])
	return r != utf8.RuneError || n > 1
}

func isXMLChar(r rune) bool {
	return r == 0x9 || r == 0xA || r == 0xD || (r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// base64 streams r into the output as standard base64 without line breaks.
func (c *cw) base64(r io.Reader) {
	if c.err != nil {
		return
	}
	enc := base64.NewEncoder(base64.StdEncoding, writerFunc(func(p []byte) (int, error) {
		c.write(p)
		return len(p), c.err
	}))
	if _, err := io.Copy(enc, r); err != nil {
		if c.err == nil {
			c.err = fmt.Errorf("attachment content: %w", err)
		}
		return
	}
	if err := enc.Close(); err != nil && c.err == nil {
		c.err = err
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// rawXML writes an any-content element from content kept or given by the caller, in canonical
// form.
func (c *cw) rawXML(name string, x RawXML) {
	if len(x) == 0 {
		return
	}
	c.open(name)
	c.fragment(x)
	c.close(name)
}

// fragment writes XML content canonicalized for a parent in the messaging namespace.
func (c *cw) fragment(x RawXML) {
	if c.err != nil {
		return
	}
	canon, err := canonicalFragment(x)
	if err != nil {
		c.err = err
		return
	}
	c.write(canon)
}
