package regixsim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/aiskao/aiskao/regix"
)

func simServer(t *testing.T) (*Simulator, *regix.Client) {
	t.Helper()
	sim := NewSimulator(nil)
	if err := sim.Err(); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return sim, &regix.Client{Endpoint: srv.URL, HTTP: srv.Client(), Timeout: 5 * time.Second}
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
	maps.Copy(known, knownAdded)
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
		var re *regix.RegisterError
		if !errors.As(err, &re) || !strings.Contains(err.Error(), SimErrorText) {
			t.Fatalf("err = %v, want a RegisterError with %q", err, SimErrorText)
		}
		if res == nil || !res.HasError || regix.IsPermanent(err) {
			t.Errorf("result %+v, permanent %v; want HasError and a retryable error", res, regix.IsPermanent(err))
		}
	})
	t.Run("invalid", func(t *testing.T) {
		sim.SetMode(ModeInvalid, 0)
		defer sim.SetMode(ModeNormal, 0)
		for _, op := range ops.All() {
			_, err := c.ExecuteSynchronous(context.Background(), op, sampleParams(t)[op.Code], testCall)
			want := "/" + op.ResponseElement + "/" + invalidElement
			if err == nil || !strings.Contains(err.Error(), want) || !regix.IsPermanent(err) {
				t.Errorf("%s: err = %v (permanent %v), want a permanent error naming %s", op.Code, err, regix.IsPermanent(err), want)
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
		if !errors.Is(err, regix.ErrTimeout) || regix.IsPermanent(err) {
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
		var fe *regix.FaultError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), "the service is unavailable") || regix.IsPermanent(err) {
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
		_, err := (&regix.Client{Endpoint: srv.URL}).ExecuteSynchronous(context.Background(), op, p, rd)
		if !errors.Is(err, regix.ErrNoLawReason) || !regix.IsPermanent(err) {
			t.Fatalf("err = %v, want a permanent ErrNoLawReason", err)
		}
	})
	t.Run("bad parameter", func(t *testing.T) {
		_, err := c.ExecuteSynchronous(context.Background(), op, map[string]string{"EGN": "123"}, testCall)
		if err == nil || !strings.Contains(err.Error(), "EGN") || !regix.IsPermanent(err) {
			t.Fatalf("err = %v, want a permanent error naming EGN", err)
		}
	})
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
	c := &regix.Client{Endpoint: srv.URL, HTTP: srv.Client(), Timeout: 5 * time.Second}
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
		{"no law reason", `<s:Envelope xmlns:s="` + regix.SOAPNS + `"><s:Body><ExecuteSynchronous xmlns="` + regix.EntryPointNS + `"><request><ServiceRequestData xmlns="` + regix.SignedDataNS + `"><Operation>PersonDataSearch</Operation><Argument/><CallContext/></ServiceRequestData></request></ExecuteSynchronous></s:Body></s:Envelope>`, "LawReason is required"},
		{"unknown operation", `<s:Envelope xmlns:s="` + regix.SOAPNS + `"><s:Body><ExecuteSynchronous><request><ServiceRequestData><Operation>Nope</Operation></ServiceRequestData></request></ExecuteSynchronous></s:Body></s:Envelope>`, `unknown operation \"Nope\"`},
		{"other method", `<s:Envelope xmlns:s="` + regix.SOAPNS + `"><s:Body><AcknowledgeResultReceived/></s:Body></s:Envelope>`, `not \"AcknowledgeResultReceived\"`},
		{"check without id", `<s:Envelope xmlns:s="` + regix.SOAPNS + `"><s:Body><CheckResult/></s:Body></s:Envelope>`, "CheckResult needs"},
		{"check unknown id", `<s:Envelope xmlns:s="` + regix.SOAPNS + `"><s:Body><CheckResult><argument><ServiceCheckResultArgument><ServiceCallID>77</ServiceCallID></ServiceCheckResultArgument></argument></CheckResult></s:Body></s:Envelope>`, "no call in progress has ServiceCallID 77"},
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
			_, perr := regix.ParseResultData(b.Bytes())
			var fe *regix.FaultError
			if r.StatusCode != 500 || !errors.As(perr, &fe) || !strings.Contains(fe.String, strings.ReplaceAll(tt.want, `\"`, `"`)) {
				t.Errorf("status %d, %v; want a fault containing %s", r.StatusCode, perr, tt.want)
			}
		})
	}
}

