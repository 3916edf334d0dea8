package esoed

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/aiskao/aiskao/internal/xmllimit"
)

// Namespace is the namespace of ЕСОЕД messages.
const Namespace = "http://schemas.egov.bg/messaging/v1"

// The message types of EGovMessaging.xsd (Header/MessageType).
const (
	TypeRegistrationRequest = "MSG_DocumentRegistrationRequest"
	TypeStatusRequest       = "MSG_DocumentStatusRequest"
	TypeStatusResponse      = "MSG_DocumentStatusResponse"
	TypeError               = "MSG_Error"
)

// Header is the Header of a message.
type Header struct {
	Version     string
	MessageType string // one of the Type constants
	MessageDate time.Time
	Sender      Participant
	Recipient   Participant
	MessageGUID string // in braces, as on the wire: {xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}
}

// Participant is the sender or the recipient of a message.
type Participant struct {
	Identifier             string // ЕИК/БУЛСТАТ of the administration
	AdministrativeBodyName string
	GUID                   string // in braces, as on the wire
}

// Summary is what a message is about, read without keeping its attachments: the header and the
// identification of the document the body concerns.
type Summary struct {
	Header Header
	// Body is the local name of the body's element: DocumentRegistrationRequest,
	// DocumentStatusRequest, DocumentStatusResponse or Error.
	Body string
	// DocNumber, DocDate and DocGUID identify the document (Body/*/DocID, or
	// Body/*/Document/DocID in a registration request); empty in an Error.
	DocNumber string
	DocDate   time.Time
	DocGUID   string
	// DocKind is the kind of document of a registration request (Document/DocKind).
	DocKind string
	// Signed tells whether the message carries an XML-DSig Signature element.
	Signed bool
}

var guidRE = regexp.MustCompile(`^\{[a-fA-F0-9]{8}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{12}\}$`)

// ValidGUID reports whether s is a GUID written as the specification's GUIDType requires:
// hexadecimal groups 8-4-4-4-12 in braces, for example {f330b925-8cca-447e-907e-8e42a11bb6d6}.
func ValidGUID(s string) bool { return guidRE.MatchString(s) }

// ParseHeader reads a message in one streaming pass and returns its summary. Attachment contents
// (AttBody) are skipped token by token, never stored. A document with a DOCTYPE is refused (no
// entity is expanded or fetched), and so is one with a second root element or text after the
// root; the document is bounded by xmllimit.Default (depth, size, attributes, names, texts).
// The work is linear in the input: only the few paths the summary reads are ever built.
//
// It fails when the input is not XML, when the root is not {Namespace}Message, and when the header
// lacks a field, a GUID is not in braces or a date is malformed; in the last cases the summary read
// so far is returned with the error, so that a caller can still say which message it was.
// ParseHeader does not validate against the schema: see [Schema].
func ParseHeader(r io.Reader) (*Summary, error) {
	return ParseHeaderWith(r, xmllimit.Limits{})
}

// summaryDepth is the deepest path below Message that the summary reads:
// Body/DocumentRegistrationRequest/Document/DocID/DocumentNumber/DocNumber.
const summaryDepth = 6

