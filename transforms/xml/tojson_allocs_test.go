// The race detector changes what the runtime allocates, so byte counts are only meaningful
// without it.

//go:build !race

package xml

import (
	"bytes"
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/antchfx/xmlquery"
)

// TestWriteJSONCopiesAttachmentOnce: the JSON text of a document with a megabyte of base64 and
// more elements after it is written into one buffer grown once, not encoded into a slice of its
// own, copied into a buffer, and copied again when that buffer doubled for what followed.
func TestWriteJSONCopiesAttachmentOnce(t *testing.T) {
	att := strings.Repeat("QUJD", 256<<10)
	doc, err := xmlquery.Parse(strings.NewReader(`<m><Att><Body>` + att + `</Body><Name>a.pdf</Name></Att><Tail>` + strings.Repeat("x", 2000) + `</Tail></m>`))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	least := uint64(math.MaxUint64)
	for range 3 {
		b = bytes.Buffer{}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if err := writeJSON(&b, doc, nil); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	if least > uint64(b.Len())*3/2 {
		t.Errorf("allocated %d bytes for %d bytes of JSON, want at most 1.5×", least, b.Len())
	}
	if !strings.Contains(b.String(), `"Body":"`+att+`"`) {
		t.Error("the attachment is not in the JSON as it was")
	}
}
