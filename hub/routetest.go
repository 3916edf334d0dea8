package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/aiskao/aiskao/routes"
	"github.com/aiskao/aiskao/spec"
)

// RouteTest is a file of route tests: cases that push an input through a route and state what
// must come out, kept beside the configuration and run like unit tests (aiskao test).
//
//	config: ../demo.yaml        # configuration file or folder, relative to this file
//	route: esoed-inbox
//	cases:
//	  - name: a registration request is converted
//	    input: ../../testdata/esoed/registration-request.xml
//	    metadata: {datacontenttype: application/xml}
//	    expect:
//	      to: [inbox-files]
//	      output: expected/registration-request.json
//	      metadata: {esoed_message_type: MSG_DocumentRegistrationRequest}
//	  - name: without a MessageGUID it becomes a dead letter
//	    input: ../../testdata/esoed/no-guid.xml
//	    expect:
//	      dead_letter: {step: steps[0].xpath, error: MessageGUID}
type RouteTest struct {
	Config string     `yaml:"config" required:"true" doc:"Configuration file or folder, relative to this file."`
	Route  string     `yaml:"route" required:"true" doc:"Route the cases go through."`
	Cases  []TestCase `yaml:"cases" required:"true" min:"1" doc:"The cases."`
}

// TestCase is one input and what must come of it.
type TestCase struct {
	Name     string            `yaml:"name" doc:"What the case shows."`
	Input    string            `yaml:"input" required:"true" doc:"File whose content is the message's payload, relative to this file."`
	Metadata map[string]string `yaml:"metadata" doc:"Metadata given to the message."`
	Expect   Expectation       `yaml:"expect" doc:"What must come of it."`
}

// Expectation is what a case must produce: deliveries (the first delivery's output, metadata
// and sinks), or a dead letter. Output files ending in .json compare as JSON values; others
// compare byte for byte.
type Expectation struct {
	Output     string            `yaml:"output" doc:"File the first delivery's payload must equal, relative to this file."`
	Metadata   map[string]string `yaml:"metadata" doc:"Metadata the first delivery must have."`
	To         []string          `yaml:"to" doc:"Sinks of the first delivery."`
	Count      *int              `yaml:"count" doc:"Number of deliveries."` // when stated
	Dropped    bool              `yaml:"dropped" doc:"The message is dropped."`
	DeadLetter *ExpectedFailure  `yaml:"dead_letter" doc:"The message becomes a dead letter."`
}

// ExpectedFailure says at which step a case must fail and what the error must contain.
type ExpectedFailure struct {
	Step  string `yaml:"step" doc:"Step it fails at, as in dead letters: steps[0].xpath."`
	Error string `yaml:"error" doc:"Text the error contains."`
}

// TestResult is the verdict on one case.
type TestResult struct {
	File string
	Case string
	// Failures lists what did not hold; empty means the case passed.
	Failures []string
}

// Passed reports whether every expectation held.
func (r TestResult) Passed() bool { return len(r.Failures) == 0 }

// RunRouteTests runs every route-test file (*.yaml, *.yml) in dir, or the one file dir names.
func RunRouteTests(ctx context.Context, dir string, opts Options) ([]TestResult, error) {
	files, err := testFiles(dir)
	if err != nil {
		return nil, err
	}
	var results []TestResult
	for _, f := range files {
		rs, err := runTestFile(ctx, f, opts)
		if err != nil {
			return results, err
		}
		results = append(results, rs...)
	}
	return results, nil
}

func testFiles(dir string) ([]string, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("route tests: %w", err)
	}
	if !st.IsDir() {
		return []string{dir}, nil
	}
	var files []string
	for _, pat := range []string{"*.yaml", "*.yml"} {
		m, _ := filepath.Glob(filepath.Join(dir, pat))
		files = append(files, m...)
	}
	sort.Strings(files)
	if len(files) == 0 {
		return nil, fmt.Errorf("route tests: no *.yaml files in %s", dir)
	}
	return files, nil
}

// ReadRouteTest reads a route-test file. Problems are returned as spec.Errors at their
// file:line:col, such as a misspelt key with the keys allowed there.
func ReadRouteTest(file string) (*RouteTest, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("route tests: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, spec.Errors{routes.SyntaxError(file, raw, err)}
	}
	var root *yaml.Node
	if len(doc.Content) > 0 {
		root = doc.Content[0]
	}
	var rt RouteTest
	if errs := spec.Decode(file, root, "", &rt); len(errs) > 0 {
		errs.Sort()
		return nil, errs
	}
	return &rt, nil
}

// IsRouteTest reports whether YAML with these top-level keys is a route-test file: it has cases.
func IsRouteTest(keys []string) bool {
	for _, k := range keys {
		if k == "cases" {
			return true
		}
	}
	return false
}

// resolve gives a path written in the file of folder base: absolute as it is, else from base.
func resolve(base, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(base, p)
}

