package xml

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/transforms"
)

const conventionDoc = ` Convention: the root element is the single top-level key; an element is a key named by its ` +
	`qualified name as written ("prefix:local" or "local"); attributes are "@name" keys, namespace ` +
	`declarations included ("@xmlns", "@xmlns:p"); an element with only text is a string, an empty ` +
	`element ""; text beside attributes or children is "#text" (mixed content joined, its place among ` +
	`the children lost); same-named siblings are an array in document order, and paths listed in ` +
	`arrays are arrays even with one element; every leaf is a string; comments and processing ` +
	`instructions are dropped.`

func init() {
	transforms.Register(transforms.Factory{
		Name: "xml_to_json",
		Doc: "Converts the XML payload to JSON, keys in document order, using the document already parsed." +
			conventionDoc,
		Config: &ToJSONOptions{},
		New:    newToJSON,
	})
	transforms.Register(transforms.Factory{
		Name: "json_to_xml",
		Doc: "Converts the JSON payload to XML, elements in the order of the JSON keys; numbers and booleans " +
			"become their text and null leaves the element out." + conventionDoc,
		Config: &ToXMLOptions{},
		New:    newToXML,
	})
}

// ToJSONOptions configures xml_to_json.
type ToJSONOptions struct {
	Arrays []string `yaml:"arrays" doc:"Element paths, qualified names from the root joined by dots, that become JSON arrays even when the element occurs once, so that the JSON keeps one shape." example:"Message.Body.Items.Item"`
}

// Validate checks that every path names elements.
func (o *ToJSONOptions) Validate() error {
	return validatePaths("arrays", o.Arrays)
}

func validatePaths(field string, paths []string) error {
	var errs []error
	for i, p := range paths {
		for _, seg := range strings.Split(p, ".") {
			if !validName(seg) {
				errs = append(errs, spec.FieldErrorf(fmt.Sprintf("%s[%d]", field, i),
					"%q is not a path of element names joined by dots (bad part %q)", p, seg))
				break
			}
		}
	}
	return errors.Join(errs...)
}

type toJSON struct {
	arrays map[string]bool
}

func newToJSON(cfg any, _ transforms.Env) (transforms.Step, error) {
	o := cfg.(*ToJSONOptions)
	if err := spec.Validate(o); err != nil {
		return nil, err
	}
	s := &toJSON{}
	if len(o.Arrays) > 0 {
		s.arrays = make(map[string]bool, len(o.Arrays))
		for _, p := range o.Arrays {
			s.arrays[p] = true
		}
	}
	return s, nil
}

// Apply replaces the XML payload with its JSON form. The JSON is set as bytes, in document order;
// a later step that needs the decoded value decodes it once.
func (s *toJSON) Apply(_ context.Context, m *transforms.Message) error {
	doc, err := m.XML()
	if err != nil {
		return fmt.Errorf("xml_to_json: %w", err)
	}
	// The value is built directly, for the steps that read it; the bytes, in document order,
	// are written only if something asks for them.
	v, err := jsonValue(doc, s.arrays)
	if err != nil {
		return fmt.Errorf("xml_to_json: %w", err)
	}
	arrays := s.arrays
	m.SetJSONEncoded(v, func() ([]byte, error) {
		var b bytes.Buffer
		err := writeJSON(&b, doc, arrays)
		return b.Bytes(), err
	})
	return nil
}

// ToXMLOptions configures json_to_xml.
type ToXMLOptions struct {
	Root            string `yaml:"root" doc:"Name of a root element to wrap the whole JSON object in. Without it the object must have exactly one key, which names the root element." example:"Application"`
	OmitDeclaration bool   `yaml:"omit_declaration" doc:"Leave out the XML declaration (<?xml version=\"1.0\" encoding=\"UTF-8\"?>)." default:"false"`
}

// Validate checks the root element name.
func (o *ToXMLOptions) Validate() error {
	if o.Root != "" && !validName(o.Root) {
		return spec.FieldErrorf("root", "%q is not a valid XML element name", o.Root)
	}
	return nil
}

type toXML struct{ opts ToXMLOptions }

func newToXML(cfg any, _ transforms.Env) (transforms.Step, error) {
	o := cfg.(*ToXMLOptions)
	if err := spec.Validate(o); err != nil {
		return nil, err
	}
	return &toXML{opts: *o}, nil
}

const declaration = `<?xml version="1.0" encoding="UTF-8"?>`

// Apply replaces the JSON payload with its XML form. It reads the payload's bytes rather than the
// decoded value, because only the bytes keep the order of the keys.
func (s *toXML) Apply(_ context.Context, m *transforms.Message) error {
	p, err := m.Payload()
	if err != nil {
		return fmt.Errorf("json_to_xml: %w", err)
	}
	v, err := decodeOrdered(p)
	if err != nil {
		return fmt.Errorf("json_to_xml: payload is not valid JSON: %w", err)
	}
	o, ok := v.(object)
	if !ok {
		return fmt.Errorf("json_to_xml: payload is a JSON %s, want an object", jsonKind(v))
	}
	w := &xmlWriter{}
	if !s.opts.OmitDeclaration {
		w.b.WriteString(declaration)
	}
	if s.opts.Root != "" {
		err = w.single(s.opts.Root, o)
	} else {
		if len(o) != 1 {
			return fmt.Errorf("json_to_xml: payload object has %d keys, want exactly one naming the root element (or set root)", len(o))
		}
		if _, isArray := o[0].val.([]any); isArray || o[0].val == nil {
			return fmt.Errorf("json_to_xml: /%s: the root element must be an object or a string, not %s", o[0].key, jsonKind(o[0].val))
		}
		w.path = append(w.path, o[0].key)
		err = w.element(o[0].key, o[0].val)
	}
	if err != nil {
		return fmt.Errorf("json_to_xml: %w", err)
	}
	m.SetPayload(w.b.Bytes())
	m.Metadata[envelope.ContentType] = "application/xml"
	return nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case object, map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	default:
		return "number"
	}
}
