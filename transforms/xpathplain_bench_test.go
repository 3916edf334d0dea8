package transforms

import (
	"testing"

	"github.com/antchfx/xpath"
)

// BenchmarkXPathFirst reads the demo's five fields from the ЕСОЕД sample the way the xpath step
// does: through the library (evaluate, first node, its value) and through the walk.
func BenchmarkXPathFirst(b *testing.B) {
	doc, xs := demoSample(b)
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
