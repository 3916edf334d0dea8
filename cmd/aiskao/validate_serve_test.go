package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runIn runs the binary in dir, bounded to 30 s, and returns its stdout, stderr and exit status.
func runIn(t *testing.T, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return runBinary(t, exec.CommandContext(ctx, binary), dir, nil, args...)
}

// validateHead is the start of a configuration whose connectors build, on ports nothing binds
// (serve fails before it listens).
const validateHead = `ops:
  listen: 127.0.0.1:0
connectors:
  in: {type: http, listen: "127.0.0.1:0", path: /in, auth: {type: none}}
  out: {type: http, url: "http://127.0.0.1:1/out"}
  box: {type: http, listen: "127.0.0.1:0", path: /box, auth: {type: none}}
routes:
  - name: a
    from: in
    steps:
`

// TestValidateFindsWhatServeFinds checks that a configuration serve refuses at start is refused
// by validate too, with the same file:line:col, and that serve's refusal names it as well.
func TestValidateFindsWhatServeFinds(t *testing.T) {
	for _, tc := range []struct {
		name, steps, to string
		want            string // validate's line
	}{
		{"json_schema file missing", "      - json_schema: {schema: missing.json}\n", "out",
			"c.yaml:11:9: routes[0].steps[0].json_schema: schema: open missing.json: no such file or directory"},
		{"template file missing", "      - xml_to_json: {}\n      - xml_template: {file: nothing.tmpl}\n", "out",
			"c.yaml:12:9: routes[0].steps[1].xml_template:"},
		{"http sink without url", "      - xml_to_json: {}\n", "box",
			"c.yaml:6:3: connectors.box: cannot be built as a sink: http sink box: url is required to deliver messages"},
		{"a step in a switch", "      - switch:\n          cases:\n            - when: {expr: 'true'}\n              steps:\n                - json_schema: {schema: gone.json}\n", "out",
			"c.yaml:15:19: routes[0].steps[0].switch.cases[0].steps[0].json_schema: schema: open gone.json"},
		{"enrich calling what cannot be called", "      - enrich: {connector: out, operation: X, parameters: {A: body.a}, into: y}\n", "out",
			"c.yaml:11:9: routes[0].steps[0].enrich:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := validateHead + tc.steps + "    to: " + tc.to + "\n"
			if err := os.WriteFile(filepath.Join(dir, "c.yaml"), []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
			stdout, _, code := runIn(t, dir, "validate", "c.yaml")
			if code != 1 || !strings.HasPrefix(stdout, tc.want) {
				t.Errorf("aiskao validate: exit %d, printed:\n%swant exit 1 and a line starting %q", code, stdout, tc.want)
			}
			_, stderr, code := runIn(t, dir, "serve", "-config", "c.yaml", "-data", filepath.Join(dir, "data"))
			if code != 1 || !strings.Contains(stderr, tc.want) {
				t.Errorf("aiskao serve: exit %d, stderr:\n%swant exit 1 and %q", code, stderr, tc.want)
			}
			if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
				t.Errorf("validate created a folder")
			}
		})
	}
}

