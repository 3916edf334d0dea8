package xsd

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// nsXSD is the XML Schema namespace; nsXSI the schema-instance namespace.
const (
	nsXSD = "http://www.w3.org/2001/XMLSchema"
	nsXSI = "http://www.w3.org/2001/XMLSchema-instance"
	nsXML = "http://www.w3.org/XML/1998/namespace"
)

// node is one element of a schema document. Schema documents are small, so
// they are read into a tree; instance documents never are.
type node struct {
	name     string // local name in the XSD namespace; "" for foreign elements
	foreign  string // a foreign element's name as written, for messages
	attrs    map[string]string
	children []*node
	scope    map[string]string // prefix → namespace in scope ("" = default)
	line     int
	doc      *schemaDoc
}

// schemaDoc is one loaded schema file.
type schemaDoc struct {
	file     string
	root     *node
	targetNS string
	elemQual bool
	attrQual bool
}

// attr returns an attribute value and whether it was present.
func (n *node) attr(name string) (string, bool) {
	v, ok := n.attrs[name]
	if ok && collapsed[name] {
		// These attributes hold names (NCName, QName), whose values are whitespace-collapsed
		// before use: name="DLCategories " declares DLCategories, as schemas in use rely on.
		v = strings.TrimSpace(v)
	}
	return v, ok
}

// collapsed lists the schema attributes whose values are names.
var collapsed = map[string]bool{"name": true, "ref": true, "type": true, "base": true, "itemType": true,
	"use": true, "form": true, "elementFormDefault": true, "attributeFormDefault": true,
	"processContents": true, "mixed": true, "abstract": true, "nillable": true}

// flag reads a boolean attribute (checkShape has refused any value but xs:boolean's).
func (n *node) flag(name string) bool {
	v, _ := n.attr(name)
	return v == "true" || v == "1"
}

// qualified tells whether a local element or attribute declaration's name is in the target
// namespace: its form, or the schema's default for its kind.
func (n *node) qualified(qualByDefault bool) bool {
	if form, ok := n.attr("form"); ok {
		return form == "qualified"
	}
	return qualByDefault
}

// pos names the node's place for compile errors.
func (n *node) pos() string { return fmt.Sprintf("%s:%d", n.doc.file, n.line) }

// errorf returns a compile error located at the node.
func (n *node) errorf(format string, args ...any) error {
	return fmt.Errorf("xsd: %s: %s", n.pos(), fmt.Sprintf(format, args...))
}

// qname resolves a QName-valued attribute in the node's namespace scope.
func (n *node) qname(v string) (qname, error) {
	v = strings.TrimSpace(v)
	prefix, local, ok := strings.Cut(v, ":")
	if !ok {
		local, prefix = prefix, ""
	}
	ns, found := n.scope[prefix]
	if !found && prefix != "" {
		if prefix == "xml" {
			return qname{nsXML, local}, nil
		}
		return qname{}, n.errorf("prefix %q of %q is not declared", prefix, v)
	}
	return qname{ns, local}, nil
}

// entityDecl matches simple internal general entities in a DOCTYPE.
var entityDecl = regexp.MustCompile(`<!ENTITY\s+([A-Za-z_][-A-Za-z0-9_.]*)\s+(?:'([^']*)'|"([^"]*)")\s*>`)

// Bounds on a schema file, far above what schemas in use need (the largest is 64 KB, nested 20
// deep), so that a hostile one costs no more than a large one.
const (
	maxSchemaBytes = 16 << 20
	maxSchemaDepth = 256
	maxEntityText  = 1 << 20
)

