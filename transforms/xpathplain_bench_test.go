package transforms

import (
	"os"
	"testing"

	"github.com/antchfx/xpath"
)

// BenchmarkXPathFirst reads the demo's five fields from the ЕСОЕД sample the way the xpath step
// does: through the library (evaluate, first node, its value) and through the walk.
func BenchmarkXPathFirst(b *testing.B) {
	in, err := os.ReadFile("../testdata/esoed/registration-request.xml")
	if err != nil {
		b.Fatal(err)
	}
	doc, err := NewMessage("1", nil, in).XML()
	if err != nil {
		b.Fatal(err)
	}
	var xs []*XPath
	for _, src := range demoFields {
		x, err := CompileXPath(src, plainNS)
		if err != nil {
			b.Fatal(err)
		}
		xs = append(xs, x)
	}
	b.Run("library", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, x := range xs {
				it := x.Evaluate(doc).(*xpath.NodeIterator)
				if !it.MoveNext() || it.Current().Value() == "" {
					b.Fatalf("%s: no value", x)
				}
			}
		}
	})
	b.Run("walk", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, x := range xs {
				if n, _ := x.First(doc); n == nil || NodeValue(n) == "" {
					b.Fatalf("%s: no value", x)
				}
			}
		}
	})
}
