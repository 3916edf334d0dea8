package schema

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"reflect"
	"regexp"
	"slices"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/aiskao/aiskao/transforms/schema/internal/dfa"
)

// A checker tells whether a value is valid, and nothing more. The library's validation builds, for
// every value and every schema it visits, the instance location string and a map of the object's
// property names (for unevaluatedProperties), which is most of its cost on a valid document; the
// checker walks the same compiled schema without either. The step asks the checker first and the
// library only for a value the checker does not pass, so every error still comes from the library,
// and a value the checker wrongly refused would still be accepted: only a value wrongly passed
// could matter, which the differential tests and FuzzCheckerAgainstLibrary look for.
//
// The checker is built only for a schema whose every set field, in every schema it reaches, is one
// the checker implements or one that cannot change a verdict (schemaFields, an allow-list). Any
// other field — a keyword only the library checks (unevaluated*, $dynamicRef, $recursiveRef,
// contains, uniqueItems, content*, extensions) or one a newer library adds — leaves the whole
// schema to the library, as before the checker existed.
type checker struct {
	root *node
}

// typeMask holds one bit per JSON type.
type typeMask uint8

const (
	tNull typeMask = 1 << iota
	tBoolean
	tNumber
	tInteger // a number with an integral value; only in a schema's mask
	tString
	tArray
	tObject
)

var typeBits = map[string]typeMask{
	"null": tNull, "boolean": tBoolean, "number": tNumber, "integer": tInteger,
	"string": tString, "array": tArray, "object": tObject,
}

// pattern is an entry of patternProperties.
type pattern struct {
	match func(string) bool
	n     *node
}

// prop is an entry of properties, with the patternProperties its name matches, found once.
type prop struct {
	n    *node
	also []*node
}

// node is one compiled schema, with the keywords that apply laid out for the walk.
type node struct {
	always   *bool
	types    typeMask
	constant []any // one element when const is set (it may be null)
	enum     []any
	format   func(any) bool

	ref, not, ifs, then, els *node
	allOf, anyOf, oneOf      []*node

	minProps, maxProps int
	required           []string
	props              map[string]prop
	patterns           []pattern
	addlSet            bool  // additionalProperties is present
	addlAllowed        bool  // its boolean value, when addl is nil
	addl               *node // its schema
	propertyNames      *node
	depRequired        map[string][]string
	depSchemas         map[string]*node

	minItems, maxItems int
	items              *node   // draft 2020-12 items, or the single items schema of earlier drafts
	itemList           []*node // items as an array (drafts before 2020-12)
	addlItems          *node
	addlItemsSet       bool
	addlItemsAllowed   bool
	prefix             []*node

	minLen, maxLen int
	pattern        func(string) bool

	min, exMin, max, exMax, multipleOf *big.Rat
}

// fieldUse is what the checker makes of one field of the library's compiled schema.
type fieldUse int8

const (
	checked fieldUse = iota + 1 // the checker implements it
	inert                       // it cannot change a verdict (see schemaFields)
	library                     // only the library checks it: a schema where it is set gets no checker
)

// schemaFields classifies every field of jsonschema.Schema (v5.3.1), exported or not, as the
// library's validate reads it. It is an allow-list: a field it does not name, such as one a newer
// library adds, leaves any schema where that field is set to the library, and
// TestSchemaFieldsClassified fails until the field is classified here.
var schemaFields = map[string]fieldUse{
	// Where the schema is and what it was compiled with, annotations, and the text of a message:
	// validate never reads them to decide.
	"Location": inert, "Draft": inert, "meta": inert, "vocab": inert, "enumError": inert,
	"Title": inert, "Description": inert, "Default": inert, "Comment": inert, "ReadOnly": inert,
	"WriteOnly": inert, "Examples": inert, "Deprecated": inert,
	// Read only through $recursiveRef, $dynamicRef and contains, which the checker leaves to the
	// library: with those absent from every schema it reaches, they change nothing.
	"RecursiveAnchor": inert, "DynamicAnchor": inert, "dynamicAnchors": inert,
	"dynamicRefAnchor": inert, "ContainsEval": inert,

	"Format": checked, "format": checked, "Always": checked, "Ref": checked, "Types": checked,
	"Constant": checked, "Enum": checked, "Not": checked, "AllOf": checked, "AnyOf": checked,
	"OneOf": checked, "If": checked, "Then": checked, "Else": checked,
	"MinProperties": checked, "MaxProperties": checked, "Required": checked, "Properties": checked,
	"PropertyNames": checked, "PatternProperties": checked, "AdditionalProperties": checked,
	"Dependencies": checked, "DependentRequired": checked, "DependentSchemas": checked,
	"MinItems": checked, "MaxItems": checked, "Items": checked, "AdditionalItems": checked,
	"PrefixItems": checked, "Items2020": checked,
	"MinLength": checked, "MaxLength": checked, "Pattern": checked,
	"Minimum": checked, "ExclusiveMinimum": checked, "Maximum": checked, "ExclusiveMaximum": checked,
	"MultipleOf": checked,

	"RecursiveRef": library, "DynamicRef": library, "RegexProperties": library,
	"UnevaluatedProperties": library, "UniqueItems": library, "Contains": library,
	"MinContains": library, "MaxContains": library, "UnevaluatedItems": library,
	"ContentEncoding": library, "decoder": library, "ContentMediaType": library,
	"mediaType": library, "ContentSchema": library, "Extensions": library,
}