func TestExecuteSlowOperationPolls(t *testing.T) {
	op, _ := catalogue(t).Lookup("PersonDataSearch")
	p := map[string]string{"EGN": "8506258485"}
	sim, c := simServer(t)
	c.PollInterval = 20 * time.Millisecond

	t.Run("ready after polling", func(t *testing.T) {
		sim.SetMode(ModeSlow, 150*time.Millisecond)
		defer sim.SetMode(ModeNormal, 0)
		start := time.Now()
		res, err := c.Execute(context.Background(), op, p, testCall)
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 150*time.Millisecond {
			t.Errorf("Execute returned after %s, before the register was ready", d)
		}
		if got := field(res.Fields, "PersonNames", "FirstName"); got != "Ивелина" {
			t.Errorf("FirstName = %v", got)
		}
	})
	t.Run("not ready in time", func(t *testing.T) {
		sim.SetMode(ModeSlow, time.Minute)
		defer sim.SetMode(ModeNormal, 0)
		short := *c
		short.PollTimeout = 100 * time.Millisecond
		_, err := short.Execute(context.Background(), op, p, testCall)
		if !errors.Is(err, regix.ErrNotReady) || regix.IsPermanent(err) || !strings.Contains(err.Error(), "ServiceCallID") {
			t.Fatalf("err = %v, want a retryable ErrNotReady naming the ServiceCallID", err)
		}
	})
	t.Run("register error after polling", func(t *testing.T) {
		sim.SetMode(ModeSlow, 50*time.Millisecond)
		res, err := startExecute(c, op, p)
		if err != nil {
			t.Fatalf("Execute: %+v, %v; want a call in progress", res, err)
		}
		sim.SetMode(ModeHasError, 0)
		defer sim.SetMode(ModeNormal, 0)
		time.Sleep(60 * time.Millisecond)
		_, err = c.CheckResult(context.Background(), op, res.ServiceCallID, res.VerificationCode)
		var re *regix.RegisterError
		if !errors.As(err, &re) || re.Text != SimErrorText {
			t.Fatalf("CheckResult: err = %v, want the register's error", err)
		}
		// The result was handed out once; asking again is the caller's mistake.
		_, err = c.CheckResult(context.Background(), op, res.ServiceCallID, res.VerificationCode)
		var fe *regix.FaultError
		if !errors.As(err, &fe) || !regix.IsPermanent(err) {
			t.Errorf("second CheckResult: err = %v, want a permanent SOAP fault", err)
		}
	})
	t.Run("wrong verification code", func(t *testing.T) {
		sim.SetMode(ModeSlow, time.Minute)
		defer sim.SetMode(ModeNormal, 0)
		res, err := startExecute(c, op, p)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.CheckResult(context.Background(), op, res.ServiceCallID, "nope")
		if err == nil || !strings.Contains(err.Error(), "wrong VerificationCode") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("normal mode answers at once", func(t *testing.T) {
		res, err := c.Execute(context.Background(), op, p, testCall)
		if err != nil || field(res.Fields, "PersonNames", "FirstName") != "Ивелина" {
			t.Fatalf("%v, %v", res, err)
		}
	})
	t.Run("no law reason", func(t *testing.T) {
		rd := testCall
		rd.CallContext.LawReason = " "
		if _, err := c.Execute(context.Background(), op, p, rd); !errors.Is(err, regix.ErrNoLawReason) || !regix.IsPermanent(err) {
			t.Errorf("err = %v", err)
		}
	})
}

// TestSimulatorV1: the simulator serves the V1 entry point beside V2 (by the media type), in
// every mode.
func TestSimulatorV1(t *testing.T) {
	ops := catalogue(t)
	sim, v2 := simServer(t)
	c := *v2
	c.EntryPoint, c.Endpoint = regix.V1, v2.Endpoint+v1Path
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
		for _, call := range []func(context.Context, *regix.Operation, map[string]string, regix.RequestData) (*regix.Result, error){c.ExecuteSynchronous, c.Execute} {
			_, err := call(context.Background(), op, p, testCall)
			var re *regix.RegisterError
			if !errors.As(err, &re) || !strings.Contains(err.Error(), SimErrorText) || regix.IsPermanent(err) {
				t.Errorf("err = %v, want a retryable RegisterError", err)
			}
		}
	})
	t.Run("fault", func(t *testing.T) {
		sim.SetMode(ModeFault, 0)
		defer sim.SetMode(ModeNormal, 0)
		_, err := c.ExecuteSynchronous(context.Background(), op, p, testCall)
		var fe *regix.FaultError
		if !errors.As(err, &fe) || fe.Code != "s:Receiver" || regix.IsPermanent(err) {
			t.Errorf("err = %v, want a retryable Receiver fault", err)
		}
	})
	t.Run("invalid", func(t *testing.T) {
		sim.SetMode(ModeInvalid, 0)
		defer sim.SetMode(ModeNormal, 0)
		_, err := c.ExecuteSynchronous(context.Background(), op, p, testCall)
		if err == nil || !strings.Contains(err.Error(), invalidElement) || !regix.IsPermanent(err) {
			t.Errorf("err = %v, want a permanent error naming %s", err, invalidElement)
		}
	})
	t.Run("refused", func(t *testing.T) {
		arg, _ := op.BuildRequest(p)
		good, err := regix.BuildV1Envelope("ExecuteSynchronous", c.Endpoint, "urn:uuid:1", op.Name, arg, testCall)
		if err != nil {
			t.Fatal(err)
		}
		ct := regix.SOAP12ContentType + `; charset=utf-8; action="` + regix.V1ActionPrefix + `ExecuteSynchronous"`
		for name, tt := range map[string]struct {
			ct  string
			env []byte
		}{
			"SOAP 1.1 envelope":   {ct, bytes.Replace(good, []byte(regix.SOAP12NS), []byte(regix.SOAPNS), 1)},
			"action differs":      {strings.Replace(ct, "ExecuteSynchronous", "Execute", 1), good},
			"no MessageID":        {ct, bytes.Replace(good, []byte("<a:MessageID>urn:uuid:1</a:MessageID>"), nil, 1)},
			"V2 namespace inside": {ct, bytes.Replace(good, []byte(`xmlns:tem="`+regix.V1NS+`"`), []byte(`xmlns:tem="`+regix.EntryPointNS+`"`), 1)},
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
		env, err := regix.BuildV1Envelope(m, "http://sim"+v1Path, "urn:uuid:1", op.Name, arg, testCall)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(env, m)
	}
	f.Add(regix.BuildV1CheckEnvelope("http://sim"+v1Path, "urn:uuid:2", "1"), "CheckResult")
	f.Add([]byte(`<s:Envelope xmlns:s="`+regix.SOAP12NS+`"><s:Body/></s:Envelope>`), "")
	f.Fuzz(func(t *testing.T, body []byte, action string) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, v1Path, bytes.NewReader(body))
		req.Header.Set("Content-Type", regix.SOAP12ContentType+`; charset=utf-8; action="`+regix.V1ActionPrefix+strings.ReplaceAll(action, `"`, "")+`"`)
		sim.ServeHTTP(rec, req)
		if !bytes.Contains(rec.Body.Bytes(), []byte(`<s:Envelope xmlns:s="`+regix.SOAP12NS+`"`)) {
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
	wsdl := wsdlServer(t)
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
		req.Header.Set("Content-Type", regix.SOAP12ContentType+`; charset=utf-8; action="`+regix.V1ActionPrefix+method+`"`)
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
		env, err := regix.BuildV1Envelope(method, "http://example"+v1Path, "urn:uuid:1", op.Name, arg, testCall)
		if err != nil {
			t.Fatal(err)
		}
		return env
	}
	call("ExecuteSynchronous", request("ExecuteSynchronous"))
	sim.SetMode(ModeHasError, 0)
	call("ExecuteSynchronous", request("ExecuteSynchronous"))
	sim.SetMode(ModeSlow, time.Hour)
	res, err := regix.ParseResultData(call("Execute", request("Execute")))
	if err != nil || res.ServiceCallID == "" {
		t.Fatalf("Execute: %+v, %v", res, err)
	}
	if res, err := regix.ParseResultData(call("CheckResult", regix.BuildV1CheckEnvelope("http://example"+v1Path, "urn:uuid:2", res.ServiceCallID))); err != nil || res.IsReady {
		t.Errorf("CheckResult of a slow call: %+v, %v; want not ready", res, err)
	}
	sim.SetMode(ModeNormal, 0)
	bad, err := regix.BuildV1Envelope("Execute", "http://example"+v1Path, "urn:uuid:4", op.Name, bytes.Replace(arg, []byte("8506258485"), []byte("1"), 1), testCall)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := regix.ParseResultData(call("Execute", bad)); err != nil || !res.HasError || !strings.Contains(res.Error, "EGN") {
		t.Errorf("Execute with an invalid argument: %+v, %v; want HasError naming EGN", res, err)
	}
	res, _ = regix.ParseResultData(call("Execute", request("Execute")))
	if res, err := regix.ParseResultData(call("CheckResult", regix.BuildV1CheckEnvelope("http://example"+v1Path, "urn:uuid:3", res.ServiceCallID))); err != nil || !res.IsReady || len(res.Response) == 0 {
		t.Errorf("CheckResult: %+v, %v; want the result", res, err)
	}
}

// FuzzParseResultDataV1 feeds the client's parser the answers of the simulator's V1 entry point.
func FuzzParseResultDataV1(f *testing.F) {
	resp := samples(f, "Response")["registers/grao-nbd/ValidPersonSearchResponse.xml"]
	var rec *httptest.ResponseRecorder
	for _, v1 := range []func(rp reply){
		func(rp reply) { rp.result("ExecuteSynchronous", nil, regix.DocumentBody(resp), "") },
		func(rp reply) { rp.pending("Execute", "42", "") },
		func(rp reply) { rp.pending("CheckResult", "42", "") },
		func(rp reply) { rp.fault("s:Client", "x") },
	} {
		rec = httptest.NewRecorder()
		v1(reply{w: rec, v1: true, messageID: "urn:uuid:1"})
		f.Add(rec.Body.Bytes())
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := regix.ParseResultData(body)
		if (res == nil) == (err == nil) {
			t.Fatalf("ParseResultData returned result %v and error %v; want exactly one", res, err)
		}
	})
}

// startExecute sends Execute and returns the answer of a call in progress, without polling.
func startExecute(c *regix.Client, op *regix.Operation, p map[string]string) (*regix.Result, error) {
	once := *c
	once.PollTimeout = time.Nanosecond
	res, err := once.Execute(context.Background(), op, p, testCall)
	if !errors.Is(err, regix.ErrNotReady) {
		return res, fmt.Errorf("Execute: %+v, %v; want a call in progress", res, err)
	}
	return res, nil
}