// TestValidateRepositoryConfigs keeps `aiskao validate configs/` clean on the repository's own
// folder: each configuration, each route-test file with its configuration, and the registry
// named as skipped.
func TestValidateRepositoryConfigs(t *testing.T) {
	stdout, stderr, code := runFromRoot(t, "validate", "configs")
	if code != 0 {
		t.Fatalf("aiskao validate configs: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"configs/demo.yaml: ok", "configs/esoed-peer.yaml: ok", "configs/rabbitmq-postgres.yaml: ok",
		"configs/tests/applications.yaml: route tests valid", "configs/esoed/registry.yaml: skipped",
		"configs/services/2016-heirs.yaml: service 2016 version 1 valid",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
}

// TestValidateFolderAndRouteTests covers how validate reads a folder: each YAML file on its own,
// route-test files checked with their configuration (a missing input or an unknown route is
// an error), other YAML skipped and named, and -config for a folder that is one configuration.
func TestValidateFolderAndRouteTests(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	good := validateHead + "      - xml_to_json: {}\n    to: out\n"
	write("conf/c.yaml", good)
	write("conf/tests/t.yaml", "config: ../c.yaml\nroute: a\ncases:\n  - input: in.xml\n")
	write("conf/tests/in.xml", "<a/>")
	write("conf/other.yaml", "participants: []\n")
	stdout, _, code := runIn(t, dir, "validate", "conf")
	want := "conf/c.yaml: ok (3 connectors, 1 routes)\n" +
		"conf/other.yaml: skipped: not a configuration or route-test file (keys: participants)\n" +
		"conf/tests/t.yaml: route tests valid (1 cases of route a in ../c.yaml; aiskao test runs them)\n"
	if code != 0 || stdout != want {
		t.Errorf("aiskao validate conf: exit %d, printed:\n%swant exit 0 and:\n%s", code, stdout, want)
	}

	write("conf/tests/t.yaml", "config: ../c.yaml\nroute: b\ncases:\n  - input: gone.xml\n    inptu: x\n")
	stdout, _, code = runIn(t, dir, "validate", "conf/tests/t.yaml")
	if code != 1 || !strings.Contains(stdout, `conf/tests/t.yaml:5:5: cases[0]: unknown key "inptu"; allowed: name, input, metadata, expect`) {
		t.Errorf("misspelt key: exit %d, printed:\n%s", code, stdout)
	}
	if strings.Contains(stdout, "hub.") {
		t.Errorf("the message names an internal type:\n%s", stdout)
	}
	write("conf/tests/t.yaml", "config: ../c.yaml\nroute: b\ncases:\n  - input: gone.xml\n")
	stdout, _, code = runIn(t, dir, "validate", "conf/tests/t.yaml")
	if code != 1 || !strings.Contains(stdout, `route "b" is not in ../c.yaml`) || !strings.Contains(stdout, "gone.xml") {
		t.Errorf("unknown route and missing input: exit %d, printed:\n%s", code, stdout)
	}

	// A folder that is one configuration split over files: -config reads it as serve does.
	write("split/a.yaml", "connectors:\n  in: {type: http, listen: \"127.0.0.1:0\", path: /in, auth: {type: none}}\n  out: {type: http, url: \"http://127.0.0.1:1/\"}\n")
	write("split/b.yaml", "routes:\n  - {name: a, from: in, to: out}\n")
	if stdout, _, code := runIn(t, dir, "validate", "-config", "split"); code != 0 || stdout != "split: ok (2 connectors, 1 routes)\n" {
		t.Errorf("validate -config split: exit %d, printed:\n%s", code, stdout)
	}
	if stdout, _, code := runIn(t, dir, "validate", "split"); code != 1 || !strings.Contains(stdout, "aiskao validate -config DIR") {
		t.Errorf("validate split (file by file): exit %d, printed:\n%swant 1 and the hint for -config", code, stdout)
	}
}

// TestRouteTestAbsolutePaths checks that a route-test file may name its configuration, inputs and
// expected outputs with absolute paths.
func TestRouteTestAbsolutePaths(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "c.yaml")
	cfg := validateHead + "      - xml_to_json: {}\n    to: out\n"
	if err := os.WriteFile(conf, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "in.xml")
	if err := os.WriteFile(in, []byte("<a>1</a>"), 0o600); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "tests")
	if err := os.Mkdir(sub, 0o750); err != nil {
		t.Fatal(err)
	}
	rt := "config: " + conf + "\nroute: a\ncases:\n  - name: abs\n    input: " + in + "\n    expect: {to: [out]}\n"
	if err := os.WriteFile(filepath.Join(sub, "t.yaml"), []byte(rt), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runIn(t, dir, "test", "tests")
	if code != 0 || !strings.Contains(stdout, "1 passed, 0 failed") {
		t.Errorf("aiskao test with absolute paths: exit %d\n%s%s", code, stdout, stderr)
	}
}

// validateService is a service description whose checklist the cases of TestValidateServices end.
const validateService = `id: "2128"
version: 1
name: {bg: Удостоверение, en: Certificate}
legal_basis: {bg: Закон, en: Act}
provider:
  name: {bg: Община Примерно, en: Primerno Municipality}
  eik: "000695089"
register_index: ОБА3
procedure: {bg: Ред, en: Procedure}
fields:
  - {id: as_of, name: {bg: Дата, en: Date}, kind: date, required: true}
terms:
  - {kind: normal, hours: 72, fee: "2.56"}
apply: [counter]
deliver: [counter]
appeal: {bg: Съд, en: Court}
stages:
  - {id: register, name: {bg: Регистриране, en: Registration}, group: accept, assignee: {position: clerk}}
checklist:
  - id: address
    name: {bg: Адрес, en: Address}
    source: register
`

// TestValidateServices covers service descriptions: one that loads and whose register items
// can be requested is valid; a wrong operation, a parameter the operation lacks or requires, a
// bad field and a version described twice in a folder are errors, each named by file and path.
func TestValidateServices(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("good/a.yaml", validateService+"    operation: PermanentAddressSearch\n    query: {EGN: applicant, SearchDate: as_of}\n")
	if stdout, _, code := runIn(t, dir, "validate", "good"); code != 0 || stdout != "good/a.yaml: service 2128 version 1 valid (1 checklist items, 1 from registers; 1 term types)\n" {
		t.Errorf("validate good: exit %d, printed:\n%s", code, stdout)
	}
	for _, tc := range []struct{ name, tail, want string }{
		{"unknown operation", "    operation: PermanentAddressSearchX\n    query: {EGN: applicant}\n",
			`bad.yaml: checklist[0].operation: item "address": no register operation "PermanentAddressSearchX" in the RegiX catalogue`},
		{"unknown parameter", "    operation: PermanentAddressSearch\n    query: {EGN: applicant, SearchDate: as_of, Date: as_of}\n",
			`bad.yaml: checklist[0].query.Date: item "address": PermanentAddressSearch (grao-pna) has no parameter "Date"; it takes EGN, SearchDate`},
		{"required parameter", "    operation: PermanentAddressSearch\n    query: {EGN: applicant}\n",
			`bad.yaml: checklist[0].query: item "address": PermanentAddressSearch (grao-pna) requires parameter SearchDate (Дата), which the query does not give`},
		{"query from no field", "    operation: PermanentAddressSearch\n    query: {EGN: applicant, SearchDate: date}\n",
			`bad.yaml:24:41: checklist[0].query.SearchDate: "date" is neither applicant nor a field of fields`},
	} {
		write("bad.yaml", validateService+tc.tail)
		if stdout, _, code := runIn(t, dir, "validate", "bad.yaml"); code != 1 || !strings.Contains(stdout, tc.want) {
			t.Errorf("%s: exit %d, printed:\n%swant exit 1 and %q", tc.name, code, stdout, tc.want)
		}
	}
	write("good/b.yaml", validateService+"    operation: PermanentAddressSearch\n    query: {EGN: applicant, SearchDate: as_of}\n")
	if stdout, _, code := runIn(t, dir, "validate", "good"); code != 1 || !strings.Contains(stdout, "good/b.yaml: version: service 2128 version 1 is also described in good/a.yaml") || strings.Contains(stdout, "-config DIR") {
		t.Errorf("the same version twice in a folder: exit %d, printed:\n%swant exit 1, the duplicate named and no hint for -config (no configuration failed)", code, stdout)
	}
}
