package schema

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/aiskao/aiskao/transforms"
)

// compile compiles a schema written as JSON the way the step does.
func compile(t testing.TB, schema string) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat = true
	if err := c.AddResource("mem:///schema.json", strings.NewReader(schema)); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("mem:///schema.json")
	if err != nil {
		t.Fatalf("compile %s: %v", schema, err)
	}
	return s
}

func decode(t testing.TB, doc string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", doc, err)
	}
	return v
}

// agree fails the test when the checker's verdict on v is not the library's.
func agree(t *testing.T, s *jsonschema.Schema, c *checker, v any, what string) bool {
	t.Helper()
	want := invalid
	if s.Validate(v) == nil {
		want = valid
	}
	if got := c.valid(v); got != want {
		t.Errorf("%s: checker says %s, the library %s", what, name(got), name(want))
		return false
	}
	return want == valid
}

func name(v verdict) string {
	return [...]string{"invalid", "valid", "unknown"}[v]
}

// Each keyword the checker implements, against values that pass and fail it: its verdict must be
// the library's on every one.
func TestCheckerAgreesWithLibrary(t *testing.T) {
	const d7 = `"$schema": "http://json-schema.org/draft-07/schema#", `
	tests := []struct {
		schema string
		values []string
	}{
		{`true`, []string{`1`, `null`}},
		{`false`, []string{`1`, `{}`}},
		{`{"type": "string"}`, []string{`"a"`, `1`, `null`, `[]`}},
		{`{"type": ["string", "null"]}`, []string{`"a"`, `null`, `false`}},
		{`{"type": "integer"}`, []string{`1`, `1.0`, `1.5`, `1e3`, `-0`, `"1"`}},
		{`{"type": ["integer", "number"]}`, []string{`1.5`, `2`, `"2"`}},
		{`{"type": "number"}`, []string{`1.5`, `2`, `true`}},
		{`{"type": "boolean"}`, []string{`true`, `0`}},
		{`{"type": "array"}`, []string{`[]`, `{}`}},
		{`{"type": "object"}`, []string{`{}`, `[]`}},
		{`{"const": "x"}`, []string{`"x"`, `"y"`, `null`}},
		{`{"const": null}`, []string{`null`, `0`, `""`}},
		{`{"const": 1}`, []string{`1`, `1.0`, `10e-1`, `2`, `"1"`}},
		{`{"const": {"a": [1, "b"]}}`, []string{`{"a": [1, "b"]}`, `{"a": [1.0, "b"]}`, `{"a": [1]}`, `{"a": [1, "b"], "c": 1}`, `{"b": [1, "b"]}`}},
		{`{"enum": ["a", 2, null, [1]]}`, []string{`"a"`, `2.0`, `null`, `[1]`, `[2]`, `"b"`, `false`}},
		{`{"format": "date-time"}`, []string{`"2021-08-24T01:02:54+03:00"`, `"yesterday"`, `5`}},
		{`{"format": "email"}`, []string{`"a@b.bg"`, `"a"`}},
		{`{"format": "no-such-format"}`, []string{`"a"`}},
		{`{"minLength": 2, "maxLength": 3}`, []string{`"ab"`, `"abc"`, `"a"`, `"abcd"`, `"жж"`, `"ж"`, `5`}},
		{`{"pattern": "^[0-9]{9}$"}`, []string{`"000696327"`, `"12"`, `12`}},
		{`{"pattern": "\\S"}`, []string{`" "`, `" a "`, `""`}},
		{`{"minimum": 1, "maximum": 3}`, []string{`1`, `3`, `0.999`, `3.001`, `"5"`}},
		{`{"exclusiveMinimum": 1, "exclusiveMaximum": 3}`, []string{`1`, `2`, `3`}},
		{`{"multipleOf": 0.5}`, []string{`1.5`, `2`, `1.25`}},
		{`{"minProperties": 1, "maxProperties": 2}`, []string{`{}`, `{"a":1}`, `{"a":1,"b":2,"c":3}`}},
		{`{"required": ["a", "b"]}`, []string{`{"a":1,"b":2}`, `{"a":1}`, `[]`}},
		{`{"properties": {"a": {"type": "string"}}}`, []string{`{"a":"x"}`, `{"a":1}`, `{"b":1}`}},
		{`{"properties": {"a": true}, "patternProperties": {"^@": {"type": "string"}}, "additionalProperties": false}`,
			[]string{`{"a":1,"@b":"x"}`, `{"@b":1}`, `{"c":1}`, `{}`}},
		{`{"properties": {"@a": {"type": "number"}}, "patternProperties": {"^@": {"type": "string"}}}`,
			[]string{`{"@a":1}`, `{"@a":"x"}`, `{"@b":"x"}`}},
		{`{"patternProperties": {"^a": {"minLength": 2}, "b$": {"maxLength": 2}}}`,
			[]string{`{"ab":"xy"}`, `{"ab":"x"}`, `{"ab":"xyz"}`}},
		{`{"additionalProperties": {"type": "integer"}}`, []string{`{"a":1}`, `{"a":"x"}`}},
		{`{"propertyNames": {"maxLength": 2}}`, []string{`{"ab":1}`, `{"abc":1}`}},
		{`{"dependentRequired": {"a": ["b"]}}`, []string{`{"a":1,"b":1}`, `{"a":1}`, `{"b":1}`}},
		{`{"dependentSchemas": {"a": {"required": ["b"]}}}`, []string{`{"a":1,"b":1}`, `{"a":1}`}},
		{`{` + d7 + `"dependencies": {"a": ["b"], "c": {"required": ["d"]}}}`,
			[]string{`{"a":1,"b":1}`, `{"a":1}`, `{"c":1}`, `{"c":1,"d":1}`}},
		{`{` + d7 + `"dependencies": {"a": ["b"]}, "dependentRequired": {"a": ["c"]}}`,
			[]string{`{"a":1,"b":1}`, `{"a":1,"c":1}`}},
		{`{"minItems": 1, "maxItems": 2}`, []string{`[]`, `[1]`, `[1,2,3]`}},
		{`{"items": {"type": "string"}}`, []string{`["a","b"]`, `["a",1]`, `[]`}},
		{`{"prefixItems": [{"type": "string"}], "items": {"type": "integer"}}`, []string{`["a",1]`, `[1]`, `["a","b"]`}},
		{`{"prefixItems": [{"type": "string"}], "items": false}`, []string{`["a"]`, `["a",1]`}},
		{`{` + d7 + `"items": {"type": "string"}}`, []string{`["a"]`, `[1]`}},
		{`{` + d7 + `"items": [{"type": "string"}], "additionalItems": false}`, []string{`["a"]`, `["a",1]`, `[1]`}},
		{`{` + d7 + `"items": [{"type": "string"}], "additionalItems": {"type": "integer"}}`, []string{`["a",1]`, `["a","b"]`}},
		{`{` + d7 + `"$ref": "#/definitions/s", "type": "integer", "definitions": {"s": {"type": "string"}}}`, []string{`"a"`, `1`}},
		{`{"$ref": "#/$defs/s", "minLength": 2, "$defs": {"s": {"type": "string"}}}`, []string{`"ab"`, `"a"`, `1`}},
		{`{"not": {"type": "string"}}`, []string{`1`, `"a"`}},
		{`{"allOf": [{"minLength": 1}, {"maxLength": 2}]}`, []string{`"a"`, `""`, `"abc"`}},
		{`{"anyOf": [{"type": "string"}, {"minimum": 3}]}`, []string{`"a"`, `3`, `2`}},
		{`{"oneOf": [{"type": "string"}, {"minLength": 2}]}`, []string{`"a"`, `"ab"`, `1`}},
		{`{"if": {"minLength": 2}, "then": {"pattern": "^a"}, "else": {"pattern": "^b"}}`, []string{`"ab"`, `"bb"`, `"b"`, `"a"`}},
		{`{"if": {"minLength": 2}, "then": {"pattern": "^a"}}`, []string{`"ab"`, `"bb"`, `"b"`}},
		{`{"if": {"minLength": 2}, "else": {"pattern": "^a"}}`, []string{`"bb"`, `"b"`, `"a"`}},
		{`{"$defs": {"tree": {"type": "object", "properties": {"kids": {"type": "array", "items": {"$ref": "#/$defs/tree"}}}, "required": ["name"]}}, "$ref": "#/$defs/tree"}`,
			[]string{`{"name":1,"kids":[{"name":2,"kids":[]}]}`, `{"name":1,"kids":[{"kids":[]}]}`}},
	}
	for _, tt := range tests {
		s := compile(t, tt.schema)
		c := newChecker(s)
		if c == nil {
			t.Errorf("%s: no checker", tt.schema)
			continue
		}
		outcomes := map[bool]int{}
		for _, doc := range tt.values {
			outcomes[agree(t, s, c, decode(t, doc), tt.schema+" on "+doc)]++
		}
		if strings.HasPrefix(tt.schema, "{") && (outcomes[true] == 0 || outcomes[false] == 0) && tt.schema != `{"format": "no-such-format"}` {
			t.Errorf("%s: the values should both pass and fail it: %v", tt.schema, outcomes)
		}
	}
}

