package xml

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/antchfx/xmlquery"
	"github.com/antchfx/xpath"

	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/transforms"
)

func init() {
	transforms.Register(transforms.Factory{
		Name: "xpath",
		Doc: "Evaluates XPath 1.0 expressions over the XML payload and stores each result under a field name, " +
			"in the metadata or as a JSON object that replaces the payload. A field's value is the string " +
			"value of the first selected node, or the result of an expression such as count(...), " +
			"string(...) or a comparison. Prefixes in the expressions are resolved through namespaces; a " +
			"name without prefix matches elements written without one, in no namespace or a default one " +
			"(m:Message is not matched by Message). A field that selects nothing is left " +
			"unset unless it is listed in required, which makes the step fail naming it.",
		Config: &XPathOptions{},
		New:    newXPath,
	})
}

// XPathOptions configures the xpath step.
type XPathOptions struct {
	Namespaces map[string]string `yaml:"namespaces" doc:"Prefixes used in the expressions, mapped to namespace URIs." example:"{m: \"http://schemas.egov.bg/messaging/v1\"}"`
	Fields     map[string]string `yaml:"fields" doc:"Field names mapped to XPath expressions. With into: metadata, a field named like an envelope attribute (subject, type) sets it." required:"true" min:"1" example:"{subject: \"//m:DocID/m:DocumentNumber/m:DocNumber\"}"`
	Into       string            `yaml:"into" doc:"Where the fields go: metadata, or json to replace the payload with a JSON object of the fields (strings, with numbers and booleans as the expressions give them)." enum:"metadata,json" default:"metadata"`
	Required   []string          `yaml:"required" doc:"Fields that must select a node (or give a non-empty string); the step fails otherwise." example:"[subject]"`
}

// Validate compiles every expression and checks the other options.
func (o *XPathOptions) Validate() error {
	var errs []error
	for p, uri := range o.Namespaces {
		if !validNCName(p) {
			errs = append(errs, spec.FieldErrorf("namespaces."+p, "%q is not a valid namespace prefix", p))
		}
		if uri == "" {
			errs = append(errs, spec.FieldErrorf("namespaces."+p, "namespace URI is empty"))
		}
	}
	for _, name := range sortedKeys(o.Fields) {
		if name == "" {
			errs = append(errs, spec.FieldErrorf("fields", "a field name is empty"))
			continue
		}
		if _, err := transforms.CompileXPath(o.Fields[name], o.Namespaces); err != nil {
			errs = append(errs, spec.FieldErrorf("fields."+name, "%v", err))
		}
	}
	for i, r := range o.Required {
		if _, ok := o.Fields[r]; !ok {
			errs = append(errs, spec.FieldErrorf(fmt.Sprintf("required[%d]", i), "%q is not one of the fields", r))
		}
	}
	return errors.Join(errs...)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

type xpathField struct {
	name     string
	x        *transforms.XPath
	required bool
}

type xpathStep struct {
	fields []xpathField // sorted by name, so that errors come in a stable order
	toJSON bool
}

func newXPath(cfg any, _ transforms.Env) (transforms.Step, error) {
	o := cfg.(*XPathOptions)
	if err := spec.Validate(o); err != nil {
		return nil, err
	}
	s := &xpathStep{toJSON: o.Into == "json"}
	for _, name := range sortedKeys(o.Fields) {
		x, err := transforms.CompileXPath(o.Fields[name], o.Namespaces)
		if err != nil {
			return nil, spec.FieldErrorf("fields."+name, "%v", err)
		}
		s.fields = append(s.fields, xpathField{name: name, x: x, required: slices.Contains(o.Required, name)})
	}
	return s, nil
}

// Apply evaluates the fields over the parsed document.
func (s *xpathStep) Apply(_ context.Context, m *transforms.Message) error {
	doc, err := m.XML()
	if err != nil {
		return fmt.Errorf("xpath: %w", err)
	}
	var obj map[string]any
	if s.toJSON {
		obj = make(map[string]any, len(s.fields))
	}
	var errs []error
	for _, f := range s.fields {
		str, v, found := evaluate(f.x, doc)
		if f.required {
			switch {
			case !found:
				errs = append(errs, fmt.Errorf("xpath: field %q: no node matches %s", f.name, f.x))
				continue
			case v == nil && str == "":
				errs = append(errs, fmt.Errorf("xpath: field %q: %s gives an empty string", f.name, f.x))
				continue
			}
		}
		switch {
		case !found:
		case obj != nil && v != nil:
			obj[f.name] = v
		case obj != nil:
			obj[f.name] = str
		case v != nil:
			m.Metadata[f.name] = text(v)
		default:
			m.Metadata[f.name] = str
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if obj != nil {
		m.SetJSON(obj)
	}
	return nil
}

// evaluate returns the expression's value over doc: a string as str, a number (json.Number) or a
// bool as v; found is false when a node set is empty. A plain location path is walked instead of
// evaluated, and its value is read without allocating.
func evaluate(x *transforms.XPath, doc *xmlquery.Node) (str string, v any, found bool) {
	if n, ok := x.First(doc); ok {
		if n == nil {
			return "", nil, false
		}
		return transforms.NodeValue(n), nil, true
	}
	switch r := x.Evaluate(doc).(type) {
	case *xpath.NodeIterator:
		if !r.MoveNext() {
			return "", nil, false
		}
		return r.Current().Value(), nil, true
	case string:
		return r, nil, true
	case float64:
		if s, ok := nonFinite(r); ok {
			return s, nil, true
		}
		return "", json.Number(strconv.FormatFloat(r, 'f', -1, 64)), true
	case bool:
		return "", r, true
	default:
		return fmt.Sprint(r), nil, true
	}
}

// nonFinite names NaN and the infinities, which have no JSON form and stay strings ("NaN",
// "Infinity"); other numbers are written as JSON would, whole ones without a fraction.
func nonFinite(f float64) (string, bool) {
	switch {
	case math.IsNaN(f):
		return "NaN", true
	case math.IsInf(f, 1):
		return "Infinity", true
	case math.IsInf(f, -1):
		return "-Infinity", true
	}
	return "", false
}

func text(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return string(v)
	case bool:
		return strconv.FormatBool(v)
	}
	return fmt.Sprint(v)
}
