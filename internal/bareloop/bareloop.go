// Package bareloop is the yardstick for the demo route: the same work written as a plain loop
// with the same libraries, no hub around it. Parse the ЕСОЕД message once with xmlquery, read the
// same five XPaths, convert the document to JSON, validate it with the same JSON Schema and
// serialise the output document. Benchmarks compare the hub's route with it.
package bareloop

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/antchfx/xmlquery"
	"github.com/antchfx/xpath"
	"github.com/santhosh-tekuri/jsonschema/v5"
)

// Loop holds what is prepared once: compiled XPaths and the compiled schema.
type Loop struct {
	fields map[string]*xpath.Expr
	schema *jsonschema.Schema
}

// New compiles the demo route's XPaths and the schema at schemaPath.
func New(schemaPath string) (*Loop, error) {
	ns := map[string]string{"m": "http://schemas.egov.bg/messaging/v1"}
	paths := map[string]string{
		"message_guid": "/m:Message/m:Header/m:MessageGUID",
		"message_type": "/m:Message/m:Header/m:MessageType",
		"sender":       "/m:Message/m:Header/m:Sender/m:Identifier",
		"doc_number":   "(/m:Message/m:Body//m:DocID/m:DocumentNumber/m:DocNumber)[1]",
		"doc_kind":     "/m:Message/m:Body//m:DocKind",
	}
	l := &Loop{fields: map[string]*xpath.Expr{}}
	for k, p := range paths {
		e, err := xpath.CompileWithNS(p, ns)
		if err != nil {
			return nil, fmt.Errorf("bareloop: %s: %w", k, err)
		}
		l.fields[k] = e
	}
	s, err := jsonschema.Compile(schemaPath)
	if err != nil {
		return nil, fmt.Errorf("bareloop: %w", err)
	}
	l.schema = s
	return l, nil
}

// Process does the demo route's work on one message and returns the output document.
func (l *Loop) Process(input []byte) ([]byte, error) {
	doc, err := xmlquery.Parse(bytes.NewReader(input))
	if err != nil {
		return nil, err
	}
	out := make(map[string]any, 6)
	for k, e := range l.fields {
		if n := xmlquery.QuerySelector(doc, e); n != nil {
			out[k] = n.InnerText()
		}
	}
	var root *xmlquery.Node
	for c := doc.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == xmlquery.ElementNode {
			root = c
		}
	}
	if root == nil {
		return nil, errors.New("no root element")
	}
	document := map[string]any{root.Data: toJSON(root)}
	if err := l.schema.Validate(document); err != nil {
		return nil, err
	}
	out["document"] = document
	return json.Marshal(out)
}

// toJSON is the plainest conversion of an element by the hub's convention.
func toJSON(n *xmlquery.Node) any {
	obj := map[string]any{}
	text := ""
	for _, a := range n.Attr {
		name := a.Name.Local
		if a.Name.Space != "" {
			name = a.Name.Space + ":" + name
		}
		obj["@"+name] = a.Value
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		switch c.Type {
		case xmlquery.ElementNode:
			v := toJSON(c)
			if prev, ok := obj[c.Data]; ok {
				if arr, ok := prev.([]any); ok {
					obj[c.Data] = append(arr, v)
				} else {
					obj[c.Data] = []any{prev, v}
				}
			} else {
				obj[c.Data] = v
			}
		case xmlquery.TextNode, xmlquery.CharDataNode:
			text += c.Data
		}
	}
	if len(obj) == 0 {
		return text
	}
	if t := bytes.TrimSpace([]byte(text)); len(t) > 0 {
		obj["#text"] = string(t)
	}
	return obj
}