// unsetValues are the values fields have in a schema that does not use them, where that is not
// Go's zero value (the library's newSchema).
var unsetValues = map[string]int64{"MinContains": 1, "MaxContains": -1}

// fieldLeftToLibrary names the first field set in s that uses classifies neither as checked nor
// as inert, "" when there is none.
func fieldLeftToLibrary(s *jsonschema.Schema, uses map[string]fieldUse) string {
	v := reflect.ValueOf(s).Elem()
	t := v.Type()
	for i := range t.NumField() {
		name := t.Field(i).Name
		if use := uses[name]; use == checked || use == inert {
			continue
		}
		f := v.Field(i)
		if unset, ok := unsetValues[name]; ok && f.CanInt() && f.Int() == unset {
			continue
		}
		if !f.IsZero() {
			return name
		}
	}
	return ""
}

// formatOf is the function the library checks s's format with, nil when it checks none. It is
// taken from the package's Formats, the one the library holds compared by its code: ok is false
// when the library's is another (a format a Compiler was given), which the checker cannot call.
func formatOf(s *jsonschema.Schema) (fn func(any) bool, ok bool) {
	held := reflect.ValueOf(s).Elem().FieldByName("format")
	if !held.IsValid() || held.Kind() != reflect.Func {
		return nil, false
	}
	if held.IsNil() {
		return nil, true // the schema has no format, or its draft does not assert it
	}
	fn = jsonschema.Formats[s.Format]
	if fn == nil || reflect.ValueOf(fn).Pointer() != held.Pointer() {
		return nil, false
	}
	return fn, true
}

// newChecker compiles s, or returns nil when s, or a schema it reaches, sets a field the checker
// leaves to the library.
func newChecker(s *jsonschema.Schema) *checker {
	c := &compiler{nodes: map[*jsonschema.Schema]*node{}}
	root := c.node(s)
	if c.unsupported {
		return nil
	}
	return &checker{root: root}
}

type compiler struct {
	nodes       map[*jsonschema.Schema]*node
	unsupported bool
}

