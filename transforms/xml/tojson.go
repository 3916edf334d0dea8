package xml

import (
	"bytes"
	"errors"
	"strings"

	"github.com/antchfx/xmlquery"

	"github.com/aiskao/aiskao/internal/jsonenc"
)

// writeJSON writes the document's root element as a JSON object by the package's convention, keys in
// document order. arrays holds the element paths that are always arrays; it may be nil.
func writeJSON(b *bytes.Buffer, doc *xmlquery.Node, arrays map[string]bool) error {
	return convert(doc, arrays, &byteEmitter{b: b})
}

// jsonValue returns the document's root element as a decoded JSON value (map[string]any, []any,
// string) by the same convention, without writing and reading bytes.
func jsonValue(doc *xmlquery.Node, arrays map[string]bool) (any, error) {
	e := &valueEmitter{}
	if err := convert(doc, arrays, e); err != nil {
		return nil, err
	}
	return e.result, nil
}

// convert walks the document's root element and tells e what to emit. The convention lives here
// once; the emitters only say how.
func convert(doc *xmlquery.Node, arrays map[string]bool, e emitter) error {
	root := doc
	if root.Type == xmlquery.DocumentNode {
		root = nil
		for c := doc.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == xmlquery.ElementNode {
				root = c
				break
			}
		}
		if root == nil {
			return errors.New("the document has no root element")
		}
	}
	c := converter{e: e, arrays: arrays}
	name := qname(root)
	if len(arrays) > 0 {
		c.path = append(c.path, name...)
	}
	e.beginObject(1)
	e.key(name)
	c.element(root)
	e.endObject()
	return nil
}

// emitter receives a JSON value as a stream of tokens.
type emitter interface {
	beginObject(size int) // size is a hint of the number of keys
	key(k string)
	endObject()
	beginArray(size int)
	endArray()
	str(s string)
}

// byteEmitter writes JSON text, keys in the order given.
type byteEmitter struct {
	b        *bytes.Buffer
	first    []bool // per open container: nothing written in it yet
	afterKey bool   // the next value belongs to the key just written
}

// sep writes the comma between two members of the open container.
func (w *byteEmitter) sep() {
	if n := len(w.first); n > 0 {
		if !w.first[n-1] {
			w.b.WriteByte(',')
		}
		w.first[n-1] = false
	}
}

// value prepares for a value: after a key nothing, in an array a separator.
func (w *byteEmitter) value() {
	if w.afterKey {
		w.afterKey = false
		return
	}
	w.sep()
}

func (w *byteEmitter) beginObject(int) {
	w.value()
	w.b.WriteByte('{')
	w.first = append(w.first, true)
}
func (w *byteEmitter) endObject()     { w.b.WriteByte('}'); w.first = w.first[:len(w.first)-1] }
func (w *byteEmitter) beginArray(int) { w.value(); w.b.WriteByte('['); w.first = append(w.first, true) }
func (w *byteEmitter) endArray()      { w.b.WriteByte(']'); w.first = w.first[:len(w.first)-1] }
func (w *byteEmitter) str(s string)   { w.value(); writeJSONString(w.b, s) }
func (w *byteEmitter) key(k string) {
	w.sep()
	writeJSONString(w.b, k)
	w.b.WriteByte(':')
	w.afterKey = true
}

// valueEmitter builds map[string]any, []any and string values.
type valueEmitter struct {
	stack  []valueFrame
	result any
}

type valueFrame struct {
	obj map[string]any
	arr []any
	key string
}

func (v *valueEmitter) put(x any) {
	if len(v.stack) == 0 {
		v.result = x
		return
	}
	f := &v.stack[len(v.stack)-1]
	if f.obj != nil {
		f.obj[f.key] = x
	} else {
		f.arr = append(f.arr, x)
	}
}

func (v *valueEmitter) beginObject(size int) {
	v.stack = append(v.stack, valueFrame{obj: make(map[string]any, size)})
}
func (v *valueEmitter) endObject() {
	f := v.stack[len(v.stack)-1]
	v.stack = v.stack[:len(v.stack)-1]
	v.put(f.obj)
}
func (v *valueEmitter) beginArray(size int) {
	v.stack = append(v.stack, valueFrame{arr: make([]any, 0, size)})
}
func (v *valueEmitter) endArray() {
	f := v.stack[len(v.stack)-1]
	v.stack = v.stack[:len(v.stack)-1]
	v.put(f.arr)
}
func (v *valueEmitter) key(k string) { v.stack[len(v.stack)-1].key = k }
func (v *valueEmitter) str(s string) { v.put(s) }

