// Package configs_test checks the ready configurations: each one loads, and the route tests in
// configs/tests pass, so that `go test ./...` guards the demo as `aiskao test` does.
package configs_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	_ "github.com/aiskao/aiskao/connectors/all"
	"github.com/aiskao/aiskao/hub"
	_ "github.com/aiskao/aiskao/hub/transport/embedded"
	_ "github.com/aiskao/aiskao/hub/transport/rabbitmq"
	"github.com/aiskao/aiskao/routes"
	_ "github.com/aiskao/aiskao/store/postgres"
	_ "github.com/aiskao/aiskao/store/sqlite"
	_ "github.com/aiskao/aiskao/transforms/all"
)

func TestConfigurationsLoad(t *testing.T) {
	for _, f := range []string{"demo.yaml", "rabbitmq-postgres.yaml", "esoed-peer.yaml", "bench-esoed-inbox.yaml", "bench-esoed-inbox-rabbitmq.yaml"} {
		if _, err := routes.Load(routes.DefaultCatalog(), f); err != nil {
			t.Errorf("%s:\n%v", f, err)
		}
	}
}

func TestRouteTests(t *testing.T) {
	results, err := hub.RunRouteTests(context.Background(), "tests", hub.Options{Catalog: routes.DefaultCatalog()})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) == 0 {
		t.Fatal("no route tests ran")
	}
	for _, r := range results {
		t.Run(r.Case, func(t *testing.T) {
			if !r.Passed() {
				t.Errorf("%s:\n%s", r.File, strings.Join(r.Failures, "\n"))
			}
		})
	}
}

