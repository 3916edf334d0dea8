package regixconn

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/connectors/connectortest"
	"github.com/aiskao/aiskao/connectors/regix/regixsim"
	"github.com/aiskao/aiskao/fault"
	"github.com/aiskao/aiskao/regix"
	"github.com/aiskao/aiskao/regix/regixtest"
	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/store"
)

// journal is a store.Journal that keeps entries in memory.
type journal struct {
	mu      sync.Mutex
	entries []store.JournalEntry
	err     error
}

func (j *journal) AppendJournal(_ context.Context, e store.JournalEntry) (string, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return "", j.err
	}
	j.entries = append(j.entries, e)
	return "id", nil
}

func (j *journal) last(t *testing.T) store.JournalEntry {
	t.Helper()
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.entries) == 0 {
		t.Fatal("nothing journaled")
	}
	return j.entries[len(j.entries)-1]
}

type fixture struct {
	sim     *regixsim.Simulator
	calls   atomic.Int32 // requests that reached the simulator
	journal *journal
	caller  *Caller
	log     *bytes.Buffer
}

func newFixture(t *testing.T, cfg Config) *fixture {
	t.Helper()
	f := &fixture{sim: regixsim.NewSimulator(nil), journal: &journal{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.calls.Add(1)
		f.sim.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	cfg.URL = srv.URL
	if cfg.Timeout == 0 {
		cfg.Timeout = spec.Duration(5 * time.Second)
	}
	if cfg.Attempts == 0 {
		cfg.Attempts = 1
	}
	cfg.CallContext.AdministrationName = "Община Примерно"
	cfg.CallContext.ServiceType = "За административна услуга"
	f.log = &bytes.Buffer{}
	logger := slog.New(slog.NewTextHandler(f.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := New(&cfg, connectors.Env{Name: "registers", Journal: f.journal, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	f.caller = c
	return f
}

func personRequest(dossier string) connectors.CallRequest {
	return connectors.CallRequest{
		Operation:  "PersonDataSearch",
		Parameters: map[string]string{"EGN": "8506258485"},
		Context: map[string]string{
			"law_reason":          "чл. 13, ал. 1 от Наредбата за административното обслужване",
			"dossier":             dossier,
			"employee_identifier": "clerk@municipality.example.bg",
		},
		Message: message.NewMessage("msg-1", nil),
		Route:   "applications",
	}
}

func TestConfig(t *testing.T) {
	connectortest.CheckConfig(t, connectortest.ConfigCase{
		Zero:     &Config{},
		Defaults: func(c any) { _ = spec.FillDefaults(c) },
		Valid: &Config{URL: "https://service-regix.egov.bg/RegiX/RegiXEntryPointV2.svc", Timeout: 1, Attempts: 1, BreakerFailures: 1,
			BreakerPause: 1, PollInterval: 1, PollTimeout: 1, CacheSize: 1, JournalPersonalData: "masked",
			Operations: map[string]Operation{"PersonDataSearch": {Cache: spec.Duration(time.Minute)}}},
	})
}

func TestValidate(t *testing.T) {
	valid := func() Config {
		c := Config{URL: "http://127.0.0.1:8089/RegiX"}
		_ = spec.FillDefaults(&c)
		return c
	}
	tests := []struct {
		name   string
		change func(c *Config)
		want   []string
	}{
		{"no url", func(c *Config) { c.URL = "" }, []string{"url: required"}},
		{"ftp url", func(c *Config) { c.URL = "ftp://x/y" }, []string{`url: "ftp://x/y" must start with http:// or https://`}},
		{"certificate over http", func(c *Config) { c.TLS.CertFile, c.TLS.KeyFile = "a.crt", "a.key" }, []string{"tls.cert_file: a client certificate needs an https url"}},
		{"unknown operation", func(c *Config) { c.Operations = map[string]Operation{"PersonSearch": {}} }, []string{`operations.PersonSearch: unknown operation "PersonSearch"; known: `, "PersonDataSearch"}},
		{"operation twice", func(c *Config) {
			c.Operations = map[string]Operation{"PersonDataSearch": {}, "TechnoLogica.RegiX.GraoNBDAdapter.APIService.INBDAPI.PersonDataSearch": {}}
		}, []string{"the same operation as operations.PersonDataSearch"}},
		{"entry point", func(c *Config) { c.EntryPoint = "v3" }, []string{`entry_point: "v3" is not one of v1, v2`}},
		{"V1 url without entry_point v1", func(c *Config) { c.URL = "https://regix-service.egov.bg/RegiX/RegiXEntryPoint.svc" },
			[]string{`entry_point: url "https://regix-service.egov.bg/RegiX/RegiXEntryPoint.svc" is the V1 entry point (RegiXEntryPoint.svc): set entry_point: v1`}},
		{"V2 url with entry_point v1", func(c *Config) { c.URL, c.EntryPoint = "https://x/RegiX/regixentrypointv2.svc", "v1" },
			[]string{"is the V2 entry point (RegiXEntryPointV2.svc), but entry_point is v1"}},
		{"journal", func(c *Config) { c.JournalPersonalData = "some" }, []string{`journal_personal_data: "some" is not one of none, masked, full`}},
		{"poll", func(c *Config) { c.PollTimeout = spec.Duration(time.Millisecond) }, []string{"poll_timeout: must be at least poll_interval"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			if err := c.Validate(); err != nil {
				t.Fatalf("valid config: %v", err)
			}
			tt.change(&c)
			err := c.Validate()
			for _, w := range tt.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v, want %q", err, w)
				}
			}
		})
	}
}

func TestCall(t *testing.T) {
	f := newFixture(t, Config{})
	res, err := f.caller.Call(context.Background(), personRequest("123-1"))
	if err != nil {
		t.Fatal(err)
	}
	names, _ := res.Data.(map[string]any)["PersonNames"].(map[string]any)
	if names["FirstName"] != "Ивелина" || names["FamilyName"] != "Димитрова" {
		t.Errorf("Data = %v", res.Data)
	}
	if !strings.Contains(string(res.Raw), "<PersonDataResponse") {
		t.Errorf("Raw = %.100s", res.Raw)
	}
	e := f.journal.last(t)
	want := store.JournalEntry{Kind: "regix.call", Route: "applications", MessageID: "msg-1", Dossier: "123-1",
		Actor: "clerk@municipality.example.bg", Subject: "grao-nbd/PersonDataSearch",
		LegalBasis: "чл. 13, ал. 1 от Наредбата за административното обслужване", Result: "ok"}
	detail := e.Detail
	e.Detail, e.ID, e.Time = nil, "", time.Time{}
	if !reflect.DeepEqual(e, want) {
		t.Errorf("journal entry\n%+v\nwant\n%+v", e, want)
	}
	if detail["parameters"] != "EGN=******8485" || detail["service_uri"] != "123-1" || detail["operation"] != "TechnoLogica.RegiX.GraoNBDAdapter.APIService.INBDAPI.PersonDataSearch" {
		t.Errorf("detail = %v", detail)
	}

	// Answers are copies: changing one does not change the next.
	names["FirstName"] = "changed"
	res, _ = f.caller.Call(context.Background(), personRequest("123-1"))
	if res.Data.(map[string]any)["PersonNames"].(map[string]any)["FirstName"] != "Ивелина" {
		t.Error("an answer changed by its user changed the next")
	}
}

func TestCallRefused(t *testing.T) {
	f := newFixture(t, Config{})
	tests := []struct {
		name   string
		change func(r *connectors.CallRequest)
		want   []string
	}{
		{"no legal basis", func(r *connectors.CallRequest) { delete(r.Context, "law_reason") },
			[]string{"няма правно основание", "has no legal basis (law_reason) and was not sent", "PersonDataSearch"}},
		{"blank legal basis", func(r *connectors.CallRequest) { r.Context["law_reason"] = "  " }, []string{"has no legal basis"}},
		{"no dossier", func(r *connectors.CallRequest) { delete(r.Context, "dossier") }, []string{"names no dossier"}},
		{"unknown operation", func(r *connectors.CallRequest) { r.Operation = "PersonSearch" }, []string{`unknown operation "PersonSearch"`}},
		{"unknown context name", func(r *connectors.CallRequest) { r.Context["lawreason"] = "x" }, []string{"unknown context name lawreason (known: administration_name"}},
		{"invalid parameter", func(r *connectors.CallRequest) { r.Parameters["EGN"] = "85062584851" }, []string{"invalid request", "/PersonDataRequest/EGN"}},
		{"missing parameter", func(r *connectors.CallRequest) { delete(r.Parameters, "EGN") }, []string{"parameter EGN (ЕГН) is required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.calls.Load()
			req := personRequest("123-1")
			tt.change(&req)
			_, err := f.caller.Call(context.Background(), req)
			if err == nil || !fault.IsPermanent(err) {
				t.Fatalf("err = %v, want a permanent refusal", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v, want %q", err, w)
				}
			}
			if f.calls.Load() != before {
				t.Error("a refused request was sent")
			}
			if e := f.journal.last(t); e.Result != "refused" || !strings.Contains(e.Detail["error"], tt.want[0]) {
				t.Errorf("journal: %+v", e)
			}
		})
	}
	if _, err := f.caller.Call(context.Background(), personRequest("x")); !errors.Is(err, nil) {
		t.Fatalf("a good request after refusals: %v", err)
	}
	req := personRequest("x")
	delete(req.Context, "law_reason")
	if _, err := f.caller.Call(context.Background(), req); !errors.Is(err, regix.ErrNoLawReason) {
		t.Errorf("err = %v, want it to wrap regix.ErrNoLawReason", err)
	}
}

func TestCallFailures(t *testing.T) {
	f := newFixture(t, Config{Attempts: 3, RetryBackoff: spec.Duration(time.Millisecond), BreakerFailures: 100, BreakerPause: spec.Duration(time.Minute)})
	tests := []struct {
		mode     regixsim.Mode
		want     string
		code     string
		requests int32 // the connector tries again only what failed before the register answered
	}{
		{regixsim.ModeHasError, regixsim.SimErrorText, "register_error", 1},
		{regixsim.ModeFault, "the service is unavailable", "fault", 3},
		{regixsim.ModeInvalid, "SimulatorInvalidElement", "invalid_answer", 1},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode), func(t *testing.T) {
			f.sim.SetMode(tt.mode, 0)
			defer f.sim.SetMode(regixsim.ModeNormal, 0)
			before := f.calls.Load()
			_, err := f.caller.Call(context.Background(), personRequest("123-1"))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if fault.IsPermanent(err) != (tt.mode == regixsim.ModeInvalid) {
				t.Errorf("permanent = %v", fault.IsPermanent(err))
			}
			if n := f.calls.Load() - before; n != tt.requests {
				t.Errorf("%d requests, want %d", n, tt.requests)
			}
			if e := f.journal.last(t); e.Result != tt.code || !strings.Contains(e.Detail["error"], tt.want) {
				t.Errorf("journal: %+v, want result %s", e, tt.code)
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	f := newFixture(t, Config{Timeout: spec.Duration(50 * time.Millisecond)})
	f.sim.SetMode(regixsim.ModeSlow, time.Minute)
	_, err := f.caller.Call(context.Background(), personRequest("123-1"))
	if !errors.Is(err, regix.ErrTimeout) || fault.IsPermanent(err) {
		t.Fatalf("err = %v, want a retryable timeout", err)
	}
	if e := f.journal.last(t); e.Result != "timeout" {
		t.Errorf("journal: %+v", e)
	}
}

func TestBreakerOpens(t *testing.T) {
	f := newFixture(t, Config{BreakerFailures: 2, BreakerPause: spec.Duration(time.Minute)})
	f.sim.SetMode(regixsim.ModeHasError, 0)
	for i := 0; i < 2; i++ {
		if _, err := f.caller.Call(context.Background(), personRequest("123-1")); err == nil {
			t.Fatal("no error")
		}
	}
	f.sim.SetMode(regixsim.ModeNormal, 0)
	before := f.calls.Load()
	_, err := f.caller.Call(context.Background(), personRequest("123-1"))
	var oe *regix.OpenError
	if !errors.As(err, &oe) || fault.IsPermanent(err) || !strings.Contains(err.Error(), "register grao-nbd is cut off") || !strings.Contains(err.Error(), regixsim.SimErrorText) {
		t.Fatalf("err = %v, want a retryable OpenError naming grao-nbd and the last failure", err)
	}
	if f.calls.Load() != before {
		t.Error("a call went out through an open circuit")
	}
	if e := f.journal.last(t); e.Result != "unavailable" {
		t.Errorf("journal: %+v", e)
	}
	// Another register is not affected.
	req := connectors.CallRequest{Operation: "GetActualState", Parameters: map[string]string{"UIC": "201593301"},
		Context: map[string]string{"law_reason": "x", "dossier": "123-1"}}
	if _, err := f.caller.Call(context.Background(), req); err != nil {
		t.Errorf("Търговски регистър: %v", err)
	}
}

func TestCache(t *testing.T) {
	f := newFixture(t, Config{CacheSize: 10, Operations: map[string]Operation{
		"PersonDataSearch": {Cache: spec.Duration(time.Minute)},
		"GetActualState":   {Cache: spec.Duration(time.Minute), ShareAcrossDossiers: true},
	}})
	call := func(req connectors.CallRequest) {
		t.Helper()
		if _, err := f.caller.Call(context.Background(), req); err != nil {
			t.Fatal(err)
		}
	}
	call(personRequest("123-1"))
	call(personRequest("123-1"))
	if n := f.calls.Load(); n != 1 {
		t.Errorf("same dossier: %d requests, want 1", n)
	}
	if e := f.journal.last(t); e.Result != "ok" || e.Detail["cached"] != "true" {
		t.Errorf("a cached answer is journaled as %+v", e)
	}
	call(personRequest("123-2"))
	if n := f.calls.Load(); n != 2 {
		t.Errorf("another dossier: %d requests, want 2 (answers are not shared across dossiers)", n)
	}
	company := func(dossier string) connectors.CallRequest {
		return connectors.CallRequest{Operation: "GetActualState", Parameters: map[string]string{"UIC": "201593301"},
			Context: map[string]string{"law_reason": "x", "dossier": dossier}}
	}
	call(company("123-1"))
	call(company("123-2"))
	if n := f.calls.Load(); n != 3 {
		t.Errorf("shared across dossiers: %d requests, want 3", n)
	}
	req := personRequest("")
	req.Context["service_uri"] = "проверка-1"
	call(req)
	call(req)
	if n := f.calls.Load(); n != 5 {
		t.Errorf("no dossier: %d requests, want 5 (not cached)", n)
	}
}

func TestJournalPersonalData(t *testing.T) {
	for _, tt := range []struct{ setting, params, errText string }{
		{"none", "EGN", "**********"},
		{"masked", "EGN=******8485", "******4851"},
		{"full", "EGN=8506258485", "8506258485"},
	} {
		t.Run(tt.setting, func(t *testing.T) {
			f := newFixture(t, Config{JournalPersonalData: tt.setting})
			if _, err := f.caller.Call(context.Background(), personRequest("1")); err != nil {
				t.Fatal(err)
			}
			if e := f.journal.last(t); e.Detail["parameters"] != tt.params {
				t.Errorf("parameters = %q, want %q", e.Detail["parameters"], tt.params)
			}
			req := personRequest("1")
			req.Parameters["EGN"] = "85062584851" // fails the schema, which quotes it
			f.caller.Call(context.Background(), req)
			e := f.journal.last(t)
			if tt.setting != "full" && strings.Contains(e.Detail["error"]+e.Detail["parameters"], "506258485") {
				t.Errorf("%s: the ЕГН is in the journal: %v", tt.setting, e.Detail)
			}
			if tt.setting == "full" && !strings.Contains(e.Detail["error"], "85062584851") {
				t.Errorf("full: error %q", e.Detail["error"])
			}
			// Logs mask whatever the journal keeps.
			if l := f.log.String(); strings.Contains(l, "506258485") || !strings.Contains(l, "regix call failed") ||
				(tt.setting != "none" && !strings.Contains(l, "EGN=******8485")) {
				t.Errorf("%s: log:\n%s", tt.setting, l)
			}
		})
	}
}

func TestJournalFailure(t *testing.T) {
	f := newFixture(t, Config{})
	f.journal.err = errors.New("disk full")
	_, err := f.caller.Call(context.Background(), personRequest("1"))
	if err == nil || fault.IsPermanent(err) || !strings.Contains(err.Error(), "could not be journaled") {
		t.Fatalf("err = %v, want a retryable error", err)
	}
}

func TestAsynchronousOperation(t *testing.T) {
	f := newFixture(t, Config{PollInterval: spec.Duration(20 * time.Millisecond), PollTimeout: spec.Duration(5 * time.Second),
		Operations: map[string]Operation{"PersonDataSearch": {Asynchronous: true}}})
	f.sim.SetMode(regixsim.ModeSlow, 100*time.Millisecond)
	res, err := f.caller.Call(context.Background(), personRequest("1"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Data.(map[string]any)["PersonNames"].(map[string]any)["FirstName"] != "Ивелина" {
		t.Errorf("Data = %v", res.Data)
	}
	if n := f.calls.Load(); n < 2 {
		t.Errorf("%d requests, want Execute and CheckResult", n)
	}
	if e := f.journal.last(t); e.Detail["service_call_id"] == "" {
		t.Errorf("journal: %+v, want the ServiceCallID", e)
	}
}

// TestEntryPointV1: with entry_point v1 the connector calls a server built from the public V1
// WSDL, synchronously and through Execute and CheckResult, and journals the register's errors
// as it does for V2.
func TestEntryPointV1(t *testing.T) {
	ops, err := regix.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../../regix/registers/grao-nbd/PersonDataSearchResponse.xml")
	if err != nil {
		t.Fatal(err)
	}
	person, _ := ops.Lookup("PersonDataSearch")
	var failing atomic.Bool
	srv, err := regixtest.NewV1Server("../../regix/testdata/wsdl.xml", func(operation string, _ []byte) ([]byte, string) {
		if operation != person.Name || failing.Load() {
			return nil, "Регистърът не отговаря"
		}
		return doc, ""
	}, 1)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	for _, async := range []bool{false, true} {
		cfg := Config{URL: hs.URL + "/RegiX/RegiXEntryPoint.svc", EntryPoint: "v1"}
		_ = spec.FillDefaults(&cfg)
		cfg.PollInterval = spec.Duration(10 * time.Millisecond)
		cfg.Attempts = 1
		cfg.Operations = map[string]Operation{"PersonDataSearch": {Asynchronous: async}}
		cfg.CallContext.ServiceType = "За административна услуга"
		j := &journal{}
		c, err := New(&cfg, connectors.Env{Name: "registers", Journal: j})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		failing.Store(false)
		res, err := c.Call(context.Background(), personRequest("1"))
		if err != nil {
			t.Fatalf("async %v: %v", async, err)
		}
		if res.Data.(map[string]any)["PersonNames"].(map[string]any)["FirstName"] != "Ивелина" {
			t.Errorf("async %v: Data = %v", async, res.Data)
		}
		if e := j.last(t); e.Result != ResultOK || (async && e.Detail["service_call_id"] == "") {
			t.Errorf("async %v: journal %+v", async, e)
		}
		failing.Store(true)
		_, err = c.Call(context.Background(), personRequest("2"))
		var re *regix.RegisterError
		if !errors.As(err, &re) || fault.IsPermanent(err) || j.last(t).Result != ResultRegisterError {
			t.Errorf("async %v: err = %v, journal %q; want a retryable register error", async, err, j.last(t).Result)
		}
	}
	// Two ExecuteSynchronous; two Execute, each followed by a CheckResult not ready and one ready.
	if got := len(srv.Requests()); got != 8 {
		t.Errorf("%d requests reached the server, want 8", got)
	}
}