func (c *compiler) node(s *jsonschema.Schema) *node {
	if s == nil {
		return nil
	}
	if n, ok := c.nodes[s]; ok {
		return n // schemas refer to each other, and to themselves
	}
	n := &node{}
	c.nodes[s] = n
	format, ok := formatOf(s)
	if !ok || fieldLeftToLibrary(s, schemaFields) != "" {
		c.unsupported = true
		return n
	}
	n.format = format
	n.always = s.Always
	for _, t := range s.Types {
		n.types |= typeBits[t]
	}
	n.constant, n.enum = s.Constant, s.Enum
	n.ref, n.not = c.node(s.Ref), c.node(s.Not)
	n.ifs, n.then, n.els = c.node(s.If), c.node(s.Then), c.node(s.Else)
	n.allOf, n.anyOf, n.oneOf = c.list(s.AllOf), c.list(s.AnyOf), c.list(s.OneOf)

	n.minProps, n.maxProps, n.required = s.MinProperties, s.MaxProperties, s.Required
	for re, p := range s.PatternProperties {
		match, _ := matcher(re)
		n.patterns = append(n.patterns, pattern{match: match, n: c.node(p)})
	}
	if len(s.Properties) > 0 {
		n.props = make(map[string]prop, len(s.Properties))
		for name, p := range s.Properties {
			pr := prop{n: c.node(p)}
			for _, pp := range n.patterns {
				if pp.match(name) {
					pr.also = append(pr.also, pp.n)
				}
			}
			n.props[name] = pr
		}
	}
	switch a := s.AdditionalProperties.(type) {
	case nil:
	case bool:
		n.addlSet, n.addlAllowed = true, a
	case *jsonschema.Schema:
		n.addlSet, n.addl = true, c.node(a)
	default:
		c.unsupported = true // a form the checker does not know
	}
	n.propertyNames = c.node(s.PropertyNames)
	n.depRequired = s.DependentRequired
	merged := false // n.depRequired is a copy, not the schema's own map
	for name, d := range s.Dependencies {
		switch d := d.(type) {
		case []string:
			if !merged {
				n.depRequired, merged = maps.Clone(s.DependentRequired), true
				if n.depRequired == nil {
					n.depRequired = map[string][]string{}
				}
			}
			n.depRequired[name] = append(slices.Clip(n.depRequired[name]), d...)
		case *jsonschema.Schema:
			c.addDepSchema(n, name, d)
		default:
			c.unsupported = true
		}
	}
	for name, d := range s.DependentSchemas {
		c.addDepSchema(n, name, d)
	}

	n.minItems, n.maxItems = s.MinItems, s.MaxItems
	switch it := s.Items.(type) {
	case *jsonschema.Schema:
		n.items = c.node(it)
	case []*jsonschema.Schema:
		n.itemList = c.list(it)
		if n.itemList == nil {
			n.itemList = []*node{} // an empty list is still a list: additionalItems applies
		}
		switch a := s.AdditionalItems.(type) {
		case nil:
		case bool:
			n.addlItemsSet, n.addlItemsAllowed = true, a
		case *jsonschema.Schema:
			n.addlItems = c.node(a)
		default:
			c.unsupported = true
		}
	case nil:
	default:
		c.unsupported = true
	}
	if s.Items2020 != nil {
		if n.items != nil {
			c.unsupported = true // both forms at once: not something a compiled schema holds
		}
		n.items = c.node(s.Items2020)
	}
	n.prefix = c.list(s.PrefixItems)

	n.minLen, n.maxLen = s.MinLength, s.MaxLength
	if s.Pattern != nil {
		n.pattern, _ = matcher(s.Pattern)
	}
	n.min, n.exMin, n.max, n.exMax, n.multipleOf = s.Minimum, s.ExclusiveMinimum, s.Maximum, s.ExclusiveMaximum, s.MultipleOf
	return n
}

func (c *compiler) addDepSchema(n *node, name string, s *jsonschema.Schema) {
	if n.depSchemas == nil {
		n.depSchemas = map[string]*node{}
	}
	if _, dup := n.depSchemas[name]; dup {
		c.unsupported = true // dependencies and dependentSchemas for one name: leave it to the library
		return
	}
	n.depSchemas[name] = c.node(s)
}

func (c *compiler) list(ss []*jsonschema.Schema) []*node {
	if len(ss) == 0 {
		return nil
	}
	out := make([]*node, len(ss))
	for i, s := range ss {
		out[i] = c.node(s)
	}
	return out
}

// verdict is a checker's answer: valid, invalid, or unknown when it met something it leaves to
// the library (a value of a type that is not JSON's, schemas that loop without consuming the value).
type verdict int8

const (
	invalid verdict = iota
	valid
	unknown
)

// maxDepth bounds the walk: the library reports a schema that loops on one value as an error,
// the checker hands such a case (and any very deep value) back to it.
const maxDepth = 512

// valid tells whether v is valid.
func (c *checker) valid(v any) verdict { return c.root.check(v, 0) }