// readYAML is the configuration file decoded as plain maps and lists.
func readYAML(t *testing.T, name string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestScaleOutRunsTheDemoRoutes: the scale-out configuration differs from the demo in transport,
// store and where files go, never in its routes, but for inline: there every message goes through
// the broker, which shares the work among the processes.
func TestScaleOutRunsTheDemoRoutes(t *testing.T) {
	demo, scale := readYAML(t, "demo.yaml"), readYAML(t, "rabbitmq-postgres.yaml")
	inline := 0
	for _, r := range demo["routes"].([]any) {
		if _, ok := r.(map[string]any)["inline"]; ok {
			delete(r.(map[string]any), "inline")
			inline++
		}
	}
	if inline == 0 {
		t.Error("no route of demo.yaml is inline; this test strips inline, and is to be changed with it")
	}
	if !reflect.DeepEqual(demo["routes"], scale["routes"]) {
		t.Error("the routes of rabbitmq-postgres.yaml differ from those of demo.yaml (inline apart)")
	}
	for _, name := range []string{"esoed-http", "applications-http", "esoed-outgoing-http", "dossier-commands-http"} {
		if !reflect.DeepEqual(demo["connectors"].(map[string]any)[name], scale["connectors"].(map[string]any)[name]) {
			t.Errorf("the %s connector of rabbitmq-postgres.yaml differs from the demo's", name)
		}
	}
}

// TestBenchConfigurationsAreTheDemosRoute: the configurations that `aiskao bench` measures beside
// a peer hold the measured route, its two connectors, the transport, the store and the operations
// listener exactly as the configuration they come from, and nothing else, so that a figure taken
// with them is the demo's route's.
func TestBenchConfigurationsAreTheDemosRoute(t *testing.T) {
	for bench, from := range map[string]string{
		"bench-esoed-inbox.yaml":          "demo.yaml",
		"bench-esoed-inbox-rabbitmq.yaml": "rabbitmq-postgres.yaml",
	} {
		b, f := readYAML(t, bench), readYAML(t, from)
		var keys []string
		for k := range b {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if want := []string{"connectors", "ops", "routes", "store", "transport"}; !slices.Equal(keys, want) {
			t.Errorf("%s has the sections %v, want only %v", bench, keys, want)
		}
		for _, k := range []string{"transport", "store", "ops"} {
			if !reflect.DeepEqual(b[k], f[k]) {
				t.Errorf("%s: %s differs from %s's", bench, k, from)
			}
		}
		bc, fc := b["connectors"].(map[string]any), f["connectors"].(map[string]any)
		if len(bc) != 2 {
			t.Errorf("%s has %d connectors, want the route's two", bench, len(bc))
		}
		for _, name := range []string{"esoed-http", "esoed-inbox-files"} {
			if bc[name] == nil || !reflect.DeepEqual(bc[name], fc[name]) {
				t.Errorf("%s: connector %s differs from %s's", bench, name, from)
			}
		}
		br := b["routes"].([]any)
		var fr any
		for _, r := range f["routes"].([]any) {
			if r.(map[string]any)["name"] == "esoed-inbox" {
				fr = r
			}
		}
		if len(br) != 1 || fr == nil || !reflect.DeepEqual(br[0], fr) {
			t.Errorf("%s: want only the route esoed-inbox, as in %s", bench, from)
		}
	}
}

// TestShippedIngressRefusesAnonymousCallers: no HTTP listener of a shipped configuration takes
// anonymous callers. Each of the demo's changes data or makes the hub ask registers about people
// (issue 17: nothing of the kind answers an anonymous caller); a copied configuration starts safe.
func TestShippedIngressRefusesAnonymousCallers(t *testing.T) {
	files, err := filepath.Glob("*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	examples, _ := filepath.Glob(filepath.Join("examples", "*.yaml"))
	listeners := 0
	for _, f := range append(files, examples...) {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Connectors map[string]struct {
				Type   string
				Listen string
				Auth   struct{ Type string }
			}
		}
		if err := yaml.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for name, c := range doc.Connectors {
			if c.Type != "http" || c.Listen == "" {
				continue
			}
			listeners++
			if c.Auth.Type == "" || c.Auth.Type == "none" {
				t.Errorf("%s: connector %s listens at %s with auth type %q, open to anyone", f, name, c.Listen, c.Auth.Type)
			}
		}
	}
	if listeners < 4 {
		t.Errorf("found %d HTTP listeners in the shipped configurations, want the demo's three and the peer's", listeners)
	}
}

// TestOutputSyncFromTheEnvironment: the shipped configurations' output folders take their sync
// from AISKAO_OUT_SYNC (what `aiskao bench -sync` sets), file when it is unset, and a value the
// file connector does not know is refused naming the field.
func TestOutputSyncFromTheEnvironment(t *testing.T) {
	for _, f := range []string{"demo.yaml", "rabbitmq-postgres.yaml", "bench-esoed-inbox.yaml", "bench-esoed-inbox-rabbitmq.yaml"} {
		for _, want := range []string{"", "file", "filesystem"} {
			t.Setenv("AISKAO_OUT_SYNC", want)
			if want == "" {
				os.Unsetenv("AISKAO_OUT_SYNC")
				want = "file"
			}
			cfg, err := routes.Load(routes.DefaultCatalog(), f)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			sinks := 0
			for _, r := range cfg.Routes {
				for _, to := range r.To {
					c := cfg.Connectors[to]
					if c.Type != "file" {
						continue
					}
					sinks++
					if got := reflect.ValueOf(c.Config).Elem().FieldByName("Sync").String(); got != want {
						t.Errorf("%s: sink %s syncs %q with AISKAO_OUT_SYNC %q, want %q", f, to, got, os.Getenv("AISKAO_OUT_SYNC"), want)
					}
				}
			}
			if sinks == 0 {
				t.Fatalf("%s: no file sink found", f)
			}
		}
		t.Setenv("AISKAO_OUT_SYNC", "sometimes")
		if _, err := routes.Load(routes.DefaultCatalog(), f); err == nil || !strings.Contains(err.Error(), "sync") {
			t.Errorf("%s with AISKAO_OUT_SYNC=sometimes: %v, want an error naming sync", f, err)
		}
	}
}
