package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// repoRoot is the repository root, seen from this package. The corpus is validated from there so
// that messages name routes/testdata/... as its .bad.txt files do (routes/testdata/README.md).
const repoRoot = "../.."

// runFromRoot runs the binary in the repository root, without the variables that the corpus
// needs unset, and returns its stdout, stderr and exit status.
func runFromRoot(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AISKAO_TEST_UNSET_") {
			env = append(env, kv)
		}
	}
	return runBinary(t, exec.Command(binary), repoRoot, env, args...)
}

// runBinary runs cmd, the built binary, with args in dir and env (nil: this process's), and
// returns its stdout, stderr and exit status.
func runBinary(t *testing.T, cmd *exec.Cmd, dir string, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	bin, err := filepath.Abs(binary)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Path, cmd.Args, cmd.Dir, cmd.Env = bin, append([]string{bin}, args...), dir, env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

// badCorpus lists the entries of routes/testdata (*.bad.yaml files and *.bad folders) as paths
// from the repository root, each with the content of its .bad.txt.
func badCorpus(t *testing.T) (entries []string, want map[string]string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(repoRoot, "routes/testdata/*.bad.yaml"))
	dirs, _ := filepath.Glob(filepath.Join(repoRoot, "routes/testdata/*.bad"))
	want = map[string]string{}
	for _, p := range append(files, dirs...) {
		entry, err := filepath.Rel(repoRoot, p)
		if err != nil {
			t.Fatal(err)
		}
		entry = filepath.ToSlash(entry)
		txt, err := os.ReadFile(strings.TrimSuffix(p, ".yaml") + ".txt")
		if err != nil {
			t.Fatalf("%s has no expected messages: %v", entry, err)
		}
		entries = append(entries, entry)
		want[entry] = string(txt)
	}
	if len(entries) < 20 {
		t.Fatalf("%d corpus entries in routes/testdata, want at least 20", len(entries))
	}
	return entries, want
}

// TestValidateBadCorpus checks that `aiskao validate` prints, for each entry of the bad corpus,
// exactly the messages of its .bad.txt, and exits 1.
func TestValidateBadCorpus(t *testing.T) {
	entries, want := badCorpus(t)
	for _, entry := range entries {
		t.Run(filepath.Base(entry), func(t *testing.T) {
			args := []string{"validate", entry}
			if !strings.HasSuffix(entry, ".yaml") {
				args = []string{"validate", "-config", entry} // a folder that is one configuration
			}
			stdout, stderr, code := runFromRoot(t, args...)
			if code != 1 {
				t.Errorf("aiskao validate %s: exit %d, want 1", entry, code)
			}
			if stdout != want[entry] {
				t.Errorf("aiskao validate %s printed:\n%swant (%s):\n%s", entry, stdout, strings.TrimSuffix(entry, ".yaml")+".txt", want[entry])
			}
			if stderr != "" {
				t.Errorf("aiskao validate %s wrote to stderr:\n%s", entry, stderr)
			}
		})
	}
}

// TestValidateSeveralPaths checks that every path given is reported, in order, and that one bad
// path among good ones makes the exit status 1.
func TestValidateSeveralPaths(t *testing.T) {
	entries, want := badCorpus(t)
	args := []string{"validate", "routes/testdata/good.yaml"}
	expected := goodLine
	for _, e := range entries {
		if strings.HasSuffix(e, ".yaml") {
			args = append(args, e)
			expected += want[e]
		}
	}
	stdout, _, code := runFromRoot(t, args...)
	if code != 1 || stdout != expected {
		t.Errorf("aiskao validate good.yaml and the corpus: exit %d, printed:\n%swant exit 1 and:\n%s", code, stdout, expected)
	}
}

const goodLine = "routes/testdata/good.yaml: ok (7 connectors, 3 routes)\n"

func TestValidateGood(t *testing.T) {
	stdout, stderr, code := runFromRoot(t, "validate", "routes/testdata/good.yaml")
	if code != 0 || stdout != goodLine || stderr != "" {
		t.Errorf("aiskao validate routes/testdata/good.yaml: exit %d, stdout %q, stderr %q; want exit 0 and %q", code, stdout, stderr, goodLine)
	}
}

// TestGoodConfigRoutesRun pushes a sample through each route of good.yaml with `aiskao try`, so
// that the files it names (schema, template) exist and its steps do what the file says.
func TestGoodConfigRoutesRun(t *testing.T) {
	for _, tc := range []struct {
		route, input string
		to           [][]string // sinks of each delivery, in order
	}{
		{"incoming-documents", "testdata/esoed/registration-request.xml", [][]string{{"registry", "archive"}}},
		{"register-records", "routes/testdata/samples/register-export.xml", [][]string{{"registry"}, {"archive"}}},
		{"portal-applications", "routes/testdata/samples/portal-applications.json", [][]string{{"archive"}}},
	} {
		t.Run(tc.route, func(t *testing.T) {
			stdout, stderr, code := runFromRoot(t, "try", "-json", "-config", "routes/testdata/good.yaml", "-route", tc.route, tc.input)
			if code != 0 {
				t.Fatalf("aiskao try %s: exit %d\n%s%s", tc.route, code, stdout, stderr)
			}
			var trace struct {
				Error      string `json:"error"`
				Deliveries []struct {
					To []string `json:"to"`
				} `json:"deliveries"`
			}
			if err := json.Unmarshal([]byte(stdout), &trace); err != nil {
				t.Fatalf("trace is not JSON: %v\n%s", err, stdout)
			}
			var to [][]string
			for _, d := range trace.Deliveries {
				to = append(to, d.To)
			}
			if trace.Error != "" || !reflect.DeepEqual(to, tc.to) {
				t.Errorf("route %s: error %q, deliveries to %v; want no error and %v", tc.route, trace.Error, to, tc.to)
			}
		})
	}
}
