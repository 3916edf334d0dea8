// The race detector makes sync.Pool drop items at random, so allocation
// counts are only meaningful without it.

//go:build !race

package jsonenc

import "testing"

// TestAppendAllocs checks that a payload tree costs no allocation once b is
// large enough.
func TestAppendAllocs(t *testing.T) {
	v := benchValue(t)
	b := make([]byte, 0, 64<<10)
	allocs := testing.AllocsPerRun(100, func() {
		var err error
		if b, err = Append(b[:0], v); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Append allocated %v times per run, want 0", allocs)
	}
}
