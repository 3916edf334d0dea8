package transforms

import (
	"strings"
	"unicode/utf8"

	"github.com/antchfx/xmlquery"

	"github.com/aiskao/aiskao/internal/xmltree"
)

// A plain location path is the kind of expression most routes use: /m:Message/m:Header/m:Type,
// //m:DocKind, (/m:Message/m:Body//m:DocID/m:DocNumber)[1]. The library evaluates any expression
// through a fresh copy of its query tree and iterators, a score of allocations each time; a plain
// path is answered instead by walking the tree, without allocating.
//
// The walk gives exactly the node the library gives first, which is not always the first in
// document order: the library goes through the nodes of each step in turn, so //b/c gives the c
// children of an outer b before those of a b nested inside it, even when the nested one comes
// first in the document. The walk follows the library, so that a field's value does not depend
// on which of the two evaluated it.

// maxPlainSteps bounds the steps of a plain path, and so the depth of the walk's recursion.
const maxPlainSteps = 32

// plainStep is one step of a plain path: a child (/name) or descendant (//name) step.
type plainStep struct {
	desc bool // //name: any descendant of the context node; /name: a child
	any  bool // *: any element
	// The library compares a prefixed name with the node's local name and namespace URI, and an
	// unprefixed one with its local name and prefix, which must be empty: an element in a
	// default namespace matches, one written with a prefix does not (unless xmlquery, having
	// seen the prefix bound to another URI or the URI bound to another prefix, left it empty).
	local    string
	prefixed bool
	uri      string
}

// plainPath is a plain location path from the document root, nil when the expression is not one.
type plainPath []plainStep

// parsePlain returns the steps of src when it is a plain location path: "/" or "//" followed by
// a step, any number of times, each step a name (prefix:local with a prefix declared in
// namespaces, or local) or "*", the whole optionally written (path)[1]. Anything else, spaces
// included, is not plain and is left to the library. The names accepted are only those the
// library reads as one name token too (ASCII letters, digits, '_', '-', '.', and the Latin-1 and
// Cyrillic letters), so that the two cannot read a path differently.
//
// A path with a descendant step after a child step that follows a descendant step (//a/b//c) is
// not plain either: for it the library's order would make the walk revisit the same subtrees once
// for each nested a. Without such a step the walk visits each node a bounded number of times.
func parsePlain(src string, namespaces map[string]string) plainPath {
	s := src
	// (path)[1] selects the first node the path selects, so it has the same first node.
	if strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")[1]") {
		s = s[1 : len(s)-len(")[1]")]
	}
	var steps []plainStep
	for s != "" {
		if s[0] != '/' || len(steps) == maxPlainSteps {
			return nil
		}
		var st plainStep
		if strings.HasPrefix(s, "//") {
			st.desc, s = true, s[2:]
		} else {
			s = s[1:]
		}
		if strings.HasPrefix(s, "*") {
			st.any, s = true, s[1:]
		} else {
			name, rest := scanPlainName(s)
			if name == "" {
				return nil
			}
			st.local, s = name, rest
			if strings.HasPrefix(s, ":") {
				local, rest := scanPlainName(s[1:])
				uri, declared := namespaces[name]
				if local == "" || !declared {
					return nil
				}
				st.local, st.prefixed, st.uri, s = local, true, uri, rest
			}
		}
		if s != "" && s[0] != '/' {
			return nil
		}
		steps = append(steps, st)
	}
	if len(steps) == 0 {
		return nil
	}
	descended, tail := false, false
	for _, st := range steps {
		switch {
		case st.desc && tail:
			return nil
		case st.desc:
			descended = true
		case descended:
			tail = true
		}
	}
	return steps
}

// scanPlainName returns the name at the start of s and what follows it, or "" when s does not
// start with a name the walk accepts.
func scanPlainName(s string) (name, rest string) {
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', c == '_':
			i++
		case '0' <= c && c <= '9', c == '-', c == '.':
			if i == 0 {
				return "", s
			}
			i++
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRuneInString(s[i:])
			if !xmltree.NameLetter(r) {
				return "", s
			}
			i += n
		default:
			return s[:i], s[i:]
		}
	}
	return s, ""
}

