package api

import (
	"testing"

	"github.com/aiskao/aiskao/dossier"
)

// A refused body names the field by a JSON pointer that escapes ~ and /, at any depth.
func TestDecodePointers(t *testing.T) {
	for _, c := range []struct{ body, pointer, code string }{
		{`{"data":{"a/b~c":1}}`, "/data/a~1b~0c", "invalid_type"},
		{`{"representative":{"kind":"person","name":"x","nick":"y"}}`, "/representative/nick", "unknown_field"},
		{`{"documents":[{},{},{"id":"c","SIZE":"1"}]}`, "/documents/2/SIZE", "invalid_type"},
		{`{"documents":[{},{"ID":"b","extra":{"name":1}}]}`, "/documents/1/extra", "unknown_field"},
		{`{"delivery":{"way":"post","adress":"x"}}`, "/delivery/adress", "unknown_field"},
		{`{"applicant":[]}`, "/applicant", "invalid_type"},
		{`[]`, "", "invalid_type"},
	} {
		var app dossier.Application
		f := decodeBody([]byte(c.body), &app)
		if f == nil || f.Pointer != c.pointer || f.Code != c.code {
			t.Errorf("%s: %+v, want %s %s", c.body, f, c.pointer, c.code)
		}
	}
}
