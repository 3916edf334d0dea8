package routes_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	fileconn "github.com/aiskao/aiskao/connectors/file"
	httpconn "github.com/aiskao/aiskao/connectors/http"
	"github.com/aiskao/aiskao/hub/transport/embedded"
	"github.com/aiskao/aiskao/routes"
	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/store/sqlite"
	"github.com/aiskao/aiskao/transforms/schema"
)

// TestGoodConfig loads testdata/good.yaml with the shipped catalog and checks a value of each
// section, the environment expanded with and without a default.
func TestGoodConfig(t *testing.T) {
	t.Setenv("AISKAO_TEST_OPS", "127.0.0.1:9999")
	unsetEnv(t, "AISKAO_TEST_TOKEN")
	cfg, err := routes.Load(routes.DefaultCatalog(), "testdata/good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if tr := cfg.Transport.Config.(*embedded.Config); cfg.Transport.Type != "embedded" || tr.BatchMax != 512 || tr.CloseTimeout.D() != 20*time.Second {
		t.Errorf("transport = %s %+v", cfg.Transport.Type, tr)
	}
	if st := cfg.Store.Config.(*sqlite.Config); cfg.Store.Type != "sqlite" || st.MarkBatch != 1024 || st.SweepInterval.D() != 10*time.Minute {
		t.Errorf("store = %s %+v", cfg.Store.Type, st)
	}
	if cfg.Ops.Listen != "127.0.0.1:9999" {
		t.Errorf("ops.listen = %q, want the environment's value", cfg.Ops.Listen)
	}
	if h := cfg.Connectors["esoed"].Config.(*httpconn.Config); h.MaxBody != 512<<10 || len(h.ContentTypes) != 2 {
		t.Errorf("esoed = %+v", h)
	}
	if h := cfg.Connectors["registry"].Config.(*httpconn.Config); h.Method != "PUT" || h.Headers["Authorization"] != "Bearer demo" {
		t.Errorf("registry = %+v, want PUT and the token's default", h)
	}
	if h := cfg.Connectors["portal"].Config.(*httpconn.Config); h.MaxBody != 10<<20 || h.Method != "POST" {
		t.Errorf("portal = %+v, want the defaults", h)
	}
	if f := cfg.Connectors["archive"].Config.(*fileconn.Config); f.Fsync || f.Mode != "0600" || f.Pattern != "*" {
		t.Errorf("archive = %+v", f)
	}
	if len(cfg.Routes) != 3 {
		t.Fatalf("%d routes, want 3", len(cfg.Routes))
	}
	in := cfg.Routes[0]
	if in.Timeout.D() != time.Minute || in.Prefetch != 8 || in.OnError.Retry.Multiplier != 3 || in.OnError.Retry.Jitter == nil || in.OnError.Retry.JitterShare() != 0 || in.BaseDir != "testdata" || len(in.To) != 2 {
		t.Errorf("route incoming-documents = %+v", in)
	}
	records := cfg.Routes[1]
	if records.Timeout.D() != 30*time.Second || records.Prefetch != 0 || *records.OnError.DeadLetter || records.OnError.Retry.Max != 3 {
		t.Errorf("route register-records: timeout %v, on_error %+v", records.Timeout.D(), records.OnError)
	}
	sw := records.Steps[1].Config.(*routes.Switch)
	if len(sw.Cases) != 2 || sw.Default == nil || sw.Default.To[0] != "archive" {
		t.Fatalf("switch = %+v", sw)
	}
	if inner := sw.Cases[1].Steps[0]; inner.Path != "steps[1].switch.cases[1].steps[0]" || inner.Config.(*routes.Switch).Cases[0].To[0] != "archive" {
		t.Errorf("nested switch at %s = %+v", inner.Path, inner.Config)
	}
	if s := cfg.Routes[2].Steps[0].Config.(*schema.Options); s.Inline["type"] != "object" {
		t.Errorf("inline schema = %#v", s.Inline)
	}
}