// parseSchemaDoc reads a schema file into a node tree. A DOCTYPE is allowed
// in schema files (the W3C XML-DSig schema has one); its simple internal
// entities are honoured and nothing external is fetched.
func parseSchemaDoc(file string, r io.Reader) (*schemaDoc, error) {
	doc := &schemaDoc{file: file}
	data, err := io.ReadAll(io.LimitReader(r, maxSchemaBytes+1))
	if err != nil {
		return nil, fmt.Errorf("xsd: read %s: %w", file, err)
	}
	if len(data) > maxSchemaBytes {
		return nil, fmt.Errorf("xsd: %s: larger than %d MB", file, maxSchemaBytes>>20)
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Entity = map[string]string{}
	entityText := 0 // what the entity references in the file add to it, at most
	var stack []*node
	var names []xml.Name // the raw names of the open elements, to match their end tags
	rootScope := map[string]string{"xml": nsXML}
	for {
		t, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			line, _ := d.InputPos()
			return nil, fmt.Errorf("xsd: %s:%d: %w", file, line, err)
		}
		switch t := t.(type) {
		case xml.Directive:
			for _, m := range entityDecl.FindAllStringSubmatch(string(t), -1) {
				d.Entity[m[1]] = m[2] + m[3]
				// Each reference is replaced by the value: counted on the raw text, which
				// holds every reference the decoder will expand.
				entityText += bytes.Count(data, []byte("&"+m[1]+";")) * len(d.Entity[m[1]])
				if entityText > maxEntityText {
					line, _ := d.InputPos()
					return nil, fmt.Errorf("xsd: %s:%d: entity references would add more than %d KB of text", file, line, maxEntityText>>10)
				}
			}
		case xml.StartElement:
			line, _ := d.InputPos()
			if len(stack) == maxSchemaDepth {
				return nil, fmt.Errorf("xsd: %s:%d: elements nested deeper than %d", file, line, maxSchemaDepth)
			}
			parentScope := rootScope
			if len(stack) > 0 {
				parentScope = stack[len(stack)-1].scope
			}
			scope, copied := parentScope, false
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					if !copied {
						scope, copied = copyMap(parentScope), true
					}
					if a.Name.Space == "xmlns" {
						scope[a.Name.Local] = a.Value
					} else {
						scope[""] = a.Value
					}
				}
			}
			n := &node{attrs: map[string]string{}, scope: scope, line: line, doc: doc}
			if scope[t.Name.Space] == nsXSD {
				n.name = t.Name.Local
			} else if t.Name.Space != "" {
				n.foreign = t.Name.Space + ":" + t.Name.Local
			} else {
				n.foreign = t.Name.Local
			}
			for _, a := range t.Attr {
				if a.Name.Space == "" && a.Name.Local != "xmlns" {
					n.attrs[a.Name.Local] = a.Value
				}
			}
			if len(stack) == 0 {
				if doc.root != nil {
					return nil, fmt.Errorf("xsd: %s:%d: a second root element after xs:schema", file, line)
				}
				if n.name != "schema" {
					return nil, fmt.Errorf("xsd: %s:%d: root element is not xs:schema", file, line)
				}
				doc.root = n
			} else {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			}
			stack = append(stack, n)
			names = append(names, t.Name)
		case xml.EndElement:
			line, _ := d.InputPos()
			if len(stack) == 0 {
				return nil, fmt.Errorf("xsd: %s:%d: end tag </%s> without a start tag", file, line, rawName(t.Name))
			}
			if open := names[len(names)-1]; open != t.Name {
				return nil, fmt.Errorf("xsd: %s:%d: end tag </%s> does not match <%s> of line %d", file, line, rawName(t.Name), rawName(open), stack[len(stack)-1].line)
			}
			stack, names = stack[:len(stack)-1], names[:len(names)-1]
		}
	}
	if len(stack) > 0 {
		n := stack[len(stack)-1]
		return nil, fmt.Errorf("xsd: %s:%d: <%s> is not closed", file, n.line, rawName(names[len(names)-1]))
	}
	if doc.root == nil {
		return nil, fmt.Errorf("xsd: %s: no schema element", file)
	}
	doc.targetNS = doc.root.attrs["targetNamespace"]
	elemForm, _ := doc.root.attr("elementFormDefault")
	attrForm, _ := doc.root.attr("attributeFormDefault")
	doc.elemQual, doc.attrQual = elemForm == "qualified", attrForm == "qualified"
	return doc, nil
}

// rawName writes a name read with RawToken as it was in the document, prefix:local.
func rawName(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

func copyMap(m map[string]string) map[string]string {
	c := make(map[string]string, len(m)+2)
	for k, v := range m {
		c[k] = v
	}
	return c
}
