package routes_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/routes"
	"github.com/aiskao/aiskao/routes/spec"
)

// badFiles maps each file or folder of testdata/*.bad* to every message it must give, in order.
var badFiles = map[string][]string{
	"bad-duration.bad.yaml": {
		"testdata/bad-duration.bad.yaml:2:47: connectors.in.timeout: invalid duration \"10 seconds\": want a number with a unit, such as 500ms, 10s or 5m",
		"testdata/bad-duration.bad.yaml:4:43: routes[0].timeout: want a duration, got a list",
	},
	"bad-enum.bad.yaml": {
		"testdata/bad-enum.bad.yaml:2:44: connectors.in.mode: must be one of metadata, json; got \"xml\"",
	},
	"duplicate-connector.bad": {
		"testdata/duplicate-connector.bad/b.yaml:1:1: ops: ops is already set at testdata/duplicate-connector.bad/a.yaml:1:1; set it in one file only",
		"testdata/duplicate-connector.bad/b.yaml:3:3: connectors.in: connector \"in\" is already declared at testdata/duplicate-connector.bad/a.yaml:3:3",
	},
	"duplicate-route.bad.yaml": {
		"testdata/duplicate-route.bad.yaml:5:13: routes[1].name: route \"a\" is already declared at testdata/duplicate-route.bad.yaml:4:5",
		"testdata/duplicate-route.bad.yaml:6:13: routes[2].name: invalid route name \"Bad_Name\": use lowercase letters, digits and hyphens, starting with a letter or digit",
	},
	"from-unknown.bad.yaml": {
		"testdata/from-unknown.bad.yaml:5:22: routes[0].from: unknown connector \"inn\"; declared: in, out",
		"testdata/from-unknown.bad.yaml:6:22: routes[1].from: connector \"out\" (type outbox) cannot be a source",
	},
	"many.bad.yaml": {
		"testdata/many.bad.yaml:1:36: transport.sync: want true or false, got \"maybe\"",
		"testdata/many.bad.yaml:2:16: store.type: unknown store type \"postgres\"; known: sqlite",
		"testdata/many.bad.yaml:4:48: connectors.in.max_body: invalid size \"10MB\": want bytes, optionally with KiB, MiB or GiB, such as 10MiB",
		"testdata/many.bad.yaml:5:6: connectors.t: missing required key \"every\"",
		"testdata/many.bad.yaml:10:9: routes[0].steps[0]: a step is a mapping of one key, the step's name, to its options; got 2 keys: xml_to_json, xpath (write each step as its own list item)",
		"testdata/many.bad.yaml:11:26: routes[0].steps[1].set.priority: must be at most 9",
		"testdata/many.bad.yaml:11:37: routes[0].steps[1].set.ratio: want a number, got \"two\"",
		"testdata/many.bad.yaml:11:48: routes[0].steps[1].set.tags: must have at most 3 items",
		"testdata/many.bad.yaml:11:78: routes[0].steps[1].set.limits.size: must be at most 1MiB",
		"testdata/many.bad.yaml:14:21: routes[0].steps[2].switch.cases[0].when: set either xpath or expr, not both",
		"testdata/many.bad.yaml:15:30: routes[0].steps[2].switch.cases[1].when.xpath: invalid XPath \"//a[\": expression must evaluate to a node-set",
		"testdata/many.bad.yaml:16:19: routes[0].steps[2].switch.cases[1].to: unknown connector \"nowhere\"; declared: in, t",
		"testdata/many.bad.yaml:17:31: routes[0].on_error.retry.max: must be at least 0",
		"testdata/many.bad.yaml:17:47: routes[0].on_error.retry.multiplier: must be at least 1",
		"testdata/many.bad.yaml:18:5: routes[1]: missing \"to\": a route delivers to a connector or a list of them, unless it has a switch step",
	},
	"missing-required.bad.yaml": {
		"testdata/missing-required.bad.yaml:2:7: connectors.in: missing required key \"listen\"",
		"testdata/missing-required.bad.yaml:3:9: connectors.drop: missing required key \"type\"",
		"testdata/missing-required.bad.yaml:5:5: routes[0]: missing required key \"name\"",
	},
	"shapes.bad.yaml": {
		"testdata/shapes.bad.yaml:1:12: transport: want a mapping with a type key, got \"embedded\"",
		"testdata/shapes.bad.yaml:2:13: connectors: want a mapping of connector names to connectors, got a list",
		"testdata/shapes.bad.yaml:5:11: routes[0].from: unknown connector \"in\"; no connectors are declared",
		"testdata/shapes.bad.yaml:6:12: routes[0].steps: want a list, got a mapping",
		"testdata/shapes.bad.yaml:7:9: routes[0].to: want a connector name or a list of them, got a mapping",
		"testdata/shapes.bad.yaml:9:11: routes[1].from: unknown connector \"in\"; no connectors are declared",
		"testdata/shapes.bad.yaml:11:9: routes[1].steps[0]: want a mapping of one key, the step's name, to its options; got \"xml_to_json\"",
		"testdata/shapes.bad.yaml:12:26: routes[1].steps[1].switch.cases: must have at least 1 item",
		"testdata/shapes.bad.yaml:13:10: routes[1].to[0]: want a connector name, got a list",
	},
	"step-validate.bad.yaml": {
		"testdata/step-validate.bad.yaml:10:22: routes[0].steps[1].xpath.fields.subject: expression \"DocID/DocumentNumber\" must start with /",
	},
	"syntax.bad.yaml": {
		"testdata/syntax.bad.yaml:3:1: invalid YAML: did not find expected '-' indicator",
	},
	"to-unknown.bad.yaml": {
		"testdata/to-unknown.bad.yaml:7:14: routes[0].to[1]: unknown connector \"outt\"; declared: in, tick",
		"testdata/to-unknown.bad.yaml:7:20: routes[0].to[2]: connector \"tick\" (type timer) cannot be a sink",
	},
	"unknown-connector-key.bad.yaml": {
		"testdata/unknown-connector-key.bad.yaml:3:5: connectors.in: missing required key \"listen\"",
		"testdata/unknown-connector-key.bad.yaml:4:5: connectors.in: unknown key \"lisen\"; allowed: listen, path, max_body, timeout, mode, headers",
	},
	"unknown-connector-type.bad.yaml": {
		"testdata/unknown-connector-type.bad.yaml:2:15: connectors.in.type: unknown connector type \"htp\"; known: file, http, outbox, timer",
	},
	"unknown-step.bad.yaml": {
		"testdata/unknown-step.bad.yaml:7:9: routes[0].steps[0]: unknown step \"xml_to_jsn\"; known: set, xml_to_json, xpath, switch",
	},
	"unknown-top-key.bad.yaml": {
		"testdata/unknown-top-key.bad.yaml:3:1: unknown key \"route\"; allowed: transport, store, ops, connectors, routes",
	},
	"unset-env.bad.yaml": {
		"testdata/unset-env.bad.yaml:3:30: environment variable AISKAO_TEST_UNSET_VARIABLE is not set; set it or write ${AISKAO_TEST_UNSET_VARIABLE:-default}",
	},
}

