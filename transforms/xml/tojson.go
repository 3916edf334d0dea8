package xml

import (
	"bytes"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/antchfx/xmlquery"
)

// writeJSON writes the document's root element as a JSON object by the package's convention, keys in
// document order. arrays holds the element paths that are always arrays; it may be nil.
func writeJSON(b *bytes.Buffer, doc *xmlquery.Node, arrays map[string]bool) error {
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
	c := converter{b: b, arrays: arrays}
	name := qname(root)
	if len(arrays) > 0 {
		c.path = append(c.path, name...)
	}
	b.WriteByte('{')
	writeJSONString(b, name)
	b.WriteByte(':')
	c.element(root)
	b.WriteByte('}')
	return nil
}

type converter struct {
	b      *bytes.Buffer
	arrays map[string]bool
	path   []byte // dotted path of the current element, kept only when arrays is set
	groups [][]*xmlquery.Node
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
	text := ""
	switch {
	case textPieces == 1:
		text = only.Data
	case textPieces > 1:
		var sb strings.Builder
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			if isText(ch) {
				sb.WriteString(ch.Data)
			}
		}
		text = sb.String()
	}
	if len(n.Attr) == 0 && !hasChildren {
		writeJSONString(c.b, text)
		return
	}
	c.b.WriteByte('{')
	first := true
	sep := func() {
		if !first {
			c.b.WriteByte(',')
		}
		first = false
	}
	for _, a := range n.Attr {
		sep()
		c.b.WriteString(`"@`)
		writeJSONStringBody(c.b, attrName(a))
		c.b.WriteString(`":`)
		writeJSONString(c.b, a.Value)
	}
	if strings.TrimSpace(text) != "" {
		if hasChildren {
			text = strings.TrimSpace(text)
		}
		sep()
		c.b.WriteString(`"#text":`)
		writeJSONString(c.b, text)
	}
	if hasChildren {
		// Group the children by name, each group where its first element stood. The groups slice
		// is reused across levels: this level's groups sit at its end.
		base := len(c.groups)
	children:
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			if ch.Type != xmlquery.ElementNode {
				continue
			}
			for i := base; i < len(c.groups); i++ {
				g := c.groups[i][0]
				if g.Data == ch.Data && g.Prefix == ch.Prefix {
					c.groups[i] = append(c.groups[i], ch)
					continue children
				}
			}
			c.groups = append(c.groups, []*xmlquery.Node{ch})
		}
		end := len(c.groups)
		for i := base; i < end; i++ {
			g := c.groups[i]
			name := qname(g[0])
			sep()
			writeJSONString(c.b, name)
			c.b.WriteByte(':')
			plen := len(c.path)
			forced := false
			if c.arrays != nil {
				c.path = append(append(c.path, '.'), name...)
				forced = c.arrays[string(c.path)]
			}
			if len(g) == 1 && !forced {
				c.element(g[0])
			} else {
				c.b.WriteByte('[')
				for j, el := range g {
					if j > 0 {
						c.b.WriteByte(',')
					}
					c.element(el)
				}
				c.b.WriteByte(']')
			}
			c.path = c.path[:plen]
		}
		clear(c.groups[base:])
		c.groups = c.groups[:base]
	}
	c.b.WriteByte('}')
}

const hexDigits = "0123456789abcdef"

// writeJSONString writes s as a JSON string. HTML characters are not escaped, as with
// json.Encoder.SetEscapeHTML(false).
func writeJSONString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	writeJSONStringBody(b, s)
	b.WriteByte('"')
}

func writeJSONStringBody(b *bytes.Buffer, s string) {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b.WriteString(s[start:i])
			switch c {
			case '"', '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case '\n':
				b.WriteString(`\n`)
			case '\r':
				b.WriteString(`\r`)
			case '\t':
				b.WriteString(`\t`)
			default:
				b.WriteString(`\u00`)
				b.WriteByte(hexDigits[c>>4])
				b.WriteByte(hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString(s[start:i])
			b.WriteString(`\ufffd`)
			i += size
			start = i
			continue
		}
		// U+2028 and U+2029 end lines in JavaScript; escape them as encoding/json does.
		if r == '\u2028' || r == '\u2029' {
			b.WriteString(s[start:i])
			b.WriteString(`\u202`)
			b.WriteByte(hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b.WriteString(s[start:])
}
