// Package openapitest holds an HTTP API to its OpenAPI 3.1 document in tests: the operations
// the document describes, and each answer a test receives checked against the status, media
// type and JSON Schema the document lists for it. The operations API and the dossier API use it.
package openapitest

import (
	"bytes"
	"encoding/json"
	"maps"
	"mime"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"
	"gopkg.in/yaml.v3"
)

// Methods are the keys of a path item that are operations.
var Methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// Doc is an OpenAPI document decoded into generic values, with its schemas compiled on demand.
type Doc struct {
	// Root is the document as YAML decodes it.
	Root     map[string]any
	url      string
	compiler *jsonschema.Compiler

	mu      sync.Mutex
	schemas map[string]*jsonschema.Schema
	covered map[string]bool // "GET /path 200"
}

// Options choose how strictly schemas are checked.
type Options struct {
	// AssertContent checks contentEncoding and contentMediaType (base64 that is not base64).
	AssertContent bool
}

// Load decodes an OpenAPI 3.1 document; url names it for the schema compiler (nothing is
// fetched from it).
func Load(t testing.TB, doc []byte, url string, o Options) *Doc {
	t.Helper()
	var root map[string]any
	if err := yaml.Unmarshal(doc, &root); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if v, _ := root["openapi"].(string); !strings.HasPrefix(v, "3.1.") {
		t.Fatalf("openapi.yaml: openapi is %q, want 3.1.x", v)
	}
	js, err := json.Marshal(root)
	if err != nil {
		t.Fatalf("openapi.yaml as JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020 // the dialect of OpenAPI 3.1 schemas
	c.AssertFormat = true
	c.AssertContent = o.AssertContent
	if err := c.AddResource(url, bytes.NewReader(js)); err != nil {
		t.Fatalf("openapi.yaml as a schema resource: %v", err)
	}
	return &Doc{Root: root, url: url, compiler: c, schemas: map[string]*jsonschema.Schema{}, covered: map[string]bool{}}
}

// Operation is one path and method of the document; Method is lower case, as the document
// writes it.
type Operation struct{ Method, Path string }

// String is the operation as a ServeMux pattern: "GET /path".
func (o Operation) String() string { return strings.ToUpper(o.Method) + " " + o.Path }

// Operations lists every operation of the document.
func (d *Doc) Operations(t testing.TB) []Operation {
	t.Helper()
	paths, ok := d.Root["paths"].(map[string]any)
	if !ok {
		t.Fatal("openapi.yaml: no paths")
	}
	var ops []Operation
	for p, item := range paths {
		for m := range item.(map[string]any) {
			if slices.Contains(Methods, m) {
				ops = append(ops, Operation{m, p})
			}
		}
	}
	return ops
}

// Op returns the operation object of o, or nil when the document does not describe o.
func (d *Doc) Op(o Operation) map[string]any {
	item, _ := d.Root["paths"].(map[string]any)[o.Path].(map[string]any)
	op, _ := item[o.Method].(map[string]any)
	return op
}

// Responses returns o's responses by status code, with $ref followed.
func (d *Doc) Responses(t testing.TB, o Operation) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	rs, _ := d.Op(o)["responses"].(map[string]any)
	for code, r := range rs {
		out[code], _ = d.Deref(t, r.(map[string]any))
	}
	return out
}

// Deref follows a local $ref such as "#/components/responses/NotFound", and returns the object
// and the JSON pointer it was found at ("" when v was no reference).
func (d *Doc) Deref(t testing.TB, v map[string]any) (map[string]any, string) {
	t.Helper()
	ref, ok := v["$ref"].(string)
	if !ok {
		return v, ""
	}
	var cur any = d.Root
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("openapi.yaml: $ref %q does not resolve", ref)
		}
		cur = m[part]
	}
	m, ok := cur.(map[string]any)
	if !ok {
		t.Fatalf("openapi.yaml: $ref %q does not resolve", ref)
	}
	if inner, ptr := d.Deref(t, m); ptr != "" {
		return inner, ptr
	}
	return m, strings.TrimPrefix(ref, "#")
}

