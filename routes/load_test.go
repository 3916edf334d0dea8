package routes_test

import (
	"os"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/routes"
)

// TestFakeCatalogErrors covers kinds of options that no shipped type uses (bounds of numbers,
// lists and sizes, sources and sinks that cannot be); the corpus in testdata covers the rest with
// the shipped catalog.
func TestFakeCatalogErrors(t *testing.T) {
	const conns = "connectors:\n  in: {type: http, listen: ':1'}\n  box: {type: outbox}\n  tick: {type: timer, every: 1s}\n"
	for _, tc := range []struct{ name, yaml, want string }{
		{"int above max", conns + "routes: [{name: a, from: in, to: in, steps: [set: {priority: 12}]}]",
			"f.yaml:5:62: routes[0].steps[0].set.priority: must be at most 9"},
		{"not a number", conns + "routes: [{name: a, from: in, to: in, steps: [set: {ratio: two}]}]",
			`f.yaml:5:59: routes[0].steps[0].set.ratio: want a number, got "two"`},
		{"float above max", conns + "routes: [{name: a, from: in, to: in, steps: [set: {ratio: 1.5}]}]",
			"f.yaml:5:59: routes[0].steps[0].set.ratio: must be at most 1"},
		{"list too long", conns + "routes: [{name: a, from: in, to: in, steps: [set: {tags: [a, b, c, d]}]}]",
			"f.yaml:5:58: routes[0].steps[0].set.tags: must have at most 3 items"},
		{"size above max", conns + "routes: [{name: a, from: in, to: in, steps: [set: {limits: {size: 2MiB}}]}]",
			"f.yaml:5:67: routes[0].steps[0].set.limits.size: must be at most 1MiB"},
		{"pointer below min", "connectors: {d: {type: file, dir: x, retries: 0}}\n",
			"f.yaml:1:47: connectors.d.retries: must be at least 1"},
		{"cannot be a source", conns + "routes: [{name: a, from: box, to: in}]",
			`f.yaml:5:26: routes[0].from: connector "box" (type outbox) cannot be a source`},
		{"cannot be a sink", conns + "routes: [{name: a, from: in, to: [box, tick]}]",
			`f.yaml:5:40: routes[0].to[1]: connector "tick" (type timer) cannot be a sink`},
		{"missing required option", "connectors: {t: {type: timer}}\n",
			`f.yaml:1:17: connectors.t: missing required key "every"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := routes.Parse(testCatalog(), "f.yaml", []byte(tc.yaml))
			if err == nil || err.Error() != tc.want {
				t.Errorf("errors:\n%v\nwant:\n%s", err, tc.want)
			}
		})
	}
}

// TestFakeGoodConfig loads testdata/fake/good.yaml, which uses every mechanism of the loader with
// the fake types: defaults, pointers, nested structs, positions, nested switches, $$.
func TestFakeGoodConfig(t *testing.T) {
	t.Setenv("AISKAO_TEST_OPS", "127.0.0.1:9090")
	cfg, err := routes.Load(testCatalog(), "testdata/fake/good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Transport.Type != "rabbitmq" || cfg.Transport.Config.(*rabbitConfig).URL != "amqp://guest:guest@localhost:5672/" {
		t.Errorf("transport = %+v", cfg.Transport)
	}
	if cfg.Store.Config.(*sqliteConfig).Path != "state/hub.db" {
		t.Errorf("store = %+v", cfg.Store)
	}
	if cfg.Ops.Listen != "127.0.0.1:9090" {
		t.Errorf("ops.listen = %q, want the environment's value", cfg.Ops.Listen)
	}
	esoed := cfg.Connectors["esoed"]
	h := esoed.Config.(*httpConfig)
	if h.Listen != ":8081" || h.MaxBody != 512<<10 || h.Timeout.D().Seconds() != 5 || h.Mode != "json" || len(h.Headers) != 2 {
		t.Errorf("esoed = %+v", h)
	}
	if esoed.BaseDir != "testdata/fake" || esoed.Pos != (routes.Pos{File: "testdata/fake/good.yaml", Line: 12, Col: 3}) {
		t.Errorf("esoed base dir %q, pos %+v", esoed.BaseDir, esoed.Pos)
	}
	if f := cfg.Connectors["drop"].Config.(*fileConfig); f.Retries == nil || *f.Retries != 3 || f.Poll.D().Milliseconds() != 250 {
		t.Errorf("drop = %+v", f)
	}
	if o := cfg.Connectors["archive"].Config.(*outboxConfig); o.Table != "outbox" {
		t.Errorf("archive table = %q, want the default", o.Table)
	}
	if b := cfg.Connectors["tick"].Config.(*timerConfig).Body; b.(map[string]any)["price"] != "$5" {
		t.Errorf("tick body = %#v, want $$ read as $", b)
	}
	if len(cfg.Routes) != 3 {
		t.Fatalf("%d routes, want 3", len(cfg.Routes))
	}
	in := cfg.Routes[0]
	if in.Name != "incoming-documents" || in.From != "esoed" || len(in.To) != 1 || in.To[0] != "dossiers" ||
		in.Timeout.D().Minutes() != 1 || in.Pos.Line != 34 {
		t.Errorf("route 0 = %+v", in)
	}
	if r := in.OnError.Retry; r.Max != 5 || r.Backoff.D().Seconds() != 1 || r.MaxBackoff.D().Minutes() != 1 || r.Multiplier != 3 ||
		in.OnError.DeadLetter == nil || *in.OnError.DeadLetter {
		t.Errorf("route 0 on_error = %+v", in.OnError)
	}
	set := in.Steps[2].Config.(*setConfig)
	if in.Steps[2].Path != "steps[2]" || set.Priority != 9 || set.Ratio != 0.5 || !set.Keep || set.Limits.Size != 1<<20 {
		t.Errorf("route 0 step 2 = %+v %+v", in.Steps[2], set)
	}
	files := cfg.Routes[1]
	if files.Timeout.D().Seconds() != 30 || *files.OnError.DeadLetter != true || files.OnError.Retry.Max != 3 ||
		files.OnError.Retry.JitterShare() != 0.1 {
		t.Errorf("route 1 defaults: timeout %v, on_error %+v", files.Timeout.D(), files.OnError)
	}
	sw := files.Steps[1].Config.(*routes.Switch)
	if len(sw.Cases) != 2 || sw.Cases[0].When.Namespaces["m"] == "" || len(sw.Cases[0].To) != 2 || sw.Default == nil || sw.Default.To[0] != "archive" {
		t.Fatalf("switch = %+v", sw)
	}
	inner := sw.Cases[1].Steps[0]
	if inner.Path != "steps[1].switch.cases[1].steps[0]" || inner.Pos != (routes.Pos{File: "testdata/fake/good.yaml", Line: 67, Col: 19}) {
		t.Errorf("nested step path %q at %+v", inner.Path, inner.Pos)
	}
	if got := inner.Config.(*routes.Switch).Cases[0].To; len(got) != 1 || got[0] != "archive" {
		t.Errorf("nested switch to = %v", got)
	}
}

func TestDefaultSections(t *testing.T) {
	cfg, err := routes.Parse(testCatalog(), "min.yaml", []byte("connectors: {in: {type: http, listen: ':1'}}\nroutes: [{name: a, from: in, to: in}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Transport.Type != "embedded" || *cfg.Transport.Config.(*embeddedConfig).Sync != true || cfg.Store.Type != "sqlite" {
		t.Errorf("defaults: transport %+v, store %+v", cfg.Transport, cfg.Store)
	}
	cat := testCatalog()
	cat.Stores = nil
	_, err = routes.Parse(cat, "min.yaml", []byte("{}"))
	want := `min.yaml: store: no store is set and the default type "sqlite" is not available; set store.type to one of: none registered`
	if err == nil || err.Error() != want {
		t.Errorf("without sqlite: %v\nwant %s", err, want)
	}
}

func TestExpandEnv(t *testing.T) {
	t.Setenv("AISKAO_TEST_PORT", "8080")
	t.Setenv("AISKAO_TEST_EMPTY", "")
	for _, tc := range []struct{ in, want string }{
		{"listen: ':${AISKAO_TEST_PORT}'", ":8080"},
		{"listen: '${AISKAO_TEST_EMPTY:-:9}'", ":9"},
		{"listen: '${AISKAO_TEST_EMPTY}x'", "x"},
		{"listen: 'a$$b$c$'", "a$b$c$"},
		{"listen: '${AISKAO_TEST_UNSET_VARIABLE:-}'", ""},
	} {
		cfg, err := routes.Parse(testCatalog(), "ops.yaml", []byte("ops:\n  "+tc.in+"\n"))
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if cfg.Ops.Listen != tc.want {
			t.Errorf("%s: listen = %q, want %q", tc.in, cfg.Ops.Listen, tc.want)
		}
	}
	_, err := routes.Parse(testCatalog(), "ops.yaml", []byte("ops:\n  listen: ${1X} ${A\n"))
	want := "ops.yaml:2:11: invalid environment variable name \"1X\" in ${1X}\n" +
		"ops.yaml:2:17: unclosed ${: write ${NAME} or ${NAME:-default}, or $$ for a literal $"
	if err == nil || err.Error() != want {
		t.Errorf("bad references: %v\nwant %s", err, want)
	}
}

func TestLoadErrors(t *testing.T) {
	if _, err := routes.Load(testCatalog(), "testdata/absent.yaml"); err == nil || !strings.Contains(err.Error(), "absent.yaml") {
		t.Errorf("absent file: %v", err)
	}
	if _, err := routes.Load(testCatalog(), t.TempDir()); err == nil || !strings.Contains(err.Error(), "no .yaml or .yml files") {
		t.Errorf("empty folder: %v", err)
	}
}

func BenchmarkParseGood(b *testing.B) {
	data, err := os.ReadFile("testdata/good.yaml")
	if err != nil {
		b.Fatal(err)
	}
	cat := routes.DefaultCatalog()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := routes.Parse(cat, "good.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}
