package regix

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/aiskao/aiskao/fault"
)

// testCall is a complete call context for tests.
var testCall = RequestData{
	CallContext: CallContext{
		ServiceURI:         "123-12345-01.01.2026",
		ServiceType:        "За административна услуга",
		EmployeeIdentifier: "officer@example.bg",
		EmployeeNames:      "Иван Петров Иванов",
		AdministrationOId:  "2.16.100.1.1.1.1.1",
		AdministrationName: "Община Пример",
		LawReason:          "чл. 13, ал. 1 от Наредбата",
	},
	SignResult: true,
}

// sampleParams returns, by operation code, the parameters of each bundled request sample.
func sampleParams(t *testing.T) map[string]map[string]string {
	t.Helper()
	ops := catalogue(t)
	out := map[string]map[string]string{}
	for name, doc := range samples(t, "Request") {
		op, _, err := ops.Identify(doc)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		fields, err := Leaves(doc, 0)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		params := map[string]string{}
		for _, f := range fields {
			params[f.Path] = f.Value
		}
		out[op.Code] = params
	}
	return out
}

// field follows a path of keys and list indexes through parsed fields.
func field(m map[string]any, path ...string) any {
	var v any = m
	for _, k := range path {
		switch c := v.(type) {
		case map[string]any:
			v = c[k]
		case []any:
			var i int
			fmt.Sscan(k, &i)
			if i >= len(c) {
				return nil
			}
			v = c[i]
		default:
			return nil
		}
	}
	return v
}

func simServer(t *testing.T) (*Simulator, *Client) {
	t.Helper()
	sim := NewSimulator(nil)
	if err := sim.Err(); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return sim, &Client{Endpoint: srv.URL, HTTP: srv.Client(), Timeout: 5 * time.Second}
}

func TestClientSimulatorEveryOperation(t *testing.T) {
	ops := catalogue(t)
	_, c := simServer(t)
	params := sampleParams(t)
	known := map[string][]string{
		"PersonDataSearch":       {"PersonNames", "FirstName", "Ивелина"},
		"RelationsSearch":        {"PersonRelations", "0", "FirstName", "Димитър"},
		"ValidPersonSearch":      {"DeathDate", "1972-01-05"},
		"PermanentAddressSearch": {"SettlementName", "София"},
		"TemporaryAddressSearch": {"Entrance", "Б"},
		"GetActualState":         {"Company", "ТехноЛогика"},
		"GetValidUICInfo":        {"LegalForm", "LegalFormAbbr", "ЕАД"},
		"GetActualStateV3":       {"Deed", "CompanyName", "ДСК ЛИЗИНГ АД"},
		"GetPersonalIdentityV3":  {"PersonNames", "Surname", "Surname1"},
	}
	for _, op := range ops.All() {
		t.Run(op.Code, func(t *testing.T) {
			p, ok := params[op.Code]
			if !ok {
				t.Fatalf("no request sample for %s", op.Code)
			}
			res, err := c.ExecuteSynchronous(context.Background(), op, p, testCall)
			if err != nil {
				t.Fatal(err)
			}
			if !res.IsReady || res.HasError || len(res.Response) == 0 || len(res.Request) == 0 {
				t.Errorf("result: ready %v, error %v, %d bytes of response, %d of request", res.IsReady, res.HasError, len(res.Response), len(res.Request))
			}
			k := known[op.Code]
			if k == nil {
				t.Fatalf("no known field for %s", op.Code)
			}
			if got := field(res.Fields, k[:len(k)-1]...); got != k[len(k)-1] {
				t.Errorf("%v = %#v, want %q", k[:len(k)-1], got, k[len(k)-1])
			}
		})
	}
}

