// Package regixsim is a stand-in for RegiX: it answers the entry points V1 and V2 from the
// registers' sample documents, so routes can be tried without the real RegiX
// (`aiskao regix sim`).
package regixsim

import (
	"bytes"
	"embed"
	"encoding/xml"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aiskao/aiskao/regix"
)

// Mode is how the simulator answers.
type Mode string

// The simulator's modes.
const (
	// ModeNormal answers with the response document of the operation.
	ModeNormal Mode = "normal"
	// ModeSlow answers normally after the configured delay (Execute: the
	// result is ready to CheckResult after the delay).
	ModeSlow Mode = "slow"
	// ModeHasError answers with HasError and an error text.
	ModeHasError Mode = "has_error"
	// ModeInvalid answers with a response document that fails its schema.
	ModeInvalid Mode = "invalid"
	// ModeFault answers with a SOAP fault.
	ModeFault Mode = "fault"
)

// Modes lists the modes in the order they are documented.
var Modes = []Mode{ModeNormal, ModeSlow, ModeHasError, ModeInvalid, ModeFault}

// ParseMode checks a mode name.
func ParseMode(s string) (Mode, error) {
	for _, m := range Modes {
		if string(m) == s {
			return m, nil
		}
	}
	return "", fmt.Errorf("regix: unknown simulator mode %q (expected normal, slow, has_error, invalid or fault)", s)
}

// SimErrorText is the error text the simulator gives in has_error mode.
const SimErrorText = "Регистърът временно не е достъпен (симулатор)"

// SimControlPath is where the simulator's mode is read (GET) and set
// (POST ?mode=…&delay=…) while it runs.
const SimControlPath = "/_sim/mode"

// invalidElement is inserted into response documents in invalid mode: no
// response schema of a register allows it.
const invalidElement = "SimulatorInvalidElement"

// Simulator answers ExecuteSynchronous, Execute and CheckResult of the RegiX
// entry points V1 and V2 (see ServeHTTP) from response documents, so routes can be tried without the
// real RegiX. It checks the call as RegiX would: a known operation, a
// request document valid against its schema, a legal basis. In slow mode
// ExecuteSynchronous answers after the delay, while Execute answers at once
// that the call is in progress and CheckResult gives the result once the
// delay has passed, as an asynchronous register does.
type Simulator struct {
	ops       *regix.Operations
	responses map[*regix.Operation][]byte
	// refused holds, by operation, why its response document is not
	// served: it breaks the operation's response schema.
	refused map[*regix.Operation]string
	loadErr error

	mu      sync.Mutex
	mode    Mode
	delay   time.Duration
	calls   map[string]*simCall // Execute calls in progress, by ServiceCallID
	callSeq int
}

// simCall is an Execute call answered "not ready" in slow mode.
type simCall struct {
	op      *regix.Operation
	arg     []byte
	code    string
	readyAt time.Time
}

// maxSimCalls bounds the calls in progress the simulator remembers.
const maxSimCalls = 10000

// corrected holds, under the register folder and file name of the
// published sample, corrected copies of the bundled response samples that
// break their own schema (see corrected/README.md), served in their place.
//
//go:embed corrected
var corrected embed.FS

// NewSimulator makes a simulator answering from the response documents in
// responses (any *.xml file whose root is the response of a catalogue
// operation, at any depth); nil means the catalogue's bundled samples, with
// the corrected copy in place of a published sample that breaks its schema.
// A document that breaks its operation's response schema is not served as
// if it were valid: calls of that operation get a fault saying so.
// Problems loading the documents are reported by every answer and by Err.
func NewSimulator(responses fs.FS) *Simulator {
	s := &Simulator{mode: ModeNormal, delay: 5 * time.Second, responses: map[*regix.Operation][]byte{},
		refused: map[*regix.Operation]string{}, calls: map[string]*simCall{}}
	s.ops, s.loadErr = regix.Catalog()
	if s.loadErr != nil {
		return s
	}
	var fixes fs.FS
	if responses == nil {
		responses, s.loadErr = fs.Sub(regix.Registers(), "registers")
		if s.loadErr != nil {
			return s
		}
		if fixes, s.loadErr = fs.Sub(corrected, "corrected"); s.loadErr != nil {
			return s
		}
	}
	s.loadErr = fs.WalkDir(responses, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(strings.ToLower(p), ".xml") {
			return nil
		}
		doc, err := fs.ReadFile(responses, p)
		if err != nil {
			return err
		}
		op, resp, err := s.ops.Identify(doc)
		if err != nil || !resp {
			return nil // metadata, requests and other documents
		}
		if _, dup := s.responses[op]; dup {
			return fmt.Errorf("regix: simulator: %s: a second response document for %s", p, op.Code)
		}
		invalid := op.ValidateResponse(bytes.NewReader(doc))
		if invalid != nil && fixes != nil {
			if fixed, err := fs.ReadFile(fixes, p); err == nil {
				doc, invalid = fixed, op.ValidateResponse(bytes.NewReader(fixed))
			}
		}
		s.responses[op] = regix.DocumentBody(doc)
		if invalid != nil {
			s.refused[op] = fmt.Sprintf("the simulator's response document %s breaks the schema of %s: %v", p, op.Code, invalid)
		}
		return nil
	})
	if s.loadErr == nil && len(s.responses) == 0 {
		s.loadErr = fmt.Errorf("regix: simulator: no response document of a known operation found")
	}
	return s
}

