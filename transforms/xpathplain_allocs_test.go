// The race detector changes what the runtime allocates, so counts are only meaningful without it.

//go:build !race

package transforms

import "testing"

// TestXPathFirstAllocs: the demo's fields are found in the ЕСОЕД sample, and read, without
// allocating.
func TestXPathFirstAllocs(t *testing.T) {
	doc, xs := demoSample(t)
	for _, x := range xs {
		if n, ok := x.First(doc); !ok || n == nil || NodeValue(n) == "" {
			t.Fatalf("%s: no value", x)
		}
	}
	allocs := testing.AllocsPerRun(100, func() {
		for _, x := range xs {
			n, _ := x.First(doc)
			_ = NodeValue(n)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations for %d fields, want none", allocs, len(xs))
	}
}
