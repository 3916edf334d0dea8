// Package spec describes configuration fields once, in Go struct tags, and derives from that one
// description the strict decoding of YAML (with file, line and column in every error), the JSON
// Schema of the configuration and its reference documentation.
//
// A configuration struct describes each field with tags:
//
//	type Config struct {
//		Listen  string        `yaml:"listen" doc:"Address to listen on." required:"true" example:"127.0.0.1:8080"`
//		Path    string        `yaml:"path" doc:"Path of the POST endpoint." default:"/"`
//		Timeout spec.Duration `yaml:"timeout" doc:"How long to wait." default:"10s"`
//		Mode    string        `yaml:"mode" doc:"Where fields go." enum:"metadata,json" default:"metadata"`
//	}
//
// Tags: yaml (the key), doc (required: what the field does), default (applied before decoding),
// example, enum (comma separated), required ("true"), min and max (numbers and list lengths).
// Configurations built in Go get the same checks from Check (Validate and Options call it), so a
// Validate method checks only what the tags cannot say: one field depending on another. After
// decoding, a struct implementing Validator is asked to check itself; FieldErrorf points an error
// at one of its fields so that the position can be reported.
package spec

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Error is one problem in a configuration file, at a position.
type Error struct {
	File string // file name as given to the loader
	Line int    // 1-based; 0 when unknown
	Col  int    // 1-based; 0 when unknown
	Path string // dotted path of the field, for example "routes[0].steps[1].xpath.fields"
	Msg  string // what is wrong
}

// Error formats the problem as "file:line:col: path: what is wrong".
func (e Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Col)
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in a configuration; it is reported whole, not only the first.
type Errors []Error

// Error joins the problems, one per line, in file and line order.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Sort orders the problems by file, line, column and path.
func (es Errors) Sort() {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Col != b.Col {
			return a.Col < b.Col
		}
		return a.Path < b.Path
	})
}

// Validator is implemented by configuration structs that check more than their tags say.
// Validate runs after decoding and defaults; it returns nil, one error, or several joined with
// errors.Join. Errors made with FieldErrorf are reported at that field's position.
type Validator interface {
	Validate() error
}

// FieldError is a Validate error about one field, named by its path relative to the struct
// (yaml keys joined by dots, list indexes in brackets: "fields.subject", "cases[1].when").
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// FieldErrorf returns a FieldError for field with a formatted message.
func FieldErrorf(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Unjoin flattens an error made by errors.Join into its parts.
func Unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, Unjoin(e)...)
		}
		return out
	}
	return []error{err}
}

// Duration is a time.Duration written in YAML as "250ms", "10s", "5m".
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil || n.Kind != yaml.ScalarNode {
		return fmt.Errorf("invalid duration %q: want a number with a unit, such as 500ms, 10s or 5m", n.Value)
	}
	if v < 0 {
		return errors.New("duration must not be negative")
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration as a Go duration string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// ByteSize is a size in bytes written in YAML as 1048576, "512KiB", "10MiB" or "1GiB".
type ByteSize int64

// UnmarshalYAML parses a number of bytes with an optional KiB, MiB or GiB unit.
func (s *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseByteSize(n.Value)
	if err != nil {
		return err
	}
	*s = ByteSize(v)
	return nil
}

// ParseByteSize parses "1048576", "512KiB", "10MiB" or "1GiB".
func ParseByteSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}
	mult := int64(1)
	num := strings.TrimSpace(s)
	for _, u := range units {
		if strings.HasSuffix(num, u.suffix) {
			mult, num = u.mult, strings.TrimSpace(strings.TrimSuffix(num, u.suffix))
			break
		}
	}
	var v int64
	if _, err := fmt.Sscanf(num, "%d", &v); err != nil || v < 0 || fmt.Sprint(v) != num {
		return 0, fmt.Errorf("invalid size %q: want bytes, optionally with KiB, MiB or GiB, such as 10MiB", s)
	}
	return v * mult, nil
}