func (n *node) check(v any, depth int) verdict {
	if depth > maxDepth {
		return unknown
	}
	depth++
	if n.always != nil {
		if *n.always {
			return valid
		}
		return invalid
	}
	t := typeOf(v)
	if t == 0 {
		return unknown
	}
	if n.types != 0 && n.types&t == 0 {
		if n.types&tInteger == 0 || t != tNumber {
			return invalid
		}
		r, ok := rat(v)
		if !ok {
			return unknown
		}
		if !r.IsInt() {
			return invalid
		}
	}
	if len(n.constant) > 0 {
		if eq, ok := equal(v, n.constant[0]); !ok {
			return unknown
		} else if !eq {
			return invalid
		}
	}
	if len(n.enum) > 0 {
		found := false
		for _, e := range n.enum {
			eq, ok := equal(v, e)
			if !ok {
				return unknown
			}
			if eq {
				found = true
				break
			}
		}
		if !found {
			return invalid
		}
	}
	if n.format != nil && !n.format(v) {
		return invalid
	}
	var r verdict
	switch t {
	case tObject:
		r = n.object(v.(map[string]any), depth)
	case tArray:
		r = n.array(v.([]any), depth)
	case tString:
		r = n.string(v.(string))
	case tNumber:
		r = n.number(v)
	default:
		r = valid
	}
	if r != valid {
		return r
	}
	return n.applicators(v, depth)
}

// all is the verdict of every check together: invalid if one is, else unknown if one is.
func all(a, b verdict) verdict {
	if a == invalid || b == invalid {
		return invalid
	}
	if a == unknown || b == unknown {
		return unknown
	}
	return valid
}

func (n *node) applicators(v any, depth int) verdict {
	r := valid
	if n.ref != nil {
		if r = all(r, n.ref.check(v, depth)); r == invalid {
			return r
		}
	}
	if n.not != nil {
		switch n.not.check(v, depth) {
		case valid:
			return invalid
		case unknown:
			r = unknown
		}
	}
	for _, s := range n.allOf {
		if r = all(r, s.check(v, depth)); r == invalid {
			return r
		}
	}
	if len(n.anyOf) > 0 {
		got := invalid
		for _, s := range n.anyOf {
			switch s.check(v, depth) {
			case valid:
				got = valid
			case unknown:
				got = unknown
			}
			if got == valid {
				break
			}
		}
		if r = all(r, got); r == invalid {
			return r
		}
	}
	if len(n.oneOf) > 0 {
		matched := 0
		for _, s := range n.oneOf {
			switch s.check(v, depth) {
			case valid:
				matched++
			case unknown:
				return unknown
			}
		}
		if matched != 1 {
			return invalid
		}
	}
	if n.ifs != nil {
		var next *node
		switch n.ifs.check(v, depth) {
		case valid:
			next = n.then
		case invalid:
			next = n.els
		default:
			return unknown
		}
		if next != nil {
			r = all(r, next.check(v, depth))
		}
	}
	return r
}

func (n *node) object(obj map[string]any, depth int) verdict {
	if n.minProps != -1 && len(obj) < n.minProps || n.maxProps != -1 && len(obj) > n.maxProps {
		return invalid
	}
	for _, name := range n.required {
		if _, ok := obj[name]; !ok {
			return invalid
		}
	}
	r := valid
	for name, val := range obj {
		if n.propertyNames != nil {
			if r = all(r, n.propertyNames.check(name, depth)); r == invalid {
				return r
			}
		}
		if p, known := n.props[name]; known {
			if r = all(r, p.n.check(val, depth)); r == invalid {
				return r
			}
			for _, also := range p.also {
				if r = all(r, also.check(val, depth)); r == invalid {
					return r
				}
			}
			continue
		}
		known := false
		for _, pp := range n.patterns {
			if pp.match(name) {
				known = true
				if r = all(r, pp.n.check(val, depth)); r == invalid {
					return r
				}
			}
		}
		if !known && n.addlSet {
			if n.addl == nil {
				if !n.addlAllowed {
					return invalid
				}
			} else if r = all(r, n.addl.check(val, depth)); r == invalid {
				return r
			}
		}
	}
	for name, req := range n.depRequired {
		if _, ok := obj[name]; ok {
			for _, other := range req {
				if _, ok := obj[other]; !ok {
					return invalid
				}
			}
		}
	}
	for name, s := range n.depSchemas {
		if _, ok := obj[name]; ok {
			if r = all(r, s.check(obj, depth)); r == invalid {
				return r
			}
		}
	}
	return r
}

