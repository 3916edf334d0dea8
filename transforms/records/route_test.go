package records_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	_ "github.com/aiskao/aiskao/connectors/all"
	"github.com/aiskao/aiskao/hub"
	_ "github.com/aiskao/aiskao/hub/transport/embedded"
	"github.com/aiskao/aiskao/routes"
	"github.com/aiskao/aiskao/store"
	_ "github.com/aiskao/aiskao/store/sqlite"
	_ "github.com/aiskao/aiskao/transforms/all"
)

// The example configuration, run by the engine: a register file dropped into the file source's
// folder becomes one message per good record in the output folder, and each bad record a dead
// letter of its own naming the record number, the field and the value.
func TestExampleRouteDeadLettersBadRecords(t *testing.T) {
	cfg, err := routes.Load(routes.DefaultCatalog(), "../../configs/examples/tax-register.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	eng := start(t, cfg, dir)
	inbox := filepath.Join(dir, "inbox", "tax-register")
	drop(t, "testdata/tax-register-bad.txt", inbox)

	out := filepath.Join(dir, "out", "tax-register")
	var files []string
	var dls []store.DeadLetter
	deadline := time.Now().Add(30 * time.Second)
	for {
		files, _ = filepath.Glob(filepath.Join(out, "*.json"))
		dls, err = eng.Store().ListDeadLetters(context.Background(), store.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(files) >= 20 && len(dls) >= 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s: %d records delivered (want 20), %d dead letters (want 4)", len(files), len(dls))
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // nothing more may come
	if files, _ = filepath.Glob(filepath.Join(out, "*.json")); len(files) != 20 {
		t.Errorf("%d records delivered, want 20", len(files))
	}

	var errs []string
	for _, d := range dls {
		if d.Route != "tax-register-records" || d.Step != "steps[0].record_reject" {
			t.Errorf("dead letter in route %s at %s", d.Route, d.Step)
		}
		errs = append(errs, d.Error)
	}
	sort.Slice(errs, func(i, j int) bool { return recordOf(errs[i]) < recordOf(errs[j]) })
	want := []string{
		`record 3 (line 3), field address, value "гр. Примерно, ул. „Шипка“ 78  ": short record: 100 characters, the fields need 166`,
		`record 5 (line 5), field tax_base, value "0000456A8,90": not a decimal number (separator ",")`,
		`record 9 (line 9), field birth_date, value "31.02.1980": not a date in the layout 02.01.2006`,
		"record 12 (line 12), field address, value \"гр. Пример\ufffdо, ул. „Васил Левски“ 4                \": byte 0x98 at byte 81 of the record is not valid in windows-1251",
	}
	if len(errs) != len(want) {
		t.Fatalf("dead letters:\n%s", strings.Join(errs, "\n"))
	}
	for i := range want {
		if !strings.Contains(errs[i], want[i]) {
			t.Errorf("dead letter %d: %s\nwant it to name %s", i, errs[i], want[i])
		}
	}

	// A delivered record is UTF-8 JSON with typed values.
	var names []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var rec map[string]any
		if err := json.Unmarshal(b, &rec); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		names = append(names, rec["name"].(string))
	}
	found := false
	for _, n := range names {
		found = found || n == "НИКОЛОВА ЮЛИЯ ДИМИТЪРОВА"
	}
	if !found {
		t.Errorf("the first record's name is not among the delivered: %v", names)
	}
	if done, _ := filepath.Glob(filepath.Join(inbox, "done", "register.txt")); len(done) != 1 {
		t.Error("the register file was not moved to done/")
	}
}

// start builds the engine of cfg with its data in dir and starts it until the test ends.
func start(t *testing.T, cfg *routes.Config, dir string) *hub.Engine {
	t.Helper()
	eng, err := hub.Build(cfg, hub.Options{DataDir: dir, Logger: quiet(), Catalog: routes.DefaultCatalog()})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = eng.Stop(context.Background()) })
	return eng
}

// drop puts the file src into the folder a file source reads as register.txt, written under a
// hidden name first so that it is never seen half-written, and returns its content.
func drop(t *testing.T, src, folder string) []byte {
	t.Helper()
	in, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(folder, ".register.tmp"), in, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(folder, ".register.tmp"), filepath.Join(folder, "register.txt")); err != nil {
		t.Fatal(err)
	}
	return in
}

// recordOf returns the record number an error names, for sorting.
func recordOf(s string) int {
	i := strings.Index(s, "record ")
	n := 0
	for _, c := range s[i+len("record "):] {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// The configuration that shows every option of the record steps loads.
func TestGoodRecordsConfigLoads(t *testing.T) {
	if _, err := routes.Load(routes.DefaultCatalog(), "../../routes/testdata/good-records.yaml"); err != nil {
		t.Fatal(err)
	}
}

// Through the engine, a register file read by the file source, parsed, written again by the
// writer and delivered by the file sink is the same file byte for byte.
func TestEngineRoundTripIsByteIdentical(t *testing.T) {
	layout, err := os.ReadFile("testdata/tax-register.yaml")
	if err != nil {
		t.Fatal(err)
	}
	indent := func(s string) string {
		return "          " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n          ")
	}
	text := `
transport: { type: embedded }
store: { type: sqlite }
connectors:
  drop: { type: file, dir: in, pattern: "*.txt", poll_interval: 100ms }
  out:  { type: file, dir: out, name: '{{meta "filename"}}', fsync: false }
routes:
  - name: again
    from: drop
    steps:
      - fixed_width:
` + indent(string(layout)) + `
      - fixed_width:
          mode: write
` + indent(string(layout)) + `
    to: [out]
`
	dir := t.TempDir()
	cfg, err := routes.Parse(routes.DefaultCatalog(), filepath.Join(dir, "hub.yaml"), []byte(text))
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	start(t, cfg, dir)
	in := drop(t, "testdata/tax-register.txt", filepath.Join(dir, "in"))
	target := filepath.Join(dir, "out", "register.txt")
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(target); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("nothing delivered in 30 s")
		}
	}
	got, err := os.ReadFile(target)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(in) {
		t.Errorf("the file written back (%d bytes) differs from the input (%d bytes)", len(got), len(in))
	}
}
