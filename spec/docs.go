package spec

import (
	"reflect"
	"strings"
)

// FieldDoc describes one configuration field for the reference documentation.
type FieldDoc struct {
	Key      string   // dotted key relative to the struct: "retry.max", "cases[].when.xpath"
	Type     string   // for people: "string", "duration", "list of string", "object"
	Doc      string   // what the field does
	Default  string   // as written in the default tag; empty when none
	Example  string   // as written in the example tag
	Enum     []string // allowed values, when restricted
	Required bool
	Min, Max string // bounds as written in the tags
}

// Fields describes the fields of struct type t (a pointer is followed), depth first: a nested
// struct's row comes before the rows of its own fields.
func Fields(t reflect.Type) []FieldDoc {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var out []FieldDoc
	walkFields(t, "", &out, map[reflect.Type]bool{})
	return out
}

func walkFields(t reflect.Type, prefix string, out *[]FieldDoc, seen map[reflect.Type]bool) {
	if seen[t] {
		return // a recursive type is described once
	}
	seen[t] = true
	defer delete(seen, t)
	for _, f := range fieldsOf(t) {
		key := prefix + f.key
		*out = append(*out, FieldDoc{
			Key: key, Type: TypeName(f.typ), Doc: f.doc, Default: f.def, Example: f.example,
			Enum: f.enum, Required: f.required, Min: f.min, Max: f.max,
		})
		if s, sub := nested(f.typ); s != nil {
			walkFields(s, key+sub, out, seen)
		}
	}
}

// nested returns the struct type described below a field of type t and the key part that leads
// to its fields ("." for a struct, "[]." for a list of structs, ".<name>." for a map of them).
func nested(t reflect.Type) (reflect.Type, string) {
	sub := "."
	for {
		switch {
		case t.Kind() == reflect.Pointer:
			t = t.Elem()
		case t.Kind() == reflect.Slice:
			t, sub = t.Elem(), strings.TrimSuffix(sub, ".")+"[]."
		case t.Kind() == reflect.Map:
			t, sub = t.Elem(), sub+"<name>."
		case t.Kind() == reflect.Struct && t != nodeType && !isUnmarshaler(t):
			return t, sub
		default:
			return nil, ""
		}
	}
}

// TypeName names a field type for people.
func TypeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case durationType:
		return "duration"
	case byteSizeType:
		return "size"
	case nodeType:
		return "any"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice:
		return "list of " + TypeName(t.Elem())
	case reflect.Map:
		return "map of " + TypeName(t.Elem())
	case reflect.Struct:
		return "object"
	}
	return "any"
}

// MissingDocs returns the keys of the fields of t, at any depth, that have no doc tag.
func MissingDocs(t reflect.Type) []string {
	var out []string
	for _, f := range Fields(t) {
		if strings.TrimSpace(f.Doc) == "" {
			out = append(out, f.Key)
		}
	}
	return out
}
