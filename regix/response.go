package regix

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aiskao/aiskao/internal/xmllimit"
)

// MaxDocument is the largest request or response document read, in bytes.
const MaxDocument = 32 << 20

// xsiNS is the namespace of xsi:type, xsi:nil and the like, which carry no data.
const xsiNS = "http://www.w3.org/2001/XMLSchema-instance"

// ValidateRequest validates a request document against the operation's request schema.
func (op *Operation) ValidateRequest(r io.Reader) error {
	if err := op.request.Validate(r); err != nil {
		return fmt.Errorf("regix: %s: request: %w", op.Code, err)
	}
	return nil
}

// ValidateResponse validates a response document against the operation's response schema.
func (op *Operation) ValidateResponse(r io.Reader) error {
	if err := op.response.Validate(r); err != nil {
		return fmt.Errorf("regix: %s: response: %w", op.Code, err)
	}
	return nil
}

// ParseResponse validates a response document against the response schema
// and turns it into fields by local name: an element becomes its text, or a
// map of its children when it has any; a name repeated among siblings
// becomes a list. Attributes (other than namespace declarations and xsi:)
// appear as "@name", and text beside children or attributes as "#text".
func (op *Operation) ParseResponse(r io.Reader) (map[string]any, error) {
	doc, err := readDocument(r)
	if err != nil {
		return nil, fmt.Errorf("regix: %s: response: %w", op.Code, err)
	}
	if err := op.ValidateResponse(bytes.NewReader(doc)); err != nil {
		return nil, err
	}
	root, err := decodeTree(doc)
	if err != nil {
		return nil, fmt.Errorf("regix: %s: response: %w", op.Code, err)
	}
	if root.name != (xml.Name{Space: op.ResponseNamespace, Local: op.ResponseElement}) {
		return nil, fmt.Errorf("regix: %s: response root is {%s}%s, expected {%s}%s",
			op.Code, root.name.Space, root.name.Local, op.ResponseNamespace, op.ResponseElement)
	}
	m, _ := root.value().(map[string]any)
	if m == nil {
		m = map[string]any{} // an empty response: nothing found
	}
	return m, nil
}

func readDocument(r io.Reader) ([]byte, error) {
	doc, err := io.ReadAll(io.LimitReader(r, MaxDocument+1))
	if err != nil {
		return nil, fmt.Errorf("reading: %w", err)
	}
	if len(doc) > MaxDocument {
		return nil, fmt.Errorf("document is larger than %d bytes", MaxDocument)
	}
	return trimBOM(doc), nil
}

// node is an element of a parsed document.
type node struct {
	name     xml.Name
	attrs    []xml.Attr
	text     string
	children []*node
}

// decodeTree parses a document into a tree of elements with trimmed text.
func decodeTree(doc []byte) (*node, error) {
	d := xmllimit.NewDecoder(bytes.NewReader(trimBOM(doc)), xmllimit.Limits{}) // bounded, one root, no DOCTYPE
	var stack []*node
	var root *node
	var text strings.Builder
	for {
		t, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := t.(type) {
		case xml.StartElement:
			if root != nil && len(stack) == 0 {
				return nil, errors.New("more than one root element")
			}
			n := &node{name: t.Name}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") || a.Name.Space == xsiNS {
					continue
				}
				n.attrs = append(n.attrs, a)
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			} else {
				root = n
			}
			stack = append(stack, n)
			text.Reset()
		case xml.CharData:
			if len(stack) > 0 {
				text.Write(t)
			}
		case xml.EndElement:
			n := stack[len(stack)-1]
			if len(n.children) == 0 {
				n.text = strings.TrimSpace(text.String())
			}
			stack = stack[:len(stack)-1]
			text.Reset()
		}
	}
	if root == nil {
		return nil, errors.New("no root element")
	}
	return root, nil
}

// value turns an element into a string or a map of its children.
func (n *node) value() any {
	if len(n.children) == 0 && len(n.attrs) == 0 {
		return n.text
	}
	m := map[string]any{}
	for _, a := range n.attrs {
		m["@"+a.Name.Local] = a.Value
	}
	if n.text != "" {
		m["#text"] = n.text
	}
	for _, c := range n.children {
		v := c.value()
		switch prev := m[c.name.Local].(type) {
		case nil:
			m[c.name.Local] = v
		case []any:
			m[c.name.Local] = append(prev, v)
		default:
			m[c.name.Local] = []any{prev, v}
		}
	}
	return m
}

// Field is a leaf element of a document: its path by local names and its text.
type Field struct {
	Path  string
	Value string
}

// Leaves returns up to max (all when max <= 0) non-empty leaf elements of a
// document, in document order, with their paths below the root
// (e.g. "PersonNames/FirstName").
func Leaves(doc []byte, max int) ([]Field, error) {
	root, err := decodeTree(doc)
	if err != nil {
		return nil, fmt.Errorf("regix: %w", err)
	}
	var out []Field
	var walk func(n *node, prefix string) bool
	walk = func(n *node, prefix string) bool {
		for _, c := range n.children {
			p := c.name.Local
			if prefix != "" {
				p = prefix + "/" + p
			}
			if len(c.children) == 0 {
				if c.text == "" {
					continue
				}
				out = append(out, Field{Path: p, Value: c.text})
				if max > 0 && len(out) >= max {
					return false
				}
				continue
			}
			if !walk(c, p) {
				return false
			}
		}
		return true
	}
	walk(root, "")
	return out, nil
}
