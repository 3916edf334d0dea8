package spec

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Decode checks the YAML node n against the type of out (a non-nil pointer, usually to a struct
// described with tags) and decodes it there. Every problem is reported, each at the position of
// the offending key or value and under its dotted path, which starts with path. A nil or null n
// stands for an absent section: defaults are applied and required keys reported missing.
//
// Unknown keys, values of the wrong kind, missing required keys, values outside enum, min or max
// are errors. After a struct (at any depth) decoded without errors, its Validate method is called
// when it implements Validator. Fields of type yaml.Node are kept raw for the caller; fields of
// type any take the value as decoded by yaml.v3.
func Decode(file string, n *yaml.Node, path string, out any) Errors {
	v := reflect.ValueOf(out)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return Errors{{File: file, Path: path, Msg: fmt.Sprintf("cannot decode into %T: want a non-nil pointer", out)}}
	}
	d := &decoder{file: file}
	n = resolve(n)
	at := n
	if isNull(n) {
		n = nil
	}
	d.value(n, at, path, v.Elem(), nil)
	d.errs.Sort()
	return d.errs
}

type decoder struct {
	file string
	errs Errors
}

func (d *decoder) errorf(at *yaml.Node, path, format string, args ...any) {
	e := Error{File: d.file, Path: path, Msg: fmt.Sprintf(format, args...)}
	if at != nil {
		e.Line, e.Col = at.Line, at.Column
	}
	d.errs = append(d.errs, e)
}

// value decodes n into v. A nil n is an absent value; at then gives the position for errors.
// f is the field that holds v, for its enum, min and max; nil for list and map items.
func (d *decoder) value(n, at *yaml.Node, path string, v reflect.Value, f *field) {
	if n != nil {
		at = n
	}
	t := v.Type()
	switch {
	case t == nodeType:
		if n != nil {
			v.Set(reflect.ValueOf(*n))
		}
	case t.Kind() == reflect.Pointer:
		if n == nil {
			return // absent and without a default: nil
		}
		p := reflect.New(t.Elem())
		d.value(n, at, path, p.Elem(), f)
		v.Set(p)
	case t.Kind() == reflect.Interface:
		if n == nil {
			return
		}
		if t.NumMethod() != 0 {
			d.errorf(at, path, "cannot decode into %s", t)
			return
		}
		var x any
		if err := n.Decode(&x); err != nil {
			d.errorf(at, path, "%s", cleanYAMLError(err))
			return
		}
		if x != nil {
			v.Set(reflect.ValueOf(x))
		}
	case isUnmarshaler(t):
		if n == nil {
			return
		}
		if n.Kind != yaml.ScalarNode && (t == durationType || t == byteSizeType) {
			d.errorf(at, path, "want %s, got %s", kindName(t), Describe(n))
			return
		}
		if err := n.Decode(v.Addr().Interface()); err != nil {
			d.errorf(at, path, "%s", cleanYAMLError(err))
			return
		}
		d.limits(n, path, v, f)
	case t.Kind() == reflect.Struct:
		d.structure(n, at, path, v)
	case t.Kind() == reflect.Slice:
		d.list(n, path, v, f)
	case t.Kind() == reflect.Map:
		d.mapping(n, path, v)
	default:
		if n == nil {
			return
		}
		if d.scalar(n, path, v) {
			d.limits(n, path, v, f)
		}
	}
}

func (d *decoder) structure(n, at *yaml.Node, path string, v reflect.Value) {
	if n != nil && n.Kind != yaml.MappingNode {
		d.errorf(n, path, "want a mapping, got %s", Describe(n))
		return
	}
	before := len(d.errs)
	fs := fieldsOf(v.Type())
	present := map[string]bool{}
	nullKey := map[string]*yaml.Node{} // keys written with no value count as absent
	if n != nil {
		seen := map[string]*yaml.Node{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], resolve(n.Content[i+1])
			if first, dup := seen[k.Value]; dup {
				d.errorf(k, join(path, k.Value), "key %q is repeated (first at line %d)", k.Value, first.Line)
				continue
			}
			seen[k.Value] = k
			f := findField(fs, k.Value)
			if f == nil && len(fs) == 0 {
				d.errorf(k, path, "unknown key %q; no keys are allowed here", k.Value)
				continue
			}
			if f == nil {
				d.errorf(k, path, "unknown key %q; allowed: %s", k.Value, strings.Join(keysOf(fs), ", "))
				continue
			}
			if isNull(val) {
				nullKey[f.key] = k
				continue
			}
			present[f.key] = true
			d.value(val, val, join(path, f.key), v.Field(f.index), f)
		}
	}
	for i := range fs {
		f := &fs[i]
		if present[f.key] {
			continue
		}
		pos := at
		if k := nullKey[f.key]; k != nil {
			pos = k
		}
		fp := join(path, f.key)
		switch {
		case f.required:
			d.errorf(pos, path, "missing required key %q", f.key)
		case f.hasDef:
			d.value(defaultNode(f, pos), pos, fp, v.Field(f.index), f)
		case f.typ.Kind() == reflect.Struct && f.typ != nodeType && !isUnmarshaler(f.typ):
			d.value(nil, pos, fp, v.Field(f.index), f) // apply the defaults inside
		}
	}
	if len(d.errs) == before {
		d.validate(n, at, path, v)
	}
}