func (n *node) array(arr []any, depth int) verdict {
	if n.minItems != -1 && len(arr) < n.minItems || n.maxItems != -1 && len(arr) > n.maxItems {
		return invalid
	}
	r := valid
	if n.itemList != nil {
		if n.addlItemsSet && !n.addlItemsAllowed && len(arr) > len(n.itemList) {
			return invalid
		}
		for i, item := range arr {
			s := n.addlItems
			if i < len(n.itemList) {
				s = n.itemList[i]
			}
			if s == nil {
				break
			}
			if r = all(r, s.check(item, depth)); r == invalid {
				return r
			}
		}
	}
	for i, item := range arr {
		var s *node
		switch {
		case i < len(n.prefix):
			s = n.prefix[i]
		case n.items != nil:
			s = n.items
		}
		if s == nil {
			break
		}
		if r = all(r, s.check(item, depth)); r == invalid {
			return r
		}
	}
	return r
}

func (n *node) string(s string) verdict {
	if n.minLen != -1 || n.maxLen != -1 {
		l := utf8.RuneCountInString(s)
		if n.minLen != -1 && l < n.minLen || n.maxLen != -1 && l > n.maxLen {
			return invalid
		}
	}
	if n.pattern != nil && !n.pattern(s) {
		return invalid
	}
	return valid
}

func (n *node) number(v any) verdict {
	if n.min == nil && n.exMin == nil && n.max == nil && n.exMax == nil && n.multipleOf == nil {
		return valid
	}
	num, ok := rat(v)
	if !ok {
		return unknown
	}
	switch {
	case n.min != nil && num.Cmp(n.min) < 0,
		n.exMin != nil && num.Cmp(n.exMin) <= 0,
		n.max != nil && num.Cmp(n.max) > 0,
		n.exMax != nil && num.Cmp(n.exMax) >= 0:
		return invalid
	}
	if n.multipleOf != nil && !new(big.Rat).Quo(num, n.multipleOf).IsInt() {
		return invalid
	}
	return valid
}

// matcher is re.MatchString, by the automaton of package dfa when it takes the pattern (fast
// tells), else by the regexp itself. Over a base64 attachment of hundreds of kilobytes the regexp
// was most of a message's cost; the automaton steps over a byte with one table lookup.
func matcher(re *regexp.Regexp) (match func(string) bool, fast bool) {
	d, err := dfa.Compile(re.String()) // parsed as regexp.Compile parsed it
	if err != nil {
		return re.MatchString, false
	}
	return d.MatchString, true
}

// typeOf is the JSON type of v as the library sees it, 0 for a value JSON has no type for.
func typeOf(v any) typeMask {
	switch v.(type) {
	case nil:
		return tNull
	case bool:
		return tBoolean
	case string:
		return tString
	case map[string]any:
		return tObject
	case []any:
		return tArray
	case json.Number, float32, float64, int, int8, int32, int64, uint, uint8, uint32, uint64:
		return tNumber
	}
	return 0
}

// rat is the exact value of a number, read as the library reads it.
func rat(v any) (*big.Rat, bool) {
	return new(big.Rat).SetString(fmt.Sprint(v))
}

// equal compares two JSON values as the library does (numbers by value); ok is false for a value
// that is not JSON.
func equal(a, b any) (eq, ok bool) {
	ta, tb := typeOf(a), typeOf(b)
	if ta == 0 || tb == 0 {
		return false, false
	}
	if ta != tb {
		return false, true
	}
	switch ta {
	case tString:
		return a.(string) == b.(string), true
	case tArray:
		x, y := a.([]any), b.([]any)
		if len(x) != len(y) {
			return false, true
		}
		for i := range x {
			if eq, ok := equal(x[i], y[i]); !ok || !eq {
				return eq, ok
			}
		}
		return true, true
	case tObject:
		x, y := a.(map[string]any), b.(map[string]any)
		if len(x) != len(y) {
			return false, true
		}
		for k, xv := range x {
			yv, found := y[k]
			if !found {
				return false, true
			}
			if eq, ok := equal(xv, yv); !ok || !eq {
				return eq, ok
			}
		}
		return true, true
	case tNumber:
		x, okx := rat(a)
		y, oky := rat(b)
		if !okx || !oky {
			return false, false
		}
		return x.Cmp(y) == 0, true
	default:
		return a == b, true
	}
}
