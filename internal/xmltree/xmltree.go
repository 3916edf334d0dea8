// Package xmltree builds xmlquery's document tree without the cost of encoding/xml.
//
// The hub parses every XML message into an xmlquery tree, and xmlquery.Parse spends most of
// its time and allocations in encoding/xml's token stream: a decoder reading byte by byte, a
// fresh string and slice per token, maps for namespaces. Parse builds the very same tree,
// node for node and with xmlquery's own quirks (the synthetic declaration, its global
// namespace-prefix map, the prefix it keeps only when written as declared), straight from
// one copy of the input: names and most texts are substrings of it, nodes come from slabs
// and attributes from one shared array.
//
// Only the constructs that real messages use take this path. Anything else (processing
// instructions, other encodings, unusual names or namespace declarations, malformed input)
// is first checked against the limits of package xmllimit and then handed to
// xmlquery.Parse, so the result, and any error, is what xmlquery would have given, except
// that a document xmllimit refuses (too deep, too large, too many attributes, names or
// texts too long, a second root element, text outside the root, a DOCTYPE) is refused
// with xmllimit's error. The fast path enforces the same limits, so both paths accept the
// same documents.
//
// The strings of a tree share the input's one copy, and its nodes share slabs: any part of
// a tree that is kept keeps the whole document's memory, as keeping the document does.
// [ParseShared] makes no copy at all: the tree's strings are the caller's bytes, so that a
// document with a large attachment is held once in memory rather than twice.
package xmltree

import (
	"bytes"
	"encoding/xml"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"

	"github.com/antchfx/xmlquery"
	"golang.org/x/net/html/charset"

	"github.com/aiskao/aiskao/internal/xmllimit"
)

// Parse parses an XML document into xmlquery's tree, the same tree xmlquery.Parse builds,
// under xmllimit.Default.
//
// The error, if any, is an *xmllimit.Error for a document beyond the limits or not one
// document, and otherwise xmlquery's own, returned unchanged.
func Parse(b []byte) (*xmlquery.Node, error) {
	return ParseWith(b, xmllimit.Limits{})
}

// ParseWith is [Parse] under the given limits (zero fields from xmllimit.Default).
func ParseWith(b []byte, lim xmllimit.Limits) (*xmlquery.Node, error) {
	return parse(b, lim, false)
}

// ParseShared is [ParseWith] without the copy of the input: the names and texts of the tree
// are substrings of b itself. The caller must not change b while the tree, or any string
// taken from it, is in use.
func ParseShared(b []byte, lim xmllimit.Limits) (*xmlquery.Node, error) {
	return parse(b, lim, true)
}

func parse(b []byte, lim xmllimit.Limits, shared bool) (*xmlquery.Node, error) {
	lim = lim.WithDefaults()
	if int64(len(b)) > lim.MaxBytes {
		return nil, &xmllimit.Error{What: "document size", Limit: lim.MaxBytes, Offset: lim.MaxBytes}
	}
	if doc, ok := parseFast(b, lim, shared); ok {
		return doc, nil
	}
	if err := xmllimit.Check(b, lim, charset.NewReaderLabel); err != nil {
		return nil, err
	}
	return xmlquery.Parse(bytes.NewReader(b))
}

const (
	xmlURL = "http://www.w3.org/XML/1998/namespace"
	bom    = "\ufeff"

	// maxDepth bounds the element stack of the fast path; deeper documents are rare
	// enough to leave to xmlquery.
	maxDepth = 512
	// maxName keeps names well inside the 4096-byte window in which xmlquery looks for
	// an element's written prefix.
	maxName = 256
	// maxSpaces bounds the linear namespace table; documents with more distinct
	// namespace URIs fall back.
	maxSpaces = 64
	// maxBindings bounds the namespace declarations in scope, which a prefix is looked up
	// among; documents with more fall back, so that the work stays linear.
	maxBindings = 64
)

// frame is an open element.
type frame struct {
	node   *xmlquery.Node
	name   string // as written, prefix included, to match the end tag
	nsMark int    // length of parser.ns before the element's declarations
}

// binding is an in-scope namespace declaration, as encoding/xml resolves prefixes.
type binding struct {
	prefix, uri string
}

// space is an entry of xmlquery's document-global URI-to-prefix map, which is never
// popped and decides the Prefix and attribute spaces it reports.
type space struct {
	uri, prefix string
	level       int
}

// rawAttr is an attribute as written in a start tag, value decoded.
type rawAttr struct {
	prefix, local, value string
}

