package spec

import (
	"reflect"
	"strconv"

	"gopkg.in/yaml.v3"
)

// SchemaHook gives the JSON Schema of a struct field, or nil to let the field's Go type decide.
// It lets a caller describe fields kept raw as yaml.Node, whose shape depends on other values (a
// connector's options depend on its type).
type SchemaHook func(f reflect.StructField) map[string]any

// durationPattern matches what time.ParseDuration accepts, without a sign.
const durationPattern = `^([0-9]+(\.[0-9]*)?(ns|us|µs|ms|s|m|h))+$|^0$`

// sizePattern matches what ParseByteSize accepts.
const sizePattern = `^[0-9]+ ?(B|KiB|MiB|GiB)?$`

// Schema returns the JSON Schema (draft 2020-12) of a type described with spec tags: types,
// descriptions from doc, typed defaults, examples, enums, bounds, required keys, and no keys
// besides the described ones.
func Schema(t reflect.Type) map[string]any { return SchemaWith(t, nil) }

// SchemaWith is Schema with a hook consulted for every struct field first.
func SchemaWith(t reflect.Type, hook SchemaHook) map[string]any {
	return typeSchema(t, hook)
}

func typeSchema(t reflect.Type, hook SchemaHook) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case nodeType:
		return map[string]any{}
	case durationType:
		return map[string]any{"type": "string", "pattern": durationPattern}
	case byteSizeType:
		return map[string]any{"type": []any{"integer", "string"}, "minimum": 0, "pattern": sizePattern}
	}
	if isUnmarshaler(t) {
		return map[string]any{}
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return map[string]any{"type": "integer"}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer", "minimum": 0}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": typeSchema(t.Elem(), hook)}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": typeSchema(t.Elem(), hook)}
	case reflect.Struct:
		return structSchema(t, hook)
	}
	return map[string]any{}
}

func structSchema(t reflect.Type, hook SchemaHook) map[string]any {
	props := map[string]any{}
	var required []any
	for _, f := range fieldsOf(t) {
		var s map[string]any
		if hook != nil {
			s = hook(f.sf)
		}
		if s == nil {
			s = typeSchema(f.typ, hook)
		}
		props[f.key] = FieldSchema(f.sf, s)
		if f.required {
			required = append(required, f.key)
		}
	}
	s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

// FieldSchema adds what the tags of sf say (description, default, examples, enum, bounds) to a
// copy of its base schema.
func FieldSchema(sf reflect.StructField, base map[string]any) map[string]any {
	f := fieldOf(sf)
	s := make(map[string]any, len(base)+4)
	for k, v := range base {
		s[k] = v
	}
	if f.doc != "" {
		s["description"] = f.doc
	}
	if f.hasDef {
		s["default"] = typedValue(f.typ, f.def)
	}
	if f.example != "" {
		s["examples"] = []any{typedValue(f.typ, f.example)}
	}
	if len(f.enum) > 0 {
		enum := make([]any, len(f.enum))
		for i, e := range f.enum {
			enum[i] = typedValue(f.typ, e)
		}
		s["enum"] = enum
	}
	t := f.typ
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	lo, hi := "minimum", "maximum"
	if t.Kind() == reflect.Slice {
		lo, hi = "minItems", "maxItems"
	}
	if t != durationType && t != byteSizeType {
		if x, ok := bound(t, f.min); ok {
			s[lo] = jsonNumber(x)
		}
		if x, ok := bound(t, f.max); ok {
			s[hi] = jsonNumber(x)
		}
	}
	return s
}

// typedValue turns a tag's text into the JSON value it stands for in a field of type t.
func typedValue(t reflect.Type, text string) any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() == reflect.String || t == durationType {
		return text
	}
	if t == byteSizeType {
		if v, err := strconv.ParseInt(text, 10, 64); err == nil {
			return v
		}
		return text
	}
	var v any
	if err := yaml.Unmarshal([]byte(text), &v); err != nil || v == nil {
		return text
	}
	return v
}

func jsonNumber(x float64) any {
	if x == float64(int64(x)) {
		return int64(x)
	}
	return x
}
