package embedded

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/transport"
)

func TestRegistered(t *testing.T) {
	f, ok := transport.Default.Lookup("embedded")
	if !ok {
		t.Fatal(`transport type "embedded" is not registered`)
	}
	if f.Doc == "" {
		t.Error("factory has no Doc")
	}
	if missing := spec.MissingDocs(reflect.TypeOf(f.Config)); len(missing) > 0 {
		t.Errorf("fields without doc tag: %v", missing)
	}
	tr, err := f.New(&Config{}, transport.Env{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if got := tr.(*Transport).cfg.Prefetch; got != 64 {
		t.Errorf("prefetch %d, want the default 64", got)
	}
}

func TestDefaultFileIsInDataFolder(t *testing.T) {
	dir := t.TempDir()
	tr, err := New(Config{}, transport.Env{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	publish(t, tr, "topic", simple(1)...)
	if m, _ := filepath.Glob(filepath.Join(dir, "aiskao.db")); len(m) != 1 {
		t.Errorf("no aiskao.db in the data folder %s", dir)
	}
}

func TestConfigDecode(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       Config
		err        string // substring of the error; empty for none
	}{
		{name: "defaults", yaml: `{}`, want: Config{BatchMax: 256, Prefetch: 64, ReadBytes: 8 << 20, HandoffBytes: 16 << 20,
			PollInterval: spec.Duration(100 * time.Millisecond), AckInterval: spec.Duration(10 * time.Millisecond), CloseTimeout: spec.Duration(10 * time.Second)}},
		{name: "set", yaml: "{file: q.db, batch_max: 10, prefetch: 1, read_bytes: 1MiB, handoff_bytes: 2KiB, poll_interval: 1s, ack_interval: 5ms, close_timeout: 1m}", want: Config{File: "q.db", BatchMax: 10, Prefetch: 1, ReadBytes: 1 << 20, HandoffBytes: 2 << 10,
			PollInterval: spec.Duration(time.Second), AckInterval: spec.Duration(5 * time.Millisecond), CloseTimeout: spec.Duration(time.Minute)}},
		{name: "batch_max below min", yaml: "{batch_max: 0}", err: "batch_max"},
		{name: "prefetch below min", yaml: "{prefetch: 0}", err: "prefetch"},
		{name: "read_bytes below min", yaml: "{read_bytes: 0}", err: "read_bytes"},
		{name: "handoff_bytes not a size", yaml: "{handoff_bytes: lots}", err: "handoff_bytes"},
		{name: "poll too fast", yaml: "{poll_interval: 10us}", err: "poll_interval: must be between 1ms and 1m, got 10µs"},
		{name: "ack too slow", yaml: "{ack_interval: 2s}", err: "ack_interval: must be between 1ms and 1s, got 2s"},
		{name: "ack zero", yaml: "{ack_interval: 0s}", err: "ack_interval: must be between 1ms and 1s, got 0s"},
		{name: "unknown key", yaml: "{batch: 3}", err: `unknown key "batch"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var n yaml.Node
			if err := yaml.Unmarshal([]byte(c.yaml), &n); err != nil {
				t.Fatal(err)
			}
			var got Config
			errs := spec.Decode("t.yaml", n.Content[0], "transport", &got)
			if c.err == "" {
				if len(errs) > 0 {
					t.Fatalf("unexpected errors: %v", errs)
				}
				if got != c.want {
					t.Fatalf("decoded %+v, want %+v", got, c.want)
				}
				return
			}
			if len(errs) == 0 || !strings.Contains(errs.Error(), c.err) {
				t.Fatalf("errors %q, want one containing %q", errs, c.err)
			}
		})
	}
}

func TestValidateNamesFields(t *testing.T) {
	c := Config{BatchMax: -1, Prefetch: -3, PollInterval: 0, AckInterval: spec.Duration(-1), CloseTimeout: spec.Duration(time.Hour)}
	var fields []string
	errs := spec.Unjoin(spec.Check(&c))
	errs = append(errs, spec.Unjoin(c.Validate())...)
	for _, err := range errs {
		var fe *spec.FieldError
		if !errors.As(err, &fe) {
			t.Fatalf("%v is not a spec.FieldError", err)
		}
		fields = append(fields, fe.Field)
	}
	if want := "[batch_max prefetch poll_interval ack_interval close_timeout]"; strings.Join(fields, " ") != strings.Trim(want, "[]") {
		t.Errorf("fields %v, want %s", fields, want)
	}
}