func TestBadConfigs(t *testing.T) {
	paths, _ := filepath.Glob("testdata/*.bad*")
	if len(paths) != len(badFiles) {
		t.Errorf("testdata has %d bad files, the table %d: keep them in step", len(paths), len(badFiles))
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			_, err := routes.Load(testCatalog(), p)
			var errs spec.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Load(%s) = %v, want spec.Errors", p, err)
			}
			got := strings.Split(errs.Error(), "\n")
			want := badFiles[filepath.Base(p)]
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("Load(%s) errors:\n%s\nwant:\n%s", p, strings.Join(got, "\n"), strings.Join(want, "\n"))
				for _, g := range got {
					t.Logf("%q,", g)
				}
			}
		})
	}
}

func TestGoodConfig(t *testing.T) {
	t.Setenv("AISKAO_TEST_OPS", "127.0.0.1:9090")
	cfg, err := routes.Load(testCatalog(), "testdata/good.yaml")
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
	if esoed.BaseDir != "testdata" || esoed.Pos != (routes.Pos{File: "testdata/good.yaml", Line: 12, Col: 3}) {
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
	if files.Timeout.D().Seconds() != 30 || *files.OnError.DeadLetter != true || files.OnError.Retry.Max != 3 {
		t.Errorf("route 1 defaults: timeout %v, on_error %+v", files.Timeout.D(), files.OnError)
	}
	sw := files.Steps[1].Config.(*routes.Switch)
	if len(sw.Cases) != 2 || sw.Cases[0].When.Namespaces["m"] == "" || len(sw.Cases[0].To) != 2 || sw.Default == nil || sw.Default.To[0] != "archive" {
		t.Fatalf("switch = %+v", sw)
	}
	inner := sw.Cases[1].Steps[0]
	if inner.Path != "steps[1].switch.cases[1].steps[0]" || inner.Pos != (routes.Pos{File: "testdata/good.yaml", Line: 67, Col: 19}) {
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
	b.Setenv("AISKAO_TEST_OPS", "127.0.0.1:9090")
	data, err := os.ReadFile("testdata/good.yaml")
	if err != nil {
		b.Fatal(err)
	}
	cat := testCatalog()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := routes.Parse(cat, "good.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}
