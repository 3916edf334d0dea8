package regix

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aiskao/aiskao/fault"
	"github.com/aiskao/aiskao/regix/regixtest"
)

// v1Path is where the test servers serve the V1 entry point, as RegiX does.
const v1Path = "/RegiX/RegiXEntryPoint.svc"

// v1Server starts the V1 entry point built from the public WSDL, answering every operation of
// the catalogue with its bundled response sample.
func v1Server(t *testing.T, notReady int) (*regixtest.V1Server, *Client) {
	t.Helper()
	ops := catalogue(t)
	responses := map[string][]byte{}
	for name, doc := range samples(t, "Response") {
		op, _, err := ops.Identify(doc)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		responses[op.Name] = doc
	}
	srv, err := regixtest.NewV1Server("testdata/wsdl.xml", func(operation string, _ []byte) ([]byte, string) {
		doc, ok := responses[operation]
		if !ok {
			return nil, "unknown operation " + operation
		}
		return doc, ""
	}, notReady)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return srv, &Client{Endpoint: hs.URL + v1Path, HTTP: hs.Client(), Timeout: 5 * time.Second,
		EntryPoint: V1, PollInterval: 10 * time.Millisecond, PollTimeout: 5 * time.Second}
}

// TestV1ExecuteSynchronous: the client calls every operation through the V1 entry point as its
// WSDL describes it, and reads the answers.
func TestV1ExecuteSynchronous(t *testing.T) {
	ops := catalogue(t)
	srv, c := v1Server(t, 0)
	params := sampleParams(t)
	for _, op := range ops.All() {
		t.Run(op.Code, func(t *testing.T) {
			res, err := c.ExecuteSynchronous(context.Background(), op, params[op.Code], testCall)
			if err != nil {
				t.Fatal(err)
			}
			if !res.IsReady || res.HasError || len(res.Response) == 0 || len(res.Request) == 0 || len(res.Fields) == 0 || !res.Signed {
				t.Errorf("result: ready %v, error %v, %d bytes of response, %d of request, %d fields, signed %v",
					res.IsReady, res.HasError, len(res.Response), len(res.Request), len(res.Fields), res.Signed)
			}
		})
	}
	reqs := srv.Requests()
	if len(reqs) != len(ops.All()) {
		t.Fatalf("%d requests reached the server, want %d", len(reqs), len(ops.All()))
	}
	op, _ := ops.Lookup("PersonDataSearch")
	if _, err := c.ExecuteSynchronous(context.Background(), op, map[string]string{"EGN": "8506258485"}, testCall); err != nil {
		t.Fatal(err)
	}
	last := srv.Requests()[len(reqs)]
	if last.Operation != op.Name || !bytes.Contains(last.Body, []byte("8506258485")) || !bytes.Contains(last.Body, []byte(testCall.CallContext.LawReason)) {
		t.Errorf("the server got operation %q and body\n%s", last.Operation, last.Body)
	}
}

// TestV1ExecuteCheckResult: Execute answers a ServiceCallID only; the client asks CheckResult
// until the result is ready.
func TestV1ExecuteCheckResult(t *testing.T) {
	op, _ := catalogue(t).Lookup("GetActualState")
	srv, c := v1Server(t, 2)
	res, err := c.Execute(context.Background(), op, sampleParams(t)["GetActualState"], testCall)
	if err != nil {
		t.Fatal(err)
	}
	if got := field(res.Fields, "Company"); got != "ТехноЛогика" {
		t.Errorf("Company = %v", got)
	}
	if res.ServiceCallID != "1001" {
		t.Errorf("ServiceCallID = %q, want the one Execute gave", res.ServiceCallID)
	}
	var actions []string
	for _, r := range srv.Requests() {
		actions = append(actions, r.Action[strings.LastIndexByte(r.Action, '/')+1:])
	}
	if got := strings.Join(actions, " "); got != "ExecuteResponse CheckResultResponse CheckResultResponse CheckResultResponse" {
		t.Errorf("calls: %s, want Execute and three CheckResult", got)
	}
	if _, err := c.CheckResult(context.Background(), op, "abc", ""); err == nil || !fault.IsPermanent(err) || !strings.Contains(err.Error(), "decimal") {
		t.Errorf("CheckResult with a ServiceCallID that is no decimal: %v, want a permanent error", err)
	}
}

