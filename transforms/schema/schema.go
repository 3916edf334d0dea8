// Package schema holds the json_schema step, which checks the JSON payload against a JSON Schema
// (drafts 4, 6, 7, 2019-09 and 2020-12; 2020-12 when the schema does not say) and reports every
// problem with the place in the payload where it is.
package schema

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/transforms"
)

func init() {
	transforms.Register(transforms.Factory{
		Name: "json_schema",
		Doc: "Validates the JSON payload against a JSON Schema, from a file or written inline. Formats " +
			"(date, email, ...) are checked. A payload that does not validate fails the step with every " +
			"problem found, each with the JSON pointer of the value it concerns, for example " +
			"\"/Message/Header/MessageGUID: does not match pattern ...\".",
		Config: &Options{},
		New:    New,
	})
}

// Options configures json_schema; exactly one of schema and inline is set.
type Options struct {
	Schema string         `yaml:"schema" doc:"File of the JSON Schema, relative to the configuration file; $ref to other files resolve from it." example:"schemas/incoming-document.json"`
	Inline map[string]any `yaml:"inline" doc:"The JSON Schema written inline, in YAML; $ref to files resolve from the configuration file's folder." example:"{type: object, required: [Message]}"`
}

// Validate checks that exactly one of schema and inline is set.
func (o *Options) Validate() error {
	switch {
	case o.Schema == "" && o.Inline == nil:
		return spec.FieldErrorf("schema", "set schema (a file) or inline")
	case o.Schema != "" && o.Inline != nil:
		return spec.FieldErrorf("inline", "set schema or inline, not both")
	}
	return nil
}

// Step is a compiled json_schema step.
type Step struct {
	schema *jsonschema.Schema
	fast   *checker // nil when the schema uses a keyword only the library checks
}

// New compiles the schema once; relative files are resolved against env.BaseDir.
func New(cfg any, env transforms.Env) (transforms.Step, error) {
	o := cfg.(*Options)
	if err := spec.Validate(o); err != nil {
		return nil, err
	}
	base, err := filepath.Abs(env.BaseDir)
	if err != nil {
		return nil, fmt.Errorf("json_schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat = true
	field, url := "schema", o.Schema
	if o.Inline != nil {
		field, url = "inline", filepath.Join(base, "inline-schema.json")
		b, err := json.Marshal(o.Inline)
		if err != nil {
			return nil, spec.FieldErrorf(field, "cannot write the schema as JSON: %v", err)
		}
		if err := c.AddResource(url, bytes.NewReader(b)); err != nil {
			return nil, spec.FieldErrorf(field, "%v", err)
		}
	} else if !filepath.IsAbs(url) {
		url = filepath.Join(base, url)
	}
	s, err := c.Compile(url)
	if err != nil {
		return nil, spec.FieldErrorf(field, "%s", schemaError(err, base))
	}
	return &Step{schema: s, fast: newChecker(s)}, nil
}

// schemaError describes a schema that does not compile, with file names relative to base.
func schemaError(err error, base string) string {
	var se *jsonschema.SchemaError
	msg := err.Error()
	if errors.As(err, &se) {
		msg = se.Err.Error()
		var ve *jsonschema.ValidationError
		if errors.As(se.Err, &ve) {
			msg = "not a valid JSON Schema: " + (&Error{Problems: problems(ve)}).list()
		}
	}
	return strings.ReplaceAll(strings.ReplaceAll(msg, "file://"+base+"/", ""), base+"/", "")
}

// Apply validates the payload's decoded JSON value.
func (s *Step) Apply(_ context.Context, m *transforms.Message) error {
	v, err := m.JSON()
	if err != nil {
		return fmt.Errorf("json_schema: %w", err)
	}
	if s.fast != nil && s.fast.valid(v) == valid {
		return nil
	}
	err = s.schema.Validate(v)
	var ve *jsonschema.ValidationError
	if errors.As(err, &ve) {
		return &Error{Problems: problems(ve)}
	}
	if err != nil {
		return fmt.Errorf("json_schema: %w", err)
	}
	return nil
}

// Problem is one way the payload fails the schema.
type Problem struct {
	Pointer string // JSON pointer of the value, "" for the whole payload
	Keyword string // schema location of the failing keyword, e.g. "/properties/Message/required"
	Message string
}

// Error is a payload that does not validate, with every problem found.
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string { return "json_schema: " + e.list() }

func (e *Error) list() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		ptr := p.Pointer
		if ptr == "" {
			ptr = "(root)"
		}
		parts[i] = ptr + ": " + p.Message
	}
	return strings.Join(parts, "; ")
}

// problems flattens the validator's tree of errors into its leaves, sorted by place, duplicates
// (the same place and message reached through several keywords) once.
func problems(ve *jsonschema.ValidationError) []Problem {
	var out []Problem
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			out = append(out, Problem{Pointer: e.InstanceLocation, Keyword: e.KeywordLocation, Message: e.Message})
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	slices.SortStableFunc(out, func(a, b Problem) int {
		if c := strings.Compare(a.Pointer, b.Pointer); c != 0 {
			return c
		}
		return strings.Compare(a.Message, b.Message)
	})
	return slices.CompactFunc(out, func(a, b Problem) bool { return a.Pointer == b.Pointer && a.Message == b.Message })
}