// A schema with a keyword the checker does not implement is left to the library, whole.
func TestCheckerLeavesKeywordsToLibrary(t *testing.T) {
	for _, schema := range []string{
		`{"uniqueItems": true}`,
		`{"contains": {"type": "string"}}`,
		`{"unevaluatedProperties": false}`,
		`{"unevaluatedItems": false}`,
		`{"contentEncoding": "base64"}`,
		`{"contentMediaType": "application/json"}`,
		`{"$dynamicAnchor": "node", "properties": {"kids": {"items": {"$dynamicRef": "#node"}}}}`,
		`{"properties": {"deep": {"items": {"uniqueItems": true}}}}`,
	} {
		if newChecker(compile(t, schema)) != nil {
			t.Errorf("%s: got a checker", schema)
		}
	}
}

// The compiler refuses schemas that loop on one value, so only a deep value makes the checker
// give up; the library then has the last word.
func TestCheckerDeepValue(t *testing.T) {
	s := compile(t, `{"$defs": {"n": {"items": {"$ref": "#/$defs/n"}}}, "$ref": "#/$defs/n"}`)
	c := newChecker(s)
	deep := strings.Repeat("[", 2*maxDepth) + strings.Repeat("]", 2*maxDepth)
	if got := c.valid(decode(t, deep)); got != unknown {
		t.Fatalf("verdict %s, want unknown", name(got))
	}
	if got := c.valid(decode(t, "[[[]]]")); got != valid {
		t.Fatalf("verdict %s, want valid", name(got))
	}
	step := &Step{schema: s, fast: c}
	if err := step.Apply(context.Background(), transforms.NewMessage("1", nil, []byte(deep))); err != nil {
		t.Fatalf("the library's verdict: %v", err)
	}
}

