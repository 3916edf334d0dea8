package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/aiskao/aiskao/dossier/service"
)

// decode reads the request's JSON body into v: one JSON value, no unknown fields, at most
// MaxBody bytes; an empty body decodes as {} when emptyOK. It answers the problem itself and
// returns false when the body cannot be read.
func (a *api) decode(w http.ResponseWriter, r *http.Request, v any, emptyOK bool) bool {
	body, ok := a.body(w, r, emptyOK)
	if !ok {
		return false
	}
	if f := decodeBody(body, v); f != nil {
		a.malformed(w, r, *f)
		return false
	}
	return true
}

// malformed answers 400 for a body that does not decode.
func (a *api) malformed(w http.ResponseWriter, r *http.Request, f ProblemField) {
	writeProblem(w, r, http.StatusBadRequest, codeMalformed, service.Text{BG: "Тялото не е JSON по описанието.", EN: "The body is not JSON as described."}, []ProblemField{f})
}

// body reads the request's body, at most MaxBody bytes of JSON; an empty body reads as {} when
// emptyOK. It answers the problem itself and returns false when the body cannot be read.
func (a *api) body(w http.ResponseWriter, r *http.Request, emptyOK bool) ([]byte, bool) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			writeProblem(w, r, http.StatusUnsupportedMediaType, codeMediaType, service.Text{BG: "Тялото трябва да е application/json.", EN: "The body must be application/json."}, nil)
			return nil, false
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.opt.MaxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeProblem(w, r, http.StatusRequestEntityTooLarge, codeTooLarge, service.Text{
				BG: fmt.Sprintf("Тялото е по-голямо от %d байта.", a.opt.MaxBody), EN: fmt.Sprintf("The body is larger than %d bytes.", a.opt.MaxBody)}, nil)
			return nil, false
		}
		writeProblem(w, r, http.StatusBadRequest, codeMalformed, service.Text{BG: "Тялото не може да бъде прочетено.", EN: "The body cannot be read."}, nil)
		return nil, false
	}
	if emptyOK && len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	return body, true
}

// decodeBody decodes body into v strictly, and says what is wrong: where (a JSON pointer) and
// at which byte.
func decodeBody(body []byte, v any) *ProblemField {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			f := field("", "trailing_data", fmt.Sprintf("След JSON стойността има още данни (байт %d).", dec.InputOffset()),
				fmt.Sprintf("There is more after the JSON value (byte %d).", dec.InputOffset()))
			return &f
		}
		return nil
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		f := field("", "syntax", fmt.Sprintf("Невалиден JSON на байт %d: %v.", syn.Offset, syn), fmt.Sprintf("Invalid JSON at byte %d: %v.", syn.Offset, syn))
		return &f
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		f := field("", "syntax", fmt.Sprintf("JSON свършва преждевременно (байт %d).", len(body)), fmt.Sprintf("The JSON ends early (byte %d).", len(body)))
		return &f
	case errors.As(err, &typ):
		p := valueAt(body, typ.Offset)
		want := kindName(typ.Type.Kind().String())
		f := field(p, "invalid_type", fmt.Sprintf("Очаква се %s, а не %s (байт %d).", want, typ.Value, typ.Offset),
			fmt.Sprintf("Want %s, not %s (byte %d).", want, typ.Value, typ.Offset))
		return &f
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		p, off := unknownKey(body, reflect.TypeOf(v))
		f := field(p, "unknown_field", fmt.Sprintf("Непознато поле (байт %d).", off), fmt.Sprintf("Unknown field (byte %d).", off))
		return &f
	}
	f := field("", "invalid_value", fmt.Sprintf("Стойност не може да бъде прочетена: %v.", err), fmt.Sprintf("A value cannot be read: %v.", err))
	return &f
}

// walkJSON calls visit for every key and value of body in order, with the path to it (the
// keys and indexes from the root) and the offset after it, until visit returns true.
func walkJSON(body []byte, visit func(path []string, key bool, end int64) bool) {
	type level struct {
		obj     bool
		keyNext bool
		key     string
		idx     int
	}
	var st []*level
	path := func() []string {
		out := make([]string, len(st))
		for i, l := range st {
			if l.obj {
				out[i] = l.key
			} else {
				out[i] = strconv.Itoa(l.idx)
			}
		}
		return out
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if err != nil {
			return
		}
		d, delim := tok.(json.Delim)
		if delim && (d == '}' || d == ']') {
			st = st[:len(st)-1]
			if n := len(st); n > 0 && st[n-1].obj {
				st[n-1].keyNext = true
			}
			continue
		}
		if n := len(st); n > 0 {
			top := st[n-1]
			if top.obj && top.keyNext {
				top.key, top.keyNext = tok.(string), false
				if visit(path(), true, dec.InputOffset()) {
					return
				}
				continue
			}
			if !top.obj {
				top.idx++
			}
		}
		if visit(path(), false, dec.InputOffset()) {
			return
		}
		if delim {
			st = append(st, &level{obj: d == '{', keyNext: d == '{', idx: -1})
		} else if n := len(st); n > 0 && st[n-1].obj {
			st[n-1].keyNext = true
		}
	}
}

// valueAt is the pointer of the first value of body that ends at or after off.
func valueAt(body []byte, off int64) string {
	var out []string
	walkJSON(body, func(path []string, key bool, end int64) bool {
		if !key && end >= off {
			out = path
			return true
		}
		return false
	})
	return pointerOf(out)
}

// unknownKey finds the first key of body that t, the type decoded into, has no field for.
func unknownKey(body []byte, t reflect.Type) (string, int64) {
	var out []string
	var at int64
	walkJSON(body, func(path []string, key bool, end int64) bool {
		if !key {
			return false
		}
		parent := typeAt(t, path[:len(path)-1])
		if parent != nil && parent.Kind() == reflect.Struct {
			if _, ok := jsonField(parent, path[len(path)-1]); !ok {
				out, at = path, end
				return true
			}
		}
		return false
	})
	return pointerOf(out), at
}

// typeAt is the Go type of the value at path in a value of type t, or nil.
func typeAt(t reflect.Type, path []string) reflect.Type {
	for _, p := range path {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Struct:
			f, ok := jsonField(t, p)
			if !ok {
				return nil
			}
			t = f.Type
		case reflect.Slice, reflect.Array, reflect.Map:
			t = t.Elem()
		default:
			return nil
		}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// jsonField is the field of struct t that encoding/json decodes key into.
func jsonField(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" && tag == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				if sf, ok := jsonField(ft, key); ok {
					return sf, true
				}
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if strings.EqualFold(name, key) {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// pointerOf writes path as a JSON pointer (RFC 6901).
func pointerOf(path []string) string {
	var b strings.Builder
	for _, p := range path {
		b.WriteByte('/')
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(p, "~", "~0"), "/", "~1"))
	}
	return b.String()
}

// kindName names a Go kind as JSON does.
func kindName(k string) string {
	switch {
	case strings.HasPrefix(k, "int"), strings.HasPrefix(k, "uint"), strings.HasPrefix(k, "float"):
		return "number"
	case k == "struct", k == "map":
		return "object"
	case k == "slice", k == "array":
		return "array"
	case k == "bool":
		return "boolean"
	}
	return k
}