func TestClientErrors(t *testing.T) {
	ops := catalogue(t)
	op, _ := ops.Lookup("PersonDataSearch")
	p := map[string]string{"EGN": "8506258485"}
	sim, c := simServer(t)

	t.Run("has_error", func(t *testing.T) {
		sim.SetMode(ModeHasError, 0)
		defer sim.SetMode(ModeNormal, 0)
		res, err := c.ExecuteSynchronous(context.Background(), op, p, testCall)
		var re *RegisterError
		if !errors.As(err, &re) || !strings.Contains(err.Error(), SimErrorText) {
			t.Fatalf("err = %v, want a RegisterError with %q", err, SimErrorText)
		}
		if res == nil || !res.HasError || fault.IsPermanent(err) {
			t.Errorf("result %+v, permanent %v; want HasError and a retryable error", res, fault.IsPermanent(err))
		}
	})
	t.Run("invalid", func(t *testing.T) {
		sim.SetMode(ModeInvalid, 0)
		defer sim.SetMode(ModeNormal, 0)
		for _, op := range ops.All() {
			_, err := c.ExecuteSynchronous(context.Background(), op, sampleParams(t)[op.Code], testCall)
			want := "/" + op.ResponseElement + "/" + invalidElement
			if err == nil || !strings.Contains(err.Error(), want) || !fault.IsPermanent(err) {
				t.Errorf("%s: err = %v (permanent %v), want a permanent error naming %s", op.Code, err, fault.IsPermanent(err), want)
			}
		}
	})
	t.Run("slow", func(t *testing.T) {
		sim.SetMode(ModeSlow, time.Minute)
		defer sim.SetMode(ModeNormal, 0)
		fast := *c
		fast.Timeout = 50 * time.Millisecond
		start := time.Now()
		_, err := fast.ExecuteSynchronous(context.Background(), op, p, testCall)
		if !errors.Is(err, ErrTimeout) || fault.IsPermanent(err) {
			t.Fatalf("err = %v, want a retryable ErrTimeout", err)
		}
		if !strings.Contains(err.Error(), "within 50ms") {
			t.Errorf("err = %v, want it to name the timeout", err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("the call took %s", d)
		}
	})
	t.Run("fault mode", func(t *testing.T) {
		sim.SetMode(ModeFault, 0)
		defer sim.SetMode(ModeNormal, 0)
		_, err := c.ExecuteSynchronous(context.Background(), op, p, testCall)
		var fe *FaultError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), "the service is unavailable") || fault.IsPermanent(err) {
			t.Fatalf("err = %v, want a retryable SOAP fault with its faultstring", err)
		}
	})
	t.Run("no law reason", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			t.Error("a request without a legal basis was sent")
		}))
		defer srv.Close()
		rd := testCall
		rd.CallContext.LawReason = ""
		_, err := (&Client{Endpoint: srv.URL}).ExecuteSynchronous(context.Background(), op, p, rd)
		if !errors.Is(err, ErrNoLawReason) || !fault.IsPermanent(err) {
			t.Fatalf("err = %v, want a permanent ErrNoLawReason", err)
		}
	})
	t.Run("bad parameter", func(t *testing.T) {
		_, err := c.ExecuteSynchronous(context.Background(), op, map[string]string{"EGN": "123"}, testCall)
		if err == nil || !strings.Contains(err.Error(), "EGN") || !fault.IsPermanent(err) {
			t.Fatalf("err = %v, want a permanent error naming EGN", err)
		}
	})
}

