package connectortest

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/aiskao/aiskao/spec"
)

// ConfigCase describes an options struct for CheckConfig.
type ConfigCase struct {
	// Zero is a pointer to the zero options struct, as given to connectors.Factory.Config.
	Zero any
	// Defaults applies defaults to the zero fields of a pointer of Zero's type, as the factory
	// does for options built in Go; nil when the struct declares none.
	Defaults func(cfg any)
	// Valid is a pointer to options that Validate must accept; nil to skip that check.
	Valid any
}

// CheckConfig checks the description and validation of an options struct; see the package
// documentation.
func CheckConfig(t *testing.T, c ConfigCase) {
	t.Helper()
	typ := reflect.TypeOf(c.Zero)
	if typ == nil || typ.Kind() != reflect.Pointer || typ.Elem().Kind() != reflect.Struct {
		t.Fatalf("Zero is %T; want a pointer to a struct", c.Zero)
	}
	fields := describedFields(t, typ.Elem())

	defaulted := reflect.New(typ.Elem())
	if c.Defaults != nil {
		c.Defaults(defaulted.Interface())
	}
	for _, f := range fields {
		checkDefault(t, f, defaulted.Elem().FieldByIndex(f.Index), c.Defaults != nil)
	}

	err := spec.Validate(defaulted.Interface())
	if anyRequired(fields) && err == nil {
		t.Errorf("Validate accepted the zero configuration although %s has required fields", typ.Elem())
	}
	keys := map[string]bool{}
	for _, f := range fields {
		keys[yamlKey(f)] = true
	}
	for _, e := range spec.Unjoin(err) {
		var fe *spec.FieldError
		if !errors.As(e, &fe) {
			t.Errorf("Validate error %q is not a spec.FieldError; make it with spec.FieldErrorf", e)
			continue
		}
		if top := strings.FieldsFunc(fe.Field, func(r rune) bool { return r == '.' || r == '[' }); len(top) == 0 || !keys[top[0]] {
			t.Errorf("Validate error names field %q, which is not a yaml key of %s", fe.Field, typ.Elem())
		}
	}
	if c.Valid != nil {
		if err := spec.Validate(c.Valid); err != nil {
			t.Errorf("Validate rejected the valid example: %v", err)
		}
	}
}

// describedFields returns the exported fields of typ and checks their tags.
func describedFields(t *testing.T, typ reflect.Type) []reflect.StructField {
	t.Helper()
	var out []reflect.StructField
	seen := map[string]bool{}
	for _, f := range reflect.VisibleFields(typ) {
		if !f.IsExported() || f.Anonymous {
			continue
		}
		key := yamlKey(f)
		if key == "" || key == "-" {
			t.Errorf("field %s has no yaml tag", f.Name)
			continue
		}
		if seen[key] {
			t.Errorf("yaml key %q used twice", key)
		}
		seen[key] = true
		if strings.TrimSpace(f.Tag.Get("doc")) == "" {
			t.Errorf("field %s (%s) has no doc tag", f.Name, key)
		}
		if r, ok := f.Tag.Lookup("required"); ok && r != "true" {
			t.Errorf("field %s (%s): required tag is %q; write required:\"true\" or leave it out", f.Name, key, r)
		}
		out = append(out, f)
	}
	return out
}

// checkDefault checks that the default tag of f decodes into its type, belongs to its enum, and
// is what the defaults function gave (got).
func checkDefault(t *testing.T, f reflect.StructField, got reflect.Value, applied bool) {
	t.Helper()
	key := yamlKey(f)
	def, has := f.Tag.Lookup("default")
	if !has {
		// A nested struct's fields carry their own tags; their defaults are not the struct's.
		if applied && !got.IsZero() && f.Type.Kind() != reflect.Struct {
			t.Errorf("field %s: the defaults function set %v, but the field has no default tag", key, got.Interface())
		}
		return
	}
	want := reflect.New(f.Type)
	if f.Type.Kind() == reflect.String {
		want.Elem().SetString(def) // taken literally: "*" or "{{id}}" are not YAML to decode
	} else if err := yaml.Unmarshal([]byte(def), want.Interface()); err != nil {
		t.Errorf("field %s: default %q does not decode into %s: %v", key, def, f.Type, err)
		return
	}
	if enum, ok := f.Tag.Lookup("enum"); ok && f.Type.Kind() == reflect.String && !slices.Contains(strings.Split(enum, ","), def) {
		t.Errorf("field %s: default %q is not one of %s", key, def, enum)
	}
	// A bool cannot tell "unset" from false, so a default of true is the loader's alone.
	if !applied || f.Type.Kind() == reflect.Bool {
		return
	}
	if !reflect.DeepEqual(got.Interface(), want.Elem().Interface()) {
		t.Errorf("field %s: the defaults function set %v; the default tag says %q", key, got.Interface(), def)
	}
}

func anyRequired(fields []reflect.StructField) bool {
	return slices.ContainsFunc(fields, func(f reflect.StructField) bool { return f.Tag.Get("required") == "true" })
}

func yamlKey(f reflect.StructField) string {
	key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return key
}
