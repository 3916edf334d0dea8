package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// FuzzCheckerAgainstLibrary builds a schema from the keywords the checker implements, nested, in
// one of the drafts, and values to check against it, all from the fuzzer's bytes; the checker's
// verdict on each value must be the library's (or unknown).
func FuzzCheckerAgainstLibrary(f *testing.F) {
	for i := range 16 {
		rng := rand.New(rand.NewPCG(uint64(i), 17))
		seed := make([]byte, 64+rng.IntN(192))
		for j := range seed {
			seed[j] = byte(rng.Uint32())
		}
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkGenerated(t, data)
	})
}

// The same comparison on generated inputs, so that every test run makes it, not only fuzzing.
func TestCheckerAgainstLibraryGenerated(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 7))
	n := 3000
	if testing.Short() {
		n = 300
	}
	counts := map[string]int{}
	for range n {
		data := make([]byte, 32+rng.IntN(256))
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		for k, v := range checkGenerated(t, data) {
			counts[k] += v
		}
	}
	t.Logf("verdicts: %v", counts)
	if counts["valid"] < n/2 || counts["invalid"] < n/2 || counts["no checker"] > 0 || counts["not compiled"] > n/10 {
		t.Errorf("the generator should give schemas with a checker and values both valid and invalid: %v", counts)
	}
}

// checkGenerated compares the verdicts on the schema and values made from data, and counts them.
func checkGenerated(t *testing.T, data []byte) map[string]int {
	t.Helper()
	g := &gen{data: data}
	draft := drafts[g.n(len(drafts))]
	schema := g.schema(draft, 0)
	if m, ok := schema.(map[string]any); ok {
		if draft.version < 2019 {
			m["definitions"] = map[string]any{"d": g.schema(draft, 1)}
		} else {
			m["$defs"] = map[string]any{"d": g.schema(draft, 1)}
		}
		m["$schema"] = draft.url
	}
	doc, err := json.Marshal(schema)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat = g.n(2) == 0
	if err := c.AddResource("mem:///fuzz.json", bytes.NewReader(doc)); err != nil {
		return map[string]int{"not compiled": 1} // not JSON the library reads: nothing to compare
	}
	s, err := c.Compile("mem:///fuzz.json")
	if err != nil {
		return map[string]int{"not compiled": 1} // a schema the library refuses (a $ref that loops on one value, ...)
	}
	ch := newChecker(s)
	if ch == nil {
		t.Errorf("%s: no checker for a schema of implemented keywords", doc)
		return map[string]int{"no checker": 1}
	}
	counts := map[string]int{}
	for range 1 + g.n(8) {
		v := g.value(0)
		got := ch.valid(v)
		err := s.Validate(v)
		var ve *jsonschema.ValidationError
		switch {
		case got == unknown:
		case got == valid && err != nil, got == invalid && err == nil:
			enc, _ := json.Marshal(v)
			t.Errorf("schema %s\nvalue %s\nchecker: %s; library: %v", doc, enc, name(got), err)
		case err != nil && !errors.As(err, &ve):
			t.Errorf("schema %s: the library: %v", doc, err)
		}
		counts[name(got)]++
	}
	return counts
}

type draftInfo struct {
	url     string
	version int
}

var drafts = []draftInfo{
	{"http://json-schema.org/draft-04/schema#", 4},
	{"http://json-schema.org/draft-06/schema#", 6},
	{"http://json-schema.org/draft-07/schema#", 7},
	{"https://json-schema.org/draft/2019-09/schema", 2019},
	{"https://json-schema.org/draft/2020-12/schema", 2020},
}

// gen makes schemas and values from bytes; when they run out it reads zeros, which make the
// smallest choices, so every input ends.
type gen struct {
	data []byte
	i    int
}

// n is a number in [0, k).
func (g *gen) n(k int) int {
	if g.i >= len(g.data) || k <= 1 {
		return 0
	}
	b := g.data[g.i]
	g.i++
	return int(b) % k
}

func (g *gen) pick(from []string) string { return from[g.n(len(from))] }

var (
	keys     = []string{"a", "b", "c", "ab", "A", ""}
	strs     = []string{"", "a", "ab", "abc", "A", "b", "ba", "Ж", " ", "2024-03-12", "2024-02-30", "x@y.bg", "127.0.0.1", "a\u00a0"}
	numbers  = []string{"0", "1", "-1", "2", "3", "2.5", "1.0", "1e2", "0.1", "0.30000000000000004", "-0", "1e400", "7"}
	patterns = []string{"^a", "b$", `\S`, "^[a-c]+$", "(?i)^A", ".", "^$", "a|^b"}
	formats  = []string{"date", "email", "ipv4", "date-time", "unknown-format"}
	types    = []string{"null", "boolean", "number", "integer", "string", "array", "object"}
)

// value is a JSON value as the step decodes it (numbers as json.Number).
func (g *gen) value(depth int) any {
	k := 7
	if depth >= 3 {
		k = 5
	}
	switch g.n(k) {
	case 0:
		return nil
	case 1:
		return g.n(2) == 0
	case 2:
		return json.Number(g.pick(numbers))
	case 3, 4:
		return g.pick(strs)
	case 5:
		arr := make([]any, g.n(5))
		for i := range arr {
			arr[i] = g.value(depth + 1)
		}
		return arr
	default:
		obj := map[string]any{}
		for range g.n(5) {
			obj[g.pick(keys)] = g.value(depth + 1)
		}
		return obj
	}
}

