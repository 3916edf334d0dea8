// The race detector changes what the runtime allocates, so counts are only meaningful without it.

//go:build !race

package transforms

import (
	"os"
	"testing"
)

// TestXPathFirstAllocs: the demo's fields are found in the ЕСОЕД sample, and read, without
// allocating.
func TestXPathFirstAllocs(t *testing.T) {
	b, err := os.ReadFile("../testdata/esoed/registration-request.xml")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := NewMessage("1", nil, b).XML()
	if err != nil {
		t.Fatal(err)
	}
	var xs []*XPath
	for _, src := range demoFields {
		x, err := CompileXPath(src, plainNS)
		if err != nil {
			t.Fatal(err)
		}
		if n, ok := x.First(doc); !ok || n == nil || NodeValue(n) == "" {
			t.Fatalf("%s: no value", src)
		}
		xs = append(xs, x)
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
