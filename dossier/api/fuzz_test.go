package api

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/dossier"
)

// FuzzDecodeApplication feeds request bodies to the decoding of applications: it never panics,
// it accepts exactly what a strict encoding/json decoding accepts, and a refusal names a JSON
// pointer and a byte offset that lie within the body.
func FuzzDecodeApplication(f *testing.F) {
	for _, s := range []string{
		`{"service":"2016","applicant":{"kind":"person","egn":"8506258485","name":"М"},"documents":[{"id":"a","size":1}],"data":{"a~b/c":"1"}}`,
		`{"documents":[{"id":"a"},{"size":"x"}]}`,
		`{"applicant":{"kind":"person","egnn":"1"}}`,
		`{"data":{"x":1}}`,
		`{"received_at":"yesterday"}`,
		`[1,2,{"a":[]}]`,
		`{} {}`,
		`{"service":`,
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var app dossier.Application
		pf := decodeBody(body, &app)
		var strict dossier.Application
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.DisallowUnknownFields()
		err := dec.Decode(&strict)
		if err == nil && dec.More() {
			err = errTrailing
		}
		if (pf == nil) != (err == nil) {
			if pf == nil || !strings.Contains(pf.DetailEN, "more after") {
				t.Fatalf("decodeBody %v, encoding/json %v", pf, err)
			}
		}
		if pf == nil {
			return
		}
		if pf.Pointer != "" && !strings.HasPrefix(pf.Pointer, "/") {
			t.Fatalf("pointer %q", pf.Pointer)
		}
		if pf.DetailBG == "" || pf.DetailEN == "" || pf.Code == "" {
			t.Fatalf("incomplete problem %+v", pf)
		}
		if pf.Code == "unknown_field" && pf.Pointer == "" {
			t.Fatalf("an unknown field not named: %+v", pf)
		}
	})
}

var errTrailing = &json.SyntaxError{}
