// Package regixtest serves the RegiX entry point V1 for tests exactly as its public WSDL
// describes it, independently of the client in package regix: the request is checked against
// the WSDL's binding (SOAP 1.2 over HTTP, the operation's action in the media type and in the
// WS-Addressing headers, which are all required) and its body against the schema embedded in
// the WSDL, compiled as it is; anything else is refused with a SOAP 1.2 fault. Answers are built
// from the WSDL's message shapes and checked against the same schema before they are sent.
package regixtest

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing/fstest"

	"github.com/aiskao/aiskao/internal/xsd"
)

// Namespaces of the WSDL and of the messages it describes.
const (
	wsdlNS   = "http://schemas.xmlsoap.org/wsdl/"
	xsNS     = "http://www.w3.org/2001/XMLSchema"
	soap12NS = "http://www.w3.org/2003/05/soap-envelope"
	wsaNS    = "http://www.w3.org/2005/08/addressing"
	dsigNS   = "http://www.w3.org/2000/09/xmldsig#"
	anon     = wsaNS + "/anonymous"
)

// Answer gives the response document of an operation (its full name) for the request document
// argument, or the text of the register's error (HasError).
type Answer func(operation string, argument []byte) (response []byte, errText string)

// V1Server answers ExecuteSynchronous, Execute and CheckResult.
type V1Server struct {
	tns     string            // the WSDL's targetNamespace (http://tempuri.org/)
	actions map[string]string // input action → operation, from the portType
	outputs map[string]string // operation → output action
	schema  *xsd.Schema
	answer  Answer

	mu      sync.Mutex
	calls   map[string]call // Execute calls, by ServiceCallID
	seq     int
	pending int // CheckResult answers "not ready" this many times per call
	log     []Request
}

// Request is what the server accepted of a call.
type Request struct {
	// Action is the WS-Addressing action.
	Action string
	// Operation is ServiceRequestData/Operation (empty for CheckResult).
	Operation string
	// Body is the body's element as it came, with the namespaces in scope.
	Body []byte
}

type call struct {
	operation string
	argument  []byte
	waits     int
}

// NewV1Server reads the WSDL at wsdlPath and serves its entry point with answer. Each Execute's
// result is "not ready" for the first notReady CheckResult calls.
func NewV1Server(wsdlPath string, answer Answer, notReady int) (*V1Server, error) {
	wsdl, err := os.ReadFile(wsdlPath)
	if err != nil {
		return nil, err
	}
	s := &V1Server{actions: map[string]string{}, outputs: map[string]string{}, answer: answer, calls: map[string]call{}, pending: notReady}
	if err := s.readWSDL(wsdl); err != nil {
		return nil, fmt.Errorf("regixtest: %s: %w", wsdlPath, err)
	}
	return s, nil
}

// Requests returns the calls accepted so far.
func (s *V1Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
}

// readWSDL takes the actions from the portType and compiles the embedded schemas.
func (s *V1Server) readWSDL(wsdl []byte) error {
	var defs struct {
		TargetNamespace string `xml:"targetNamespace,attr"`
		PortType        struct {
			Operations []struct {
				Name  string `xml:"name,attr"`
				Input struct {
					Action string `xml:"http://www.w3.org/2006/05/addressing/wsdl Action,attr"`
				} `xml:"input"`
				Output struct {
					Action string `xml:"http://www.w3.org/2006/05/addressing/wsdl Action,attr"`
				} `xml:"output"`
			} `xml:"operation"`
		} `xml:"portType"`
	}
	if err := xml.Unmarshal(wsdl, &defs); err != nil {
		return err
	}
	s.tns = defs.TargetNamespace
	for _, op := range defs.PortType.Operations {
		s.actions[op.Input.Action] = op.Name
		s.outputs[op.Name] = op.Output.Action
	}
	if len(s.actions) != 3 {
		return fmt.Errorf("%d operations in the portType, want 3", len(s.actions))
	}
	schemas, err := extract(wsdl, func(path []xml.Name) bool {
		return len(path) == 3 && path[1] == xml.Name{Space: wsdlNS, Local: "types"} && path[2] == xml.Name{Space: xsNS, Local: "schema"}
	})
	if err != nil {
		return err
	}
	fsys := fstest.MapFS{}
	cat := xsd.NewCatalog(fsys)
	var files []string
	for i, sc := range schemas {
		var top struct {
			TargetNamespace string `xml:"targetNamespace,attr"`
		}
		if err := xml.Unmarshal(sc, &top); err != nil {
			return err
		}
		// Argument, Request, Response and Signature take xs:any with processContents strict:
		// the registers' own schemas (and XML-DSig's), which the WSDL does not carry, judge
		// what is in them. Lax here; the server checks separately that Argument holds one
		// qualified element, as the WSDL's documentation asks.
		sc = bytes.ReplaceAll(sc, []byte("<xs:any "), []byte(`<xs:any processContents="lax" `))
		sc = bytes.ReplaceAll(sc, []byte("<xs:any/>"), []byte(`<xs:any processContents="lax"/>`))
		name := fmt.Sprintf("schema%d.xsd", i)
		fsys[name] = &fstest.MapFile{Data: sc}
		cat.Add(top.TargetNamespace, name)
		files = append(files, name)
	}
	s.schema, err = xsd.Compile(cat, files...)
	return err
}