func TestClientTransportErrors(t *testing.T) {
	op, _ := catalogue(t).Lookup("PersonDataSearch")
	p := map[string]string{"EGN": "8506258485"}
	tests := []struct {
		name      string
		handler   http.HandlerFunc
		want      string
		permanent bool
	}{
		{"closed connection", func(w http.ResponseWriter, r *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			conn.Close()
		}, "closed the connection before answering", false},
		{"SOAP 1.1 client fault", func(w http.ResponseWriter, r *http.Request) {
			writeFault(w, "s:Client", "Access denied for operation PersonDataSearch")
		}, "Access denied for operation PersonDataSearch", true},
		{"SOAP 1.2 fault", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><s:Fault><s:Code><s:Value>s:Receiver</s:Value></s:Code><s:Reason><s:Text xml:lang="bg">Вътрешна грешка</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>`)
		}, "Вътрешна грешка", false},
		{"HTTP 503", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
		}, "HTTP 503", false},
		{"HTTP 404", func(w http.ResponseWriter, r *http.Request) {
			http.NotFound(w, r)
		}, "HTTP 404", true},
		{"not SOAP", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `<html>maintenance</html>`)
		}, "not a SOAP envelope", true},
		{"no response document", func(w http.ResponseWriter, r *http.Request) {
			writeResult(w, "ExecuteSynchronous", nil, nil, "")
		}, "Data/Response is empty", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			c := &Client{Endpoint: srv.URL, HTTP: srv.Client(), Timeout: 5 * time.Second}
			_, err := c.ExecuteSynchronous(context.Background(), op, p, testCall)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
			if fault.IsPermanent(err) != tt.permanent {
				t.Errorf("permanent = %v, want %v (%v)", fault.IsPermanent(err), tt.permanent, err)
			}
		})
	}
}

// skeleton renders the elements of a document as depth and qualified name,
// leaving out what lies inside Argument (the template's is empty).
func skeleton(t *testing.T, doc []byte) string {
	t.Helper()
	root, err := decodeTree(doc)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	var walk func(n *node, depth int)
	walk = func(n *node, depth int) {
		fmt.Fprintf(&b, "%s{%s}%s\n", strings.Repeat(" ", depth), n.name.Space, n.name.Local)
		if n.name.Local == "Argument" {
			return
		}
		for _, c := range n.children {
			walk(c, depth+1)
		}
	}
	walk(root, 0)
	return b.String()
}

func TestEnvelopeMatchesTemplate(t *testing.T) {
	tmpl, err := os.ReadFile("testdata/regixRequestTemplate.xml")
	if err != nil {
		t.Fatal(err)
	}
	op, _ := catalogue(t).Lookup("ValidPersonSearch")
	arg, err := op.BuildRequest(map[string]string{"EGN": "8506258485"})
	if err != nil {
		t.Fatal(err)
	}
	// The template fills every optional CallContext element and no EGN.
	rd := RequestData{
		CallContext: CallContext{
			ServiceURI: "132-11123-01.01.2016", ServiceType: "За проверовъчна дейност",
			EmployeeIdentifier: "e", EmployeeNames: "n", EmployeeAditionalIdentifier: "a", EmployeePosition: "p",
			AdministrationOId: "o", AdministrationName: "an", ResponsiblePersonIdentifier: "r", LawReason: "?", Remark: "x",
		},
		SignResult: true,
	}
	got, err := buildEnvelope("Execute", op.Name, arg, rd)
	if err != nil {
		t.Fatal(err)
	}
	if g, w := skeleton(t, got), skeleton(t, tmpl); g != w {
		t.Errorf("envelope differs from the template\ngot:\n%s\nwant:\n%s", g, w)
	}
	// Texts the template gives, and the embedded argument.
	root, _ := decodeTree(got)
	data := root.children[1].children[0].children[0].children[0]
	texts := map[string]string{}
	for _, c := range data.children {
		texts[c.name.Local] = c.text
		for _, cc := range c.children {
			texts[cc.name.Local] = cc.text
		}
	}
	for k, want := range map[string]string{"ServiceURI": "132-11123-01.01.2016", "ServiceType": "За проверовъчна дейност", "LawReason": "?", "SignResult": "true", "ReturnAccessMatrix": "false", "Operation": op.Name} {
		if texts[k] != want {
			t.Errorf("%s = %q, want %q", k, texts[k], want)
		}
	}
	if a := data.children[1]; len(a.children) != 1 || a.children[0].name != (xml.Name{Space: op.RequestNamespace, Local: op.RequestElement}) ||
		len(a.children[0].children) != 1 || a.children[0].children[0].text != "8506258485" {
		t.Errorf("Argument does not hold the request document")
	}

	// ExecuteSynchronous differs only in the method element.
	sync, err := BuildEnvelope(op.Name, arg, rd)
	if err != nil {
		t.Fatal(err)
	}
	if want := bytes.ReplaceAll(got, []byte("reg:Execute>"), []byte("reg:ExecuteSynchronous>")); !bytes.Equal(sync, want) {
		t.Errorf("ExecuteSynchronous envelope:\n%s\nwant:\n%s", sync, want)
	}
	// Empty optional elements are left out; required ones stay.
	min, err := BuildEnvelope(op.Name, arg, testCall)
	if err != nil {
		t.Fatal(err)
	}
	for _, absent := range []string{"EIDToken", "EmployeeEGN", "CitizenEGN", "Remark", "EmployeePosition"} {
		if bytes.Contains(min, []byte("<tem:"+absent)) {
			t.Errorf("empty %s is in the envelope", absent)
		}
	}
	rd.CallContext.LawReason = "  "
	if _, err := BuildEnvelope(op.Name, arg, rd); !errors.Is(err, ErrNoLawReason) || err.Error() != "regix: a legal basis (CallContext.LawReason) is required" {
		t.Errorf("blank LawReason: err = %v", err)
	}
}

func TestSimulatorData(t *testing.T) {
	resp := samples(t, "Response")["registers/grao-nbd/PersonDataSearchResponse.xml"]
	fsys := fstest.MapFS{
		"nbd/answer.xml":      {Data: resp},
		"nbd/request.xml":     {Data: []byte(`<PersonDataRequest xmlns="http://egov.bg/RegiX/GRAO/NBD/PersonDataRequest"><EGN>1</EGN></PersonDataRequest>`)},
		"notes/readme.txt":    {Data: []byte("not xml")},
		"other/unrelated.xml": {Data: []byte(`<a/>`)},
	}
	sim := NewSimulator(fsys)
	if err := sim.Err(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(sim.Operations(), ","); got != "PersonDataSearch" {
		t.Errorf("operations = %s, want PersonDataSearch", got)
	}
	srv := httptest.NewServer(sim)
	defer srv.Close()
	c := &Client{Endpoint: srv.URL, HTTP: srv.Client(), Timeout: 5 * time.Second}
	ops := catalogue(t)
	op, _ := ops.Lookup("ValidPersonSearch")
	_, err := c.ExecuteSynchronous(context.Background(), op, map[string]string{"EGN": "8506258485"}, testCall)
	if err == nil || !strings.Contains(err.Error(), "no response document for ValidPersonSearch") {
		t.Errorf("err = %v, want the simulator to say it has no document", err)
	}

	// The mode can be set over HTTP while the simulator runs.
	r, err := http.Post(srv.URL+SimControlPath+"?mode=slow&delay=3s", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if m, d := sim.Mode(); m != ModeSlow || d != 3*time.Second || r.StatusCode != http.StatusOK {
		t.Errorf("after POST: mode %s delay %s status %d", m, d, r.StatusCode)
	}
	r, _ = http.Post(srv.URL+SimControlPath+"?mode=sleepy", "", nil)
	r.Body.Close()
	if r.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown mode: status %d, want 400", r.StatusCode)
	}

	empty := NewSimulator(fstest.MapFS{"x.txt": {Data: []byte("x")}})
	if err := empty.Err(); err == nil || !strings.Contains(err.Error(), "no response document") {
		t.Errorf("empty folder: err = %v", err)
	}
}

func TestSimulatorRefusesRequests(t *testing.T) {
	_, c := simServer(t)
	tests := []struct{ name, body, want string }{
		{"no law reason", `<s:Envelope xmlns:s="` + SOAPNS + `"><s:Body><ExecuteSynchronous xmlns="` + EntryPointNS + `"><request><ServiceRequestData xmlns="` + SignedDataNS + `"><Operation>PersonDataSearch</Operation><Argument/><CallContext/></ServiceRequestData></request></ExecuteSynchronous></s:Body></s:Envelope>`, "LawReason is required"},
		{"unknown operation", `<s:Envelope xmlns:s="` + SOAPNS + `"><s:Body><ExecuteSynchronous><request><ServiceRequestData><Operation>Nope</Operation></ServiceRequestData></request></ExecuteSynchronous></s:Body></s:Envelope>`, `unknown operation \"Nope\"`},
		{"other method", `<s:Envelope xmlns:s="` + SOAPNS + `"><s:Body><AcknowledgeResultReceived/></s:Body></s:Envelope>`, `not \"AcknowledgeResultReceived\"`},
		{"check without id", `<s:Envelope xmlns:s="` + SOAPNS + `"><s:Body><CheckResult/></s:Body></s:Envelope>`, "CheckResult needs"},
		{"check unknown id", `<s:Envelope xmlns:s="` + SOAPNS + `"><s:Body><CheckResult><argument><ServiceCheckResultArgument><ServiceCallID>77</ServiceCallID></ServiceCheckResultArgument></argument></CheckResult></s:Body></s:Envelope>`, "no call in progress has ServiceCallID 77"},
		{"not xml", `hello`, "not a SOAP envelope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := http.Post(c.Endpoint, "text/xml", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Body.Close()
			var b bytes.Buffer
			b.ReadFrom(r.Body)
			_, perr := ParseResultData(b.Bytes())
			var fe *FaultError
			if r.StatusCode != 500 || !errors.As(perr, &fe) || !strings.Contains(fe.String, strings.ReplaceAll(tt.want, `\"`, `"`)) {
				t.Errorf("status %d, %v; want a fault containing %s", r.StatusCode, perr, tt.want)
			}
		})
	}
}