var escape = strings.NewReplacer("~", "~0", "/", "~1").Replace

// ResponseSchema compiles the schema of o's response code for media type mt, following the
// document's pointers so that $refs inside resolve against the whole document.
func (d *Doc) ResponseSchema(t testing.TB, o Operation, code, mt string) *jsonschema.Schema {
	t.Helper()
	raw, _ := d.Op(o)["responses"].(map[string]any)[code].(map[string]any)
	if raw == nil {
		t.Fatalf("openapi.yaml: %s lists no response %s", o, code)
	}
	_, ptr := d.Deref(t, raw)
	if ptr == "" {
		ptr = "/paths/" + escape(o.Path) + "/" + o.Method + "/responses/" + code
	}
	return d.schema(t, ptr+"/content/"+escape(mt)+"/schema")
}

func (d *Doc) schema(t testing.TB, ptr string) *jsonschema.Schema {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	if s, ok := d.schemas[ptr]; ok {
		return s
	}
	s, err := d.compiler.Compile(d.url + "#" + ptr)
	if err != nil {
		t.Fatalf("openapi.yaml: compiling the schema at %s: %v", ptr, err)
	}
	d.schemas[ptr] = s
	return s
}

// Check holds an answer to the document: the operation mux chose for r is described and lists
// the status (a 5xx may be its "default"), the media type and, for JSON, a schema the body is
// valid against; a response listed without content has no body. An answer net/http gave itself
// (unknown path, wrong method) is not described and not checked. It returns the operation and
// status it covered, "GET /path 200", or "".
func (d *Doc) Check(t testing.TB, mux *http.ServeMux, r *http.Request, rec *httptest.ResponseRecorder) string {
	t.Helper()
	_, pattern := mux.Handler(r)
	if pattern == "" {
		return ""
	}
	method, p, _ := strings.Cut(pattern, " ")
	o := Operation{strings.ToLower(method), p}
	op := d.Op(o)
	if op == nil {
		t.Fatalf("%s is served but openapi.yaml does not describe it", o)
	}
	code := strconv.Itoa(rec.Code)
	responses, _ := op["responses"].(map[string]any)
	if _, ok := responses[code]; !ok && rec.Code >= 500 && responses["default"] != nil {
		code = "default"
	}
	raw, ok := responses[code].(map[string]any)
	if !ok {
		t.Fatalf("%s answered %d, which openapi.yaml does not list: %s", o, rec.Code, rec.Body)
	}
	covered := o.String() + " " + code
	d.mu.Lock()
	d.covered[covered] = true
	d.mu.Unlock()
	resp, _ := d.Deref(t, raw)
	content, _ := resp["content"].(map[string]any)
	if len(content) == 0 {
		if rec.Body.Len() != 0 {
			t.Errorf("%s %s: openapi.yaml lists no content, the handler sent %d bytes", o, code, rec.Body.Len())
		}
		return covered
	}
	mt, _, _ := mime.ParseMediaType(rec.Header().Get("Content-Type"))
	if _, ok := content[mt]; !ok {
		t.Fatalf("%s %s: Content-Type %q, openapi.yaml lists %v", o, code, mt, slices.Sorted(maps.Keys(content)))
	}
	if mt != "application/json" && mt != "application/problem+json" {
		return covered
	}
	var body any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("%s %s: body is not JSON: %v", o, code, err)
	}
	if err := d.ResponseSchema(t, o, code, mt).Validate(body); err != nil {
		t.Errorf("%s %s: body does not match openapi.yaml: %#v\nbody: %s", o, code, err, rec.Body)
	}
	return covered
}

// Covered reports whether a Check produced the operation's status ("GET /path 200").
func (d *Doc) Covered(s string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.covered[s]
}
