package postgres

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/aiskao/aiskao/internal/testpg"
	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/store"
	"github.com/aiskao/aiskao/store/storetest"
)

func TestConfigDefaults(t *testing.T) {
	c, err := spec.Options[Config](Config{URL: testpg.DefaultURL})
	if err != nil {
		t.Fatal(err)
	}
	want := Config{URL: testpg.DefaultURL, Schema: "aiskao", MaxConns: 10, MarkBatch: 512, BatchWait: spec.Duration(2 * time.Millisecond),
		SweepInterval: spec.Duration(time.Minute), ConnectTimeout: spec.Duration(10 * time.Second),
		QueryTimeout: spec.Duration(3 * time.Second),
		Retention:    store.Retention{DeadLetters: "90d", Interval: spec.Duration(time.Hour)}}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("defaults = %+v, want %+v", c, want)
	}
	c, _ = spec.Options[Config](Config{URL: testpg.DefaultURL, Schema: "hub", MarkBatch: 7})
	if c.Schema != "hub" || c.MarkBatch != 7 {
		t.Errorf("defaults replaced set fields: %+v", c)
	}
	if missing := spec.MissingDocs(reflect.TypeFor[Config]()); len(missing) > 0 {
		t.Errorf("fields without a doc tag: %v", missing)
	}
}

func TestConfigValidate(t *testing.T) {
	valid, err := spec.Options[Config](Config{URL: testpg.DefaultURL})
	if err != nil {
		t.Fatal(err)
	}
	const want = "want a URL such as postgres://user@host:5432/database"
	storetest.CheckValidate(t, valid, "secret", []storetest.ConfigCase[Config]{
		{"defaults", func(*Config) {}, "", ""},
		{"postgresql scheme", func(c *Config) { c.URL = "postgresql://u:p@db.example:5433/hub?sslmode=require" }, "", ""},
		{"unix socket", func(c *Config) { c.URL = "postgres:///hub?host=/run/postgresql" }, "", ""},
		{"schema with digits", func(c *Config) { c.Schema = "hub_2" }, "", ""},
		{"url empty", func(c *Config) { c.URL = "" }, "url", "is required"},
		{"url other scheme", func(c *Config) { c.URL = "mysql://u:secret@db/hub" }, "url", `scheme "mysql" is not postgres or postgresql; ` + want},
		{"url keyword form", func(c *Config) { c.URL = "host=db user=u" }, "url", `scheme "" is not postgres or postgresql; ` + want},
		{"url without host", func(c *Config) { c.URL = "postgres:///hub" }, "url", "names no host; " + want},
		{"url unparsable", func(c *Config) { c.URL = "postgres://u:secret@db:54x2/hub" }, "url", `cannot be parsed (invalid port ":54x2" after host); ` + want},
		{"schema upper case", func(c *Config) { c.Schema = "Hub" }, "schema", `"Hub" is not a plain schema name: use lower-case letters, digits and underscores, starting with a letter or an underscore, such as aiskao`},
		{"schema quote", func(c *Config) { c.Schema = `a"b` }, "schema", `"a\"b" is not a plain schema name: use lower-case letters, digits and underscores, starting with a letter or an underscore, such as aiskao`},
		{"schema empty", func(c *Config) { c.Schema = "" }, "schema", `"" is not a plain schema name: use lower-case letters, digits and underscores, starting with a letter or an underscore, such as aiskao`},
		{"schema too long", func(c *Config) { c.Schema = strings.Repeat("a", 64) }, "schema", `"` + strings.Repeat("a", 64) + `" is 64 bytes long; PostgreSQL names are at most 63`},
		{"schema reserved", func(c *Config) { c.Schema = "pg_hub" }, "schema", `"pg_hub": names starting with pg_ are reserved by PostgreSQL`},
		{"max_conns negative", func(c *Config) { c.MaxConns = -1 }, "max_conns", "must be at least 1, got -1"},
		{"mark_batch negative", func(c *Config) { c.MarkBatch = -1 }, "mark_batch", "must be at least 1, got -1"},
		{"sweep too often", func(c *Config) { c.SweepInterval = spec.Duration(100 * time.Millisecond) }, "sweep_interval", "must be at least 1s, got 100ms"},
		{"connect timeout too short", func(c *Config) { c.ConnectTimeout = spec.Duration(time.Millisecond) }, "connect_timeout", "must be at least 100ms, got 1ms"},
		{"query timeout too short", func(c *Config) { c.QueryTimeout = spec.Duration(time.Millisecond) }, "query_timeout", "must be at least 100ms, got 1ms"},
	})
}

func TestConfigValidateReportsAll(t *testing.T) {
	c := Config{URL: "x://", Schema: "X", MaxConns: -1, MarkBatch: -1}
	var fields []string
	errs := append(spec.Unjoin(c.Validate()), spec.Unjoin(spec.Check(&c))...)
	for _, err := range errs {
		var fe *spec.FieldError
		if errors.As(err, &fe) {
			fields = append(fields, fe.Field)
		}
	}
	want := []string{"url", "schema", "sweep_interval", "connect_timeout", "query_timeout", "max_conns", "mark_batch"}
	if !reflect.DeepEqual(fields, want) {
		t.Errorf("Validate reported fields %v, want every bad one %v", fields, want)
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:secret@db:5432/hub?sslmode=require&password=secret": "postgres://u:xxxxx@db:5432/hub",
		"postgres://u@db/hub":   "postgres://u@db/hub",
		"postgres://db:x:y/%zz": "(unparsable url)",
	} {
		if got := redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestConfigDecode reads the configuration as the loader does: tag defaults, required url, and
// Validate's errors at the line of their field.
func TestConfigDecode(t *testing.T) {
	decode := func(src string) (Config, spec.Errors) {
		t.Helper()
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(src), &n); err != nil {
			t.Fatal(err)
		}
		var c Config
		return c, spec.Decode("hub.yaml", &n, "store", &c)
	}
	c, errs := decode("url: postgres://postgres@127.0.0.1:5432/test\nmax_conns: 4\n")
	if errs != nil {
		t.Fatalf("Decode: %v", errs)
	}
	if c.Schema != "aiskao" || c.MaxConns != 4 || c.ConnectTimeout.D() != 10*time.Second {
		t.Errorf("decoded %+v: want the tag defaults beside the given fields", c)
	}
	for src, want := range map[string]string{
		"schema: hub\n":                                 `hub.yaml:1:1: store: missing required key "url"`,
		"url: postgres://db/x\nschema: Hub\n":           `hub.yaml:2:9: store.schema: "Hub" is not a plain schema name`,
		"url: postgres://db/x\nmax_conns: 0\n":          "hub.yaml:2:12: store.max_conns: ",
		"url: postgres://db/x\nconnect_timeout: 50ms\n": "hub.yaml:2:18: store.connect_timeout: must be at least 100ms, got 50ms",
	} {
		_, errs := decode(src)
		if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), want) {
			t.Errorf("Decode(%q) = %v, want one error starting %q", src, errs, want)
		}
	}
}
