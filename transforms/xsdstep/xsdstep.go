// Package xsdstep holds the xsd step, which validates the XML payload against an XML Schema with
// the pure-Go validator of package xsd, offline.
package xsdstep

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aiskao/aiskao/esoed"
	"github.com/aiskao/aiskao/internal/xmllimit"
	"github.com/aiskao/aiskao/internal/xsd"
	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/transforms"
)

func init() {
	transforms.Register(transforms.Factory{
		Name: "xsd",
		Doc: "Validates the XML payload against an XML Schema: a schema file with a catalogue for the " +
			"namespaces it imports without a schemaLocation, or a schema bundled in the program " +
			"(builtin: esoed, the ЕСОЕД EGovMessaging.xsd). Nothing is fetched from the network. A payload " +
			"that does not validate fails the step with its problems (the first 20), each with the " +
			"element path, the line and the rule broken, for example " +
			"\"/Message/Header/MessageGUID (line 17): pattern: ...\".",
		Config: &Options{},
		New:    New,
	})
}

// Builtins are the schemas bundled in the program, by the name the builtin option takes.
var builtins = map[string]func() (*xsd.Schema, error){
	"esoed": esoed.Schema,
}

// maxProblems is how many problems an error lists; the count says how many more there were.
const maxProblems = 20

// Options configures the xsd step; exactly one of schema and builtin is set.
type Options struct {
	Schema   string            `yaml:"schema" doc:"File of the XML Schema, relative to the configuration file; imports and includes with a schemaLocation resolve from it." example:"schemas/EGovMessaging.xsd"`
	Catalog  map[string]string `yaml:"catalog" doc:"Schema files for namespaces imported without a schemaLocation: namespace → file, relative to the configuration file." example:"{\"http://www.w3.org/2000/09/xmldsig#\": schemas/xmldsig-core-schema.xsd}"`
	Builtin  string            `yaml:"builtin" doc:"A schema bundled in the program instead of a file: esoed is the ЕСОЕД message schema (EGovMessaging.xsd with its imports)." enum:"esoed"`
	MaxDepth int               `yaml:"max_depth" doc:"How deeply the payload's elements may nest; a deeper payload is invalid at once, without being read further. The other bounds (size, attributes, names, texts, one root element, no DOCTYPE) are fixed." default:"256" min:"1" max:"100000" example:"64"`
}

// Validate checks that exactly one of schema and builtin is set, and catalog only with schema.
func (o *Options) Validate() error {
	switch {
	case o.Schema == "" && o.Builtin == "":
		return spec.FieldErrorf("schema", "set schema (a file) or builtin")
	case o.Schema != "" && o.Builtin != "":
		return spec.FieldErrorf("builtin", "set schema or builtin, not both")
	case o.Builtin != "" && len(o.Catalog) > 0:
		return spec.FieldErrorf("catalog", "a builtin schema brings its own catalogue; catalog goes with schema")
	}
	return nil
}

// Step is a compiled xsd step.
type Step struct {
	schema *xsd.Schema
	limits xmllimit.Limits
}

// New compiles the schema once; relative files are resolved against env.BaseDir.
func New(cfg any, env transforms.Env) (transforms.Step, error) {
	o := cfg.(*Options)
	if err := spec.Validate(o); err != nil {
		return nil, err
	}
	if o.Builtin != "" {
		get, ok := builtins[o.Builtin]
		if !ok {
			return nil, spec.FieldErrorf("builtin", "unknown builtin schema %q", o.Builtin)
		}
		s, err := get()
		if err != nil {
			return nil, fmt.Errorf("xsd: %w", err)
		}
		return &Step{schema: s, limits: xmllimit.Limits{MaxDepth: o.MaxDepth}}, nil
	}
	s, err := compileFile(o, env.BaseDir)
	if err != nil {
		return nil, err
	}
	return &Step{schema: s, limits: xmllimit.Limits{MaxDepth: o.MaxDepth}}, nil
}

// compileFile compiles o.Schema with a catalogue over the file system rooted at "/", so that the
// schema and the catalogue's files may sit in different folders.
func compileFile(o *Options, baseDir string) (*xsd.Schema, error) {
	base, err := filepath.Abs(baseDir)
	if err != nil {
		return nil, fmt.Errorf("xsd: %w", err)
	}
	common := base // the deepest folder holding base and every file, to name files in errors
	rel := func(field, p string) (string, error) {
		if !filepath.IsAbs(p) {
			p = filepath.Join(base, p)
		}
		if _, err := os.Stat(p); err != nil {
			return "", spec.FieldErrorf(field, "%s: %v", p, errors.Unwrap(err))
		}
		for !strings.HasPrefix(p, common+string(filepath.Separator)) && common != filepath.Dir(common) {
			common = filepath.Dir(common)
		}
		return filepath.ToSlash(strings.TrimPrefix(filepath.Clean(p), string(filepath.Separator))), nil
	}
	entry, err := rel("schema", o.Schema)
	if err != nil {
		return nil, err
	}
	cat := xsd.NewCatalog(os.DirFS(string(filepath.Separator)))
	for ns, file := range o.Catalog {
		p, err := rel("catalog", file)
		if err != nil {
			return nil, err
		}
		cat.Add(ns, p)
	}
	s, err := xsd.Compile(cat, entry)
	if err != nil {
		// The compiler names files by their path from the root; show them relative to the
		// configuration file's folder, as the options are written.
		msg := err.Error()
		if up, rerr := filepath.Rel(base, common); rerr == nil {
			from := filepath.ToSlash(strings.TrimPrefix(common, string(filepath.Separator))) + "/"
			to := filepath.ToSlash(up) + "/"
			if up == "." {
				to = ""
			}
			msg = strings.ReplaceAll(msg, from, to)
		}
		return nil, spec.FieldErrorf("schema", "%s", msg)
	}
	return s, nil
}

// Apply validates the payload.
func (s *Step) Apply(_ context.Context, m *transforms.Message) error {
	b, err := m.Payload()
	if err != nil {
		return fmt.Errorf("xsd: %w", err)
	}
	err = s.schema.ValidateWith(bytes.NewReader(b), s.limits)
	var ve *xsd.ValidationError
	if errors.As(err, &ve) {
		return &Error{Problems: ve.Problems}
	}
	if err != nil {
		return fmt.Errorf("xsd: %w", err)
	}
	return nil
}

// Error is a payload that does not validate, with the problems in document order; its text lists
// the first 20.
type Error struct {
	Problems []xsd.Problem
}

func (e *Error) Error() string {
	ps := e.Problems
	parts := make([]string, 0, min(len(ps), maxProblems)+1)
	for i, p := range ps {
		if i == maxProblems {
			parts = append(parts, fmt.Sprintf("and %d more", len(ps)-maxProblems))
			break
		}
		parts = append(parts, fmt.Sprintf("%s (line %d): %s: %s", p.Path, p.Line, p.Rule, p.Message))
	}
	return "xsd: " + strings.Join(parts, "; ")
}