type parser struct {
	s   string
	lim xmllimit.Limits

	nodes    []xmlquery.Node // current slab
	nodesMax int             // upper bound on nodes still to be allocated

	attrs    []xmlquery.Attr // shared backing, handed out with full-slice expressions
	attrsMax int

	dec strings.Builder // decoded texts, grown once so that it never reallocates

	// Scratch kept across documents by the pool.
	stack  []frame
	ns     []binding
	spaces []space
	raw    []rawAttr
}

var parsers = sync.Pool{New: func() any {
	return &parser{
		stack:  make([]frame, 0, 32),
		ns:     make([]binding, 0, 16),
		spaces: make([]space, 0, 8),
		raw:    make([]rawAttr, 0, 16),
	}
}}

// release returns the parser to the pool without references into the document.
func (p *parser) release() {
	clear(p.stack[:cap(p.stack)])
	clear(p.ns[:cap(p.ns)])
	clear(p.spaces[:cap(p.spaces)])
	clear(p.raw[:cap(p.raw)])
	*p = parser{stack: p.stack[:0], ns: p.ns[:0], spaces: p.spaces[:0], raw: p.raw[:0]}
	// Scratch grown by an unusual document is left to the collector.
	if cap(p.ns) <= 256 && cap(p.raw) <= 256 {
		parsers.Put(p)
	}
}

// parseFast builds the tree for the documents it handles and reports false for any other
// input, which xmlquery must then parse. With shared the tree's strings point into b.
func parseFast(b []byte, lim xmllimit.Limits, shared bool) (*xmlquery.Node, bool) {
	if len(b) == 0 || (b[0] != '<' && !bytes.HasPrefix(b, []byte(bom))) || !utf8.Valid(b) {
		return nil, false
	}
	p := parsers.Get().(*parser)
	defer p.release()
	if shared {
		p.s = unsafe.String(unsafe.SliceData(b), len(b))
	} else {
		p.s = string(b)
	}
	p.lim = lim
	p.spaces = append(p.spaces, space{uri: xmlURL, prefix: "xml"})

	lt := strings.Count(p.s, "<")
	if lt > lim.MaxElements {
		// It may have more elements than allowed: xmllimit counts them without building
		// anything, and xmlquery builds the tree if they are few enough.
		return nil, false
	}
	// Each '<' starts at most one node and each text node precedes a '<' or ends the
	// input; indented documents come close to one and a half nodes per '<'.
	p.nodesMax = 2*lt + 3
	p.nodes = make([]xmlquery.Node, 0, min(lt+lt/2+4, p.nodesMax))
	p.attrsMax = strings.Count(p.s, "=") + 1

	doc, ok := p.document()
	if !ok {
		return nil, false
	}
	return doc, true
}

func (p *parser) node(t xmlquery.NodeType) *xmlquery.Node {
	if len(p.nodes) == cap(p.nodes) {
		p.nodes = make([]xmlquery.Node, 0, max(p.nodesMax, 16))
	}
	p.nodes = p.nodes[:len(p.nodes)+1]
	p.nodesMax--
	n := &p.nodes[len(p.nodes)-1]
	n.Type = t
	return n
}

// attrSlice returns n attributes with capacity n, so that an append by a caller copies
// instead of overwriting the next element's attributes.
func (p *parser) attrSlice(n int) []xmlquery.Attr {
	if n == 0 {
		return nil
	}
	if cap(p.attrs)-len(p.attrs) < n {
		p.attrs = make([]xmlquery.Attr, 0, max(p.attrsMax, n))
	}
	i := len(p.attrs)
	p.attrs = p.attrs[:i+n]
	p.attrsMax -= n
	return p.attrs[i : i+n : i+n]
}