// TestV1ServerRefuses: the V1 server is strict, so a client passing it proves something: each
// departure from the WSDL is refused with a SOAP 1.2 Sender fault, which the client reports as
// a permanent FaultError.
func TestV1ServerRefuses(t *testing.T) {
	op, _ := catalogue(t).Lookup("PersonDataSearch")
	_, c := v1Server(t, 0)
	arg, err := op.BuildRequest(map[string]string{"EGN": "8506258485"})
	if err != nil {
		t.Fatal(err)
	}
	good, err := BuildV1Envelope("ExecuteSynchronous", c.Endpoint, "urn:uuid:1", op.Name, arg, testCall)
	if err != nil {
		t.Fatal(err)
	}
	ct := `application/soap+xml; charset=utf-8; action="` + V1ActionPrefix + `ExecuteSynchronous"`
	post := func(ct string, env []byte) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, c.Endpoint, bytes.NewReader(env))
		req.Header.Set("Content-Type", ct)
		resp, err := c.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := post(ct, good); code != 200 {
		t.Fatalf("the well-formed request: HTTP %d\n%s", code, body)
	}
	swap := func(pairs ...string) []byte {
		env := good
		for i := 0; i < len(pairs); i += 2 {
			if !bytes.Contains(env, []byte(pairs[i])) {
				t.Fatalf("the request has no %q", pairs[i])
			}
			env = bytes.Replace(env, []byte(pairs[i]), []byte(pairs[i+1]), 1)
		}
		return env
	}
	tests := []struct {
		name, ct string
		env      []byte
		want     string
	}{
		{"SOAP 1.1 media type", "text/xml; charset=utf-8", good, "content type"},
		{"action parameter differs", strings.Replace(ct, "ExecuteSynchronous", "Execute", 1), good, "ActionMismatch"},
		{"SOAP 1.1 envelope", ct, swap(SOAP12NS, SOAPNS), "VersionMismatch"},
		{"no Action", ct, swap(`<a:Action s:mustUnderstand="1">`+V1ActionPrefix+`ExecuteSynchronous</a:Action>`, ""), "header Action is required"},
		{"no MessageID", ct, swap(`<a:MessageID>urn:uuid:1</a:MessageID>`, ""), "header MessageID is required"},
		{"no ReplyTo", ct, swap(`<a:ReplyTo><a:Address>`+WSAAnonymous+`</a:Address></a:ReplyTo>`, ""), "header ReplyTo is required"},
		{"ReplyTo elsewhere", ct, swap(WSAAnonymous, "http://attacker.example/"), "ReplyTo/Address"},
		{"no To", ct, swap(`<a:To s:mustUnderstand="1">`+c.Endpoint+`</a:To>`, ""), "header To is required"},
		{"To another endpoint", ct, swap(c.Endpoint+`</a:To>`, "http://elsewhere/RegiX</a:To>"), "DestinationUnreachable"},
		{"old WS-Addressing", ct, swap(WSANS, "http://schemas.xmlsoap.org/ws/2004/08/addressing"), "MustUnderstand"},
		{"V2 namespace", ct, swap(`xmlns:tem="`+V1NS+`"`, `xmlns:tem="`+EntryPointNS+`"`), "takes {http://tempuri.org/}ExecuteSynchronous"},
		{"body of another action", ct, swap("<tem:ExecuteSynchronous>", "<tem:Execute>", "</tem:ExecuteSynchronous>", "</tem:Execute>"), "takes {http://tempuri.org/}ExecuteSynchronous"},
		{"V2 wrapper", ct, swap("<tem:request>", "<tem:request><tem:ServiceRequestData>", "</tem:request>", "</tem:ServiceRequestData></tem:request>"), "schema"},
		{"no LawReason", ct, swap("<tem:LawReason>"+testCall.CallContext.LawReason+"</tem:LawReason>", ""), "schema"},
		{"SignResult not a boolean", ct, swap("<tem:SignResult>true</tem:SignResult>", "<tem:SignResult>yes</tem:SignResult>"), "schema"},
		{"unqualified argument", ct, swap(`xmlns="`+op.RequestNamespace+`"`, ""), "qualified"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := post(tt.ct, tt.env)
			if code == 200 || !strings.Contains(body, tt.want) {
				t.Errorf("HTTP %d, want a refusal naming %q:\n%s", code, tt.want, body)
			}
			if code == 400 && !strings.Contains(body, "<s:Value>s:Sender</s:Value>") {
				t.Errorf("HTTP 400 without a Sender fault:\n%s", body)
			}
		})
	}

	v2 := *c
	v2.EntryPoint = V2
	if _, err := v2.ExecuteSynchronous(context.Background(), op, map[string]string{"EGN": "8506258485"}, testCall); err == nil || !fault.IsPermanent(err) || !strings.Contains(err.Error(), "HTTP 415") {
		t.Errorf("a V2 client at the V1 entry point: %v, want a permanent HTTP 415 error", err)
	}
	_, err = c.CheckResult(context.Background(), op, "999", "")
	var fe *FaultError
	if !errors.As(err, &fe) || !fault.IsPermanent(err) || fe.Code != "s:Sender" || !strings.Contains(fe.String, "999") {
		t.Errorf("a Sender fault: %v (%+v), want a permanent FaultError with its subcode", err, fe)
	}
}