// extract returns the elements of doc whose path of names (root first) match says, each as
// it is written in doc with the namespace declarations of its ancestors added to its start
// tag, so that it stands as a document of its own.
func extract(doc []byte, match func(path []xml.Name) bool) ([][]byte, error) {
	d := xml.NewDecoder(bytes.NewReader(doc))
	var path []xml.Name
	var scopes [][]xml.Attr
	var out [][]byte
	start, depth := int64(0), -1
	var decl string
	for {
		off := d.InputOffset()
		t, err := d.Token()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		switch t := t.(type) {
		case xml.StartElement:
			path = append(path, t.Name)
			var ns []xml.Attr
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					ns = append(ns, a)
				}
			}
			if depth < 0 && match(path) {
				start, depth = off, len(path)
				own := map[string]bool{}
				for _, a := range ns {
					own[a.Name.Local] = true
				}
				var b strings.Builder
				seen := map[string]bool{}
				for i := len(scopes) - 1; i >= 0; i-- {
					for _, a := range scopes[i] {
						if own[a.Name.Local] || seen[a.Name.Local] {
							continue
						}
						seen[a.Name.Local] = true
						if a.Name.Space == "" {
							fmt.Fprintf(&b, ` xmlns="%s"`, attrEscape(a.Value))
						} else {
							fmt.Fprintf(&b, ` xmlns:%s="%s"`, a.Name.Local, attrEscape(a.Value))
						}
					}
				}
				decl = b.String()
			}
			scopes = append(scopes, ns)
		case xml.EndElement:
			if depth == len(path) {
				raw := doc[start:d.InputOffset()]
				i := bytes.IndexAny(raw, " \t\r\n/>")
				el := append(append(append([]byte{}, raw[:i]...), decl...), raw[i:]...)
				out = append(out, el)
				depth = -1
			}
			path, scopes = path[:len(path)-1], scopes[:len(scopes)-1]
		}
	}
}

func attrEscape(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return strings.ReplaceAll(b.String(), `"`, "&#34;")
}

// envelope is the request as the WSDL's binding has it.
type envelope struct {
	XMLName xml.Name
	Header  *struct {
		Items []struct {
			XMLName        xml.Name
			MustUnderstand string `xml:"http://www.w3.org/2003/05/soap-envelope mustUnderstand,attr"`
			Text           string `xml:",chardata"`
			Address        string `xml:"http://www.w3.org/2005/08/addressing Address"`
		} `xml:",any"`
	} `xml:"http://www.w3.org/2003/05/soap-envelope Header"`
	Body *struct {
		Items []struct {
			XMLName xml.Name
		} `xml:",any"`
	} `xml:"http://www.w3.org/2003/05/soap-envelope Body"`
}

// refusal is a SOAP 1.2 fault to answer.
type refusal struct {
	code, subcode, text string
}

func (r *refusal) Error() string { return r.text }

func refuse(subcode, format string, args ...any) *refusal {
	return &refusal{code: "s:Sender", subcode: subcode, text: fmt.Sprintf(format, args...)}
}

// ServeHTTP checks a call and answers it.
func (s *V1Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST a SOAP 1.2 message", http.StatusMethodNotAllowed)
		return
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/soap+xml" {
		// WCF answers a media type it does not bind with HTTP 415 and no envelope.
		http.Error(w, fmt.Sprintf("Cannot process the message because the content type %q was not the expected type 'application/soap+xml; charset=utf-8'.", r.Header.Get("Content-Type")), http.StatusUnsupportedMediaType)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		return
	}
	to := "http://" + r.Host + r.URL.Path
	if r.TLS != nil {
		to = "https://" + r.Host + r.URL.Path
	}
	messageID, action, resp, err := s.handle(body, params, to)
	var rf *refusal
	switch {
	case errors.As(err, &rf):
		s.fault(w, messageID, rf)
		return
	case err != nil:
		s.fault(w, messageID, &refusal{code: "s:Receiver", text: err.Error()})
		return
	}
	s.write(w, http.StatusOK, action, messageID, resp)
}