// Plain reports whether the expression is a plain location path, which First answers by walking
// the tree.
func (x *XPath) Plain() bool { return x.plain != nil }

// First returns the first node the expression selects with doc as the context node, the node
// that Evaluate's node set gives first, or nil when it selects none. ok is false when the
// expression is not a plain location path (see Plain): then First does not answer and the
// caller evaluates it. For a plain path First allocates nothing.
func (x *XPath) First(doc *xmlquery.Node) (n *xmlquery.Node, ok bool) {
	if x.plain == nil || doc == nil {
		return nil, false
	}
	return x.plain.first(0, doc), true
}

// matches reports whether n passes the name test of step i. Like the library's navigator, it
// takes a processing instruction for an element named by its target, in no namespace.
func (p plainPath) matches(i int, n *xmlquery.Node) bool {
	if n.Type != xmlquery.ElementNode && n.Type != xmlquery.ProcessingInstruction {
		return false
	}
	st := &p[i]
	switch {
	case st.any:
		return true
	case st.prefixed:
		return n.Data == st.local && n.NamespaceURI == st.uri
	default:
		return n.Data == st.local && n.Prefix == ""
	}
}

// first returns the first node steps i and after select from ctx, in the library's order: the
// nodes of step i in document order, and for each of them, before the next, what the remaining
// steps select from it. The recursion is as deep as the path is long.
func (p plainPath) first(i int, ctx *xmlquery.Node) *xmlquery.Node {
	last := i == len(p)-1
	if !p[i].desc {
		for c := ctx.FirstChild; c != nil; c = c.NextSibling {
			if p.matches(i, c) {
				if last {
					return c
				}
				if r := p.first(i+1, c); r != nil {
					return r
				}
			}
		}
		return nil
	}
	// When the next step is a descendant step too, a node from which it selects nothing has no
	// descendant from which it would select anything: its subtree is skipped.
	prune := !last && p[i+1].desc
	// The descendants of ctx in document order, as the library moves through them: down to the
	// first child, else to the next sibling, else up until there is one, never above ctx.
	c, depth := ctx.FirstChild, 1
	for c != nil {
		down := true
		if p.matches(i, c) {
			if last {
				return c
			}
			if r := p.first(i+1, c); r != nil {
				return r
			}
			down = !prune
		}
		if down && c.FirstChild != nil {
			c, depth = c.FirstChild, depth+1
			continue
		}
		for c.NextSibling == nil {
			if depth--; depth == 0 || c.Parent == nil {
				return nil
			}
			c = c.Parent
		}
		c = c.NextSibling
	}
	return nil
}

// NodeValue returns the string value the library gives for n, as the xpath step and string()
// read a selected node: for an element the text of its descendants, comments left out; for a text
// node or a comment its data; "" for anything else. When one text node holds an element's whole
// text, the value is that node's string, not a copy: it shares the document's memory, as the
// document's own strings do.
func NodeValue(n *xmlquery.Node) string {
	switch n.Type {
	case xmlquery.ElementNode:
	case xmlquery.TextNode, xmlquery.CommentNode:
		return n.Data
	default:
		return ""
	}
	var text string
	for c := n.FirstChild; c != nil; {
		switch c.Type {
		case xmlquery.TextNode, xmlquery.CharDataNode:
			if c.Data != "" {
				if text != "" {
					// In pieces (around a comment, a CDATA section, child elements).
					return n.InnerText()
				}
				text = c.Data
			}
		case xmlquery.CommentNode:
		default:
			if c.FirstChild != nil {
				c = c.FirstChild
				continue
			}
		}
		for c.NextSibling == nil {
			if c = c.Parent; c == n || c == nil {
				return text
			}
		}
		c = c.NextSibling
	}
	return text
}
