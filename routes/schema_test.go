package routes_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"
	"gopkg.in/yaml.v3"

	"github.com/aiskao/aiskao/routes"
)

func compileSchema(t *testing.T, cat routes.Catalog) *jsonschema.Schema {
	t.Helper()
	b, err := routes.Schema(cat)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	if err := c.AddResource("config.json", bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("config.json")
	if err != nil {
		t.Fatalf("the configuration schema does not compile: %v", err)
	}
	return s
}

// jsonValue reads YAML (after environment expansion) as the JSON value a schema validates.
func jsonValue(t *testing.T, file string, data []byte) any {
	t.Helper()
	data, errs := routes.ExpandEnv(file, data)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return yamlAsJSON(t, data)
}

// yamlAsJSON reads YAML as it stands as the JSON value a schema validates.
func yamlAsJSON(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSchemaAcceptsGood(t *testing.T) {
	t.Setenv("AISKAO_TEST_OPS", "127.0.0.1:9090")
	for _, tc := range []struct {
		file string
		cat  routes.Catalog
	}{
		{"testdata/good.yaml", routes.DefaultCatalog()},
		{"testdata/fake/good.yaml", testCatalog()},
	} {
		s := compileSchema(t, tc.cat)
		data, err := os.ReadFile(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(jsonValue(t, tc.file, data)); err != nil {
			t.Errorf("%s fails the schema: %#v", tc.file, err)
		}
	}
}

func TestSchemaRejectsBad(t *testing.T) {
	s := compileSchema(t, testCatalog())
	// want is a part of the validator's detailed output that names what is wrong.
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown top-level key", "route: []", "additionalProperties 'route' not allowed"},
		{"unknown connector key", "connectors: {in: {type: http, listen: ':1', lisen: ':1'}}", "additionalProperties 'lisen' not allowed"},
		{"unknown connector type", "connectors: {in: {type: htp}}", `value must be "http"`},
		{"missing required option", "connectors: {in: {type: http}}", "missing properties: 'listen'"},
		{"bad enum", "connectors: {in: {type: http, listen: ':1', mode: xml}}", `[I#/connectors/in/mode] [S#/properties/connectors/additionalProperties/oneOf/1/properties/mode/anyOf/0/enum] value must be one of "metadata", "json"`},
		{"bad duration", "routes: [{name: a, from: in, to: in, timeout: 10 seconds}]", "[I#/routes/0/timeout] [S#/properties/routes/items/properties/timeout/anyOf/0/pattern] does not match pattern"},
		{"bad route name", "routes: [{name: A_b, from: in, to: in}]", "[I#/routes/0/name] [S#/properties/routes/items/properties/name/anyOf/0/pattern] does not match pattern"},
		{"unknown step", "routes: [{name: a, from: in, to: in, steps: [{xml_to_jsn: {}}]}]", "additionalProperties 'xml_to_jsn' not allowed"},
		{"two keys in a step", "routes: [{name: a, from: in, steps: [{xml_to_json: {}, set: {}}]}]", "additionalProperties 'set' not allowed"},
		{"unknown key in a nested step", "routes: [{name: a, from: in, steps: [{switch: {cases: [{when: {expr: x}, steps: [{set: {prio: 1}}]}]}}]}]", "additionalProperties 'prio' not allowed"},
		{"bounds", "routes: [{name: a, from: in, to: in, on_error: {retry: {max: 101}}}]", "must be <= 100"},
		{"unknown transport key", "transport: {type: embedded, dri: x}", "additionalProperties 'dri' not allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Validate(jsonValue(t, "bad.yaml", []byte(tc.yaml)))
			if err == nil {
				t.Fatalf("%s passes the schema", tc.yaml)
			}
			if got := fmt.Sprintf("%#v", err); !strings.Contains(got, tc.want) {
				t.Errorf("error does not say %q:\n%s", tc.want, got)
			}
		})
	}
}

// TestSchemaAcceptsEnvRefsAsWritten checks the shipped configurations as an editor sees them,
// before the environment is expanded: ${NAME:-default} stands in integer, duration and address
// fields, and the published schema must accept it wherever the loader does.
func TestSchemaAcceptsEnvRefsAsWritten(t *testing.T) {
	s := compileSchema(t, routes.DefaultCatalog())
	files, _ := filepath.Glob("../configs/*.yaml")
	files = append(files, "testdata/good.yaml")
	if len(files) < 4 {
		t.Fatalf("found %v, want the shipped configurations", files)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(yamlAsJSON(t, data)); err != nil {
			t.Errorf("%s as written fails the schema: %#v", f, err)
		}
	}
	for _, tc := range []struct {
		yaml string
		ok   bool
	}{
		{"routes: [{name: a, from: in, to: in, prefetch: '${P:-8}'}]", true},
		{"routes: [{name: a, from: in, to: in, timeout: '${T:-5}s'}]", true},
		{"routes: [{name: a, from: in, to: in, on_error: {retry: {max: '${M}'}}}]", true},
		{"routes: [{name: a, from: in, to: in, prefetch: eight}]", false},
		{"routes: [{name: a, from: in, to: in, prefetch: '${8}'}]", false},
		{"routes: [{name: a, from: in, to: in, timeout: 'ten seconds'}]", false},
	} {
		if err := s.Validate(yamlAsJSON(t, []byte(tc.yaml))); (err == nil) != tc.ok {
			t.Errorf("%s: schema error %v, want accepted=%v", tc.yaml, err, tc.ok)
		}
	}
}