// Err reports a problem loading the response documents.
func (s *Simulator) Err() error { return s.loadErr }

// Operations lists the codes of the operations the simulator can answer:
// those with a response document valid against its schema.
func (s *Simulator) Operations() []string {
	var out []string
	for _, op := range s.ops.All() {
		if _, refused := s.refused[op]; refused {
			continue
		}
		if _, ok := s.responses[op]; ok {
			out = append(out, op.Code)
		}
	}
	return out
}

// SetMode changes how the simulator answers; delay is used in slow mode
// and kept when zero.
func (s *Simulator) SetMode(m Mode, delay time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mode = m
	if delay > 0 {
		s.delay = delay
	}
}

// Mode returns the current mode and slow-mode delay.
func (s *Simulator) Mode() (Mode, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mode, s.delay
}

// simRequest is what the simulator reads of a V2 call.
type simRequest struct {
	Body struct {
		Method struct {
			XMLName  xml.Name
			Argument struct {
				Check struct {
					ServiceCallID    string `xml:"ServiceCallID"`
					VerificationCode string `xml:"VerificationCode"`
				} `xml:"ServiceCheckResultArgument"`
			} `xml:"argument"`
			Request struct {
				Data simRequestData `xml:"ServiceRequestData"`
			} `xml:"request"`
		} `xml:",any"`
	} `xml:"Body"`
}

// simRequestData is what the simulator reads of ServiceRequestData.
type simRequestData struct {
	Operation string   `xml:"Operation"`
	Argument  innerXML `xml:"Argument"`
	Context   struct {
		LawReason string `xml:"LawReason"`
	} `xml:"CallContext"`
}

// simV1Request is what the simulator reads of a V1 call: SOAP 1.2, WS-Addressing, everything
// in the body qualified by V1NS.
type simV1Request struct {
	XMLName xml.Name
	Header  struct {
		Action    string `xml:"http://www.w3.org/2005/08/addressing Action"`
		MessageID string `xml:"http://www.w3.org/2005/08/addressing MessageID"`
	} `xml:"http://www.w3.org/2003/05/soap-envelope Header"`
	Body struct {
		Method struct {
			XMLName  xml.Name
			Argument struct {
				ServiceCallID string `xml:"http://tempuri.org/ ServiceCallID"`
			} `xml:"http://tempuri.org/ argument"`
			Request struct {
				Operation string   `xml:"http://tempuri.org/ Operation"`
				Argument  innerXML `xml:"http://tempuri.org/ Argument"`
				Context   struct {
					LawReason string `xml:"http://tempuri.org/ LawReason"`
				} `xml:"http://tempuri.org/ CallContext"`
			} `xml:"http://tempuri.org/ request"`
		} `xml:",any"`
	} `xml:"http://www.w3.org/2003/05/soap-envelope Body"`
}

// simCallRequest is a call of either entry point.
type simCallRequest struct {
	method                          string
	data                            simRequestData
	serviceCallID, verificationCode string
}