// handle checks the request and returns its MessageID and the answer's action and body element.
func (s *V1Server) handle(body []byte, params map[string]string, to string) (messageID, action string, resp []byte, err error) {
	if cs := params["charset"]; cs != "" && !strings.EqualFold(cs, "utf-8") {
		return "", "", nil, refuse("", "charset %q: the binding's text encoding is utf-8", cs)
	}
	var env envelope
	if err := xml.Unmarshal(body, &env); err != nil {
		return "", "", nil, refuse("", "the request is not XML: %v", err)
	}
	if env.XMLName != (xml.Name{Space: soap12NS, Local: "Envelope"}) {
		return "", "", nil, &refusal{code: "s:VersionMismatch", text: fmt.Sprintf("the root is {%s}%s, not a SOAP 1.2 Envelope", env.XMLName.Space, env.XMLName.Local)}
	}
	if env.Header == nil {
		return "", "", nil, refuse("a:MessageAddressingHeaderRequired", "no Header: the binding uses WS-Addressing (wsaw:UsingAddressing)")
	}
	got := map[string]string{}
	replyTo := ""
	for _, h := range env.Header.Items {
		if h.XMLName.Space != wsaNS {
			if h.MustUnderstand == "1" || h.MustUnderstand == "true" {
				return "", "", nil, &refusal{code: "s:MustUnderstand", text: fmt.Sprintf("header {%s}%s is not understood", h.XMLName.Space, h.XMLName.Local)}
			}
			continue
		}
		if _, dup := got[h.XMLName.Local]; dup {
			return "", "", nil, refuse("a:InvalidAddressingHeader", "a second %s header", h.XMLName.Local)
		}
		got[h.XMLName.Local] = strings.TrimSpace(h.Text)
		if h.XMLName.Local == "ReplyTo" {
			replyTo = strings.TrimSpace(h.Address)
		}
	}
	messageID = got["MessageID"]
	for _, name := range []string{"Action", "MessageID", "ReplyTo", "To"} {
		if _, ok := got[name]; !ok {
			return messageID, "", nil, refuse("a:MessageAddressingHeaderRequired", "the WS-Addressing header %s is required", name)
		}
	}
	if messageID == "" {
		return "", "", nil, refuse("a:InvalidAddressingHeader", "MessageID is empty")
	}
	if replyTo != anon {
		return messageID, "", nil, refuse("a:InvalidAddressingHeader", "ReplyTo/Address is %q: answers go back on the connection (%s)", replyTo, anon)
	}
	if got["To"] != to {
		return messageID, "", nil, refuse("a:DestinationUnreachable", "To is %q, this endpoint is %q", got["To"], to)
	}
	op, ok := s.actions[got["Action"]]
	if !ok {
		return messageID, "", nil, refuse("a:ActionNotSupported", "the action %q is none of the portType's", got["Action"])
	}
	if a, ok := params["action"]; ok && a != got["Action"] {
		return messageID, "", nil, refuse("a:ActionMismatch", "the media type's action %q is not the WS-Addressing Action %q", a, got["Action"])
	}
	if env.Body == nil || len(env.Body.Items) != 1 {
		return messageID, "", nil, refuse("", "the Body must hold exactly one element")
	}
	if want := (xml.Name{Space: s.tns, Local: op}); env.Body.Items[0].XMLName != want {
		n := env.Body.Items[0].XMLName
		return messageID, "", nil, refuse("", "the Body holds {%s}%s, the action %s takes {%s}%s", n.Space, n.Local, got["Action"], want.Space, want.Local)
	}
	els, err := extract(body, func(path []xml.Name) bool {
		return len(path) == 3 && path[1] == xml.Name{Space: soap12NS, Local: "Body"}
	})
	if err != nil || len(els) != 1 {
		return messageID, "", nil, refuse("", "the Body's element cannot be read: %v", err)
	}
	if err := s.schema.Validate(bytes.NewReader(els[0])); err != nil {
		return messageID, "", nil, refuse("", "the %s element breaks the WSDL's schema: %v", op, err)
	}
	resp, err = s.answerFor(op, els[0])
	if err != nil {
		return messageID, "", nil, err
	}
	if err := s.schema.Validate(bytes.NewReader(resp)); err != nil {
		return messageID, "", nil, fmt.Errorf("regixtest: the answer breaks the WSDL's schema: %v\n%s", err, resp)
	}
	return messageID, s.outputs[op], resp, nil
}