// ParseHeaderWith is [ParseHeader] under the given limits (zero fields from xmllimit.Default).
func ParseHeaderWith(r io.Reader, lim xmllimit.Limits) (*Summary, error) {
	d := xmllimit.NewDecoder(r, lim)
	s := &Summary{}
	var (
		path []string // local names from Message down, in the messaging namespace
		text strings.Builder
		seen = map[string]bool{}
	)
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			if len(path) == 0 && len(seen) == 0 {
				if errors.Is(err, xmllimit.ErrNoRoot) {
					return nil, errors.New("esoed: not XML: no root element")
				}
				return nil, fmt.Errorf("esoed: not XML: %w", err)
			}
			return s, fmt.Errorf("esoed: malformed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(path) == 0 {
				if t.Name.Space != Namespace || t.Name.Local != "Message" {
					return nil, fmt.Errorf("esoed: not an ЕСОЕД message: root element {%s}%s, want {%s}Message", t.Name.Space, t.Name.Local, Namespace)
				}
				seen["Message"] = true
			}
			if len(path) == 1 && t.Name.Local == "Signature" && t.Name.Space == "http://www.w3.org/2000/09/xmldsig#" {
				s.Signed = true
			}
			if t.Name.Local == "AttBody" || t.Name.Space != Namespace {
				// Attachments and foreign content (the signature) carry nothing the summary needs.
				if err := d.Skip(); err != nil {
					return s, fmt.Errorf("esoed: malformed XML: %w", err)
				}
				continue
			}
			path = append(path, t.Name.Local)
			if len(path) == 3 && path[1] == "Body" && s.Body == "" {
				s.Body = t.Name.Local
			}
			text.Reset()
		case xml.CharData:
			if text.Len() < 4096 {
				text.Write(t[:min(len(t), 4096)])
			}
		case xml.EndElement:
			// Deeper elements hold nothing the summary reads; joining their paths would make
			// the work quadratic in the depth.
			if n := len(path) - 1; n >= 1 && n <= summaryDepth {
				if err := s.set(strings.Join(path[1:], "/"), strings.TrimSpace(text.String()), seen); err != nil {
					return s, err
				}
			}
			path = path[:len(path)-1]
			text.Reset()
		}
	}
	for _, f := range []string{"Header/Version", "Header/MessageType", "Header/MessageDate", "Header/Sender/Identifier", "Header/Sender/GUID",
		"Header/Recipient/Identifier", "Header/Recipient/GUID", "Header/MessageGUID"} {
		if !seen[f] {
			return s, fmt.Errorf("esoed: %s is missing", f)
		}
	}
	if s.Body == "" {
		return s, errors.New("esoed: Body has no message element")
	}
	return s, nil
}

// set stores the text of the element at p (a path below Message) in the summary.
func (s *Summary) set(p, v string, seen map[string]bool) error {
	h := &s.Header
	var err error
	switch p {
	case "Header/Version":
		h.Version = v
	case "Header/MessageType":
		h.MessageType = v
	case "Header/MessageDate":
		h.MessageDate, err = parseDateTime(v)
	case "Header/Sender/Identifier":
		h.Sender.Identifier = v
	case "Header/Sender/AdministrativeBodyName":
		h.Sender.AdministrativeBodyName = v
	case "Header/Sender/GUID":
		h.Sender.GUID, err = guid(v)
	case "Header/Recipient/Identifier":
		h.Recipient.Identifier = v
	case "Header/Recipient/AdministrativeBodyName":
		h.Recipient.AdministrativeBodyName = v
	case "Header/Recipient/GUID":
		h.Recipient.GUID, err = guid(v)
	case "Header/MessageGUID":
		h.MessageGUID, err = guid(v)
	default:
		// The document's own DocID sits right under the body element, or under its Document in
		// a registration request; DocParentID and the like are other documents.
		rest, ok := strings.CutPrefix(p, "Body/"+s.Body+"/")
		if !ok || s.Body == "" {
			return nil
		}
		rest = strings.TrimPrefix(rest, "Document/")
		switch rest {
		case "DocID/DocumentNumber/DocNumber":
			s.DocNumber = v
		case "DocID/DocumentNumber/DocDate":
			s.DocDate, err = time.Parse("2006-01-02", v[:min(len(v), 10)])
		case "DocID/DocumentGUID":
			s.DocGUID, err = guid(v)
		case "DocKind":
			s.DocKind = v
		}
	}
	if err != nil {
		return fmt.Errorf("esoed: %s: %w", p, err)
	}
	seen[p] = true
	return nil
}

func guid(v string) (string, error) {
	if !ValidGUID(v) {
		return "", fmt.Errorf("%q is not a GUID in braces ({xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx})", v)
	}
	return v, nil
}

// parseDateTime reads an xsd:dateTime; one without a time zone is taken as UTC.
func parseDateTime(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date and time (xsd:dateTime)", v)
}