// The schemas that ship, on the real and written ЕСОЕД samples changed at random: whatever the
// change, the checker says what the library says.
func TestCheckerOnChangedSamples(t *testing.T) {
	schemas := map[string]string{
		"demo":     filepath.Join("..", "..", "configs", "schemas", "esoed-message.json"),
		"testdata": filepath.Join("testdata", "esoed-message.schema.json"),
	}
	samples, err := filepath.Glob(filepath.Join("..", "..", "testdata", "esoed", "*.json"))
	if err != nil || len(samples) == 0 {
		t.Fatalf("samples: %v %v", samples, err)
	}
	samples = append(samples, filepath.Join("testdata", "esoed-document-status-response.json"))
	const changes = 1000
	for sname, file := range schemas {
		abs, err := filepath.Abs(file)
		if err != nil {
			t.Fatal(err)
		}
		jc := jsonschema.NewCompiler()
		jc.AssertFormat = true
		s, err := jc.Compile(abs) // with its $refs to files beside it
		if err != nil {
			t.Fatal(err)
		}
		c := newChecker(s)
		if c == nil {
			t.Fatalf("%s: no checker", sname)
		}
		outcomes := map[bool]int{}
		for _, sample := range samples {
			doc, err := os.ReadFile(sample)
			if err != nil {
				t.Fatal(err)
			}
			outcomes[agree(t, s, c, decode(t, string(doc)), sname+" on "+sample)]++
			rng := rand.New(rand.NewPCG(1, uint64(len(doc))))
			for i := range changes {
				v := decode(t, string(doc))
				var what []string
				for range 1 + rng.IntN(3) {
					v, what = mutate(rng, v, what)
				}
				if !agree(t, s, c, v, fmt.Sprintf("%s on %s, change %d (%s)", sname, filepath.Base(sample), i, strings.Join(what, ", "))) {
					outcomes[false]++
				} else {
					outcomes[true]++
				}
			}
		}
		t.Logf("%s: %d valid, %d invalid", sname, outcomes[true], outcomes[false])
		if outcomes[true] < 100 || outcomes[false] < 100 {
			t.Errorf("%s: the changes should leave many documents valid and make many invalid: %v", sname, outcomes)
		}
	}
}