// CheckRouteTest checks a route-test file without running its cases: its keys, its
// configuration (as Check does), its route, and the files its cases name. It returns the test
// and every problem found.
func CheckRouteTest(file string, opts Options) (*RouteTest, error) {
	rt, err := ReadRouteTest(file)
	if err != nil {
		return nil, err
	}
	opts.defaults()
	base := filepath.Dir(file)
	cfgPath := resolve(base, rt.Config)
	cfg, err := routes.Load(opts.Catalog, cfgPath)
	if err != nil {
		return rt, fmt.Errorf("route tests: %s: configuration %s is invalid:\n%w", file, rt.Config, err)
	}
	if err := Check(cfg, opts); err != nil {
		return rt, fmt.Errorf("route tests: %s: configuration %s is invalid:\n%w", file, rt.Config, err)
	}
	var errs []error
	found := false
	for _, r := range cfg.Routes {
		found = found || r.Name == rt.Route
	}
	if !found {
		errs = append(errs, fmt.Errorf("route tests: %s: route %q is not in %s", file, rt.Route, rt.Config))
	}
	for i, c := range rt.Cases {
		for _, p := range []string{c.Input, c.Expect.Output} {
			if p == "" {
				continue
			}
			if _, err := os.Stat(resolve(base, p)); err != nil {
				errs = append(errs, fmt.Errorf("route tests: %s: cases[%d]: %w", file, i, err))
			}
		}
	}
	return rt, errors.Join(errs...)
}

func runTestFile(ctx context.Context, file string, opts Options) ([]TestResult, error) {
	rt, err := ReadRouteTest(file)
	if err != nil {
		return nil, err
	}
	base := filepath.Dir(file)
	opts.defaults()
	cfg, err := routes.Load(opts.Catalog, resolve(base, rt.Config))
	if err != nil {
		return nil, fmt.Errorf("route tests: %s: configuration %s is invalid:\n%w", file, rt.Config, err)
	}
	var results []TestResult
	for i, c := range rt.Cases {
		name := c.Name
		if name == "" {
			name = fmt.Sprintf("cases[%d]", i)
		}
		res := TestResult{File: file, Case: name}
		res.Failures, err = runCase(ctx, cfg, rt.Route, base, c, opts)
		if err != nil {
			return results, fmt.Errorf("route tests: %s: %s: %w", file, name, err)
		}
		results = append(results, res)
	}
	return results, nil
}

func runCase(ctx context.Context, cfg *routes.Config, route, base string, c TestCase, opts Options) ([]string, error) {
	input, err := os.ReadFile(resolve(base, c.Input))
	if err != nil {
		return nil, err
	}
	tr, err := Try(ctx, cfg, route, input, c.Metadata, opts)
	if err != nil {
		return nil, err
	}
	var fails []string
	failf := func(format string, args ...any) { fails = append(fails, fmt.Sprintf(format, args...)) }
	x := c.Expect
	if x.DeadLetter != nil {
		switch {
		case tr.Error == "":
			failf("expected a dead letter at %s, but the message went through (%d deliveries)", x.DeadLetter.Step, len(tr.Deliveries))
		default:
			if x.DeadLetter.Step != "" && tr.FailedStep != x.DeadLetter.Step {
				failf("dead letter at step %q, expected %q (error: %s)", tr.FailedStep, x.DeadLetter.Step, tr.Error)
			}
			if !strings.Contains(tr.Error, x.DeadLetter.Error) {
				failf("dead-letter error does not contain %q:\n  %s", x.DeadLetter.Error, tr.Error)
			}
		}
		return fails, nil
	}
	if tr.Error != "" {
		return []string{fmt.Sprintf("failed at %s: %s", tr.FailedStep, tr.Error)}, nil
	}
	if x.Dropped {
		if len(tr.Deliveries) != 0 {
			failf("expected the message to be dropped, got %d deliveries", len(tr.Deliveries))
		}
		return fails, nil
	}
	if x.Count != nil && len(tr.Deliveries) != *x.Count {
		failf("got %d deliveries, expected %d", len(tr.Deliveries), *x.Count)
	}
	if len(tr.Deliveries) == 0 {
		failf("no message came out of the route")
		return fails, nil
	}
	d := tr.Deliveries[0]
	if x.To != nil && !reflect.DeepEqual(d.To, x.To) {
		failf("goes to %v, expected %v", d.To, x.To)
	}
	keys := make([]string, 0, len(x.Metadata))
	for k := range x.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if got, ok := d.Message.Metadata[k]; !ok || got != x.Metadata[k] {
			failf("metadata %s = %q, expected %q", k, got, x.Metadata[k])
		}
	}
	if x.Output != "" {
		want, err := os.ReadFile(resolve(base, x.Output))
		if err != nil {
			return nil, err
		}
		if diff := compareOutput(x.Output, want, d.Message.Payload); diff != "" {
			failf("output differs from %s (- expected, + got):\n%s", x.Output, diff)
		}
	}
	return fails, nil
}

// compareOutput returns a line diff of want and got, or "" when they are equal. JSON is compared
// as values and shown indented.
func compareOutput(name string, want, got []byte) string {
	if strings.HasSuffix(name, ".json") {
		var w, g any
		if err := json.Unmarshal(want, &w); err != nil {
			return "expected file is not valid JSON: " + err.Error()
		}
		if err := json.Unmarshal(got, &g); err != nil {
			return "output is not valid JSON: " + err.Error()
		}
		if reflect.DeepEqual(w, g) {
			return ""
		}
		want, _ = json.MarshalIndent(w, "", "  ")
		got, _ = json.MarshalIndent(g, "", "  ")
	} else if bytes.Equal(want, got) {
		return ""
	}
	return lineDiff(string(want), string(got))
}

// lineDiff shows the lines that differ, from the longest common subsequence of lines.
func lineDiff(a, b string) string {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	n, m := len(x), len(y)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out strings.Builder
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && x[i] == y[j]:
			i, j = i+1, j+1
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			fmt.Fprintf(&out, "  + %s\n", y[j])
			j++
		default:
			fmt.Fprintf(&out, "  - %s\n", x[i])
			i++
		}
	}
	return out.String()
}

// ErrTestsFailed is returned by callers that turn failed route tests into an exit status.
var ErrTestsFailed = errors.New("route tests failed")
