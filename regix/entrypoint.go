package regix

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"regexp"
	"strings"

	"github.com/google/uuid"
)

// EntryPoint is a version of the RegiX entry point. Administrations use both:
// V1 (RegiXEntryPoint.svc) as its public WSDL describes it, and V2
// (RegiXEntryPointV2.svc).
type EntryPoint string

// The entry points.
const (
	// V1 is RegiXEntryPoint.svc: SOAP 1.2 with WS-Addressing 1.0, methods and
	// ServiceRequestData in the namespace http://tempuri.org/, no
	// VerificationCode (Execute answers a ServiceCallID only).
	V1 EntryPoint = "v1"
	// V2 is RegiXEntryPointV2.svc: SOAP 1.1, methods in http://egov.bg/RegiX
	// and ServiceRequestData in http://egov.bg/RegiX/SignedData.
	V2 EntryPoint = "v2"
)

// ParseEntryPoint checks an entry point's name; empty means V2.
func ParseEntryPoint(s string) (EntryPoint, error) {
	switch EntryPoint(s) {
	case "", V2:
		return V2, nil
	case V1:
		return V1, nil
	}
	return "", fmt.Errorf("regix: unknown entry point %q (expected v1 or v2)", s)
}

// Namespaces and actions of the V1 entry point, from its WSDL
// (WSHttpBinding_IRegiXEntryPoint).
const (
	// V1NS is the namespace of the V1 methods and of everything in their
	// bodies (the WSDL's schema is elementFormDefault="qualified").
	V1NS = "http://tempuri.org/"
	// V1ActionPrefix prefixes a method's name in its WS-Addressing action
	// (and the SOAP 1.2 action parameter); answers add "Response".
	V1ActionPrefix = "http://tempuri.org/IRegiXEntryPoint/"
	// SOAP12NS is the namespace of SOAP 1.2 envelopes.
	SOAP12NS = soap12NS
	// WSANS is the namespace of WS-Addressing 1.0, which the V1 binding uses
	// (wsaw:UsingAddressing).
	WSANS = "http://www.w3.org/2005/08/addressing"
	// WSAAnonymous is the address of ReplyTo when the answer comes back on
	// the same HTTP connection.
	WSAAnonymous = WSANS + "/anonymous"
	// SOAP12ContentType is the media type of SOAP 1.2 messages over HTTP.
	SOAP12ContentType = "application/soap+xml"
)

// v1Envelope builds a V1 request: a SOAP 1.2 envelope with the WS-Addressing
// headers Action, MessageID, ReplyTo (anonymous) and To, and the method's
// element in V1NS holding inner (elements written with the prefix tem).
func v1Envelope(method, to, messageID string, inner func(b *bytes.Buffer)) []byte {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	fmt.Fprintf(&b, `<s:Envelope xmlns:s="%s" xmlns:a="%s" xmlns:tem="%s"><s:Header>`, SOAP12NS, WSANS, V1NS)
	fmt.Fprintf(&b, `<a:Action s:mustUnderstand="1">%s%s</a:Action>`, V1ActionPrefix, method)
	b.WriteString(`<a:MessageID>`)
	xml.EscapeText(&b, []byte(messageID))
	fmt.Fprintf(&b, `</a:MessageID><a:ReplyTo><a:Address>%s</a:Address></a:ReplyTo>`, WSAAnonymous)
	b.WriteString(`<a:To s:mustUnderstand="1">`)
	xml.EscapeText(&b, []byte(to))
	b.WriteString(`</a:To></s:Header><s:Body>`)
	fmt.Fprintf(&b, `<tem:%s>`, method)
	inner(&b)
	fmt.Fprintf(&b, `</tem:%s></s:Body></s:Envelope>`, method)
	return b.Bytes()
}

// BuildV1Envelope builds the V1 request of method (ExecuteSynchronous or
// Execute) for the operation named operation with the request document
// argument, addressed to the entry point's URL to and identified by
// messageID. A call without LawReason is refused.
func BuildV1Envelope(method, to, messageID, operation string, argument []byte, rd RequestData) ([]byte, error) {
	if method != "ExecuteSynchronous" && method != "Execute" {
		return nil, fmt.Errorf("regix: V1 request data goes with ExecuteSynchronous or Execute, not %q", method)
	}
	if err := rd.check(); err != nil {
		return nil, err
	}
	return v1Envelope(method, to, messageID, func(b *bytes.Buffer) {
		b.WriteString(`<tem:request>`)
		writeRequestData(b, operation, argument, rd)
		b.WriteString(`</tem:request>`)
	}), nil
}

// BuildV1CheckEnvelope builds the V1 CheckResult request: argument holds
// ServiceCallID alone (V1 has no VerificationCode).
func BuildV1CheckEnvelope(to, messageID, serviceCallID string) []byte {
	return v1Envelope("CheckResult", to, messageID, func(b *bytes.Buffer) {
		b.WriteString(`<tem:argument>`)
		elem(b, "ServiceCallID", serviceCallID, true)
		b.WriteString(`</tem:argument>`)
	})
}

// newMessageID makes a WS-Addressing MessageID, as WCF clients do.
func newMessageID() string { return "urn:uuid:" + uuid.NewString() }

// decimalRE is the lexical space of xs:decimal, the type of V1's ServiceCallID.
var decimalRE = regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$`)

// checkV1Answer checks what a V1 answer that is no fault says about itself:
// a SOAP 1.2 envelope, the method's answer element in V1NS, the method's
// output action and the request's MessageID in RelatesTo. WS-Addressing 1.0
// requires both headers in a reply, and an answer that relates to another
// message is not this call's.
func checkV1Answer(method, messageID string, a *answer) error {
	if a.envelope.Space != SOAP12NS {
		return fmt.Errorf("the V1 entry point answers in SOAP 1.2 ({%s}Envelope), not {%s}%s", SOAP12NS, a.envelope.Space, a.envelope.Local)
	}
	if want := (xml.Name{Space: V1NS, Local: method + "Response"}); a.method != want {
		return fmt.Errorf("the answer's body holds {%s}%s, expected {%s}%s", a.method.Space, a.method.Local, want.Space, want.Local)
	}
	if want := (xml.Name{Space: V1NS, Local: method + "Result"}); a.result != want {
		return fmt.Errorf("the answer's %s holds {%s}%s, expected {%s}%s", a.method.Local, a.result.Space, a.result.Local, want.Space, want.Local)
	}
	if act, want := strings.TrimSpace(a.action), V1ActionPrefix+method+"Response"; act != want {
		if act == "" {
			return fmt.Errorf("the answer has no WS-Addressing Action header (%s), expected %q", WSANS, want)
		}
		return fmt.Errorf("the answer's WS-Addressing Action is %q, expected %q", act, want)
	}
	if rel := strings.TrimSpace(a.relatesTo); rel != messageID {
		if rel == "" {
			return fmt.Errorf("the answer has no WS-Addressing RelatesTo header naming the request %q", messageID)
		}
		return fmt.Errorf("the answer relates to message %q, not to the request %q", rel, messageID)
	}
	return nil
}