// TestV1Answers: answers that are no proper V1 answer are refused, faults are classed as for V2.
func TestV1Answers(t *testing.T) {
	op, _ := catalogue(t).Lookup("PersonDataSearch")
	p := map[string]string{"EGN": "8506258485"}
	doc := samples(t, "Response")["registers/grao-nbd/PersonDataSearchResponse.xml"]
	if doc == nil {
		t.Fatal("no PersonDataSearch response sample")
	}
	ok := func(action, relates, ns, method string) string {
		return `<s:Envelope xmlns:s="` + SOAP12NS + `" xmlns:a="` + WSANS + `"><s:Header><a:Action s:mustUnderstand="1">` + action +
			`</a:Action><a:RelatesTo>` + relates + `</a:RelatesTo></s:Header><s:Body><` + method + `Response xmlns="` + ns + `"><` + method +
			`Result><IsReady>true</IsReady><Data><Request/><Response>` + string(documentBody(doc)) +
			`</Response></Data><Signature xmlns="http://www.w3.org/2000/09/xmldsig#"/><HasError>false</HasError></` + method + `Result></` + method + `Response></s:Body></s:Envelope>`
	}
	fault12 := func(code string) string {
		return `<s:Envelope xmlns:s="` + SOAP12NS + `"><s:Body><s:Fault><s:Code><s:Value>` + code + `</s:Value></s:Code><s:Reason><s:Text xml:lang="bg">отказ</s:Text><s:Text xml:lang="en">refused</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>`
	}
	const sync = V1ActionPrefix + "ExecuteSynchronousResponse"
	tests := []struct {
		name      string
		status    int
		answer    func(msgID string) string
		permanent bool
		want      string
	}{
		{"proper", 200, func(id string) string { return ok(sync, id, V1NS, "ExecuteSynchronous") }, false, ""},
		{"another message's answer", 200, func(string) string { return ok(sync, "urn:uuid:other", V1NS, "ExecuteSynchronous") }, true, "relates to message"},
		{"no RelatesTo", 200, func(string) string {
			return strings.Replace(ok(sync, "x", V1NS, "ExecuteSynchronous"), "<a:RelatesTo>x</a:RelatesTo>", "", 1)
		}, true, "no WS-Addressing RelatesTo"},
		{"no Action", 200, func(id string) string {
			return strings.Replace(ok(sync, id, V1NS, "ExecuteSynchronous"), `<a:Action s:mustUnderstand="1">`+sync+`</a:Action>`, "", 1)
		}, true, "no WS-Addressing Action"},
		{"another action", 200, func(id string) string { return ok(V1ActionPrefix+"ExecuteResponse", id, V1NS, "ExecuteSynchronous") }, true, "Action"},
		{"V2 namespace", 200, func(id string) string { return ok(sync, id, EntryPointNS, "ExecuteSynchronous") }, true, "expected {http://tempuri.org/}ExecuteSynchronousResponse"},
		{"SOAP 1.1", 200, func(id string) string {
			return strings.Replace(ok(sync, id, V1NS, "ExecuteSynchronous"), SOAP12NS, SOAPNS, 1)
		}, true, "SOAP 1.2"},
		{"Sender fault", 400, func(string) string { return fault12("s:Sender") }, true, "s:Sender: отказ"},
		{"MustUnderstand fault", 500, func(string) string { return fault12("s:MustUnderstand") }, true, "MustUnderstand"},
		{"Receiver fault", 500, func(string) string { return fault12("s:Receiver") }, false, "s:Receiver: отказ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				id := string(bytes.SplitN(bytes.SplitN(body, []byte("<a:MessageID>"), 2)[1], []byte("<"), 2)[0])
				w.Header().Set("Content-Type", "application/soap+xml; charset=utf-8")
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.answer(id))
			}))
			defer hs.Close()
			c := &Client{Endpoint: hs.URL + v1Path, EntryPoint: V1, Timeout: 5 * time.Second}
			res, err := c.ExecuteSynchronous(context.Background(), op, p, testCall)
			if tt.want == "" {
				if err != nil || field(res.Fields, "PersonNames", "FirstName") != "Ивелина" {
					t.Fatalf("%v, %v", res, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || fault.IsPermanent(err) != tt.permanent {
				t.Errorf("err = %v (permanent %v), want %q (permanent %v)", err, fault.IsPermanent(err), tt.want, tt.permanent)
			}
		})
	}
}

