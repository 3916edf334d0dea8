package api

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"
	"gopkg.in/yaml.v3"
)

// openAPIURL names the document for the schema compiler; nothing is fetched from it.
const openAPIURL = "https://aiskao.invalid/dossier/openapi.json"

// openAPIDoc is openapi.yaml decoded into generic values.
type openAPIDoc struct {
	root     map[string]any
	compiler *jsonschema.Compiler
	schemas  map[string]*jsonschema.Schema
}

func loadOpenAPI(t *testing.T) *openAPIDoc {
	t.Helper()
	var root map[string]any
	if err := yaml.Unmarshal(openAPI, &root); err != nil {
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
	if err := c.AddResource(openAPIURL, bytes.NewReader(js)); err != nil {
		t.Fatalf("openapi.yaml as a schema resource: %v", err)
	}
	return &openAPIDoc{root: root, compiler: c, schemas: map[string]*jsonschema.Schema{}}
}

// operation is one path and method of the document.
type operation struct{ method, path string }

func (o operation) String() string { return strings.ToUpper(o.method) + " " + o.path }

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

func (d *openAPIDoc) operations(t *testing.T) []operation {
	t.Helper()
	paths, ok := d.root["paths"].(map[string]any)
	if !ok {
		t.Fatal("openapi.yaml: no paths")
	}
	var ops []operation
	for p, item := range paths {
		for m := range item.(map[string]any) {
			if slices.Contains(httpMethods, m) {
				ops = append(ops, operation{m, p})
			}
		}
	}
	return ops
}

func (d *openAPIDoc) op(o operation) map[string]any {
	return d.root["paths"].(map[string]any)[o.path].(map[string]any)[o.method].(map[string]any)
}

// deref follows a local $ref such as "#/components/responses/NotFound".
func (d *openAPIDoc) deref(t *testing.T, v map[string]any) (map[string]any, string) {
	t.Helper()
	ref, ok := v["$ref"].(string)
	if !ok {
		return v, ""
	}
	var cur any = d.root
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
	return m, strings.TrimPrefix(ref, "#")
}

// check holds an answer to the document: the operation the mux chose is described, lists the
// status, the media type and, for JSON, a schema the body is valid against.
func (d *openAPIDoc) check(t *testing.T, mux *http.ServeMux, r *http.Request, rec *httptest.ResponseRecorder) {
	t.Helper()
	_, pattern := mux.Handler(r)
	if pattern == "" {
		return // answered by net/http itself (unknown path, wrong method): not described
	}
	method, p, _ := strings.Cut(pattern, " ")
	o := operation{strings.ToLower(method), p}
	item, ok := d.root["paths"].(map[string]any)[o.path].(map[string]any)
	if !ok || item[o.method] == nil {
		t.Fatalf("%s is served but not described", o)
	}
	code := strconv.Itoa(rec.Code)
	responses := d.op(o)["responses"].(map[string]any)
	raw, ok := responses[code].(map[string]any)
	if !ok && rec.Code >= 500 {
		code = "default"
		raw, ok = responses[code].(map[string]any)
	}
	if !ok {
		t.Fatalf("%s answered %d, which openapi.yaml does not list: %s", o, rec.Code, rec.Body)
	}
	covered.Store(o.String()+" "+code, true)
	esc := strings.NewReplacer("~", "~0", "/", "~1").Replace
	resp, ptr := d.deref(t, raw)
	if ptr == "" {
		ptr = "/paths/" + esc(o.path) + "/" + o.method + "/responses/" + code
	}
	content, _ := resp["content"].(map[string]any)
	mt, _, _ := mime.ParseMediaType(rec.Header().Get("Content-Type"))
	if _, ok := content[mt]; !ok {
		t.Fatalf("%s %s: Content-Type %q, openapi.yaml lists %v", o, code, mt, content)
	}
	if mt != "application/json" && mt != "application/problem+json" {
		return
	}
	key := ptr + "/content/" + esc(mt) + "/schema"
	s, ok := d.schemas[key]
	if !ok {
		var err error
		if s, err = d.compiler.Compile(openAPIURL + "#" + key); err != nil {
			t.Fatalf("%s %s: compiling the schema at %s: %v", o, code, key, err)
		}
		d.schemas[key] = s
	}
	var body any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("%s %s: body is not JSON: %v", o, code, err)
	}
	if err := s.Validate(body); err != nil {
		t.Errorf("%s %s: body does not match openapi.yaml: %#v\nbody: %s", o, code, err, rec.Body)
	}
}

// covered records every operation and status the tests produced, "POST /path 201".
var covered sync.Map

// TestMain runs the tests, then, when all of them ran, holds the document's responses to them:
// every status listed for every operation was produced and checked by some test.
func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if code != 0 || flag.Lookup("test.run").Value.String() != "" {
		os.Exit(code)
	}
	var root map[string]any
	if err := yaml.Unmarshal(openAPI, &root); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	// The commands on a dossier share their answers (x-command-responses) and the code that
	// makes them (api.run, api.decode): a status any of them produced counts for all.
	shared := root["x-command-responses"]
	commandCovered := map[string]bool{}
	covered.Range(func(k, _ any) bool {
		f := strings.Fields(k.(string)) // method, path, status
		if item, ok := root["paths"].(map[string]any)[f[1]].(map[string]any); ok && f[0] == "POST" && reflect.DeepEqual(item["post"].(map[string]any)["responses"], shared) {
			commandCovered[f[2]] = true
		}
		return true
	})
	var missing []string
	for p, item := range root["paths"].(map[string]any) {
		for m, o := range item.(map[string]any) {
			if !slices.Contains(httpMethods, m) {
				continue
			}
			responses := o.(map[string]any)["responses"].(map[string]any)
			for status := range responses {
				op := operation{m, p}.String() + " " + status
				_, ok := covered.Load(op)
				if !ok && !(reflect.DeepEqual(any(responses), shared) && commandCovered[status]) {
					missing = append(missing, op)
				}
			}
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		fmt.Printf("openapi.yaml lists responses no test produced:\n  %s\n", strings.Join(missing, "\n  "))
		os.Exit(1)
	}
	os.Exit(code)
}

// The document describes exactly the endpoints the API serves, each with the permission the
// handler declares (x-permission).
func TestOpenAPIListsEveryEndpoint(t *testing.T) {
	f := newFixture(t)
	documented := map[string]string{}
	for _, o := range f.doc.operations(t) {
		perm, _ := f.doc.op(o)["x-permission"].(string)
		documented[o.String()] = perm
	}
	served := map[string]bool{}
	for _, e := range f.api.endpoints() {
		served[e.pattern] = true
		perm, ok := documented[e.pattern]
		switch {
		case !ok:
			t.Errorf("the API serves %q, openapi.yaml does not describe it", e.pattern)
		case e.perm == open && perm != "open", e.perm != open && perm != string(e.perm):
			t.Errorf("%s: openapi.yaml says x-permission %q, the handler needs %q", e.pattern, perm, e.perm)
		}
	}
	for p := range documented {
		if !served[p] {
			t.Errorf("openapi.yaml describes %q, the API does not serve it", p)
		}
	}
}

// The description is served, and is what is embedded.
func TestServesOpenAPI(t *testing.T) {
	f := newFixture(t)
	rec := f.do(req{method: "GET", path: "/api/v1/openapi.yaml"})
	if rec.Code != 200 || !bytes.Equal(rec.Body.Bytes(), OpenAPI()) || rec.Header().Get("Content-Type") != "application/yaml" {
		t.Fatalf("GET openapi.yaml: %d %s", rec.Code, rec.Header())
	}
}
