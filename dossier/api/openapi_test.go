package api

import (
	"bytes"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/aiskao/aiskao/internal/openapitest"
)

// loadOpenAPI reads openapi.yaml.
func loadOpenAPI(t *testing.T) *openapitest.Doc {
	return openapitest.Load(t, openAPI, "https://aiskao.invalid/dossier/openapi.json", openapitest.Options{})
}

// check holds an answer to the document (openapitest.Doc.Check) and records what it covered.
func check(t *testing.T, doc *openapitest.Doc, mux *http.ServeMux, r *http.Request, rec *httptest.ResponseRecorder) {
	t.Helper()
	if c := doc.Check(t, mux, r, rec); c != "" {
		covered.Store(c, true)
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
			if !slices.Contains(openapitest.Methods, m) {
				continue
			}
			responses := o.(map[string]any)["responses"].(map[string]any)
			for status := range responses {
				op := openapitest.Operation{Method: m, Path: p}.String() + " " + status
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
	for _, o := range f.doc.Operations(t) {
		perm, _ := f.doc.Op(o)["x-permission"].(string)
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