// TestGoodConfigUsesEveryOption fails when an option of a shipped connector type, step,
// transport or store is missing from every testdata/good*.yaml (good.yaml for the embedded
// setup, good-scaleout.yaml for the scale-out one), so that together they keep showing them all.
func TestGoodConfigUsesEveryOption(t *testing.T) {
	files, _ := filepath.Glob("testdata/good*.yaml")
	used := map[string]map[string]bool{} // "connector type http" → keys set
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		usedIn(doc, used)
	}
	checkUsed(t, used)
}

func usedIn(doc map[string]any, used map[string]map[string]bool) {
	add := func(what string, opts map[string]any) {
		if used[what] == nil {
			used[what] = map[string]bool{}
		}
		flatten("", opts, used[what])
	}
	typed := func(kind string, v any) {
		m, _ := v.(map[string]any)
		if typ, ok := m["type"].(string); ok {
			add(kind+" "+typ, m)
		}
	}
	typed("transport type", doc["transport"])
	typed("store type", doc["store"])
	conns, _ := doc["connectors"].(map[string]any)
	for _, c := range conns {
		typed("connector type", c)
	}
	var steps func(v any)
	steps = func(v any) {
		list, _ := v.([]any)
		for _, item := range list {
			for name, opts := range asMap(item) {
				add("step "+name, asMap(opts))
				if name != "switch" {
					continue
				}
				sw := asMap(opts)
				for _, c := range asList(sw["cases"]) {
					steps(asMap(c)["steps"])
				}
				steps(asMap(sw["default"])["steps"])
			}
		}
	}
	for _, r := range asList(doc["routes"]) {
		add("route", asMap(r))
		steps(asMap(r)["steps"])
	}

}

func checkUsed(t *testing.T, used map[string]map[string]bool) {
	cat := routes.DefaultCatalog()
	check := func(what string, zero any) {
		if zero == nil {
			return
		}
		for _, f := range spec.Fields(reflect.TypeOf(zero)) {
			if !strings.Contains(f.Key, "<name>") && !used[what][f.Key] {
				t.Errorf("no testdata/good*.yaml uses option %s of %s", f.Key, what)
			}
		}
	}
	for _, name := range cat.Connectors.Names() {
		f, _ := cat.Connectors.Lookup(name)
		check("connector type "+name, f.Config)
	}
	for _, name := range cat.Steps.Names() {
		f, _ := cat.Steps.Lookup(name)
		check("step "+name, f.Config)
	}
	for _, name := range cat.Transports.Names() {
		f, _ := cat.Transports.Lookup(name)
		check("transport type "+name, f.Config)
	}
	for _, name := range cat.Stores.Names() {
		f, _ := cat.Stores.Lookup(name)
		check("store type "+name, f.Config)
	}
	for _, key := range []string{"name", "from", "steps", "to", "timeout", "on_error", "on_error.retry",
		"on_error.retry.max", "on_error.retry.backoff", "on_error.retry.max_backoff", "on_error.retry.multiplier", "on_error.dead_letter"} {
		if !used["route"][key] {
			t.Errorf("testdata/good.yaml does not use route option %s", key)
		}
	}
	for _, key := range []string{"cases", "cases[].when", "cases[].when.xpath", "cases[].when.expr", "cases[].when.namespaces",
		"cases[].steps", "cases[].to", "default", "default.steps", "default.to"} {
		if !used["step switch"][key] {
			t.Errorf("testdata/good.yaml does not use switch option %s", key)
		}
	}
	if t.Failed() {
		t.Logf("used: %s", describeUsed(used))
	}
}

// flatten records the keys of m under prefix: "a", "a.b" for a mapping, "a[].b" for a list of
// mappings.
func flatten(prefix string, m map[string]any, into map[string]bool) {
	for k, v := range m {
		key := prefix + k
		into[key] = true
		switch v := v.(type) {
		case map[string]any:
			flatten(key+".", v, into)
		case []any:
			for _, item := range v {
				if im, ok := item.(map[string]any); ok {
					flatten(key+"[].", im, into)
				}
			}
		}
	}
}

func asMap(v any) map[string]any { m, _ := v.(map[string]any); return m }
func asList(v any) []any         { l, _ := v.([]any); return l }

func describeUsed(used map[string]map[string]bool) string {
	var out []string
	for what, keys := range used {
		var ks []string
		for k := range keys {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		out = append(out, fmt.Sprintf("%s: %s", what, strings.Join(ks, ", ")))
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}
