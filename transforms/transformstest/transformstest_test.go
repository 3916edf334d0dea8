package transformstest

import (
	"errors"
	"testing"
)

// recorder is a testing.TB that records a fatal failure instead of stopping the test.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(string, ...any) { r.failed = true }

func (r *recorder) Fatal(...any) { r.failed = true }

func TestWantErr(t *testing.T) {
	boom := errors.New("boom")
	for _, c := range []struct {
		name         string
		err          error
		want         string
		goOn, failed bool
	}{
		{"no error expected, none", nil, "", true, false},
		{"no error expected, one", boom, "", false, true},
		{"error expected, that one", boom, "boom", false, false},
		{"error expected, another", errors.New("bang"), "boom", false, true},
		{"error expected, none", nil, "boom", false, true},
	} {
		r := &recorder{TB: t}
		goOn := WantErr(r, c.err, c.want)
		if r.failed != c.failed || (!r.failed && goOn != c.goOn) {
			t.Errorf("%s: go on %v, failed %v; want %v, %v", c.name, goOn, r.failed, c.goOn, c.failed)
		}
	}
}
