package ops

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"
	"gopkg.in/yaml.v3"
)

// openAPIURL names the document for the schema compiler; nothing is fetched from it.
const openAPIURL = "https://aiskao.invalid/ops/openapi.json"

// openAPIDoc is openapi.yaml decoded into generic values.
type openAPIDoc struct {
	root     map[string]any
	compiler *jsonschema.Compiler
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
	c.AssertContent = true
	if err := c.AddResource(openAPIURL, bytes.NewReader(js)); err != nil {
		t.Fatalf("openapi.yaml as a schema resource: %v", err)
	}
	return &openAPIDoc{root: root, compiler: c}
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

// responses returns the responses of op, by status code, with $ref followed.
func (d *openAPIDoc) responses(t *testing.T, op operation) map[string]map[string]any {
	t.Helper()
	o := d.root["paths"].(map[string]any)[op.path].(map[string]any)[op.method].(map[string]any)
	out := map[string]map[string]any{}
	for code, r := range o["responses"].(map[string]any) {
		out[code] = d.deref(t, r.(map[string]any))
	}
	return out
}

// deref follows a local $ref such as "#/components/responses/NotFound".
func (d *openAPIDoc) deref(t *testing.T, v map[string]any) map[string]any {
	t.Helper()
	ref, ok := v["$ref"].(string)
	if !ok {
		return v
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
	return d.deref(t, m)
}

// schemaFor compiles the schema of op's response code for media type mt, following the
// document's pointers so that $refs inside resolve against the whole document.
func (d *openAPIDoc) schemaFor(t *testing.T, op operation, code, mt string) *jsonschema.Schema {
	t.Helper()
	esc := strings.NewReplacer("~", "~0", "/", "~1").Replace
	resp := d.root["paths"].(map[string]any)[op.path].(map[string]any)[op.method].(map[string]any)["responses"].(map[string]any)[code].(map[string]any)
	ptr := "/paths/" + esc(op.path) + "/" + op.method + "/responses/" + code
	if ref, ok := resp["$ref"].(string); ok {
		ptr = strings.TrimPrefix(ref, "#")
	}
	ptr += "/content/" + esc(mt) + "/schema"
	s, err := d.compiler.Compile(openAPIURL + "#" + ptr)
	if err != nil {
		t.Fatalf("%s %s: compiling the response schema at %s: %v", op, code, ptr, err)
	}
	return s
}

// TestOpenAPIMatchesHandler holds the handler and openapi.yaml to each other: every request of
// apiCases that the API serves answers a status the document lists for its operation, with the
// documented media type and, for JSON, a body valid against the documented schema; and every
// documented status of every operation is produced by at least one case.
func TestOpenAPIMatchesHandler(t *testing.T) {
	doc := loadOpenAPI(t)
	mux := newAPI(&fakeBackend{}, nil, nil, nil).mux()
	covered := map[string]bool{} // "GET /path 200"

	for _, c := range apiCases {
		t.Run(c.name, func(t *testing.T) {
			f, rec := c.serve(t)
			_, pattern := mux.Handler(httptest.NewRequest(c.method, f.expand(c.target), nil))
			if pattern == "" {
				return // answered by net/http itself (unknown path, wrong method): not documented
			}
			method, path, _ := strings.Cut(pattern, " ")
			op := operation{strings.ToLower(method), path}
			responses := doc.responses(t, op)
			code := strconv.Itoa(rec.Code)
			resp, ok := responses[code]
			if !ok {
				t.Fatalf("%s answered %s, which openapi.yaml does not list (it lists %v)", op, code, keys(responses))
			}
			covered[op.String()+" "+code] = true
			content, _ := resp["content"].(map[string]any)
			mt := mediaType(rec.Header().Get("Content-Type"))
			if len(content) == 0 {
				if rec.Body.Len() != 0 {
					t.Errorf("%s %s: openapi.yaml lists no content, the handler sent %d bytes", op, code, rec.Body.Len())
				}
				return
			}
			if _, ok := content[mt]; !ok {
				t.Fatalf("%s %s: Content-Type %q, openapi.yaml lists %v", op, code, mt, keys(content))
			}
			if mt != "application/json" && mt != "application/problem+json" {
				return
			}
			var body any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("%s %s: body is not JSON: %v", op, code, err)
			}
			if err := doc.schemaFor(t, op, code, mt).Validate(body); err != nil {
				t.Errorf("%s %s: body does not match openapi.yaml: %#v\nbody: %s", op, code, err, rec.Body)
			}
		})
	}

	for _, op := range doc.operations(t) {
		for code := range doc.responses(t, op) {
			if !covered[op.String()+" "+code] {
				t.Errorf("openapi.yaml lists %s %s but no case of apiCases produces it", op, code)
			}
		}
	}
}

// TestOpenAPIListsEveryEndpoint checks that the document has exactly the endpoints Handler
// registers, no more and no fewer.
func TestOpenAPIListsEveryEndpoint(t *testing.T) {
	doc := loadOpenAPI(t)
	var registered, documented []string
	for _, e := range newAPI(&fakeBackend{}, nil, nil, nil).endpoints() {
		registered = append(registered, e.pattern)
	}
	for _, op := range doc.operations(t) {
		documented = append(documented, op.String())
	}
	for _, p := range registered {
		if !slices.Contains(documented, p) {
			t.Errorf("Handler serves %q, openapi.yaml does not describe it", p)
		}
	}
	for _, p := range documented {
		if !slices.Contains(registered, p) {
			t.Errorf("openapi.yaml describes %q, Handler does not serve it", p)
		}
	}
}

// TestOpenAPIParameters checks the documented query parameters of the listing against the code.
func TestOpenAPIParameters(t *testing.T) {
	doc := loadOpenAPI(t)
	op := doc.root["paths"].(map[string]any)["/api/v1/dead-letters"].(map[string]any)["get"].(map[string]any)
	params := map[string]map[string]any{}
	for _, p := range op["parameters"].([]any) {
		pm := doc.deref(t, p.(map[string]any))
		if pm["in"] != "query" {
			t.Errorf("parameter %v is in %v, want query", pm["name"], pm["in"])
		}
		params[pm["name"].(string)] = pm["schema"].(map[string]any)
	}
	if got := keys(params); !slices.Equal(got, []string{"limit", "route"}) {
		t.Fatalf("parameters %v, want [limit route]", got)
	}
	limit := params["limit"]
	for name, want := range map[string]int{"minimum": 1, "maximum": maxListLimit, "default": defaultListLimit} {
		if got := limit[name]; got != want {
			t.Errorf("limit %s is %v in openapi.yaml, %d in the code", name, got, want)
		}
	}
}

// The schemas are not so loose that anything passes: a body the handler must never send fails.
func TestOpenAPISchemasReject(t *testing.T) {
	doc := loadOpenAPI(t)
	get := operation{"get", "/api/v1/dead-letters/{id}"}
	for _, bad := range []string{
		`{"id":"a","message_id":"m","route":"r","step":"s","error":"e","attempts":1,"time":"2025-03-14T09:30:00Z","metadata":{}}`,
		`{"id":"a","message_id":"m","route":"r","step":"s","error":"e","attempts":1,"time":"2025-03-14T09:30:00Z","metadata":{},"payload":"x","payload_base64":"eA=="}`,
		`{"id":"a","message_id":"m","route":"r","step":"s","error":"e","attempts":1,"time":"yesterday","metadata":{},"payload":"x"}`,
		`{"id":"a","message_id":"m","route":"r","step":"s","error":"e","attempts":1,"time":"2025-03-14T09:30:00Z","metadata":{},"payload_base64":"not base64!"}`,
	} {
		var v any
		if err := json.Unmarshal([]byte(bad), &v); err != nil {
			t.Fatal(err)
		}
		if doc.schemaFor(t, get, "200", "application/json").Validate(v) == nil {
			t.Errorf("schema accepts %s", bad)
		}
	}
}

func keys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