func findField(fs []field, key string) *field {
	for i := range fs {
		if fs[i].key == key {
			return &fs[i]
		}
	}
	return nil
}

// validate calls Validate on v when it implements Validator, and reports what it returns.
func (d *decoder) validate(n, at *yaml.Node, path string, v reflect.Value) {
	var val Validator
	if v.CanAddr() {
		val, _ = v.Addr().Interface().(Validator)
	}
	if val == nil {
		val, _ = v.Interface().(Validator)
	}
	if val == nil {
		return
	}
	if n != nil {
		at = n
	}
	for _, err := range Unjoin(val.Validate()) {
		var fe *FieldError
		if errors.As(err, &fe) {
			pos := at
			if fn := Lookup(n, fe.Field); fn != nil {
				pos = fn
			}
			fp := path + "." + fe.Field
			switch {
			case path == "":
				fp = fe.Field
			case strings.HasPrefix(fe.Field, "["):
				fp = path + fe.Field
			}
			d.errorf(pos, fp, "%s", fe.Msg)
			continue
		}
		d.errorf(at, path, "%s", err.Error())
	}
}

var segment = regexp.MustCompile(`^([^\[\]]*)((?:\[\d+\])*)$`)

// Lookup finds the node at a relative field path ("fields.subject", "cases[1].when") below n, or
// returns nil when it is absent.
func Lookup(n *yaml.Node, field string) *yaml.Node {
	n = resolve(n)
	if field == "" {
		return n
	}
	for _, part := range strings.Split(field, ".") {
		m := segment.FindStringSubmatch(part)
		if m == nil {
			return nil
		}
		if m[1] != "" {
			n = mapValue(n, m[1])
		}
		for _, idx := range strings.Split(strings.Trim(m[2], "[]"), "][") {
			if idx == "" {
				continue
			}
			i, _ := strconv.Atoi(idx)
			if n == nil || n.Kind != yaml.SequenceNode || i >= len(n.Content) {
				return nil
			}
			n = resolve(n.Content[i])
		}
		if n == nil {
			return nil
		}
	}
	return n
}

// mapValue returns the value under key in mapping n, or nil.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return resolve(n.Content[i+1])
		}
	}
	return nil
}

func (d *decoder) list(n *yaml.Node, path string, v reflect.Value, f *field) {
	if n == nil {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, path, "want a list, got %s", Describe(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		item = resolve(item)
		p := fmt.Sprintf("%s[%d]", path, i)
		if isNull(item) {
			d.value(nil, item, p, s.Index(i), nil)
			continue
		}
		d.value(item, item, p, s.Index(i), nil)
	}
	v.Set(s)
	if f == nil {
		return
	}
	if lo, err := strconv.Atoi(f.min); err == nil && len(n.Content) < lo {
		d.errorf(n, path, "must have at least %d %s", lo, plural(lo, "item"))
	}
	if hi, err := strconv.Atoi(f.max); err == nil && len(n.Content) > hi {
		d.errorf(n, path, "must have at most %d %s", hi, plural(hi, "item"))
	}
}

func (d *decoder) mapping(n *yaml.Node, path string, v reflect.Value) {
	if n == nil {
		return
	}
	t := v.Type()
	if t.Key().Kind() != reflect.String {
		d.errorf(n, path, "cannot decode into %s", t)
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "want a mapping, got %s", Describe(n))
		return
	}
	m := reflect.MakeMapWithSize(t, len(n.Content)/2)
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], resolve(n.Content[i+1])
		p := join(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			d.errorf(k, p, "key %q is repeated (first at line %d)", k.Value, first.Line)
			continue
		}
		seen[k.Value] = k
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, path, "want a text key, got %s", Describe(k))
			continue
		}
		e := reflect.New(t.Elem()).Elem()
		if isNull(val) {
			d.value(nil, val, p, e, nil)
		} else {
			d.value(val, val, p, e, nil)
		}
		m.SetMapIndex(reflect.ValueOf(k.Value).Convert(t.Key()), e)
	}
	v.Set(m)
}

