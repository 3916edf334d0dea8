package schema

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// Every field of the library's compiled schema, exported or not, is classified: implemented by the
// checker, unable to change a verdict, or left to the library. A library upgrade that adds a field
// fails here until someone decides which it is.
func TestSchemaFieldsClassified(t *testing.T) {
	typ := reflect.TypeFor[jsonschema.Schema]()
	seen := map[string]bool{}
	for i := range typ.NumField() {
		f := typ.Field(i)
		seen[f.Name] = true
		if schemaFields[f.Name] == 0 {
			t.Errorf("jsonschema.Schema.%s (%s) is not in schemaFields: say whether the checker implements it, "+
				"it cannot change a verdict, or it leaves the schema to the library", f.Name, f.Type)
		}
	}
	for name := range schemaFields {
		if !seen[name] {
			t.Errorf("schemaFields names %s, which jsonschema.Schema no longer has", name)
		}
	}
}

// Each field left to the library, set in a schema or in one it reaches, leaves the whole schema to
// the library.
func TestCheckerRefusesLibraryFields(t *testing.T) {
	for _, name := range fieldNames(library) {
		s := compile(t, `{"properties": {"a": {}}}`)
		setField(t, s.Properties["a"], name)
		if newChecker(s) != nil {
			t.Errorf("%s set in a subschema: got a checker", name)
		}
		s = compile(t, `{}`)
		setField(t, s, name)
		if newChecker(s) != nil {
			t.Errorf("%s set: got a checker", name)
		}
	}
}

// A field the table does not name — as one a newer library adds would be — leaves the schema to the
// library when it is set. Each field is taken out of the table in turn to stand for one.
func TestUnknownFieldLeftToLibrary(t *testing.T) {
	for name := range schemaFields {
		s := compile(t, `{}`)
		setField(t, s, name)
		uses := maps.Clone(schemaFields)
		delete(uses, name)
		if got := fieldLeftToLibrary(s, uses); got != name {
			t.Errorf("%s set and unknown: fieldLeftToLibrary = %q", name, got)
		}
	}
	if got := fieldLeftToLibrary(compile(t, `{}`), schemaFields); got != "" {
		t.Errorf("an empty schema: %q is left to the library", got)
	}
}

// A format the library checks with a function the checker cannot call (one given to the Compiler)
// leaves the schema to the library; on main the checker looked only at the package's formats and
// passed a value the library refuses.
func TestCheckerCompilerFormat(t *testing.T) {
	for _, format := range []string{"even", "date"} { // a new name, and one the package also has
		c := jsonschema.NewCompiler()
		c.AssertFormat = true
		c.Formats[format] = func(v any) bool { s, ok := v.(string); return !ok || len(s)%2 == 0 }
		if err := c.AddResource("mem:///s.json", strings.NewReader(`{"format": "`+format+`"}`)); err != nil {
			t.Fatal(err)
		}
		s, err := c.Compile("mem:///s.json")
		if err != nil {
			t.Fatal(err)
		}
		if s.Validate("odd") == nil {
			t.Fatalf("%s: the library passes the value", format)
		}
		if ch := newChecker(s); ch != nil && ch.valid("odd") == valid {
			t.Errorf("%s: the checker passes a value the library refuses", format)
		}
	}
}

// A format is checked exactly when the library checks it: always before draft 2019-09, with
// AssertFormat after.
func TestCheckerFormatAssertion(t *testing.T) {
	for _, tc := range []struct {
		schema string
		assert bool
	}{
		{`{"format": "date"}`, false},
		{`{"format": "date"}`, true},
		{`{"$schema": "http://json-schema.org/draft-07/schema#", "format": "date"}`, false},
		{`{"format": "no-such-format"}`, true},
	} {
		c := jsonschema.NewCompiler()
		c.AssertFormat = tc.assert
		if err := c.AddResource("mem:///s.json", strings.NewReader(tc.schema)); err != nil {
			t.Fatal(err)
		}
		s, err := c.Compile("mem:///s.json")
		if err != nil {
			t.Fatal(err)
		}
		ch := newChecker(s)
		if ch == nil {
			t.Errorf("%s (assert %v): no checker", tc.schema, tc.assert)
			continue
		}
		for _, v := range []any{"2024-03-12", "not a date", nil} {
			agree(t, s, ch, v, tc.schema)
		}
	}
}

func fieldNames(use fieldUse) []string {
	var out []string
	for name, u := range schemaFields {
		if u == use {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// setField gives s's field name a value that is neither Go's zero nor the library's unset value.
// Unexported fields are written through their address, as the library's compiler would fill them.
func setField(t *testing.T, s *jsonschema.Schema, name string) {
	t.Helper()
	f, ok := reflect.TypeFor[jsonschema.Schema]().FieldByName(name)
	if !ok {
		t.Fatalf("no field %s", name)
	}
	fv := reflect.ValueOf(s).Elem().FieldByIndex(f.Index)
	reflect.NewAt(f.Type, unsafe.Pointer(fv.UnsafeAddr())).Elem().Set(someValue(f.Type, 0))
}

// someValue is a value of type t that is not zero, built whatever t is.
func someValue(t reflect.Type, depth int) reflect.Value {
	v := reflect.New(t).Elem()
	switch t.Kind() {
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(7)
	case reflect.String:
		v.SetString("x")
	case reflect.Pointer:
		v.Set(reflect.New(t.Elem()))
	case reflect.Slice:
		v.Set(reflect.MakeSlice(t, 1, 1))
		if depth < 2 {
			v.Index(0).Set(someValue(t.Elem(), depth+1))
		}
	case reflect.Map:
		v.Set(reflect.MakeMap(t))
		v.SetMapIndex(someValue(t.Key(), depth+1), someValue(t.Elem(), depth+1))
	case reflect.Func:
		v.Set(reflect.MakeFunc(t, func([]reflect.Value) []reflect.Value {
			out := make([]reflect.Value, t.NumOut())
			for i := range out {
				out[i] = reflect.Zero(t.Out(i))
			}
			return out
		}))
	case reflect.Interface:
		if t.NumMethod() == 0 {
			v.Set(reflect.ValueOf(true))
		}
	default:
		panic("someValue: no value for " + t.String())
	}
	return v
}

// A field the checker implements, holding a form of value it does not know (as a newer library
// might put there), leaves the schema to the library too.
func TestCheckerRefusesUnknownForms(t *testing.T) {
	for name, set := range map[string]func(s *jsonschema.Schema){
		"additionalProperties": func(s *jsonschema.Schema) { s.AdditionalProperties = "no" },
		"items":                func(s *jsonschema.Schema) { s.Items = map[string]any{} },
		"additionalItems": func(s *jsonschema.Schema) {
			s.Items, s.AdditionalItems = []*jsonschema.Schema{}, 0
		},
		"dependencies": func(s *jsonschema.Schema) { s.Dependencies = map[string]any{"a": "b"} },
	} {
		s := compile(t, `{}`)
		set(s)
		if newChecker(s) != nil {
			t.Errorf("%s of an unknown form: got a checker", name)
		}
	}
}