// ServeHTTP answers one call, or reads or sets the mode at SimControlPath.
// Both entry points are served at any path: a request whose media type is
// application/soap+xml (SOAP 1.2) is a V1 call, any other a V2 call, and each
// is answered in its entry point's shapes.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == SimControlPath {
		s.control(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "RegiX simulator: POST a SOAP envelope", http.StatusMethodNotAllowed)
		return
	}
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	rp := reply{w: w, v1: mt == regix.SOAP12ContentType}
	if s.loadErr != nil {
		rp.fault("s:Server", s.loadErr.Error())
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, regix.MaxDocument))
	if err != nil {
		rp.fault("s:Client", "reading the request: "+err.Error())
		return
	}
	var req simCallRequest
	if rp.v1 {
		req, err = rp.readV1(body, params["action"])
	} else {
		req, err = readV2(body)
	}
	if err != nil {
		rp.fault("s:Client", err.Error())
		return
	}
	method := req.method
	switch method {
	case "ExecuteSynchronous", "Execute":
	case "CheckResult":
		s.checkResult(rp, req)
		return
	default:
		rp.fault("s:Client", fmt.Sprintf("the simulator answers ExecuteSynchronous, Execute and CheckResult, not %q", method))
		return
	}
	data := req.data
	op, ok := s.ops.Lookup(strings.TrimSpace(data.Operation))
	if !ok {
		rp.fault("s:Client", fmt.Sprintf("unknown operation %q", data.Operation))
		return
	}
	if strings.TrimSpace(data.Context.LawReason) == "" {
		rp.fault("s:Client", "CallContext.LawReason is required")
		return
	}
	arg := bytes.TrimSpace(data.Argument.XML)
	if err := op.ValidateRequest(bytes.NewReader(arg)); err != nil {
		rp.result(method, arg, nil, err.Error())
		return
	}
	if _, ok := s.responses[op]; !ok {
		rp.result(method, arg, nil, fmt.Sprintf("the simulator has no response document for %s", op.Code))
		return
	}
	if why, ok := s.refused[op]; ok {
		rp.fault("s:Server", why)
		return
	}
	mode, delay := s.Mode()
	if method == "Execute" && (mode == ModeSlow || rp.v1) {
		// A slow register answers Execute at once with a call in progress;
		// CheckResult gives the result once the delay has passed. V1's
		// Execute answers a ServiceCallID alone, whatever the register.
		if mode != ModeSlow {
			delay = 0
		}
		id, code := s.startCall(op, arg, delay)
		rp.pending(method, id, code)
		return
	}
	if mode == ModeSlow {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return // the caller gave up
		}
	}
	s.answer(rp, method, op, arg)
}

// readV2 reads a V2 call (SOAP 1.1; elements matched by local name).
func readV2(body []byte) (simCallRequest, error) {
	var req simRequest
	if err := xml.Unmarshal(trimBOM(body), &req); err != nil {
		return simCallRequest{}, fmt.Errorf("the request is not a SOAP envelope: %w", err)
	}
	m := req.Body.Method
	return simCallRequest{method: m.XMLName.Local, data: m.Request.Data,
		serviceCallID: m.Argument.Check.ServiceCallID, verificationCode: m.Argument.Check.VerificationCode}, nil
}

// readV1 reads a V1 call and checks its binding: a SOAP 1.2 envelope, the
// WS-Addressing Action and MessageID, the action of the media type (when
// given) the same, and the body's method that action's, in V1NS. The
// MessageID is kept for the answer's RelatesTo.
func (rp *reply) readV1(body []byte, ctAction string) (simCallRequest, error) {
	var req simV1Request
	if err := xml.Unmarshal(trimBOM(body), &req); err != nil {
		return simCallRequest{}, fmt.Errorf("the request is not a SOAP envelope: %w", err)
	}
	rp.messageID = strings.TrimSpace(req.Header.MessageID)
	m := req.Body.Method
	action := strings.TrimSpace(req.Header.Action)
	switch {
	case req.XMLName != xml.Name{Space: regix.SOAP12NS, Local: "Envelope"}:
		return simCallRequest{}, fmt.Errorf("the V1 entry point takes a SOAP 1.2 envelope, not {%s}%s", req.XMLName.Space, req.XMLName.Local)
	case action == "" || rp.messageID == "":
		return simCallRequest{}, fmt.Errorf("the WS-Addressing headers Action and MessageID (%s) are required", regix.WSANS)
	case ctAction != "" && ctAction != action:
		return simCallRequest{}, fmt.Errorf("the media type's action %q is not the WS-Addressing Action %q", ctAction, action)
	case action != regix.V1ActionPrefix+m.XMLName.Local || m.XMLName.Space != regix.V1NS:
		return simCallRequest{}, fmt.Errorf("the action %q does not go with the body's {%s}%s", action, m.XMLName.Space, m.XMLName.Local)
	}
	d := simRequestData{Operation: m.Request.Operation, Argument: m.Request.Argument}
	d.Context.LawReason = m.Request.Context.LawReason
	return simCallRequest{method: m.XMLName.Local, data: d, serviceCallID: m.Argument.ServiceCallID}, nil
}

