package regix

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aiskao/aiskao/internal/xmllimit"
)

// Result is ServiceResultData, the answer of the entry point.
type Result struct {
	// IsReady says the register has answered (false while an asynchronous
	// call is being processed).
	IsReady bool
	// HasError says the call failed; Error then holds the register's text.
	HasError bool
	// Error is the error text of RegiX or of the register.
	Error string
	// ServiceCallID identifies the call in RegiX.
	ServiceCallID string
	// VerificationCode goes with ServiceCallID for asynchronous calls.
	VerificationCode string
	// Request is the request document RegiX echoes in Data/Request.
	Request []byte
	// Response is the response document in Data/Response.
	Response []byte
	// Matrix is the access matrix in Data/Matrix, when it was asked for.
	Matrix []byte
	// Signed says the answer carried a Signature element.
	Signed bool
	// Fields are the response document turned into fields (ParseResponse);
	// the client fills them, ParseResultData does not.
	Fields map[string]any
}

// FaultError is a SOAP fault answered by the entry point.
type FaultError struct {
	// Code is the fault code (faultcode or Code/Value), e.g. "s:Client".
	Code string
	// Subcode is the first SOAP 1.2 subcode (Code/Subcode/Value), e.g.
	// "a:ActionNotSupported"; empty in SOAP 1.1.
	Subcode string
	// String is the fault text (faultstring or the first Reason/Text).
	String string
}

func (e *FaultError) Error() string {
	if e.Subcode != "" {
		return fmt.Sprintf("regix: SOAP fault %s (%s): %s", e.Code, e.Subcode, e.String)
	}
	return fmt.Sprintf("regix: SOAP fault %s: %s", e.Code, e.String)
}

// sender reports a fault that a retry repeats: one blamed on the request
// (SOAP 1.1 Client, SOAP 1.2 Sender) and the SOAP 1.2 codes that say the
// request's envelope or headers were not understood.
func (e *FaultError) sender() bool {
	c := e.Code
	if i := strings.LastIndexByte(c, ':'); i >= 0 {
		c = c[i+1:]
	}
	switch c {
	case "Client", "Sender", "VersionMismatch", "MustUnderstand", "DataEncodingUnknown":
		return true
	}
	return false
}

// soap elements are matched by local name: answers come as SOAP 1.1 or 1.2.
type soapEnvelope struct {
	XMLName xml.Name
	Header  *struct {
		Action    string `xml:"http://www.w3.org/2005/08/addressing Action"`
		RelatesTo string `xml:"http://www.w3.org/2005/08/addressing RelatesTo"`
	} `xml:"Header"`
	Body *struct {
		Fault    *soapFault      `xml:"Fault"`
		Response *methodResponse `xml:",any"`
	} `xml:"Body"`
}

type soapFault struct {
	Code11   string   `xml:"faultcode"`
	String11 string   `xml:"faultstring"`
	Code12   string   `xml:"Code>Value"`
	Subcode  string   `xml:"Code>Subcode>Value"`
	Reason12 []string `xml:"Reason>Text"`
}

type methodResponse struct {
	XMLName xml.Name
	Result  *resultData `xml:",any"`
}

type resultData struct {
	XMLName          xml.Name
	IsReady          string `xml:"IsReady"`
	Data             *dataContainer
	Signature        *rawXML `xml:"Signature"`
	HasError         string  `xml:"HasError"`
	Error            string  `xml:"Error"`
	ServiceCallID    string  `xml:"ServiceCallID"`
	VerificationCode string  `xml:"VerificationCode"`
	// Wrapped is ServiceResultData one level deeper, as answers of Execute
	// and CheckResult may wrap it (ResultWrapper).
	Wrapped *resultData `xml:"ServiceResultData"`
}

type dataContainer struct {
	Request  rawXML  `xml:"Request"`
	Response rawXML  `xml:"Response"`
	Matrix   *rawXML `xml:"Matrix"`
}

// rawXML is the content of an element as written, which [answerTokens] passes as one CharData
// (innerxml stays empty when decoding from tokens).
type rawXML struct {
	XML []byte `xml:",chardata"`
}

// ParseResultData reads a SOAP answer of the entry point: a fault becomes a
// *FaultError; otherwise the ServiceResultData in the body is returned. It
// does not judge HasError or the response document; the client does.
func ParseResultData(body []byte) (*Result, error) {
	res, _, err := parseAnswer(body)
	return res, err
}

// answer is what an answer says about itself, beside ServiceResultData.
type answer struct {
	envelope, method, result xml.Name
	// action and relatesTo are its WS-Addressing headers, when present.
	action, relatesTo string
}

