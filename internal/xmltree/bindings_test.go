package xmltree

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestManyBindingsLinear: a prefix is resolved by searching the declarations in scope from the
// innermost; 255 levels declaring 200 prefixes each put 51,000 of them in scope, and 200,000
// elements using the outermost would take 10^10 steps. The fast path leaves documents with that
// many declarations in scope to xmlquery, whose lookups are maps.
func TestManyBindingsLinear(t *testing.T) {
	var b strings.Builder
	for d := range 255 {
		b.WriteString("<e")
		for i := range 200 {
			fmt.Fprintf(&b, ` xmlns:p%d_%d="urn:a:b"`, d, i)
		}
		b.WriteString(">")
	}
	b.WriteString(strings.Repeat("<p0_0:x/>", 200000))
	b.WriteString(strings.Repeat("</e>", 255))
	start := time.Now()
	if _, err := Parse([]byte(b.String())); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("parsed %d bytes in %v, want about a second", b.Len(), took)
	}
}