// answer writes the result of op as the current mode says (slow mode has
// already waited).
func (s *Simulator) answer(rp reply, method string, op *regix.Operation, arg []byte) {
	doc := s.responses[op]
	mode, _ := s.Mode()
	switch mode {
	case ModeHasError:
		rp.result(method, arg, nil, SimErrorText)
		return
	case ModeInvalid:
		doc = invalidate(doc)
	case ModeFault:
		rp.fault("s:Server", "RegiX simulator: the service is unavailable")
		return
	}
	rp.result(method, arg, doc, "")
}

func (s *Simulator) startCall(op *regix.Operation, arg []byte, delay time.Duration) (id, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.calls) >= maxSimCalls {
		clear(s.calls)
	}
	s.callSeq++
	id = fmt.Sprint(s.callSeq)
	code = fmt.Sprintf("sim-%08x", uint32(s.callSeq)*2654435761)
	s.calls[id] = &simCall{op: op, arg: arg, code: code, readyAt: time.Now().Add(delay)}
	return id, code
}

// checkResult answers CheckResult: not ready before the call's time, then
// the result as the current mode says, once. V1 calls have no
// VerificationCode.
func (s *Simulator) checkResult(rp reply, req simCallRequest) {
	const method = "CheckResult"
	id := strings.TrimSpace(req.serviceCallID)
	if id == "" {
		rp.fault("s:Client", "CheckResult needs argument/ServiceCheckResultArgument/ServiceCallID")
		return
	}
	s.mu.Lock()
	call, ok := s.calls[id]
	switch {
	case !ok:
		s.mu.Unlock()
		rp.fault("s:Client", fmt.Sprintf("no call in progress has ServiceCallID %s", id))
		return
	case !rp.v1 && call.code != strings.TrimSpace(req.verificationCode):
		s.mu.Unlock()
		rp.fault("s:Client", fmt.Sprintf("wrong VerificationCode for ServiceCallID %s", id))
		return
	case time.Now().Before(call.readyAt):
		s.mu.Unlock()
		rp.pending(method, id, call.code)
		return
	}
	delete(s.calls, id)
	s.mu.Unlock()
	s.answer(rp, method, call.op, call.arg)
}

// simV1Signature stands in V1's ServiceResultData/Signature, which the WSDL
// requires with at least one element in it; the simulator signs nothing, so
// its SignatureValue is empty.
const simV1Signature = `<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignatureValue/></Signature>`

// reply writes answers in the shapes of the call's entry point.
type reply struct {
	w  http.ResponseWriter
	v1 bool
	// messageID is the V1 call's WS-Addressing MessageID, for RelatesTo.
	messageID string
}

func (rp reply) result(method string, arg, doc []byte, errText string) {
	if !rp.v1 {
		regix.WriteResult(rp.w, method, arg, doc, errText)
		return
	}
	if method == "Execute" {
		// ServiceExecuteResult: a refused call has no ServiceCallID to ask for; 0 stands in
		// for the required one.
		var b bytes.Buffer
		b.WriteString(`<ExecuteResponse xmlns="` + regix.V1NS + `"><ExecuteResult><ServiceCallID>0</ServiceCallID><HasError>true</HasError><Error>`)
		xml.EscapeText(&b, []byte(errText))
		b.WriteString(`</Error></ExecuteResult></ExecuteResponse>`)
		rp.writeV1(http.StatusOK, regix.V1ActionPrefix+"ExecuteResponse", b.Bytes())
		return
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `<%sResponse xmlns="%s"><%sResult><IsReady>true</IsReady>`, method, regix.V1NS, method)
	if errText == "" {
		fmt.Fprintf(&b, `<Data><Request>%s</Request><Response>%s</Response></Data>`, arg, doc)
	}
	b.WriteString(simV1Signature)
	if errText == "" {
		b.WriteString(`<HasError>false</HasError>`)
	} else {
		b.WriteString(`<HasError>true</HasError><Error>`)
		xml.EscapeText(&b, []byte(errText))
		b.WriteString(`</Error>`)
	}
	fmt.Fprintf(&b, `</%sResult></%sResponse>`, method, method)
	rp.writeV1(http.StatusOK, regix.V1ActionPrefix+method+"Response", b.Bytes())
}