// CheckAnswer checks an answer of another V1 server to a call of operation (Execute,
// CheckResult or ExecuteSynchronous) as the WSDL describes it: a SOAP 1.2 envelope with the
// operation's output action, and a body whose element the WSDL's schema finds valid.
func (s *V1Server) CheckAnswer(operation string, answer []byte) error {
	var env struct {
		XMLName xml.Name
		Header  struct {
			Action string `xml:"http://www.w3.org/2005/08/addressing Action"`
		} `xml:"http://www.w3.org/2003/05/soap-envelope Header"`
	}
	if err := xml.Unmarshal(answer, &env); err != nil {
		return err
	}
	if env.XMLName != (xml.Name{Space: soap12NS, Local: "Envelope"}) {
		return fmt.Errorf("the root is {%s}%s, not a SOAP 1.2 Envelope", env.XMLName.Space, env.XMLName.Local)
	}
	if want, ok := s.outputs[operation]; !ok || strings.TrimSpace(env.Header.Action) != want {
		return fmt.Errorf("the WS-Addressing Action is %q, want %q", env.Header.Action, want)
	}
	els, err := extract(answer, func(path []xml.Name) bool {
		return len(path) == 3 && path[1] == xml.Name{Space: soap12NS, Local: "Body"}
	})
	if err != nil || len(els) != 1 {
		return fmt.Errorf("the Body must hold exactly one element (%d, %v)", len(els), err)
	}
	var el struct{ XMLName xml.Name }
	if err := xml.Unmarshal(els[0], &el); err != nil {
		return err
	}
	if want := (xml.Name{Space: s.tns, Local: operation + "Response"}); el.XMLName != want {
		return fmt.Errorf("the Body holds {%s}%s, want {%s}%s", el.XMLName.Space, el.XMLName.Local, want.Space, want.Local)
	}
	return s.schema.Validate(bytes.NewReader(els[0]))
}

// requestData is ServiceRequestData as far as the server reads it.
type requestData struct {
	Request struct {
		Operation string `xml:"http://tempuri.org/ Operation"`
		Argument  struct {
			Inner []byte `xml:",innerxml"`
			Items []struct {
				XMLName xml.Name
			} `xml:",any"`
		} `xml:"http://tempuri.org/ Argument"`
		SignResult string `xml:"http://tempuri.org/ SignResult"`
	} `xml:"http://tempuri.org/ request"`
	Argument struct {
		ServiceCallID string `xml:"http://tempuri.org/ ServiceCallID"`
	} `xml:"http://tempuri.org/ argument"`
}

func (s *V1Server) answerFor(op string, el []byte) ([]byte, error) {
	var rd requestData
	if err := xml.Unmarshal(el, &rd); err != nil {
		return nil, refuse("", "%s: %v", op, err)
	}
	s.mu.Lock()
	s.log = append(s.log, Request{Action: s.outputs[op], Operation: rd.Request.Operation, Body: el})
	s.mu.Unlock()
	if op == "CheckResult" {
		return s.checkResult(strings.TrimSpace(rd.Argument.ServiceCallID))
	}
	items := rd.Request.Argument.Items
	if len(items) != 1 {
		return nil, refuse("", "Argument must hold one element, not %d", len(items))
	}
	if items[0].XMLName.Space == "" {
		return nil, refuse("", "Argument's element %s must be qualified by its operation's namespace", items[0].XMLName.Local)
	}
	arg := argumentElement(el)
	if op == "Execute" {
		s.mu.Lock()
		s.seq++
		id := strconv.Itoa(1000 + s.seq)
		s.calls[id] = call{operation: rd.Request.Operation, argument: arg}
		s.mu.Unlock()
		var b bytes.Buffer
		fmt.Fprintf(&b, `<ExecuteResponse xmlns="%s"><ExecuteResult><ServiceCallID>%s</ServiceCallID><HasError>false</HasError></ExecuteResult></ExecuteResponse>`, s.tns, id)
		return b.Bytes(), nil
	}
	return s.result(op, rd.Request.Operation, arg, true), nil
}

// argumentElement is the Argument's element of a request body, namespaces in scope added.
func argumentElement(el []byte) []byte {
	args, err := extract(el, func(path []xml.Name) bool {
		return len(path) == 4 && path[2].Local == "Argument"
	})
	if err != nil || len(args) != 1 {
		return nil
	}
	return args[0]
}