// TestSimulatorV1: the simulator serves the V1 entry point beside V2 (by the media type), in
// every mode.
func TestSimulatorV1(t *testing.T) {
	ops := catalogue(t)
	sim, v2 := simServer(t)
	c := *v2
	c.EntryPoint, c.Endpoint = V1, v2.Endpoint+v1Path
	c.PollInterval, c.PollTimeout = 10*time.Millisecond, 5*time.Second
	params := sampleParams(t)
	for _, op := range ops.All() {
		res, err := c.ExecuteSynchronous(context.Background(), op, params[op.Code], testCall)
		if err != nil || len(res.Fields) == 0 {
			t.Errorf("%s: %+v, %v", op.Code, res, err)
		}
	}
	op, _ := ops.Lookup("PersonDataSearch")
	p := map[string]string{"EGN": "8506258485"}
	res, err := c.Execute(context.Background(), op, p, testCall)
	if err != nil || field(res.Fields, "PersonNames", "FirstName") != "Ивелина" || res.ServiceCallID == "" {
		t.Fatalf("Execute: %+v, %v", res, err)
	}
	if _, err := v2.ExecuteSynchronous(context.Background(), op, p, testCall); err != nil {
		t.Errorf("V2 beside V1: %v", err)
	}

	t.Run("slow", func(t *testing.T) {
		sim.SetMode(ModeSlow, 50*time.Millisecond)
		defer sim.SetMode(ModeNormal, 0)
		res, err := c.Execute(context.Background(), op, p, testCall)
		if err != nil || len(res.Fields) == 0 {
			t.Fatalf("%+v, %v", res, err)
		}
	})
	t.Run("has_error", func(t *testing.T) {
		sim.SetMode(ModeHasError, 0)
		defer sim.SetMode(ModeNormal, 0)
		for _, call := range []func(context.Context, *Operation, map[string]string, RequestData) (*Result, error){c.ExecuteSynchronous, c.Execute} {
			_, err := call(context.Background(), op, p, testCall)
			var re *RegisterError
			if !errors.As(err, &re) || !strings.Contains(err.Error(), SimErrorText) || fault.IsPermanent(err) {
				t.Errorf("err = %v, want a retryable RegisterError", err)
			}
		}
	})
	t.Run("fault", func(t *testing.T) {
		sim.SetMode(ModeFault, 0)
		defer sim.SetMode(ModeNormal, 0)
		_, err := c.ExecuteSynchronous(context.Background(), op, p, testCall)
		var fe *FaultError
		if !errors.As(err, &fe) || fe.Code != "s:Receiver" || fault.IsPermanent(err) {
			t.Errorf("err = %v, want a retryable Receiver fault", err)
		}
	})
	t.Run("invalid", func(t *testing.T) {
		sim.SetMode(ModeInvalid, 0)
		defer sim.SetMode(ModeNormal, 0)
		_, err := c.ExecuteSynchronous(context.Background(), op, p, testCall)
		if err == nil || !strings.Contains(err.Error(), invalidElement) || !fault.IsPermanent(err) {
			t.Errorf("err = %v, want a permanent error naming %s", err, invalidElement)
		}
	})
	t.Run("refused", func(t *testing.T) {
		arg, _ := op.BuildRequest(p)
		good, err := BuildV1Envelope("ExecuteSynchronous", c.Endpoint, "urn:uuid:1", op.Name, arg, testCall)
		if err != nil {
			t.Fatal(err)
		}
		ct := SOAP12ContentType + `; charset=utf-8; action="` + V1ActionPrefix + `ExecuteSynchronous"`
		for name, tt := range map[string]struct {
			ct  string
			env []byte
		}{
			"SOAP 1.1 envelope":   {ct, bytes.Replace(good, []byte(SOAP12NS), []byte(SOAPNS), 1)},
			"action differs":      {strings.Replace(ct, "ExecuteSynchronous", "Execute", 1), good},
			"no MessageID":        {ct, bytes.Replace(good, []byte("<a:MessageID>urn:uuid:1</a:MessageID>"), nil, 1)},
			"V2 namespace inside": {ct, bytes.Replace(good, []byte(`xmlns:tem="`+V1NS+`"`), []byte(`xmlns:tem="`+EntryPointNS+`"`), 1)},
		} {
			req, _ := http.NewRequest(http.MethodPost, c.Endpoint, bytes.NewReader(tt.env))
			req.Header.Set("Content-Type", tt.ct)
			resp, err := c.HTTP.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || !bytes.Contains(body, []byte("s:Sender")) {
				t.Errorf("%s: HTTP %d, want 400 and a Sender fault:\n%s", name, resp.StatusCode, body)
			}
		}
	})
}