func FuzzParseResultData(f *testing.F) {
	resp := samples(f, "Response")["registers/grao-nbd/ValidPersonSearchResponse.xml"]
	rec := httptest.NewRecorder()
	writeResult(rec, "ExecuteSynchronous", []byte(`<ValidPersonRequest xmlns="http://egov.bg/RegiX/GRAO/NBD/ValidPersonRequest"><EGN>8506258485</EGN></ValidPersonRequest>`), documentBody(resp), "")
	f.Add(rec.Body.Bytes())
	rec = httptest.NewRecorder()
	writeResult(rec, "ExecuteSynchronous", nil, nil, SimErrorText)
	f.Add(rec.Body.Bytes())
	rec = httptest.NewRecorder()
	writeFault(rec, "s:Client", "x")
	f.Add(rec.Body.Bytes())
	f.Add([]byte(`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><R><X><IsReady>1</IsReady><HasError>maybe</HasError></X></R></s:Body></s:Envelope>`))
	rec = httptest.NewRecorder()
	writePending(rec, "Execute", "42", "code-<&>")
	f.Add(rec.Body.Bytes())
	f.Add([]byte(`<s:Envelope xmlns:s="` + SOAPNS + `"><s:Body><CheckResultResponse><CheckResultResult><ServiceResultData><IsReady>true</IsReady><Data><Response><A/></Response></Data><ServiceResultData/></ServiceResultData></CheckResultResult></CheckResultResponse></s:Body></s:Envelope>`))
	for _, v1 := range []func(rp reply){
		func(rp reply) { rp.result("ExecuteSynchronous", nil, documentBody(resp), "") },
		func(rp reply) { rp.pending("Execute", "42", "") },
		func(rp reply) { rp.pending("CheckResult", "42", "") },
		func(rp reply) { rp.fault("s:Client", "x") },
	} {
		rec = httptest.NewRecorder()
		v1(reply{w: rec, v1: true, messageID: "urn:uuid:1"})
		f.Add(rec.Body.Bytes())
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := ParseResultData(body)
		if (res == nil) == (err == nil) {
			t.Fatalf("ParseResultData returned result %v and error %v; want exactly one", res, err)
		}
	})
}
