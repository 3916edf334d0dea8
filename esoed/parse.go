package esoed

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	dsig "github.com/russellhaering/goxmldsig"

	"github.com/aiskao/aiskao/internal/xmllimit"
)

// ParseOptions changes how [ParseMessageWith] reads a message.
type ParseOptions struct {
	// Attachment, when set, receives the content of each attachment as a stream while the
	// message is read, instead of the content being decoded into memory; Attachment.Content is
	// then left nil. It is called when AttBody is reached, so only a.FileName is known yet
	// (AttComment and AttMIMEType follow AttBody in the schema). content is valid only during
	// the call. An error stops the parse.
	Attachment func(index int, a *Attachment, content io.Reader) error
	// Limits bounds the document (depth, size, attributes, names, texts); zero fields take
	// xmllimit.Default. An attachment is one text node, so MaxText bounds an attachment's size.
	Limits xmllimit.Limits
}

// ParseMessage reads a whole message into the model in one streaming pass. Attachment contents
// are decoded from base64 straight out of the XML decoder's buffer into one byte slice each;
// the base64 text is not copied. A DOCTYPE is refused; nothing is expanded or fetched. The
// document is bounded by xmllimit.Default (depth, size, attributes, names, texts) and must have
// exactly one root element.
//
// It checks the structure it needs (elements in order, GUIDs in braces, dates, enumerations,
// MessageType matching the body), not everything the schema says: validate with [Schema]
// before or after. A message's Signature is skipped (see [VerifySignature]) and reported in
// Signed.
func ParseMessage(r io.Reader) (*Message, bool, error) {
	return ParseMessageWith(r, ParseOptions{})
}

// ParseMessageWith is [ParseMessage] with options. It returns the message, whether it carries
// a Signature, and the first problem, naming the element path.
func ParseMessageWith(r io.Reader, opt ParseOptions) (*Message, bool, error) {
	p := &parser{d: xmllimit.NewDecoder(r, opt.Limits), opt: opt}
	m, err := p.message()
	if err != nil {
		return nil, p.signed, fmt.Errorf("esoed: parse: %w", err)
	}
	return m, p.signed, nil
}

type parser struct {
	d      *xmllimit.Decoder
	opt    ParseOptions
	path   []string
	signed bool
	nAtt   int
}

func (p *parser) where() string { return strings.Join(p.path, "/") }

func (p *parser) errf(format string, args ...any) error {
	return fmt.Errorf("%s: %s", p.where(), fmt.Sprintf(format, args...))
}

// next returns the next start or end element, skipping blank text, comments and processing
// instructions; text that is not blank between elements is an error.
func (p *parser) next() (xml.Token, error) {
	for {
		tok, err := p.d.Token()
		if err != nil {
			if err == io.EOF {
				return nil, p.errf("unexpected end of input")
			}
			return nil, fmt.Errorf("malformed XML at %s: %w", p.where(), err)
		}
		switch t := tok.(type) {
		case xml.StartElement, xml.EndElement:
			return t, nil
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return nil, p.errf("unexpected text %q", clip(string(bytes.TrimSpace(t))))
			}
		case xml.Directive:
			return nil, errors.New("a DOCTYPE or other directive is not allowed in a message")
		}
	}
}

func (p *parser) message() (*Message, error) {
	var root xml.StartElement
	for {
		tok, err := p.d.Token()
		if err != nil {
			if errors.Is(err, xmllimit.ErrNoRoot) {
				return nil, errors.New("not XML: no root element")
			}
			return nil, fmt.Errorf("not XML: %w", err)
		}
		if s, ok := tok.(xml.StartElement); ok {
			root = s
			break
		}
	}
	if root.Name.Space != Namespace || root.Name.Local != "Message" {
		return nil, fmt.Errorf("not an ЕСОЕД message: root element {%s}%s, want {%s}Message", root.Name.Space, root.Name.Local, Namespace)
	}
	p.path = []string{"Message"}
	m := &Message{}
	var haveHeader, haveBody bool
	err := p.children(func(name string, se xml.StartElement) error {
		switch {
		case name == "Header" && !haveHeader && !haveBody:
			haveHeader = true
			return p.header(&m.Header)
		case name == "Body" && haveHeader && !haveBody:
			haveBody = true
			return p.body(&m.Body)
		case se.Name.Space == dsig.Namespace && se.Name.Local == "Signature" && haveBody && !p.signed:
			p.signed = true
			return p.d.Skip()
		}
		return p.unexpected(se)
	})
	if err != nil {
		return nil, err
	}
	if !haveHeader || !haveBody {
		return nil, errors.New("Message: Header and Body are required")
	}
	if t := m.Body.Type(); m.Header.MessageType != t {
		return nil, fmt.Errorf("Message/Header/MessageType: %q does not match the body, which is %s", m.Header.MessageType, t)
	}
	// Anything after the root is refused (the decoder refuses a second root element and text):
	// a second document is not a message.
	for {
		if _, err := p.d.Token(); err != nil {
			if err == io.EOF {
				return m, nil
			}
			return nil, fmt.Errorf("after Message: %w", err)
		}
	}
}

