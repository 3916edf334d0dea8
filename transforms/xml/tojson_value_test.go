package xml

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
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
