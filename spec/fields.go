package spec

import (
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// field is one described field of a configuration struct.
type field struct {
	index    int
	key      string // the yaml key
	typ      reflect.Type
	sf       reflect.StructField
	doc      string
	def      string
	hasDef   bool
	example  string
	enum     []string
	required bool
	min, max string
}

var (
	nodeType      = reflect.TypeOf(yaml.Node{})
	unmarshalType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
	durationType  = reflect.TypeOf(Duration(0))
	byteSizeType  = reflect.TypeOf(ByteSize(0))
)

// fieldsOf lists the described fields of struct type t: exported fields with a yaml key, in
// declaration order. Fields tagged yaml:"-" are skipped.
func fieldsOf(t reflect.Type) []field {
	var out []field
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		key, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if key == "-" {
			continue
		}
		f := fieldOf(sf)
		f.index = i
		out = append(out, f)
	}
	return out
}

// fieldOf reads the tags of one struct field.
func fieldOf(sf reflect.StructField) field {
	key, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
	if key == "" {
		key = strings.ToLower(sf.Name)
	}
	f := field{
		key:      key,
		typ:      sf.Type,
		sf:       sf,
		doc:      sf.Tag.Get("doc"),
		example:  sf.Tag.Get("example"),
		required: sf.Tag.Get("required") == "true",
		min:      sf.Tag.Get("min"),
		max:      sf.Tag.Get("max"),
	}
	f.def, f.hasDef = sf.Tag.Lookup("default")
	if e := sf.Tag.Get("enum"); e != "" {
		for _, v := range strings.Split(e, ",") {
			f.enum = append(f.enum, strings.TrimSpace(v))
		}
	}
	return f
}

// keysOf returns the yaml keys of fields, in declaration order.
func keysOf(fs []field) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.key
	}
	return out
}

// isUnmarshaler reports whether values of t decode themselves from YAML.
func isUnmarshaler(t reflect.Type) bool {
	return t.Implements(unmarshalType) || reflect.PointerTo(t).Implements(unmarshalType)
}

// join appends a key to a dotted path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
