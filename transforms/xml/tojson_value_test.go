package xml

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/antchfx/xmlquery"
)

// TestValueMatchesBytes: the decoded value xml_to_json hands to later steps is what its bytes
// decode to, for every sample and with forced arrays.
func TestValueMatchesBytes(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.xml")
	files = append(files, filepath.Join("..", "..", "testdata", "esoed", "registration-request.xml"))
	inline := `<a x="1"><b>t</b><b>u</b><c/><d y="2">text<e/></d>mixed</a>`
	for _, arrays := range []map[string]bool{nil, {"a.c": true, "Message.Header": true}} {
		for _, f := range append(files, "inline") {
			raw := []byte(inline)
			if f != "inline" {
				var err error
				if raw, err = os.ReadFile(f); err != nil {
					t.Fatal(err)
				}
			}
			doc, err := xmlquery.Parse(bytes.NewReader(raw))
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			var b bytes.Buffer
			if err := writeJSON(&b, doc, arrays); err != nil {
				t.Fatal(err)
			}
			var want any
			if err := json.Unmarshal(b.Bytes(), &want); err != nil {
				t.Fatalf("%s: bytes are not JSON: %v\n%s", f, err, b.Bytes())
			}
			got, err := jsonValue(doc, arrays)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s (arrays %v): value differs from decoded bytes\nvalue: %v\nbytes: %s", f, arrays, got, b.Bytes())
			}
		}
	}
}

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