// unexpected names the child se, on the path of its parent.
func (p *parser) unexpected(se xml.StartElement) error {
	where := strings.Join(p.path[:len(p.path)-1], "/")
	if se.Name.Space != Namespace {
		return fmt.Errorf("%s: unexpected element {%s}%s", where, se.Name.Space, se.Name.Local)
	}
	return fmt.Errorf("%s: unexpected element %s", where, se.Name.Local)
}

// children calls f for each child element of the current element, with the child's name on the
// path; f must consume the child up to its end. It returns at the current element's end.
func (p *parser) children(f func(name string, se xml.StartElement) error) error {
	for {
		tok, err := p.next()
		if err != nil {
			return err
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			return nil
		}
		name := se.Name.Local
		if se.Name.Space != Namespace {
			name = "{" + se.Name.Space + "}" + name
		}
		p.path = append(p.path, se.Name.Local)
		if err := f(name, se); err != nil {
			return err
		}
		p.path = p.path[:len(p.path)-1]
	}
}

// fields reads a sequence of elements with text content in the order given; required ones
// must be present. set receives each one found.
func (p *parser) fields(order []string, required map[string]bool, set func(name, v string) error) error {
	i := 0
	seen := map[string]bool{}
	err := p.children(func(name string, se xml.StartElement) error {
		for i < len(order) && order[i] != name {
			i++
		}
		if i == len(order) {
			if seen[name] {
				return p.errf("repeated")
			}
			return p.unexpected(se)
		}
		seen[name] = true
		i++
		v, err := p.text()
		if err != nil {
			return err
		}
		if err := set(name, v); err != nil {
			return p.errf("%v", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, n := range order {
		if required[n] && !seen[n] {
			return p.errf("%s is missing", n)
		}
	}
	return nil
}

// text reads the text content of the current element up to its end.
func (p *parser) text() (string, error) {
	var b strings.Builder
	for {
		tok, err := p.d.Token()
		if err != nil {
			return "", fmt.Errorf("malformed XML at %s: %w", p.where(), err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			b.Write(t)
		case xml.StartElement:
			return "", p.errf("element %s where text is expected", t.Name.Local)
		case xml.EndElement:
			return b.String(), nil
		}
	}
}

func req(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

func (p *parser) header(h *Header) error {
	i := 0
	order := []string{"Version", "MessageType", "MessageDate", "Sender", "Recipient", "MessageGUID"}
	err := p.children(func(name string, se xml.StartElement) error {
		if i >= len(order) || order[i] != name {
			want := "end of Header"
			if i < len(order) {
				want = order[i]
			}
			return p.errf("unexpected element, want %s", want)
		}
		i++
		var err error
		switch name {
		case "Sender":
			return p.participant(&h.Sender)
		case "Recipient":
			return p.participant(&h.Recipient)
		}
		v, err := p.text()
		if err != nil {
			return err
		}
		v = strings.TrimSpace(v)
		switch name {
		case "Version":
			h.Version = v
		case "MessageType":
			h.MessageType = v
		case "MessageDate":
			h.MessageDate, err = parseDateTime(v)
		case "MessageGUID":
			h.MessageGUID, err = guid(v)
		}
		if err != nil {
			return p.errf("%v", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if i < len(order) {
		return p.errf("%s is missing", order[i])
	}
	return nil
}

func (p *parser) participant(x *Participant) error {
	return p.fields([]string{"Identifier", "AdministrativeBodyName", "GUID"}, req("Identifier", "AdministrativeBodyName", "GUID"),
		func(name, v string) (err error) {
			switch name {
			case "Identifier":
				x.Identifier = strings.TrimSpace(v)
			case "AdministrativeBodyName":
				x.AdministrativeBodyName = v
			case "GUID":
				x.GUID, err = guid(strings.TrimSpace(v))
			}
			return err
		})
}

func (p *parser) body(b *Body) error {
	n := 0
	err := p.children(func(name string, se xml.StartElement) error {
		if n++; n > 1 {
			return p.errf("Body holds more than one message")
		}
		switch name {
		case "DocumentRegistrationRequest":
			b.RegistrationRequest = &RegistrationRequest{}
			return p.registration(b.RegistrationRequest)
		case "DocumentStatusRequest":
			b.StatusRequest = &StatusRequest{}
			found := false
			err := p.children(func(name string, se xml.StartElement) error {
				if name != "DocID" || found {
					return p.unexpected(se)
				}
				found = true
				return p.docID(&b.StatusRequest.DocID)
			})
			if err == nil && !found {
				err = p.errf("DocID is missing")
			}
			return err
		case "DocumentStatusResponse":
			b.StatusResponse = &StatusResponse{}
			return p.statusResponse(b.StatusResponse)
		case "Error":
			e := &ErrorNotice{}
			b.Error = e
			return p.fields([]string{"MessageGUID", "ErrorType", "ErrorDescription"}, req("ErrorType", "ErrorDescription"),
				func(name, v string) (err error) {
					switch name {
					case "MessageGUID":
						e.MessageGUID, err = guid(strings.TrimSpace(v))
					case "ErrorType":
						e.Type = strings.TrimSpace(v)
						if e.Type != ErrorInternal && e.Type != ErrorExternal {
							err = fmt.Errorf("%q is not ERR_INTERNAL or ERR_EXTERNAL", e.Type)
						}
					case "ErrorDescription":
						e.Description = v
					}
					return err
				})
		}
		return p.unexpected(se)
	})
	if err == nil && n == 0 {
		err = p.errf("Body is empty")
	}
	return err
}

func (p *parser) docID(d *DocID) error {
	haveGUID := false
	err := p.children(func(name string, se xml.StartElement) error {
		switch {
		case name == "DocumentNumber" && d.Number == nil && d.URI == nil && !haveGUID:
			d.Number = &DocNumber{}
			return p.fields([]string{"DocNumber", "DocDate"}, req("DocNumber", "DocDate"), func(name, v string) (err error) {
				if name == "DocNumber" {
					d.Number.Number = v
				} else {
					d.Number.Date, err = parseDate(v)
				}
				return err
			})
		case name == "DocumentURI" && d.Number == nil && d.URI == nil && !haveGUID:
			d.URI = &DocURI{}
			return p.docURI(d.URI)
		case name == "DocumentGUID" && !haveGUID:
			haveGUID = true
			v, err := p.text()
			if err != nil {
				return err
			}
			if d.GUID, err = guid(strings.TrimSpace(v)); err != nil {
				return p.errf("%v", err)
			}
			return nil
		}
		return p.unexpected(se)
	})
	if err == nil && !haveGUID {
		err = p.errf("DocumentGUID is missing")
	}
	return err
}

func (p *parser) docURI(u *DocURI) error {
	order := []string{"RegisterIndex", "SequenceNumber", "ReceiptOrSigningDate"}
	i := 0
	return p.children(func(name string, se xml.StartElement) error {
		for i < len(order) && (se.Name.Space != SegmentNamespace || order[i] != se.Name.Local) {
			i++
		}
		if i == len(order) {
			return p.unexpected(se)
		}
		i++
		v, err := p.text()
		if err != nil {
			return err
		}
		v = strings.TrimSpace(v)
		switch se.Name.Local {
		case "RegisterIndex":
			u.RegisterIndex, err = positive(v)
		case "SequenceNumber":
			u.SequenceNumber, err = positive(v)
		default:
			u.ReceiptOrSigningDate, err = parseDate(v)
		}
		if err != nil {
			return p.errf("%v", err)
		}
		return nil
	})
}

func positive(v string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimPrefix(v, "+"), 10, 64)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%q is not an integer of at least 1", v)
	}
	return n, nil
}

func (p *parser) registration(r *RegistrationRequest) error {
	state := 0 // 1 after Document, 2 after Comment
	err := p.children(func(name string, se xml.StartElement) error {
		switch {
		case name == "Document" && state == 0:
			state = 1
			return p.document(&r.Document)
		case name == "Comment" && state == 1:
			state = 2
			v, err := p.text()
			r.Comment = v
			return err
		}
		return p.unexpected(se)
	})
	if err == nil && state < 2 {
		err = p.errf("%s is missing", []string{"Document", "Comment"}[state])
	}
	return err
}

// sequence reads the children of the current element, which come in the order of order, each at
// most once and any of them missing, and hands each to f. It reports which came.
func (p *parser) sequence(order []string, f func(name string, se xml.StartElement) error) (map[string]bool, error) {
	i := 0
	seen := map[string]bool{}
	err := p.children(func(name string, se xml.StartElement) error {
		for i < len(order) && order[i] != name {
			i++
		}
		if i == len(order) {
			return p.unexpected(se)
		}
		i++
		seen[name] = true
		return f(name, se)
	})
	return seen, err
}

func (p *parser) document(d *Document) error {
	order := []string{"DocID", "DocParentID", "DocKind", "DocCorrespondentList", "DocAttachmentList", "DocAbout", "DocService",
		"DocComment", "DocAddData", "DocReqDateClose", "DocAttentionTo", "{" + dsig.Namespace + "}Signature"}
	seen, err := p.sequence(order, func(name string, se xml.StartElement) error {
		switch name {
		case "DocID":
			return p.docID(&d.ID)
		case "DocParentID":
			d.ParentID = &DocID{}
			return p.docID(d.ParentID)
		case "DocCorrespondentList":
			return p.list("Corespondent", func() error {
				var c Correspondent
				err := p.fields([]string{"CorName", "CorCity", "CorAddress", "CorEGN", "CorIDCard", "CorBULSTAT", "CorEMail", "CorPhone",
					"CorMobilePhone", "CorMOL", "CorComment", "CorKind"}, req("CorName", "CorCity"), func(name, v string) error {
					*map[string]*string{"CorName": &c.Name, "CorCity": &c.City, "CorAddress": &c.Address, "CorEGN": &c.EGN,
						"CorIDCard": &c.IDCard, "CorBULSTAT": &c.BULSTAT, "CorEMail": &c.Email, "CorPhone": &c.Phone,
						"CorMobilePhone": &c.MobilePhone, "CorMOL": &c.MOL, "CorComment": &c.Note, "CorKind": &c.Kind}[name] = v
					if name == "CorKind" && v != CorrApplicant && v != CorrOther {
						return fmt.Errorf("%q is not Corr_Applicant or Corr_Other", v)
					}
					return nil
				})
				d.Correspondents = append(d.Correspondents, c)
				return err
			})
		case "DocAttachmentList":
			return p.list("Attachment", func() error {
				a, err := p.attachment()
				if err == nil {
					d.Attachments = append(d.Attachments, *a)
				}
				return err
			})
		case "DocService":
			d.Service = &Service{}
			return p.fields([]string{"ServiceName", "ServiceType", "ServiceCode"}, req("ServiceName", "ServiceType", "ServiceCode"),
				func(name, v string) error {
					*map[string]*string{"ServiceName": &d.Service.Name, "ServiceType": &d.Service.Type, "ServiceCode": &d.Service.Code}[name] = v
					return nil
				})
		case "DocAddData":
			var err error
			d.AddData, err = p.anyContent(se)
			return err
		case "{" + dsig.Namespace + "}Signature":
			// Kept whole, the element itself included, so that it is written back as read.
			c, err := canonicalContent(p.d)
			if err != nil {
				return p.errf("%v", err)
			}
			start := []byte(`<Signature xmlns="` + dsig.Namespace + `"`)
			for _, a := range se.Attr {
				if a.Name.Space == "" && a.Name.Local != "xmlns" {
					start = append(start, ' ')
					start = append(start, a.Name.Local...)
					start = escapeAttr(append(start, `="`...), a.Value)
					start = append(start, '"')
				}
			}
			d.Signature = append(append(append(start, '>'), c...), "</Signature>"...)
			return nil
		}
		v, err := p.text()
		if err != nil {
			return err
		}
		switch name {
		case "DocKind":
			d.Kind = v
		case "DocAbout":
			d.About = v
		case "DocComment":
			d.Comment = v
		case "DocReqDateClose":
			d.ReqDateClose, err = parseDate(v)
		case "DocAttentionTo":
			d.AttentionTo = v
		}
		if err != nil {
			return p.errf("%v", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return p.present(seen, "DocID", "DocKind")
}

// list reads a list element whose children are all named item, at least one.
func (p *parser) list(item string, f func() error) error {
	n := 0
	err := p.children(func(name string, se xml.StartElement) error {
		if name != item {
			return p.unexpected(se)
		}
		n++
		return f()
	})
	if err == nil && n == 0 {
		err = p.errf("%s is missing", item)
	}
	return err
}

func (p *parser) anyContent(se xml.StartElement) (RawXML, error) {
	for _, a := range se.Attr {
		if a.Name.Space != "xmlns" && !(a.Name.Space == "" && a.Name.Local == "xmlns") {
			return nil, p.errf("attributes on %s are not supported", se.Name.Local)
		}
	}
	c, err := canonicalContent(p.d)
	if err != nil {
		return nil, p.errf("%v", err)
	}
	return c, nil
}

func (p *parser) attachment() (*Attachment, error) {
	a := &Attachment{}
	index := p.nAtt
	p.nAtt++
	seen, err := p.sequence([]string{"AttFileName", "AttBody", "AttComment", "AttMIMEType"}, func(name string, se xml.StartElement) error {
		if name == "AttBody" {
			return p.attBody(index, a)
		}
		v, err := p.text()
		*map[string]*string{"AttFileName": &a.FileName, "AttComment": &a.Comment, "AttMIMEType": &a.MIMEType}[name] = v
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := p.present(seen, "AttFileName", "AttBody", "AttMIMEType"); err != nil {
		return nil, err
	}
	return a, nil
}

// present reports the first of names that seen lacks as missing.
func (p *parser) present(seen map[string]bool, names ...string) error {
	for _, n := range names {
		if !seen[n] {
			return p.errf("%s is missing", n)
		}
	}
	return nil
}

// attBody decodes AttBody. encoding/xml hands a text node over whole, in its own buffer; the
// content is decoded from there (or streamed to the caller), never copied as text.
func (p *parser) attBody(index int, a *Attachment) error {
	var data []byte
	for {
		tok, err := p.d.Token()
		if err != nil {
			return fmt.Errorf("malformed XML at %s: %w", p.where(), err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			t = stripSpace(t)
			if p.opt.Attachment != nil {
				if err := p.opt.Attachment(index, a, base64.NewDecoder(base64.StdEncoding, bytes.NewReader(t))); err != nil {
					return p.errf("%v", err)
				}
				continue
			}
			// Text split by a comment or a CDATA boundary arrives in pieces; each piece is
			// decoded on its own only when it is a whole number of quads.
			if len(data) > 0 || len(t)%4 != 0 {
				return p.errf("base64 content split into pieces is not supported")
			}
			data = make([]byte, base64.StdEncoding.DecodedLen(len(t)))
			n, err := base64.StdEncoding.Decode(data, t)
			if err != nil {
				return p.errf("not base64: %v", err)
			}
			data = data[:n]
		case xml.StartElement:
			return p.errf("element %s where base64 content is expected", t.Name.Local)
		case xml.EndElement:
			if p.opt.Attachment == nil {
				a.Content = bytes.NewReader(data)
			}
			return nil
		}
	}
}

// stripSpace removes the white space base64Binary allows, in place.
func stripSpace(t []byte) []byte {
	if bytes.IndexAny(t, " \t\r\n") < 0 {
		return t
	}
	out := t[:0]
	for _, c := range t {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			out = append(out, c)
		}
	}
	return out
}

func (p *parser) statusResponse(r *StatusResponse) error {
	order := []string{"DocID", "DocRegStatus", "RejectionReason", "DocExpectCloseDate", "DocAddData"}
	seen, err := p.sequence(order, func(name string, se xml.StartElement) error {
		switch name {
		case "DocID":
			return p.docID(&r.DocID)
		case "DocAddData":
			var err error
			r.AddData, err = p.anyContent(se)
			return err
		}
		v, err := p.text()
		if err != nil {
			return err
		}
		switch name {
		case "DocRegStatus":
			r.Status = strings.TrimSpace(v)
			if !statuses[r.Status] {
				return p.errf("%q is not a document status", r.Status)
			}
		case "RejectionReason":
			r.RejectionReason = v
		case "DocExpectCloseDate":
			if r.ExpectCloseDate, err = parseDate(v); err != nil {
				return p.errf("%v", err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return p.present(seen, "DocID", "DocRegStatus")
}

// parseDate reads an xsd:date, with or without a time zone; the date is returned at midnight
// UTC (the zone of a date carries no meaning for the exchange).
func parseDate(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if len(v) >= 10 {
		if t, err := time.Parse(dateLayout, v[:10]); err == nil {
			rest := v[10:]
			if rest == "" || rest == "Z" || (len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
				return t, nil
			}
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date (xsd:date, YYYY-MM-DD)", v)
}

func containsDoctype(raw []byte) bool {
	return bytes.Contains(raw, []byte("<!DOCTYPE")) || bytes.Contains(raw, []byte("<!ENTITY"))
}
