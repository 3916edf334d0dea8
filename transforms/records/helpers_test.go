package records

import (
	"context"
	"os"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/transforms"
)

// decodeOptions decodes YAML options the way the configuration loader does (defaults, checks).
func decodeOptions[T any](tb testing.TB, src string) *T {
	tb.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		tb.Fatal(err)
	}
	opts := new(T)
	if errs := spec.Decode("step.yaml", n.Content[0], "step", opts); len(errs) > 0 {
		tb.Fatal(errs)
	}
	return opts
}

// newStep makes the named step from YAML options.
func newStep(tb testing.TB, name, src string) transforms.Step {
	tb.Helper()
	f, ok := transforms.Default.Lookup(name)
	if !ok {
		tb.Fatalf("step %s is not registered", name)
	}
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		tb.Fatal(err)
	}
	opts := reflect.New(reflect.TypeOf(f.Config).Elem()).Interface()
	if errs := spec.Decode("step.yaml", n.Content[0], "step", opts); len(errs) > 0 {
		tb.Fatal(errs)
	}
	st, err := f.New(opts, transforms.Env{BaseDir: "."})
	if err != nil {
		tb.Fatal(err)
	}
	return st
}

func readFile(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// split runs a splitting step on payload.
func split(tb testing.TB, st transforms.Step, payload []byte) ([]*transforms.Message, error) {
	tb.Helper()
	m := transforms.NewMessage("file-1", map[string]string{"filename": "f.txt"}, payload)
	return st.(transforms.Splitter).Split(context.Background(), m)
}

// checkParse runs a parsing step on in and checks the first message's payload against want, or,
// when wantErr is set, that the step fails with an error containing it.
func checkParse(t *testing.T, st transforms.Step, in, want, wantErr string) {
	t.Helper()
	msgs, err := split(t, st, []byte(in))
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("err = %v\nwant %s", err, wantErr)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if got := payload(t, msgs[0]); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func payload(tb testing.TB, m *transforms.Message) string {
	tb.Helper()
	p, err := m.Payload()
	if err != nil {
		tb.Fatal(err)
	}
	return string(p)
}