// TestV1MutualTLS: the V1 binding's policy asks for HTTPS with a client certificate
// (sp:HttpsToken RequireClientCertificate); the client calls the WSDL server so, with To the
// https address.
func TestV1MutualTLS(t *testing.T) {
	dir := t.TempDir()
	pool, srvCert := certs(t, dir)
	srv, err := regixtest.NewV1Server("testdata/wsdl.xml", func(string, []byte) ([]byte, string) {
		return samples(t, "Response")["registers/grao-nbd/PersonDataSearchResponse.xml"], ""
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(srv)
	hs.TLS = &tls.Config{Certificates: []tls.Certificate{srvCert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	hs.StartTLS()
	defer hs.Close()
	hc, err := (&TLS{CertFile: "client.crt", KeyFile: "client.key", CAFile: "ca.crt"}).HTTPClient(dir)
	if err != nil {
		t.Fatal(err)
	}
	op, _ := catalogue(t).Lookup("PersonDataSearch")
	c := &Client{Endpoint: hs.URL + v1Path, HTTP: hc, EntryPoint: V1, Timeout: 5 * time.Second}
	res, err := c.ExecuteSynchronous(context.Background(), op, map[string]string{"EGN": "8506258485"}, testCall)
	if err != nil || field(res.Fields, "PersonNames", "FirstName") != "Ивелина" {
		t.Fatalf("%v, %v", res, err)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("%d requests reached the server, want 1", n)
	}
}

// FuzzSimulatorV1 feeds the simulator V1 requests: whatever comes, it answers with a SOAP 1.2
// envelope, and with a fault unless the request was a call it could read.
func FuzzSimulatorV1(f *testing.F) {
	sim := NewSimulator(nil)
	if err := sim.Err(); err != nil {
		f.Fatal(err)
	}
	ops := catalogue(f)
	op, _ := ops.Lookup("PersonDataSearch")
	arg, err := op.BuildRequest(map[string]string{"EGN": "8506258485"})
	if err != nil {
		f.Fatal(err)
	}
	for _, m := range []string{"ExecuteSynchronous", "Execute"} {
		env, err := BuildV1Envelope(m, "http://sim"+v1Path, "urn:uuid:1", op.Name, arg, testCall)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(env, m)
	}
	f.Add(v1CheckEnvelope("http://sim"+v1Path, "urn:uuid:2", "1"), "CheckResult")
	f.Add([]byte(`<s:Envelope xmlns:s="`+SOAP12NS+`"><s:Body/></s:Envelope>`), "")
	f.Fuzz(func(t *testing.T, body []byte, action string) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, v1Path, bytes.NewReader(body))
		req.Header.Set("Content-Type", SOAP12ContentType+`; charset=utf-8; action="`+V1ActionPrefix+strings.ReplaceAll(action, `"`, "")+`"`)
		sim.ServeHTTP(rec, req)
		if _, a, err := parseAnswer(rec.Body.Bytes()); a != nil && a.envelope.Space != SOAP12NS {
			t.Fatalf("HTTP %d, not a SOAP 1.2 answer (%v):\n%s", rec.Code, err, rec.Body.Bytes())
		}
		if !bytes.Contains(rec.Body.Bytes(), []byte(`<s:Envelope xmlns:s="`+SOAP12NS+`"`)) {
			t.Fatalf("HTTP %d, not a SOAP 1.2 envelope:\n%s", rec.Code, rec.Body.Bytes())
		}
		if rec.Code != http.StatusOK && !bytes.Contains(rec.Body.Bytes(), []byte("<s:Fault>")) {
			t.Fatalf("HTTP %d without a fault:\n%s", rec.Code, rec.Body.Bytes())
		}
	})
}

// TestSimulatorV1AnswersAsTheWSDL: what the simulator answers V1 calls, in each state of a call,
// is what the public WSDL describes, judged by the WSDL server's checks.
func TestSimulatorV1AnswersAsTheWSDL(t *testing.T) {
	wsdl, _ := v1Server(t, 0)
	sim := NewSimulator(nil)
	if err := sim.Err(); err != nil {
		t.Fatal(err)
	}
	op, _ := catalogue(t).Lookup("PersonDataSearch")
	arg, err := op.BuildRequest(map[string]string{"EGN": "8506258485"})
	if err != nil {
		t.Fatal(err)
	}
	call := func(method string, env []byte) []byte {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, v1Path, bytes.NewReader(env))
		req.Header.Set("Content-Type", SOAP12ContentType+`; charset=utf-8; action="`+V1ActionPrefix+method+`"`)
		sim.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: HTTP %d\n%s", method, rec.Code, rec.Body.Bytes())
		}
		if err := wsdl.CheckAnswer(method, rec.Body.Bytes()); err != nil {
			t.Errorf("%s: the answer is not as the WSDL describes: %v\n%s", method, err, rec.Body.Bytes())
		}
		return rec.Body.Bytes()
	}
	request := func(method string) []byte {
		env, err := BuildV1Envelope(method, "http://example"+v1Path, "urn:uuid:1", op.Name, arg, testCall)
		if err != nil {
			t.Fatal(err)
		}
		return env
	}
	call("ExecuteSynchronous", request("ExecuteSynchronous"))
	sim.SetMode(ModeHasError, 0)
	call("ExecuteSynchronous", request("ExecuteSynchronous"))
	sim.SetMode(ModeSlow, time.Hour)
	res, err := ParseResultData(call("Execute", request("Execute")))
	if err != nil || res.ServiceCallID == "" {
		t.Fatalf("Execute: %+v, %v", res, err)
	}
	if res, err := ParseResultData(call("CheckResult", v1CheckEnvelope("http://example"+v1Path, "urn:uuid:2", res.ServiceCallID))); err != nil || res.IsReady {
		t.Errorf("CheckResult of a slow call: %+v, %v; want not ready", res, err)
	}
	sim.SetMode(ModeNormal, 0)
	bad, err := BuildV1Envelope("Execute", "http://example"+v1Path, "urn:uuid:4", op.Name, bytes.Replace(arg, []byte("8506258485"), []byte("1"), 1), testCall)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := ParseResultData(call("Execute", bad)); err != nil || !res.HasError || !strings.Contains(res.Error, "EGN") {
		t.Errorf("Execute with an invalid argument: %+v, %v; want HasError naming EGN", res, err)
	}
	res, _ = ParseResultData(call("Execute", request("Execute")))
	if res, err := ParseResultData(call("CheckResult", v1CheckEnvelope("http://example"+v1Path, "urn:uuid:3", res.ServiceCallID))); err != nil || !res.IsReady || len(res.Response) == 0 {
		t.Errorf("CheckResult: %+v, %v; want the result", res, err)
	}
}
