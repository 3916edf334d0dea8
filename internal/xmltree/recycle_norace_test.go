//go:build !race

package xmltree

import (
	"os"
	"testing"

	"github.com/aiskao/aiskao/internal/xmllimit"
)

// The race detector makes sync.Pool drop what it is given now and then, so the memory
// recycled is measured without it.
func TestParseRecycledTakesTheMemoryBack(t *testing.T) {
	doc, err := os.ReadFile("../../testdata/esoed/registration-request.xml")
	if err != nil {
		t.Fatal(err)
	}
	recycled := allocatedBy(func() {
		for range 10 {
			_, rec, err := ParseRecycled(doc, xmllimit.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			rec.Recycle()
		}
	})
	fresh := allocatedBy(func() {
		for range 10 {
			if _, err := ParseShared(doc, xmllimit.Limits{}); err != nil {
				t.Fatal(err)
			}
		}
	})
	// The slabs are most of a tree's memory; what is left is the decoded texts.
	if recycled*3 > fresh {
		t.Errorf("ten documents parsed recycled allocated %d bytes, fresh %d: want a third or less", recycled, fresh)
	}
	t.Logf("ten documents: %d bytes recycled, %d fresh", recycled, fresh)
}
