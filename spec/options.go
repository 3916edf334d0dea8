package spec

import (
	"fmt"
	"reflect"
)

// Options returns the options a factory was given (a *T or a T, as the loader or Go code passes
// them) with the defaults of their tags applied to zero fields, and checked by Validate (their tags,
// then their own Validate method).
// Factories call it so that options built in Go behave like options loaded from a file, with
// each default written once, in its tag.
func Options[T any](cfg any) (T, error) {
	var c T
	switch v := cfg.(type) {
	case *T:
		if v != nil {
			c = *v
		}
	case T:
		c = v
	default:
		return c, fmt.Errorf("options are %T; want *%T", cfg, c)
	}
	if err := FillDefaults(&c); err != nil {
		return c, err
	}
	if err := Validate(&c); err != nil {
		return c, err
	}
	return c, nil
}

// FillDefaults sets every zero field of the struct ptr points to that has a default tag to that
// default, and recurses into nested structs. Booleans are left alone: false cannot be told from
// unset, so a boolean whose default is true is applied by the loader only.
func FillDefaults(ptr any) error {
	v := reflect.ValueOf(ptr)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("spec: FillDefaults wants a pointer to a struct, got %T", ptr)
	}
	return fillDefaults(v.Elem())
}

func fillDefaults(v reflect.Value) error {
	for _, f := range fieldsOf(v.Type()) {
		fv := v.Field(f.index)
		if fv.Kind() == reflect.Struct && f.typ != nodeType {
			if err := fillDefaults(fv); err != nil {
				return err
			}
			continue
		}
		if !f.hasDef || !fv.IsZero() || fv.Kind() == reflect.Bool {
			continue
		}
		n := defaultNode(&f, nil)
		if err := n.Decode(fv.Addr().Interface()); err != nil {
			return fmt.Errorf("spec: default of %s: %w", f.key, err)
		}
	}
	return nil
}