// values the mutations put in place: the schema's patterns and enumerations make most of them
// meaningful somewhere.
var replacements = []any{
	"", " ", "x", "1.0", "{676150f9-dfb5-4723-a236-fb007f3eb046}", "676150f9-dfb5-4723-a236-fb007f3eb046",
	"000696327", "0006963270000", "2024-03-12", "2024-03-12T10:15:30+02:00", "MSG_DocumentStatusRequest",
	"MSG_Error", "DS_REJECTED", "DS_REGISTERED", "Corr_Applicant", "ERR_INTERNAL", "http://schemas.egov.bg/messaging/v1",
	"QUJD\n", "=", json.Number("1"), json.Number("1.5"), nil, true, "[]", "{}",
}

// replacement is a value to put in place; "[]" and "{}" are made new each time, as later changes
// may add to them.
func replacement(rng *rand.Rand) any {
	switch r := replacements[rng.IntN(len(replacements))]; r {
	case "[]":
		return []any{}
	case "{}":
		return map[string]any{}
	default:
		return r
	}
}

var newKeys = []string{"@id", "@xmlns:x", "ds:Signature", "Signature", "Extra", "DocNumber", "RejectionReason",
	"DocumentURI", "DocumentNumber", "Error", "DocumentStatusRequest", "MessageGUID", "#text"}

// place is where a value of a document sits: an entry of a map or an element of an array.
type place struct {
	m map[string]any
	k string
	a []any
	i int
}

func (p place) get() any {
	if p.m != nil {
		return p.m[p.k]
	}
	return p.a[p.i]
}

func (p place) set(v any) {
	if p.m != nil {
		p.m[p.k] = v
	} else {
		p.a[p.i] = v
	}
}

