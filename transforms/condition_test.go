package transforms

import (
	"sync"
	"testing"

	"github.com/aiskao/aiskao/transforms/transformstest"
)

const condXML = `<m:Message xmlns:m="urn:m"><m:Header><m:Type>DocumentRegistrationRequest</m:Type><m:Count>2</m:Count></m:Header><m:Body/></m:Message>`

func TestNewConditionErrors(t *testing.T) {
	tests := []struct {
		name, xp, ex string
		want         string
	}{
		{"none", "", "", "condition: set one of xpath or expr"},
		{"both", "/a", "true", "condition: set either xpath or expr, not both"},
		{"bad xpath", "/a[", "", `invalid XPath "/a[": expression must evaluate to a node-set`},
		{"unknown prefix", "/x:a", "", `invalid XPath "/x:a": prefix "x" is not declared in namespaces`},
		{"bad expr", "", "meta.type ==", `invalid expression "meta.type ==": unexpected token EOF (1:12)`},
		{"not boolean", "", `"yes"`, `invalid expression "\"yes\"": expected bool, but got string`},
		{"unknown name", "", "foo == 1", `invalid expression "foo == 1": unknown name foo (1:1)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewCondition(tt.xp, tt.ex, nil)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error = %v, want %s", err, tt.want)
			}
		})
	}
}

func TestConditionMatch(t *testing.T) {
	ns := map[string]string{"m": "urn:m"}
	tests := []struct {
		name, xp, ex string
		payload      string
		meta         map[string]string
		want         bool
		wantErr      string
	}{
		{name: "node selected", xp: "/m:Message/m:Header/m:Type", payload: condXML, want: true},
		{name: "no node", xp: "/m:Message/m:Header/m:Missing", payload: condXML, want: false},
		{name: "boolean true", xp: "/m:Message/m:Header/m:Type = 'DocumentRegistrationRequest'", payload: condXML, want: true},
		{name: "boolean false", xp: "/m:Message/m:Header/m:Type = 'Other'", payload: condXML, want: false},
		{name: "number non-zero", xp: "count(//m:Header/*)", payload: condXML, want: true},
		{name: "number zero", xp: "count(//m:Body/*)", payload: condXML, want: false},
		{name: "string non-empty", xp: "string(//m:Type)", payload: condXML, want: true},
		{name: "string empty", xp: "string(//m:Body)", payload: condXML, want: false},
		{name: "not XML", xp: "/a", payload: `{"a":1}`, wantErr: "xpath /a: payload is not well-formed XML: xml: text before the root element at line 1, column 1"},
		{name: "expr on meta", ex: `meta.type == "esoed.X"`, payload: condXML, meta: map[string]string{"type": "esoed.X"}, want: true},
		{name: "expr on body", ex: `body.kind == "a" && body.n > 1`, payload: `{"kind":"a","n":2}`, want: true},
		{name: "expr body nil for XML", ex: `body == nil`, payload: condXML, want: true},
		{name: "expr run error", ex: `body.items[3] == "x"`, payload: `{"items":[]}`, wantErr: `expr "body.items[3] == \"x\"": index out of range: 3 (array length is 0) (1:11)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewCondition(tt.xp, tt.ex, ns)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Match(NewMessage("1", tt.meta, []byte(tt.payload)))
			if !transformstest.WantErr(t, err, tt.wantErr) {
				return
			}
			if got != tt.want {
				t.Fatalf("Match = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestExprUsesBody(t *testing.T) {
	for src, want := range map[string]bool{
		`meta.type == "a"`:             false,
		`body.a == "b"`:                true,
		`"body" in meta`:               false,
		`len(body ?? []) > 0`:          true,
		`meta["body"] == "x"`:          false,
		`let b = body; b != nil`:       true,
		`meta.subject startsWith "97"`: false,
	} {
		e, err := CompileExpr(src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if e.UsesBody() != want {
			t.Errorf("%s: UsesBody = %v, want %v", src, e.UsesBody(), want)
		}
	}
}

// The payload of a message whose expressions do not use body is never decoded, so an XML payload
// does not fail as JSON and costs nothing.
func TestExprDoesNotDecodeUnusedBody(t *testing.T) {
	e, err := CompileExpr(`meta.type`)
	if err != nil {
		t.Fatal(err)
	}
	m := NewMessage("1", map[string]string{"type": "t"}, []byte("<a/>"))
	if env := e.Env(m); env.Body != nil {
		t.Fatalf("body = %v, want nil", env.Body)
	}
	if m.valSet {
		t.Fatal("payload was decoded although the expression does not use body")
	}
}

func TestXPathConcurrent(t *testing.T) {
	x, err := CompileXPath("count(//m:Header/*)", map[string]string{"m": "urn:m"})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := NewMessage("1", nil, []byte(condXML)).XML()
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan any, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				if v := x.Evaluate(doc); v != float64(2) {
					errs <- v
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for v := range errs {
		t.Fatalf("concurrent Evaluate = %v, want 2", v)
	}
}
