package routes_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/routes"
	"github.com/aiskao/aiskao/spec"
)

// corpusDir is the bad-configuration corpus as seen from the repository root, where its tests
// load it from so that messages hold the same paths as `aiskao validate` run there (see
// testdata/README.md).
const corpusDir = "routes/testdata"

// unsetVariables are the environment variables that unset-env.bad.yaml needs unset.
var unsetVariables = []string{"AISKAO_TEST_UNSET_VARIABLE", "AISKAO_TEST_UNSET_PATH", "AISKAO_TEST_UNSET_DIR"}

// unsetEnv unsets the variables for the length of the test.
func unsetEnv(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, ok := os.LookupEnv(n); ok {
			t.Setenv(n, "") // restores the value when the test ends
			if err := os.Unsetenv(n); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// corpus lists the entries of the bad corpus (files *.bad.yaml and folders *.bad, paths from the
// repository root) and fails the test for an entry without its .bad.txt or a .bad.txt without
// its entry.
func corpus(t *testing.T) []string {
	t.Helper()
	files, _ := filepath.Glob(corpusDir + "/*.bad.yaml")
	dirs, _ := filepath.Glob(corpusDir + "/*.bad")
	entries := append(files, dirs...)
	if len(entries) == 0 {
		t.Fatalf("no *.bad.yaml or *.bad folder in %s", corpusDir)
	}
	has := map[string]bool{}
	for _, e := range entries {
		has[expectedFile(e)] = true
		if _, err := os.Stat(expectedFile(e)); err != nil && !*update {
			t.Errorf("%s has no %s with its expected messages (go test ./routes -update writes it)", e, filepath.Base(expectedFile(e)))
		}
	}
	txts, _ := filepath.Glob(corpusDir + "/*.bad.txt")
	for _, txt := range txts {
		if !has[txt] {
			t.Errorf("%s belongs to no %s.yaml or %s folder", txt, strings.TrimSuffix(filepath.Base(txt), ".txt"), strings.TrimSuffix(filepath.Base(txt), ".txt"))
		}
	}
	return entries
}

// expectedFile is where the messages of a corpus entry are kept: x.bad.yaml and x.bad/ both
// have x.bad.txt.
func expectedFile(entry string) string {
	return strings.TrimSuffix(entry, ".yaml") + ".txt"
}

// TestBadCorpus loads each entry of the corpus with the shipped catalog and compares every
// message with its .bad.txt, which holds what `aiskao validate` prints for it. -update rewrites
// the .bad.txt files; read the difference before keeping it.
func TestBadCorpus(t *testing.T) {
	t.Chdir("..")
	unsetEnv(t, unsetVariables...)
	cat := routes.DefaultCatalog()
	for _, entry := range corpus(t) {
		t.Run(filepath.Base(entry), func(t *testing.T) {
			_, err := routes.Load(cat, entry)
			var errs spec.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Load(%s) = %v, want configuration errors", entry, err)
			}
			got := errs.Error() + "\n"
			txt := expectedFile(entry)
			if *update {
				if err := os.WriteFile(txt, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(txt)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("Load(%s) messages differ from %s:\ngot:\n%swant:\n%s", entry, txt, got, want)
			}
		})
	}
}

// TestBadCorpusMessagesAreComplete checks the form of every expected message: it names a file,
// line and column in the entry, a path (but for a YAML or environment error) and what is wrong.
func TestBadCorpusMessagesAreComplete(t *testing.T) {
	t.Chdir("..")
	for _, entry := range corpus(t) {
		data, err := os.ReadFile(expectedFile(entry))
		if err != nil {
			continue // reported by corpus
		}
		lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
		for _, line := range lines {
			where, msg, ok := strings.Cut(line, ": ")
			parts := strings.Split(where, ":")
			if !ok || len(parts) != 3 || !strings.HasPrefix(parts[0], entry) || parts[1] == "0" || len(msg) < 10 {
				t.Errorf("%s: %q is not file:line:col: path: what is wrong, in %s", expectedFile(entry), line, entry)
			}
		}
	}
}