func (s *V1Server) checkResult(id string) ([]byte, error) {
	s.mu.Lock()
	c, ok := s.calls[id]
	if ok && c.waits < s.pending {
		c.waits++
		s.calls[id] = c
		s.mu.Unlock()
		var b bytes.Buffer
		fmt.Fprintf(&b, `<CheckResultResponse xmlns="%s"><CheckResultResult><IsReady>false</IsReady>%s<HasError>false</HasError></CheckResultResult></CheckResultResponse>`, s.tns, signature)
		return b.Bytes(), nil
	}
	delete(s.calls, id)
	s.mu.Unlock()
	if !ok {
		return nil, refuse("", "no call has ServiceCallID %q", id)
	}
	return s.result("CheckResult", c.operation, c.argument, true), nil
}

// signature stands in the answer's required Signature element (the WSDL's schema for it takes
// any content); the client does not verify it.
const signature = `<Signature xmlns="` + dsigNS + `"><SignedInfo/><SignatureValue/></Signature>`

// result is ServiceResultData in the answer element of op, in the WSDL's order: IsReady, Data,
// Signature, HasError, Error.
func (s *V1Server) result(op, operation string, arg []byte, ready bool) []byte {
	doc, errText := s.answer(operation, arg)
	var b bytes.Buffer
	fmt.Fprintf(&b, `<%sResponse xmlns="%s"><%sResult><IsReady>%t</IsReady>`, op, s.tns, op, ready)
	if errText == "" {
		fmt.Fprintf(&b, `<Data id="data"><Request>%s</Request><Response>%s</Response></Data>`, arg, body(doc))
	}
	b.WriteString(signature)
	if errText == "" {
		b.WriteString(`<HasError>false</HasError>`)
	} else {
		b.WriteString(`<HasError>true</HasError><Error>`)
		xml.EscapeText(&b, []byte(errText))
		b.WriteString(`</Error>`)
	}
	fmt.Fprintf(&b, `</%sResult></%sResponse>`, op, op)
	return b.Bytes()
}

// body strips a document's XML declaration.
func body(doc []byte) []byte {
	doc = bytes.TrimSpace(bytes.TrimPrefix(doc, []byte("\xef\xbb\xbf")))
	if bytes.HasPrefix(doc, []byte("<?xml")) {
		if i := bytes.Index(doc, []byte("?>")); i >= 0 {
			doc = doc[i+2:]
		}
	}
	return bytes.TrimSpace(doc)
}

// write sends a SOAP 1.2 answer with the WS-Addressing Action and RelatesTo headers.
func (s *V1Server) write(w http.ResponseWriter, status int, action, relatesTo string, el []byte) {
	var b bytes.Buffer
	fmt.Fprintf(&b, `<s:Envelope xmlns:s="%s" xmlns:a="%s"><s:Header><a:Action s:mustUnderstand="1">%s</a:Action>`, soap12NS, wsaNS, action)
	if relatesTo != "" {
		b.WriteString(`<a:RelatesTo>`)
		xml.EscapeText(&b, []byte(relatesTo))
		b.WriteString(`</a:RelatesTo>`)
	}
	b.WriteString(`</s:Header><s:Body>`)
	b.Write(el)
	b.WriteString(`</s:Body></s:Envelope>`)
	w.Header().Set("Content-Type", "application/soap+xml; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// fault sends a SOAP 1.2 fault: HTTP 400 for a Sender fault, 500 otherwise (SOAP 1.2 part 2,
// 7.5.2.2).
func (s *V1Server) fault(w http.ResponseWriter, relatesTo string, rf *refusal) {
	var b bytes.Buffer
	fmt.Fprintf(&b, `<s:Fault xmlns:s="%s" xmlns:a="%s"><s:Code><s:Value>%s</s:Value>`, soap12NS, wsaNS, rf.code)
	if rf.subcode != "" {
		fmt.Fprintf(&b, `<s:Subcode><s:Value>%s</s:Value></s:Subcode>`, rf.subcode)
	}
	b.WriteString(`</s:Code><s:Reason><s:Text xml:lang="en-US">`)
	xml.EscapeText(&b, []byte(rf.text))
	b.WriteString(`</s:Text></s:Reason></s:Fault>`)
	status := http.StatusInternalServerError
	if rf.code == "s:Sender" {
		status = http.StatusBadRequest
	}
	s.write(w, status, wsaNS+"/fault", relatesTo, b.Bytes())
}