func (g *gen) number() json.Number { return json.Number(g.pick(numbers)) }

func (g *gen) count() int { return g.n(4) }

// names are property names, each once, as the meta-schemas require.
func (g *gen) names() []any {
	out := []any{}
	for range 1 + g.n(3) {
		if k := g.pick(keys); !slices.Contains(out, any(k)) {
			out = append(out, k)
		}
	}
	return out
}

// schema is a schema of draft d using only keywords the checker implements, nested to depth 3.
func (g *gen) schema(d draftInfo, depth int) any {
	if d.version >= 6 && g.n(12) == 0 {
		return g.n(3) != 0 // a boolean schema
	}
	m := map[string]any{}
	if depth >= 3 {
		if g.n(2) == 0 {
			m["type"] = g.pick(types)
		}
		return m
	}
	sub := func() any { return g.schema(d, depth+1) }
	boolOrSub := func() any { // a boolean schema, or a sub-schema, as often
		if g.n(2) == 0 {
			return g.n(2) == 0
		}
		return sub()
	}
	subs := func() []any {
		out := make([]any, 1+g.n(3))
		for i := range out {
			out[i] = sub()
		}
		return out
	}
	for range 1 + g.n(4) {
		switch g.n(30) {
		case 0:
			m["type"] = g.pick(types)
		case 1:
			first := g.n(len(types))
			m["type"] = []any{types[first], types[(first+1+g.n(len(types)-1))%len(types)]}
		case 2:
			if d.version >= 6 {
				m["const"] = g.value(2)
			}
		case 3:
			m["enum"] = []any{g.value(2), g.value(2)}
		case 4:
			m["format"] = g.pick(formats)
		case 5:
			switch {
			case depth > 0 && g.n(3) == 0:
				m["$ref"] = "#" // at the root it would loop on one value, which the library refuses
			case d.version < 2019:
				m["$ref"] = "#/definitions/d"
			default:
				m["$ref"] = "#/$defs/d"
			}
		case 6:
			m["not"] = sub()
		case 7:
			m["allOf"] = subs()
		case 8:
			m["anyOf"] = subs()
		case 9:
			m["oneOf"] = subs()
		case 10:
			if d.version >= 7 {
				m["if"] = sub()
				if g.n(3) != 0 {
					m["then"] = sub()
				}
				if g.n(3) != 0 {
					m["else"] = sub()
				}
			}
		case 11:
			m["minProperties"] = g.count()
			m["maxProperties"] = g.count() + 1
		case 12:
			m["required"] = g.names()
		case 13:
			props := map[string]any{}
			for range 1 + g.n(3) {
				props[g.pick(keys)] = sub()
			}
			m["properties"] = props
		case 14:
			pp := map[string]any{}
			for range 1 + g.n(2) {
				pp[g.pick(patterns)] = sub()
			}
			m["patternProperties"] = pp
		case 15:
			m["additionalProperties"] = boolOrSub()
		case 16:
			if d.version >= 6 {
				m["propertyNames"] = sub()
			}
		case 17:
			deps := map[string]any{}
			for range 1 + g.n(2) {
				if g.n(2) == 0 {
					deps[g.pick(keys)] = g.names()
				} else {
					deps[g.pick(keys)] = sub()
				}
			}
			m["dependencies"] = deps
		case 18:
			if d.version >= 2019 {
				deps := map[string]any{}
				deps[g.pick(keys)] = g.names()
				m["dependentRequired"] = deps
			}
		case 19:
			if d.version >= 2019 {
				m["dependentSchemas"] = map[string]any{g.pick(keys): sub()}
			}
		case 20:
			m["minItems"] = g.count()
			if g.n(2) == 0 {
				m["maxItems"] = g.count() + 1
			}
		case 21:
			if d.version < 2020 && g.n(2) == 0 {
				m["items"] = subs()
				m["additionalItems"] = boolOrSub()
			} else {
				m["items"] = sub()
			}
		case 22:
			if d.version >= 2020 {
				m["prefixItems"] = subs()
			}
		case 23:
			m["minLength"] = g.count()
			if g.n(2) == 0 {
				m["maxLength"] = g.count() + 1
			}
		case 24:
			m["pattern"] = g.pick(patterns)
		case 25:
			m["minimum"] = g.number()
			if d.version == 4 && g.n(2) == 0 {
				m["exclusiveMinimum"] = true
			}
		case 26:
			m["maximum"] = g.number()
			if d.version == 4 && g.n(2) == 0 {
				m["exclusiveMaximum"] = true
			}
		case 27:
			if d.version >= 6 {
				m["exclusiveMinimum"] = g.number()
				m["exclusiveMaximum"] = g.number()
			}
		case 28:
			m["multipleOf"] = json.Number(g.pick([]string{"1", "2", "0.5", "0.1", "3", "1e-3"}))
		default:
			m[fmt.Sprintf("x-note-%d", g.n(3))] = "an unknown keyword, ignored by both"
		}
	}
	return m
}
