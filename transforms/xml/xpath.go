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
			"name without prefix matches elements of any namespace. A field that selects nothing is left " +
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
		v, found, empty := evaluate(f.x, doc)
		if f.required {
			switch {
			case !found:
				errs = append(errs, fmt.Errorf("xpath: field %q: no node matches %s", f.name, f.x))
				continue
			case empty:
				errs = append(errs, fmt.Errorf("xpath: field %q: %s gives an empty string", f.name, f.x))
				continue
			}
		}
		if !found {
			continue
		}
		if obj != nil {
			obj[f.name] = v
		} else {
			m.Metadata[f.name] = text(v)
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

// evaluate returns the expression's value over doc as a string, a json.Number or a bool; found is
// false when a node set is empty, and empty is true for an empty string.
func evaluate(x *transforms.XPath, doc *xmlquery.Node) (v any, found, empty bool) {
	switch r := x.Evaluate(doc).(type) {
	case *xpath.NodeIterator:
		if !r.MoveNext() {
			return nil, false, true
		}
		s := r.Current().Value()
		return s, true, s == ""
	case string:
		return r, true, r == ""
	case float64:
		return number(r), true, false
	case bool:
		return r, true, false
	default:
		return fmt.Sprint(r), true, false
	}
}

// number writes an XPath number as JSON would: whole numbers without a fraction. NaN and the
// infinities have no JSON form and stay strings ("NaN", "Infinity").
func number(f float64) any {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return json.Number(strconv.FormatFloat(f, 'f', -1, 64))
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
