package spec

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Check enforces the tags required, enum, min and max on a configuration built in Go, as Decode
// does on one read from YAML, so that no Validate method repeats them. cfg is a struct or a
// pointer to one; nested structs, lists of structs and maps of structs are checked too. A zero
// field counts as absent: only required refuses it (apply defaults first, see Options). The
// errors are FieldErrors naming the dotted path of the field.
func Check(cfg any) error {
	v := reflect.ValueOf(cfg)
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return fmt.Errorf("spec: Check wants a struct, got %T", cfg)
	}
	var errs []error
	checkStruct(v, "", &errs)
	return errors.Join(errs...)
}

// Validate checks cfg with Check and then, when it implements Validator, with its own Validate
// for what the tags cannot say (one field depending on another). Factories call it, or Options.
func Validate(cfg any) error {
	if err := Check(cfg); err != nil {
		return err
	}
	v := reflect.ValueOf(cfg)
	if v.Kind() != reflect.Pointer && v.IsValid() {
		p := reflect.New(v.Type()) // a Validate with a pointer receiver needs an address
		p.Elem().Set(v)
		v = p
	}
	if val, ok := v.Interface().(Validator); ok && !v.IsNil() {
		return val.Validate()
	}
	return nil
}

func checkStruct(v reflect.Value, path string, errs *[]error) {
	for _, f := range fieldsOf(v.Type()) {
		fv := v.Field(f.index)
		p := join(path, f.key)
		if f.typ == nodeType {
			continue
		}
		if fv.IsZero() {
			if f.required {
				*errs = append(*errs, FieldErrorf(p, "is required"))
			}
			if fv.Kind() == reflect.Struct && !isUnmarshaler(f.typ) {
				checkStruct(fv, p, errs) // the required fields inside
			}
			continue
		}
		checkValue(fv, p, &f, errs)
	}
}

func checkValue(v reflect.Value, path string, f *field, errs *[]error) {
	switch {
	case v.Kind() == reflect.Pointer:
		if !v.IsNil() {
			checkValue(v.Elem(), path, f, errs)
		}
		return
	case v.Kind() == reflect.Struct && !isUnmarshaler(v.Type()):
		checkStruct(v, path, errs)
		return
	case v.Kind() == reflect.Slice:
		if f != nil {
			if lo, err := strconv.Atoi(f.min); err == nil && v.Len() < lo {
				*errs = append(*errs, FieldErrorf(path, "must have at least %d %s, got %d", lo, plural(lo, "item"), v.Len()))
			}
			if hi, err := strconv.Atoi(f.max); err == nil && v.Len() > hi {
				*errs = append(*errs, FieldErrorf(path, "must have at most %d %s, got %d", hi, plural(hi, "item"), v.Len()))
			}
		}
		for i := 0; i < v.Len(); i++ {
			checkValue(v.Index(i), fmt.Sprintf("%s[%d]", path, i), nil, errs)
		}
		return
	case v.Kind() == reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return
		}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		for _, k := range keys {
			checkValue(v.MapIndex(k), join(path, k.String()), nil, errs)
		}
		return
	}
	if f == nil {
		return
	}
	if len(f.enum) > 0 && v.Kind() == reflect.String && !slices.Contains(f.enum, v.String()) {
		*errs = append(*errs, FieldErrorf(path, "must be one of %s; got %q", strings.Join(f.enum, ", "), v.String()))
	}
	x, isNum := number(v)
	if !isNum {
		return
	}
	if lo, ok := bound(v.Type(), f.min); ok && x < lo {
		*errs = append(*errs, FieldErrorf(path, "must be at least %s, got %s", f.min, shown(v)))
	}
	if hi, ok := bound(v.Type(), f.max); ok && x > hi {
		*errs = append(*errs, FieldErrorf(path, "must be at most %s, got %s", f.max, shown(v)))
	}
}

// shown writes a number as its tag would: durations in their units.
func shown(v reflect.Value) string {
	if v.Type() == durationType {
		return time.Duration(v.Int()).String()
	}
	return fmt.Sprint(v.Interface())
}
