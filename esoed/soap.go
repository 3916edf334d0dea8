package esoed

import (
	"bufio"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/aiskao/aiskao/internal/xmllimit"
)

// The participant endpoint of EGovEndpoint.wsdl: SOAP 1.1, document/literal, one operation.
const (
	// SOAPEnvelopeNamespace is the SOAP 1.1 envelope namespace.
	SOAPEnvelopeNamespace = "http://schemas.xmlsoap.org/soap/envelope/"
	// ServiceNamespace is the namespace of Submit, SubmitResponse and their children.
	ServiceNamespace = "http://services.egov.bg/messaging/"
	// SubmitAction is the SOAPAction header of Submit.
	SubmitAction = "http://services.egov.bg/messaging/IEGovService/Submit"
	// SOAPContentType is the Content-Type of SOAP 1.1 requests and responses.
	SOAPContentType = "text/xml; charset=utf-8"
)

const xsiNamespace = "http://www.w3.org/2001/XMLSchema-instance"

// Fault is a SOAP 1.1 fault: how an endpoint refuses a message (every failed check П.1–П.15
// "generates an exception", as the specification puts it), and how a sender sees it (И.8).
type Fault struct {
	Code   string // faultcode: "soap:Client" (the sender's error) or "soap:Server"
	String string // faultstring, for people: Bulgarian first, then English
	Detail string // detail, as text; optional
}

// The fault codes of SOAP 1.1 with the prefix WriteFault binds.
const (
	FaultClient = "soap:Client"
	FaultServer = "soap:Server"
)

func (f *Fault) Error() string {
	s := "esoed: SOAP fault " + f.Code + ": " + f.String
	if f.Detail != "" {
		s += " (" + f.Detail + ")"
	}
	return s
}

const envelopeStart = `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="` + SOAPEnvelopeNamespace + `"><soap:Body>`
const envelopeEnd = `</soap:Body></soap:Envelope>`

// WriteSubmitRequest writes the SOAP request of Submit carrying msg (a whole message, as
// [Write] produces it) as the text of Submit/request, escaped as it is copied.
func WriteSubmitRequest(w io.Writer, msg io.Reader) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(envelopeStart + `<Submit xmlns="` + ServiceNamespace + `"><request>`)
	if err := copyEscaped(bw, msg); err != nil {
		return fmt.Errorf("esoed: submit request: %w", err)
	}
	bw.WriteString(`</request></Submit>` + envelopeEnd)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("esoed: submit request: %w", err)
	}
	return nil
}

// WriteSubmitResponse writes the synchronous answer of Submit: with a nil result an empty
// answer (SubmitResult xsi:nil, "the message is accepted and awaits processing"), otherwise the
// answering message as the text of SubmitResult.
func WriteSubmitResponse(w io.Writer, result []byte) error {
	var b bytes.Buffer
	b.WriteString(envelopeStart + `<SubmitResponse xmlns="` + ServiceNamespace + `">`)
	if result == nil {
		b.WriteString(`<SubmitResult xmlns:i="` + xsiNamespace + `" i:nil="true"/>`)
	} else {
		b.WriteString(`<SubmitResult>`)
		copyEscaped(&b, bytes.NewReader(result))
		b.WriteString(`</SubmitResult>`)
	}
	b.WriteString(`</SubmitResponse>` + envelopeEnd)
	_, err := w.Write(b.Bytes())
	return err
}

// WriteFault writes a SOAP 1.1 fault envelope (answered with HTTP status 500).
func WriteFault(w io.Writer, f *Fault) error {
	var b bytes.Buffer
	b.WriteString(envelopeStart + `<soap:Fault><faultcode>`)
	xml.EscapeText(&b, []byte(f.Code))
	b.WriteString(`</faultcode><faultstring xml:lang="bg">`)
	xml.EscapeText(&b, []byte(f.String))
	b.WriteString(`</faultstring>`)
	if f.Detail != "" {
		b.WriteString(`<detail>`)
		xml.EscapeText(&b, []byte(f.Detail))
		b.WriteString(`</detail>`)
	}
	b.WriteString(`</soap:Fault>` + envelopeEnd)
	_, err := w.Write(b.Bytes())
	return err
}