// parseAnswer reads an answer in one pass: encoding/xml decodes the envelope from
// xmllimit's token stream, so the bounds (depth, size, one root, no DOCTYPE) hold while it reads.
func parseAnswer(body []byte) (*Result, *answer, error) {
	body = trimBOM(body)
	d := xmllimit.NewDecoder(bytes.NewReader(body), xmllimit.Limits{})
	var env soapEnvelope
	err := xml.NewTokenDecoder(&answerTokens{d: d, doc: body}).Decode(&env)
	for err == nil { // after the root: white space, comments and processing instructions only
		_, err = d.Token()
	}
	if err != io.EOF { // a limit, a structure refused, or not XML
		return nil, nil, fmt.Errorf("regix: the answer is refused: %s%w", syntaxAt(body, err), err)
	}
	if env.XMLName.Local != "Envelope" || (env.XMLName.Space != SOAPNS && env.XMLName.Space != soap12NS) {
		return nil, nil, fmt.Errorf("regix: the answer is not a SOAP envelope: root element {%s}%s", env.XMLName.Space, env.XMLName.Local)
	}
	if env.Body == nil {
		return nil, nil, errors.New("regix: the SOAP answer has no Body")
	}
	if f := env.Body.Fault; f != nil {
		fe := &FaultError{Code: strings.TrimSpace(f.Code11), String: strings.TrimSpace(f.String11)}
		if fe.Code == "" {
			fe.Code = strings.TrimSpace(f.Code12)
			fe.Subcode = strings.TrimSpace(f.Subcode)
		}
		if fe.String == "" && len(f.Reason12) > 0 {
			fe.String = strings.TrimSpace(f.Reason12[0])
		}
		return nil, nil, fe
	}
	mr := env.Body.Response
	if mr == nil || mr.Result == nil {
		return nil, nil, errors.New("regix: the SOAP answer has no ServiceResultData (Body/*Response/*Result)")
	}
	a := &answer{envelope: env.XMLName, method: mr.XMLName, result: mr.Result.XMLName}
	if env.Header != nil {
		a.action, a.relatesTo = env.Header.Action, env.Header.RelatesTo
	}
	rd := mr.Result
	if rd.IsReady == "" && rd.HasError == "" && rd.Wrapped != nil {
		rd = rd.Wrapped
	}
	res := &Result{
		Error:            strings.TrimSpace(rd.Error),
		ServiceCallID:    strings.TrimSpace(rd.ServiceCallID),
		VerificationCode: strings.TrimSpace(rd.VerificationCode),
		Signed:           rd.Signature != nil && len(bytes.TrimSpace(rd.Signature.XML)) > 0,
	}
	if res.IsReady, err = parseBool("IsReady", rd.IsReady); err != nil {
		return nil, nil, err
	}
	if res.HasError, err = parseBool("HasError", rd.HasError); err != nil {
		return nil, nil, err
	}
	if rd.Data != nil {
		res.Request = bytes.TrimSpace(rd.Data.Request.XML)
		res.Response = bytes.TrimSpace(rd.Data.Response.XML)
		if rd.Data.Matrix != nil {
			res.Matrix = bytes.TrimSpace(rd.Data.Matrix.XML)
		}
	}
	return res, a, nil
}

// answerTokens are the tokens of an answer, except that the content of the elements it carries
// as documents (Data/Request, Data/Response, Data/Matrix and Signature) comes as one CharData
// holding the bytes as written.
type answerTokens struct {
	d      *xmllimit.Decoder
	doc    []byte   // what d reads
	open   []string // local names of the open elements
	queued []xml.Token
}

func (a *answerTokens) Token() (xml.Token, error) {
	if len(a.queued) > 0 {
		tok := a.queued[0]
		a.queued = a.queued[1:]
		return tok, nil
	}
	tok, err := a.d.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case xml.StartElement:
		if !a.raw(t.Name.Local) {
			a.open = append(a.open, t.Name.Local)
			break
		}
		from, to, err := a.d.SkipContent()
		if err != nil {
			return nil, err
		}
		a.queued = append(a.queued[:0], xml.CharData(a.doc[from:to]), xml.EndElement{Name: t.Name})
	case xml.EndElement:
		a.open = a.open[:len(a.open)-1]
	}
	return tok, nil
}

// raw says an element named local, child of the innermost open element, is kept as written.
func (a *answerTokens) raw(local string) bool {
	switch local {
	case "Signature":
		return true
	case "Request", "Response", "Matrix":
		return len(a.open) > 0 && a.open[len(a.open)-1] == "Data"
	}
	return false
}

// parseBool reads an xs:boolean; an absent element is false.
func parseBool(name, s string) (bool, error) {
	switch strings.TrimSpace(s) {
	case "true", "1":
		return true, nil
	case "false", "0", "":
		return false, nil
	}
	return false, fmt.Errorf("regix: ServiceResultData/%s is %q, not a boolean", name, s)
}
