package regix

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aiskao/aiskao/internal/testpki"
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
		responses[op.Name] = regixtest.Served(t, name, doc)
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
	if _, err := c.CheckResult(context.Background(), op, "abc", ""); err == nil || !IsPermanent(err) || !strings.Contains(err.Error(), "decimal") {
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
	if _, err := v2.ExecuteSynchronous(context.Background(), op, map[string]string{"EGN": "8506258485"}, testCall); err == nil || !IsPermanent(err) || !strings.Contains(err.Error(), "HTTP 415") {
		t.Errorf("a V2 client at the V1 entry point: %v, want a permanent HTTP 415 error", err)
	}
	_, err = c.CheckResult(context.Background(), op, "999", "")
	var fe *FaultError
	if !errors.As(err, &fe) || !IsPermanent(err) || fe.Code != "s:Sender" || !strings.Contains(fe.String, "999") {
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
			`Result><IsReady>true</IsReady><Data><Request/><Response>` + string(DocumentBody(doc)) +
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
			if err == nil || !strings.Contains(err.Error(), tt.want) || IsPermanent(err) != tt.permanent {
				t.Errorf("err = %v (permanent %v), want %q (permanent %v)", err, IsPermanent(err), tt.want, tt.permanent)
			}
		})
	}
}

// TestV1MutualTLS: the V1 binding's policy asks for HTTPS with a client certificate
// (sp:HttpsToken RequireClientCertificate); the client calls the WSDL server so, with To the
// https address.
func TestV1MutualTLS(t *testing.T) {
	dir := t.TempDir()
	pool, srvCert := testpki.MutualTLS(t, dir)
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
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "client.crt"), filepath.Join(dir, "client.key"))
	if err != nil {
		t.Fatal(err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, MinVersion: tls.VersionTLS12}
	hc := &http.Client{Transport: tr}
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