// pending answers a call in progress: V1's Execute with its ServiceCallID,
// V1's CheckResult with IsReady false.
func (rp reply) pending(method, id, code string) {
	if !rp.v1 {
		regix.WritePending(rp.w, method, id, code)
		return
	}
	var b bytes.Buffer
	if method == "Execute" {
		fmt.Fprintf(&b, `<ExecuteResponse xmlns="%s"><ExecuteResult><ServiceCallID>%s</ServiceCallID><HasError>false</HasError></ExecuteResult></ExecuteResponse>`, regix.V1NS, id)
	} else {
		fmt.Fprintf(&b, `<%sResponse xmlns="%s"><%sResult><IsReady>false</IsReady>%s<HasError>false</HasError></%sResult></%sResponse>`, method, regix.V1NS, method, simV1Signature, method, method)
	}
	rp.writeV1(http.StatusOK, regix.V1ActionPrefix+method+"Response", b.Bytes())
}

// fault writes a SOAP fault; code is s:Client or s:Server, which V1 (SOAP
// 1.2) calls s:Sender (HTTP 400) and s:Receiver (HTTP 500).
func (rp reply) fault(code, text string) {
	if !rp.v1 {
		regix.WriteFault(rp.w, code, text)
		return
	}
	code12, status := "s:Receiver", http.StatusInternalServerError
	if code == "s:Client" {
		code12, status = "s:Sender", http.StatusBadRequest
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `<s:Fault><s:Code><s:Value>%s</s:Value></s:Code><s:Reason><s:Text xml:lang="en">`, code12)
	xml.EscapeText(&b, []byte(text))
	b.WriteString(`</s:Text></s:Reason></s:Fault>`)
	rp.writeV1(status, regix.WSANS+"/fault", b.Bytes())
}

// writeV1 writes a SOAP 1.2 envelope with the WS-Addressing Action and
// RelatesTo headers around the body's element el.
func (rp reply) writeV1(status int, action string, el []byte) {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	fmt.Fprintf(&b, `<s:Envelope xmlns:s="%s" xmlns:a="%s"><s:Header><a:Action s:mustUnderstand="1">%s</a:Action>`, regix.SOAP12NS, regix.WSANS, action)
	if rp.messageID != "" {
		b.WriteString(`<a:RelatesTo>`)
		xml.EscapeText(&b, []byte(rp.messageID))
		b.WriteString(`</a:RelatesTo>`)
	}
	b.WriteString(`</s:Header><s:Body>`)
	b.Write(el)
	b.WriteString(`</s:Body></s:Envelope>`)
	rp.w.Header().Set("Content-Type", regix.SOAP12ContentType+"; charset=utf-8")
	rp.w.WriteHeader(status)
	rp.w.Write(b.Bytes())
}

func (s *Simulator) control(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		m, err := ParseMode(r.FormValue("mode"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var d time.Duration
		if v := r.FormValue("delay"); v != "" {
			if d, err = time.ParseDuration(v); err != nil || d <= 0 {
				http.Error(w, fmt.Sprintf("regix: simulator: delay %q is not a positive duration", v), http.StatusBadRequest)
				return
			}
		}
		s.SetMode(m, d)
	}
	m, d := s.Mode()
	fmt.Fprintf(w, "mode=%s delay=%s\n", m, d)
}

// invalidate inserts an element no schema allows as the first child of the root.
func invalidate(doc []byte) []byte {
	d := xml.NewDecoder(bytes.NewReader(doc))
	for {
		t, err := d.Token()
		if err != nil {
			return []byte("<" + invalidElement + "/>")
		}
		if se, ok := t.(xml.StartElement); ok {
			end := int(d.InputOffset())
			if bytes.HasSuffix(doc[:end], []byte("/>")) {
				// <Root .../> becomes <Root ...><X/></Root>.
				return []byte(fmt.Sprintf("%s><%s>1</%s></%s>", doc[:end-2], invalidElement, invalidElement, se.Name.Local))
			}
			out := append([]byte{}, doc[:end]...)
			out = append(out, "<"+invalidElement+">1</"+invalidElement+">"...)
			return append(out, doc[end:]...)
		}
	}
}

// innerXML keeps an element's content as it came.
type innerXML struct {
	XML []byte `xml:",innerxml"`
}

func trimBOM(b []byte) []byte { return bytes.TrimPrefix(b, []byte("\ufeff")) }