func appendChild(parent, n *xmlquery.Node) {
	n.Parent = parent
	if last := parent.LastChild; last != nil {
		last.NextSibling = n
		n.PrevSibling = last
	} else {
		parent.FirstChild = n
	}
	parent.LastChild = n
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

// document parses prolog, root element and epilog.
func (p *parser) document() (*xmlquery.Node, bool) {
	s := p.s
	doc := p.node(xmlquery.DocumentNode)
	i := 0
	if strings.HasPrefix(s, bom+"<") {
		// encoding/xml reads a byte order mark as text, which xmlquery, having no
		// element yet to attach it to, hangs off the document node as its next sibling.
		n := p.node(xmlquery.TextNode)
		n.Data = s[:len(bom)]
		doc.NextSibling, n.PrevSibling = n, doc
		i = len(bom)
	}
	var decl *xmlquery.Node
	if strings.HasPrefix(s[i:], "<?xml") && len(s) > i+5 && isSpace(s[i+5]) {
		var ok bool
		if decl, i, ok = p.declaration(i); !ok {
			return nil, false
		}
		appendChild(doc, decl)
	}

	// Without a declaration xmlquery hangs whatever precedes the root off the document
	// node's NextSibling chain; only a root at the start (or after a byte order mark) is
	// handled here.
	for {
		if i >= len(s) {
			return nil, false
		}
		if s[i] == '<' {
			if nameStartAt(s, i+1) > 0 {
				break
			}
			if decl == nil || !strings.HasPrefix(s[i:], "<!--") {
				return nil, false
			}
			var ok bool
			if i, ok = p.comment(doc, i); !ok {
				return nil, false
			}
			continue
		}
		if decl == nil {
			return nil, false
		}
		var ok bool
		if i, ok = p.whitespace(doc, i); !ok || i >= len(s) {
			return nil, false
		}
	}
	if decl == nil {
		decl = p.node(xmlquery.DeclarationNode)
		decl.Data = "xml"
		decl.Attr = p.attrSlice(1)
		decl.Attr[0] = xmlquery.Attr{Name: xml.Name{Local: "version"}, Value: "1.0"}
		appendChild(doc, decl)
	}

	i, ok := p.content(doc, i)
	if !ok {
		return nil, false
	}

	for i < len(s) {
		if s[i] == '<' {
			if !strings.HasPrefix(s[i:], "<!--") {
				return nil, false
			}
			if i, ok = p.comment(doc, i); !ok {
				return nil, false
			}
			continue
		}
		if i, ok = p.whitespace(doc, i); !ok {
			return nil, false
		}
	}
	return doc, true
}

// declaration parses the XML declaration that starts the document at s[i:] and builds
// its node as xmlquery does, from the instruction text split on spaces. Only version 1.0
// and UTF-8 pass, in the plain pseudo-attribute form, so that encoding/xml's own reading
// of it cannot differ.
func (p *parser) declaration(i int) (*xmlquery.Node, int, bool) {
	s := p.s
	end := strings.Index(s[i:], "?>")
	if end < 0 {
		return nil, 0, false
	}
	end += i
	inst := strings.TrimLeft(s[i+5:end], " \t\r\n")
	if !plainDeclaration(inst) || end-i-2 > p.lim.MaxText {
		return nil, 0, false
	}
	n := p.node(xmlquery.DeclarationNode)
	n.Data = "xml"

	var pairs [3]xmlquery.Attr
	np := 0
	for rest := inst; ; {
		pair, tail, more := strings.Cut(rest, " ")
		pair = strings.TrimSpace(pair)
		if k := strings.IndexByte(pair, '='); k > 0 {
			name := newXMLName(pair[:k])
			dup := false
			for _, a := range pairs[:np] {
				dup = dup || a.Name == name
			}
			if !dup {
				if np == len(pairs) {
					return nil, 0, false
				}
				pairs[np] = xmlquery.Attr{Name: name, Value: strings.Trim(pair[k+1:], `"'`)}
				np++
			}
		}
		if !more {
			break
		}
		rest = tail
	}
	if np > 0 {
		n.Attr = p.attrSlice(np)
		copy(n.Attr, pairs[:np])
	}
	return n, end + 2, true
}

// newXMLName splits a name as xmlquery.AddAttr does.
func newXMLName(name string) xml.Name {
	if i := strings.IndexByte(name, ':'); i > 0 {
		return xml.Name{Space: name[:i], Local: name[i+1:]}
	}
	return xml.Name{Local: name}
}

// plainDeclaration reports whether inst is `version="1.0"`, optionally followed by a
// UTF-8 encoding and a standalone pseudo-attribute, in that order.
func plainDeclaration(inst string) bool {
	v, i, ok := pseudoAttr(inst, 0, "version")
	if !ok || v != "1.0" {
		return false
	}
	if j := skipSpace(inst, i); j > i {
		if v, k, ok := pseudoAttr(inst, j, "encoding"); ok {
			if !strings.EqualFold(v, "utf-8") {
				return false
			}
			i = k
		}
	}
	if j := skipSpace(inst, i); j > i {
		if v, k, ok := pseudoAttr(inst, j, "standalone"); ok {
			if v != "yes" && v != "no" {
				return false
			}
			i = k
		}
	}
	return skipSpace(inst, i) == len(inst)
}

// pseudoAttr reads name="value" (or with apostrophes) at s[i:].
func pseudoAttr(s string, i int, name string) (value string, end int, ok bool) {
	if !strings.HasPrefix(s[i:], name) {
		return "", i, false
	}
	i += len(name)
	if i+1 >= len(s) || s[i] != '=' || (s[i+1] != '"' && s[i+1] != '\'') {
		return "", i, false
	}
	q := s[i+1]
	i += 2
	k := strings.IndexByte(s[i:], q)
	if k < 0 {
		return "", i, false
	}
	return s[i : i+k], i + k + 1, true
}

func skipSpace(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}