// copyEscaped copies r to w escaping it as element text.
func copyEscaped(w io.Writer, r io.Reader) error {
	buf := make([]byte, 32<<10)
	var out []byte
	for {
		n, err := r.Read(buf)
		if n > 0 {
			out = escapeText(out[:0], buf[:n])
			if _, werr := w.Write(out); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// ParseSubmitRequest reads a SOAP request of Submit and returns the message it carries (the
// text of Submit/request), nil when the request element is absent or nil. It fails, naming
// what is wrong, when the input is not a SOAP 1.1 envelope with Submit in its Body.
func ParseSubmitRequest(r io.Reader) ([]byte, error) {
	b, _, err := parseEnvelope(r, "Submit", "request")
	if err != nil {
		return nil, fmt.Errorf("esoed: submit request: %w", err)
	}
	return b, nil
}

// ParseSubmitResponse reads the answer to Submit. It returns the answering message, or nil for
// an empty answer; a fault is returned as a *[Fault] error.
func ParseSubmitResponse(r io.Reader) ([]byte, error) {
	b, f, err := parseEnvelope(r, "SubmitResponse", "SubmitResult")
	if err != nil {
		return nil, fmt.Errorf("esoed: submit response: %w", err)
	}
	if f != nil {
		return nil, f
	}
	return b, nil
}

// parseEnvelope reads Envelope/Body/{ServiceNamespace}op/{ServiceNamespace}field and returns the
// field's text, or a fault.
func parseEnvelope(r io.Reader, op, field string) ([]byte, *Fault, error) {
	d := xmllimit.NewDecoder(r, xmllimit.Limits{}) // one envelope, bounded; no DOCTYPE
	var path []xml.Name
	var text []byte
	var fault *Fault
	found, isNil, opFound, rooted := false, false, false, false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("not XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			return nil, nil, errors.New("a DOCTYPE is not allowed")
		case xml.StartElement:
			if len(path) > 8 {
				return nil, nil, errors.New("nested too deep")
			}
			switch len(path) {
			case 0:
				rooted = true
				if t.Name.Space != SOAPEnvelopeNamespace || t.Name.Local != "Envelope" {
					return nil, nil, fmt.Errorf("not a SOAP 1.1 envelope: root {%s}%s", t.Name.Space, t.Name.Local)
				}
			case 2:
				if path[1].Local != "Body" || path[1].Space != SOAPEnvelopeNamespace {
					break
				}
				switch {
				case t.Name.Space == SOAPEnvelopeNamespace && t.Name.Local == "Fault":
					fault = &Fault{}
				case t.Name.Space != ServiceNamespace || t.Name.Local != op:
					return nil, nil, fmt.Errorf("Body holds {%s}%s, want {%s}%s", t.Name.Space, t.Name.Local, ServiceNamespace, op)
				default:
					opFound = true
				}
			case 3:
				if fault == nil && t.Name.Space == ServiceNamespace && t.Name.Local == field {
					found = true
					for _, a := range t.Attr {
						if a.Name.Space == xsiNamespace && a.Name.Local == "nil" && (a.Value == "true" || a.Value == "1") {
							isNil = true
						}
					}
				}
			}
			path = append(path, t.Name)
			text = text[:0]
		case xml.CharData:
			if len(path) == 4 || (fault != nil && len(path) >= 4) {
				text = append(text, t...)
			}
		case xml.EndElement:
			if fault != nil && len(path) == 4 {
				switch path[3].Local {
				case "faultcode":
					fault.Code = strings.TrimSpace(string(text))
				case "faultstring":
					fault.String = string(text)
				case "detail":
					fault.Detail = strings.TrimSpace(string(text))
				}
			}
			if fault != nil && len(path) > 4 && path[3].Local == "detail" {
				// Structured detail: keep its text.
				fault.Detail = strings.TrimSpace(fault.Detail + " " + string(text))
				text = text[:0]
			}
			if found && len(path) == 4 && path[3].Local == field && fault == nil {
				if isNil {
					return nil, nil, nil
				}
				return text, nil, nil
			}
			path = path[:len(path)-1]
		}
	}
	if fault != nil {
		return nil, fault, nil
	}
	if !rooted {
		return nil, nil, errors.New("not XML: no root element")
	}
	if len(path) != 0 {
		return nil, nil, errors.New("malformed XML: unexpected end")
	}
	if found || opFound {
		return nil, nil, nil
	}
	return nil, nil, fmt.Errorf("no %s in the SOAP Body", op)
}

// Submit sends a message to a participant's endpoint and returns the synchronous answer: the
// answering message, nil for an empty answer, a *[Fault] when the endpoint refused it, or the
// transport error. The client carries the TLS configuration (the sender's transport certificate,
// the checks of the server's, И.7).
func Submit(ctx context.Context, client *http.Client, endpoint string, msg []byte) ([]byte, error) {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(WriteSubmitRequest(pw, bytes.NewReader(msg))) }()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, pr)
	if err != nil {
		pr.Close()
		return nil, fmt.Errorf("esoed: submit: %w", err)
	}
	req.Header.Set("Content-Type", SOAPContentType)
	req.Header.Set("SOAPAction", `"`+SubmitAction+`"`)
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("esoed: submit to %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	res, err := ParseSubmitResponse(io.LimitReader(resp.Body, MaxResponseSize))
	var f *Fault
	if err != nil && !errors.As(err, &f) && resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("esoed: submit to %s: HTTP %s", endpoint, resp.Status)
	}
	return res, err
}

// MaxResponseSize bounds the answer Submit reads (an answer is a status or an error notice).
const MaxResponseSize = 16 << 20