// scalar decodes a string, bool or number and reports whether it did.
func (d *decoder) scalar(n *yaml.Node, path string, v reflect.Value) bool {
	t := v.Type()
	want := kindName(t)
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, path, "want %s, got %s", want, Describe(n))
		return false
	}
	tag := n.ShortTag()
	switch t.Kind() {
	case reflect.String:
		v.SetString(n.Value)
	case reflect.Bool:
		if tag != "!!bool" {
			d.errorf(n, path, "want %s, got %s", want, Describe(n))
			return false
		}
		var b bool
		if err := n.Decode(&b); err != nil {
			d.errorf(n, path, "%s", cleanYAMLError(err))
			return false
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var i int64
		if tag != "!!int" || n.Decode(&i) != nil {
			d.errorf(n, path, "want %s, got %s", want, Describe(n))
			return false
		}
		if v.OverflowInt(i) {
			d.errorf(n, path, "%d is too large for %s", i, t)
			return false
		}
		v.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		var i int64
		if tag != "!!int" || n.Decode(&i) != nil {
			d.errorf(n, path, "want %s, got %s", want, Describe(n))
			return false
		}
		if i < 0 {
			d.errorf(n, path, "must not be negative")
			return false
		}
		if v.OverflowUint(uint64(i)) {
			d.errorf(n, path, "%d is too large for %s", i, t)
			return false
		}
		v.SetUint(uint64(i))
	case reflect.Float32, reflect.Float64:
		var x float64
		if (tag != "!!int" && tag != "!!float") || n.Decode(&x) != nil {
			d.errorf(n, path, "want %s, got %s", want, Describe(n))
			return false
		}
		v.SetFloat(x)
	default:
		d.errorf(n, path, "cannot decode into %s", t)
		return false
	}
	return true
}

// limits checks the enum, min and max of field f against the decoded value v.
func (d *decoder) limits(n *yaml.Node, path string, v reflect.Value, f *field) {
	if f == nil {
		return
	}
	if len(f.enum) > 0 {
		ok := false
		for _, e := range f.enum {
			ok = ok || e == n.Value
		}
		if !ok {
			d.errorf(n, path, "must be one of %s; got %q", strings.Join(f.enum, ", "), n.Value)
		}
	}
	x, isNum := number(v)
	if !isNum {
		return
	}
	if lo, ok := bound(v.Type(), f.min); ok && x < lo {
		d.errorf(n, path, "must be at least %s", f.min)
	}
	if hi, ok := bound(v.Type(), f.max); ok && x > hi {
		d.errorf(n, path, "must be at most %s", f.max)
	}
}

// number returns v as a float64 for comparison with min and max.
func number(v reflect.Value) (float64, bool) {
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(v.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return float64(v.Uint()), true
	case reflect.Float32, reflect.Float64:
		return v.Float(), true
	}
	return 0, false
}

// bound parses a min or max tag; durations and sizes are written in their own units.
func bound(t reflect.Type, s string) (float64, bool) {
	if s == "" {
		return 0, false
	}
	switch t {
	case durationType:
		dv, err := time.ParseDuration(s)
		return float64(dv), err == nil
	case byteSizeType:
		b, err := ParseByteSize(s)
		return float64(b), err == nil
	}
	x, err := strconv.ParseFloat(s, 64)
	return x, err == nil && !math.IsNaN(x)
}

// defaultNode is the node of a field's default tag, placed at pos for error messages.
func defaultNode(f *field, pos *yaml.Node) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: f.def}
	t := f.typ
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.String || isUnmarshaler(t) {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(f.def), &doc); err == nil && len(doc.Content) == 1 {
			n = doc.Content[0]
		}
	}
	setPos(n, pos)
	return n
}

func setPos(n, pos *yaml.Node) {
	if pos == nil {
		return
	}
	n.Line, n.Column = pos.Line, pos.Column
	for _, c := range n.Content {
		setPos(c, pos)
	}
}

// resolve follows aliases and unwraps documents.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil {
		switch {
		case n.Kind == yaml.AliasNode:
			n = n.Alias
		case n.Kind == yaml.DocumentNode && len(n.Content) == 1:
			n = n.Content[0]
		default:
			return n
		}
	}
	return nil
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null") ||
		(n.Kind == yaml.DocumentNode && len(n.Content) == 0)
}

// Describe names what a node holds, for messages such as "want a list, got a mapping".
func Describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return "nothing"
		}
		return strconv.Quote(n.Value)
	}
	return "something else"
}

// kindName names what a type wants, for "want X, got Y".
func kindName(t reflect.Type) string {
	switch t {
	case durationType:
		return "a duration"
	case byteSizeType:
		return "a size"
	case nodeType:
		return "anything"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	case reflect.Pointer:
		return kindName(t.Elem())
	}
	return "a value"
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// cleanYAMLError strips yaml.v3's "yaml: unmarshal errors: line N:" wrapping, since the error is
// reported with its own position.
func cleanYAMLError(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "yaml: unmarshal errors:\n  ")
	s = strings.TrimPrefix(s, "yaml: ")
	if strings.HasPrefix(s, "line ") {
		if _, rest, ok := strings.Cut(s, ": "); ok {
			s = rest
		}
	}
	return s
}
