package xml

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/antchfx/xmlquery"
	"github.com/antchfx/xpath"

	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/internal/jsonenc"
	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/transforms"
)

func init() {
	transforms.Register(transforms.Factory{
		Name: "split",
		Doc: "Makes one message per repeated element: per node an XPath expression selects in the XML " +
			"payload, or per item of the JSON array at a path. Each message's payload is the element, " +
			"serialised with the namespace declarations it inherits so that it stands alone, or the array " +
			"item as JSON; its id is \"<id>.<n>\" and it keeps the metadata. Nothing selected gives no " +
			"messages; a path that ends at a single object (one element converted without arrays) gives one.",
		Config: &SplitOptions{},
		New:    newSplit,
	})
}

// SplitOptions configures split; exactly one of xpath and path is set.
type SplitOptions struct {
	XPath      string            `yaml:"xpath" doc:"XPath selecting the elements of an XML payload, one message each." example:"/m:Message/m:Body/m:Items/m:Item"`
	Namespaces map[string]string `yaml:"namespaces" doc:"Prefixes used in xpath, mapped to namespace URIs." example:"{m: \"http://schemas.egov.bg/messaging/v1\"}"`
	Path       string            `yaml:"path" doc:"Path of the array in a JSON payload: keys from the top joined by dots (a number indexes an array); \".\" is the payload itself." example:"Message.Body.Items.Item"`
}

// Validate checks that exactly one of xpath and path is set and that xpath compiles.
func (o *SplitOptions) Validate() error {
	switch {
	case o.XPath == "" && o.Path == "":
		return spec.FieldErrorf("xpath", "set xpath (XML payload) or path (JSON payload)")
	case o.XPath != "" && o.Path != "":
		return spec.FieldErrorf("path", "set xpath or path, not both")
	case o.XPath != "":
		if _, err := transforms.CompileXPath(o.XPath, o.Namespaces); err != nil {
			return spec.FieldErrorf("xpath", "%v", err)
		}
	case o.Path != ".":
		for _, seg := range strings.Split(o.Path, ".") {
			if seg == "" {
				return spec.FieldErrorf("path", "%q has an empty key; write keys joined by dots, or \".\" for the whole payload", o.Path)
			}
		}
	}
	return nil
}

type splitStep struct {
	x    *transforms.XPath
	path []string
}

func newSplit(cfg any, _ transforms.Env) (transforms.Step, error) {
	o := cfg.(*SplitOptions)
	if err := spec.Validate(o); err != nil {
		return nil, err
	}
	s := &splitStep{}
	if o.XPath != "" {
		x, err := transforms.CompileXPath(o.XPath, o.Namespaces)
		if err != nil {
			return nil, spec.FieldErrorf("xpath", "%v", err)
		}
		s.x = x
	} else if o.Path != "." {
		s.path = strings.Split(o.Path, ".")
	}
	return s, nil
}

// Apply fails: a split makes several messages, and the engine calls Split instead.
func (s *splitStep) Apply(context.Context, *transforms.Message) error {
	return errors.New("split: makes several messages and must be run with Split")
}

// Split returns one child message per selected element or array item.
func (s *splitStep) Split(_ context.Context, m *transforms.Message) ([]*transforms.Message, error) {
	if s.x != nil {
		return s.splitXML(m)
	}
	return s.splitJSON(m)
}

func (s *splitStep) splitXML(m *transforms.Message) ([]*transforms.Message, error) {
	doc, err := m.XML()
	if err != nil {
		return nil, fmt.Errorf("split: %w", err)
	}
	it, ok := s.x.Evaluate(doc).(*xpath.NodeIterator)
	if !ok {
		return nil, fmt.Errorf("split: %s gives a value, not a set of elements", s.x)
	}
	var out []*transforms.Message
	for it.MoveNext() {
		nav := it.Current().(*xmlquery.NodeNavigator)
		if nav.NodeType() != xpath.ElementNode {
			return nil, fmt.Errorf("split: %s selects something other than elements (%s)", s.x, nav.LocalName())
		}
		n := nav.Current()
		var b bytes.Buffer
		writeStandalone(&b, n)
		c := m.Child(len(out), b.Bytes())
		c.Metadata[envelope.ContentType] = "application/xml"
		out = append(out, c)
	}
	return out, nil
}

func (s *splitStep) splitJSON(m *transforms.Message) ([]*transforms.Message, error) {
	v, err := m.JSON()
	if err != nil {
		return nil, fmt.Errorf("split: %w", err)
	}
	for i, key := range s.path {
		switch cur := v.(type) {
		case map[string]any:
			v = cur[key]
		case []any:
			n, err := strconv.Atoi(key)
			if err != nil || n < 0 || n >= len(cur) {
				return nil, fmt.Errorf("split: %s: %q is not an index of the array there (length %d)", strings.Join(s.path[:i+1], "."), key, len(cur))
			}
			v = cur[n]
		default:
			return nil, fmt.Errorf("split: %s: cannot look up %q in a JSON %s", strings.Join(s.path[:i], "."), key, jsonKind(cur))
		}
	}
	var items []any
	switch v := v.(type) {
	case nil:
		return nil, nil
	case []any:
		items = v
	default:
		items = []any{v}
	}
	out := make([]*transforms.Message, 0, len(items))
	for i, item := range items {
		b, err := jsonenc.Append(nil, item)
		if err != nil {
			return nil, fmt.Errorf("split: item %d: %w", i, err)
		}
		c := m.Child(i, b)
		c.Metadata[envelope.ContentType] = "application/json"
		out = append(out, c)
	}
	return out, nil
}

// writeStandalone writes the element n with the namespace declarations it inherits from its
// ancestors, so that it means the same outside its document.
func writeStandalone(b *bytes.Buffer, n *xmlquery.Node) {
	declared := map[string]bool{}
	for _, a := range n.Attr {
		if isNSDecl(a) {
			declared[attrName(a)] = true
		}
	}
	var inherited []xmlquery.Attr
	for p := n.Parent; p != nil; p = p.Parent {
		for _, a := range p.Attr {
			if name := attrName(a); isNSDecl(a) && !declared[name] {
				declared[name] = true
				inherited = append(inherited, a)
			}
		}
	}
	writeNode(b, n, inherited)
}

func isNSDecl(a xmlquery.Attr) bool {
	return a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns")
}

func writeNode(b *bytes.Buffer, n *xmlquery.Node, extra []xmlquery.Attr) {
	switch n.Type {
	case xmlquery.TextNode:
		escapeText(b, n.Data)
	case xmlquery.CharDataNode:
		b.WriteString("<![CDATA[")
		b.WriteString(n.Data)
		b.WriteString("]]>")
	case xmlquery.CommentNode:
		b.WriteString("<!--")
		b.WriteString(n.Data)
		b.WriteString("-->")
	case xmlquery.ElementNode:
		name := qname(n)
		b.WriteByte('<')
		b.WriteString(name)
		for _, attrs := range [][]xmlquery.Attr{extra, n.Attr} {
			for _, a := range attrs {
				b.WriteByte(' ')
				b.WriteString(attrName(a))
				b.WriteString(`="`)
				escapeAttr(b, a.Value)
				b.WriteByte('"')
			}
		}
		if n.FirstChild == nil {
			b.WriteString("/>")
			return
		}
		b.WriteByte('>')
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			writeNode(b, c, nil)
		}
		b.WriteString("</")
		b.WriteString(name)
		b.WriteByte('>')
	}
}