type converter struct {
	e      emitter
	arrays map[string]bool
	path   []byte // dotted path of the current element, kept only when arrays is set
	groups []group
}

// group is the children of one name, in document order: first, and count of them in all.
type group struct {
	first *xmlquery.Node
	count int
}

// qname returns the element's name as written: "prefix:local" or "local".
func qname(n *xmlquery.Node) string {
	if n.Prefix == "" {
		return n.Data
	}
	return n.Prefix + ":" + n.Data
}

// attrName returns the attribute's name as written; declarations are "xmlns" and "xmlns:p".
func attrName(a xmlquery.Attr) string {
	if a.Name.Space == "" {
		return a.Name.Local
	}
	return a.Name.Space + ":" + a.Name.Local
}

func isText(n *xmlquery.Node) bool {
	return n.Type == xmlquery.TextNode || n.Type == xmlquery.CharDataNode
}

func sameName(a, b *xmlquery.Node) bool { return a.Data == b.Data && a.Prefix == b.Prefix }

// blankText reports whether every text child of n is white space.
func blankText(n *xmlquery.Node) bool {
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		if isText(ch) && strings.TrimSpace(ch.Data) != "" {
			return false
		}
	}
	return true
}

func (c *converter) element(n *xmlquery.Node) {
	hasChildren, textPieces := false, 0
	var only *xmlquery.Node // the single text node, the usual case, read without copying
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		switch {
		case ch.Type == xmlquery.ElementNode:
			hasChildren = true
		case isText(ch):
			textPieces++
			only = ch
		}
	}
	leaf := len(n.Attr) == 0 && !hasChildren
	text := ""
	switch {
	case textPieces == 1:
		text = only.Data
	case textPieces > 1 && (leaf || !blankText(n)):
		// An element's text in several pieces (around comments, CDATA); the indentation between
		// child elements, the usual case, is not put together only to be found blank.
		var sb strings.Builder
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			if isText(ch) {
				sb.WriteString(ch.Data)
			}
		}
		text = sb.String()
	}
	if leaf {
		c.e.str(text)
		return
	}
	// Group the children by name, each group where its first element stood; a group's other
	// elements are found again among the siblings when it is emitted. The groups slice is reused
	// across levels: this level's groups sit at its end.
	base := len(c.groups)
	if hasChildren {
	children:
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			if ch.Type != xmlquery.ElementNode {
				continue
			}
			for i := base; i < len(c.groups); i++ {
				if sameName(c.groups[i].first, ch) {
					c.groups[i].count++
					continue children
				}
			}
			c.groups = append(c.groups, group{first: ch, count: 1})
		}
	}
	hasText := strings.TrimSpace(text) != ""
	size := len(n.Attr) + len(c.groups) - base
	if hasText {
		size++
	}
	c.e.beginObject(size)
	for _, a := range n.Attr {
		c.e.key("@" + attrName(a))
		c.e.str(a.Value)
	}
	if hasText {
		if hasChildren {
			text = strings.TrimSpace(text)
		}
		c.e.key("#text")
		c.e.str(text)
	}
	end := len(c.groups)
	for i := base; i < end; i++ {
		g := c.groups[i]
		name := qname(g.first)
		c.e.key(name)
		plen := len(c.path)
		forced := false
		if c.arrays != nil {
			c.path = append(append(c.path, '.'), name...)
			forced = c.arrays[string(c.path)]
		}
		if g.count == 1 && !forced {
			c.element(g.first)
		} else {
			c.e.beginArray(g.count)
			for el := g.first; el != nil; el = el.NextSibling {
				if el.Type == xmlquery.ElementNode && sameName(el, g.first) {
					c.element(el)
				}
			}
			c.e.endArray()
		}
		c.path = c.path[:plen]
	}
	clear(c.groups[base:])
	c.groups = c.groups[:base]
	c.e.endObject()
}

// writeJSONString writes s as a JSON string, as encoding/json's Encoder with HTML escaping off
// writes it, straight into b's spare capacity.
func writeJSONString(b *bytes.Buffer, s string) {
	// Room first, so that the string is encoded in place even when it is an attachment's
	// megabytes, not into a slice of its own that Write then copies into a grown buffer.
	b.Grow(jsonenc.RoomFor(len(s)))
	b.Write(jsonenc.AppendString(b.AvailableBuffer(), s))
}
