package xmltree

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// bindingsDoc nests levels elements declaring 200 prefixes each, then holds elements children
// that use the outermost prefix.
func bindingsDoc(levels, elements int) []byte {
	var b strings.Builder
	for d := range levels {
		b.WriteString("<e")
		for i := range 200 {
			fmt.Fprintf(&b, ` xmlns:p%d_%d="urn:a:b"`, d, i)
		}
		b.WriteString(">")
	}
	b.WriteString(strings.Repeat("<p0_0:x/>", elements))
	b.WriteString(strings.Repeat("</e>", levels))
	return []byte(b.String())
}

// TestManyBindingsLinear: a prefix is resolved by searching the declarations in scope from the
// innermost; 255 levels declaring 200 prefixes each put 51,000 of them in scope, and 200,000
// elements using the outermost took 10^10 steps. The fast path leaves documents with that many
// declarations in scope to xmlquery, whose lookups are maps. The test compares two documents,
// the second four times the first in declarations and in elements: linear parsing takes about
// four times as long, the search sixteen times. The fastest of three runs of each is compared,
// so that a busy machine slows both alike.
func TestManyBindingsLinear(t *testing.T) {
	fastest := func(doc []byte) time.Duration {
		best := time.Duration(1<<63 - 1)
		for range 3 {
			start := time.Now()
			if _, err := Parse(doc); err != nil {
				t.Fatal(err)
			}
			best = min(best, time.Since(start))
		}
		return best
	}
	small, large := bindingsDoc(32, 25000), bindingsDoc(128, 100000)
	ts, tl := fastest(small), fastest(large)
	if ratio := float64(tl) / float64(ts); ratio > 10 {
		t.Errorf("%d bytes took %v, %d bytes %v: %.1f times as long for 4 times the declarations and elements; want about 4",
			len(small), ts, len(large), tl, ratio)
	}
}