// mutate changes v at one random place: a value replaced or changed, a key removed or added, a
// value doubled into an array or an array cut to its first element.
func mutate(rng *rand.Rand, v any, what []string) (any, []string) {
	holder := map[string]any{"": v} // so that the document itself is a place too
	places := []place{{m: holder, k: ""}}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(x)) {
				places = append(places, place{m: x, k: k})
				walk(x[k])
			}
		case []any:
			for i := range x {
				places = append(places, place{a: x, i: i})
				walk(x[i])
			}
		}
	}
	walk(v)
	p := places[rng.IntN(len(places))]
	switch x := p.get().(type) {
	case map[string]any:
		keys := slices.Sorted(maps.Keys(x))
		switch {
		case len(keys) > 0 && rng.IntN(3) == 0:
			k := keys[rng.IntN(len(keys))]
			delete(x, k)
			return holder[""], append(what, "removed "+k)
		case rng.IntN(2) == 0:
			k := newKeys[rng.IntN(len(newKeys))]
			x[k] = replacement(rng)
			return holder[""], append(what, "added "+k)
		}
	case []any:
		if len(x) > 1 && rng.IntN(2) == 0 {
			p.set(x[0])
			return holder[""], append(what, "array cut to its first element")
		}
	case string:
		if x != "" && rng.IntN(2) == 0 {
			r := []rune(x)
			r[rng.IntN(len(r))] = []rune("a{-0 Ж")[rng.IntN(6)]
			p.set(string(r))
			return holder[""], append(what, "string changed to "+string(r))
		}
	}
	if rng.IntN(4) == 0 {
		p.set([]any{p.get(), p.get()})
		return holder[""], append(what, "value doubled")
	}
	r := replacement(rng)
	p.set(r)
	return holder[""], append(what, fmt.Sprintf("value replaced by %#v", r))
}

// The matcher answers as the regexp does, on the shapes it handles itself and on the rest.
func TestMatcher(t *testing.T) {
	inputs := []string{"", "@", "@x", "x@", " ", "\t\n", " a ", "\xff", "ab", "AB", "aB", "Ж", "\u00a0", "x:Signature"}
	for _, p := range []string{`^@`, `^ab`, `(?i)^ab`, `\S`, `[a-c]`, `\s`, `^[A-Za-z_][A-Za-z0-9_.-]*:Signature$`, `^`, `a|^b`} {
		re := regexp.MustCompile(p)
		m, _ := matcher(re)
		for _, in := range inputs {
			if got, want := m(in), re.MatchString(in); got != want {
				t.Errorf("%s on %q: %v, want %v", p, in, got, want)
			}
		}
	}
}

// TestCheckerMergesBothDependencyForms: a compiled schema holding both draft-07 `dependencies`
// (as required names) and `dependentRequired` is checked against the union of the two for each
// name, and the schema's own map is left as it was. No draft's compiler fills both keywords, so
// the schema is built by hand.
func TestCheckerMergesBothDependencyForms(t *testing.T) {
	s := &jsonschema.Schema{
		Location: "mem:///hand.json#",
		Types:    []string{"object"},
		// The library's defaults for what a schema leaves unset (its newSchema).
		MinProperties: -1, MaxProperties: -1, MinItems: -1, MaxItems: -1,
		MinContains: 1, MaxContains: -1, MinLength: -1, MaxLength: -1,
		DependentRequired: map[string][]string{"a": {"b"}, "x": {"y"}},
		Dependencies:      map[string]any{"a": []string{"c"}, "d": []string{"e"}},
	}
	before := map[string][]string{"a": {"b"}, "x": {"y"}}
	c := newChecker(s)
	if c == nil {
		t.Fatal("newChecker left the schema to the library")
	}
	for _, tc := range []struct {
		value string
		want  verdict
	}{
		{`{}`, valid},
		{`{"a":1,"b":1,"c":1}`, valid},
		{`{"a":1,"b":1}`, invalid}, // c, from dependencies
		{`{"a":1,"c":1}`, invalid}, // b, from dependentRequired
		{`{"d":1}`, invalid},
		{`{"d":1,"e":1}`, valid},
		{`{"x":1}`, invalid},
		{`{"x":1,"y":1}`, valid},
	} {
		var v any
		if err := json.Unmarshal([]byte(tc.value), &v); err != nil {
			t.Fatal(err)
		}
		if got := c.valid(v); got != tc.want {
			t.Errorf("%s: verdict %d, want %d", tc.value, got, tc.want)
		}
	}
	if !maps.EqualFunc(s.DependentRequired, before, slices.Equal) {
		t.Errorf("the schema's dependentRequired changed: %v, want %v", s.DependentRequired, before)
	}
}
