package ops

import (
	"encoding/json"
	"maps"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/aiskao/aiskao/internal/openapitest"
)

// loadOpenAPI reads openapi.yaml; base64 in its schemas must be base64.
func loadOpenAPI(t *testing.T) *openapitest.Doc {
	return openapitest.Load(t, openAPI, "https://aiskao.invalid/ops/openapi.json", openapitest.Options{AssertContent: true})
}

// TestOpenAPIMatchesHandler holds the handler and openapi.yaml to each other: every request of
// apiCases that the API serves answers a status the document lists for its operation, with the
// documented media type and, for JSON, a body valid against the documented schema; and every
// documented status of every operation is produced by at least one case.
func TestOpenAPIMatchesHandler(t *testing.T) {
	doc := loadOpenAPI(t)
	mux := newAPI(&fakeBackend{}, nil, nil, nil).mux()
	for _, c := range apiCases {
		t.Run(c.name, func(t *testing.T) {
			f, rec := c.serve(t)
			doc.Check(t, mux, httptest.NewRequest(c.method, f.expand(c.target), nil), rec)
		})
	}

	for _, op := range doc.Operations(t) {
		for code := range doc.Responses(t, op) {
			if !doc.Covered(op.String() + " " + code) {
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
	for _, op := range doc.Operations(t) {
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
	op := doc.Op(openapitest.Operation{Method: "get", Path: "/api/v1/dead-letters"})
	params := map[string]map[string]any{}
	for _, p := range op["parameters"].([]any) {
		pm, _ := doc.Deref(t, p.(map[string]any))
		if pm["in"] != "query" {
			t.Errorf("parameter %v is in %v, want query", pm["name"], pm["in"])
		}
		params[pm["name"].(string)] = pm["schema"].(map[string]any)
	}
	if got := slices.Sorted(maps.Keys(params)); !slices.Equal(got, []string{"limit", "route"}) {
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
	get := openapitest.Operation{Method: "get", Path: "/api/v1/dead-letters/{id}"}
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
		if doc.ResponseSchema(t, get, "200", "application/json").Validate(v) == nil {
			t.Errorf("schema accepts %s", bad)
		}
	}
}
