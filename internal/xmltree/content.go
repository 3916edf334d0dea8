package xmltree

import (
	"strings"
	"unicode/utf8"

	"github.com/antchfx/xmlquery"
)

// Byte classes.
var (
	nameStart = byteSet("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
	nameChar  = byteSet("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_0123456789.-")
	nameByte  = byteSet("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_0123456789.-:")

	// Bytes that stop the plain scan of text, of attribute values and of comments or
	// CDATA sections: markup, entities, CR (normalized to LF), control characters and
	// 0xEF (which leads U+FFFE and U+FFFF, not XML characters).
	textSpecial  = withControls("<&\r]\xef")
	valueSpecial = withControls("<&\r\"'\xef")
	rawSpecial   = withControls("\r\xef")
)

func byteSet(chars string) (t [256]bool) {
	for i := 0; i < len(chars); i++ {
		t[chars[i]] = true
	}
	return t
}

func withControls(chars string) [256]bool {
	t := byteSet(chars)
	for c := 0; c < 0x20; c++ {
		if c != '\t' && c != '\n' {
			t[c] = true
		}
	}
	return t
}

// isNonChar reports whether s[i:] starts with U+FFFE or U+FFFF.
func isNonChar(s string, i int) bool {
	return i+2 < len(s) && s[i] == 0xef && s[i+1] == 0xbf && (s[i+2] == 0xbe || s[i+2] == 0xbf)
}

// scanName reads a name at s[i:] with at most one colon separating two non-empty parts.
// It fails on a byte encoding/xml would take as part of the name but that is not among
// the characters accepted here.
func scanName(s string, i int) (end, colon int, ok bool) {
	n := nameStartAt(s, i)
	if n == 0 {
		return 0, 0, false
	}
	colon = -1
	j := i + n
	for j < len(s) {
		c := s[j]
		if nameChar[c] {
			j++
			continue
		}
		if c == ':' {
			n := nameStartAt(s, j+1)
			if colon >= 0 || n == 0 {
				return 0, 0, false
			}
			colon = j
			j += 1 + n
			continue
		}
		if c < utf8.RuneSelf {
			break
		}
		n := nameStartAt(s, j)
		if n == 0 {
			return 0, 0, false
		}
		j += n
	}
	if j-i > maxName {
		return 0, 0, false
	}
	return j, colon, true
}

// nameStartAt returns the length of the character at s[i:] if it may start a name part,
// or 0.
func nameStartAt(s string, i int) int {
	if i >= len(s) {
		return 0
	}
	if c := s[i]; c < utf8.RuneSelf {
		if nameStart[c] {
			return 1
		}
		return 0
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	if NameLetter(r) {
		return n
	}
	return 0
}

// NameLetter accepts the Latin-1 and Cyrillic letters of encoding/xml's table of name start
// characters, which the XPath library's table holds too (real schemas do use them, like RegiX's
// "DLCategоries" with a Cyrillic о); letters of other scripts are left to the libraries.
func NameLetter(r rune) bool {
	switch {
	case 0xC0 <= r && r <= 0xFF:
		return r != 0xD7 && r != 0xF7
	case 0x401 <= r && r <= 0x44F:
		return r != 0x40D
	case 0x451 <= r && r <= 0x481:
		return r != 0x45D
	}
	return false
}

// content parses the root element at s[i:] and everything inside it, without recursion.
func (p *parser) content(doc *xmlquery.Node, i int) (int, bool) {
	s := p.s
	i, ok := p.startTag(doc, i)
	if !ok {
		return 0, false
	}
	for len(p.stack) > 0 {
		parent := p.stack[len(p.stack)-1].node
		if i >= len(s) {
			return 0, false
		}
		if s[i] != '<' {
			if i, ok = p.text(parent, i); !ok {
				return 0, false
			}
			continue
		}
		if i+1 >= len(s) {
			return 0, false
		}
		switch c := s[i+1]; {
		case c == '/':
			i, ok = p.endTag(i)
		case nameStartAt(s, i+1) > 0:
			i, ok = p.startTag(parent, i)
		case strings.HasPrefix(s[i:], "<!--"):
			i, ok = p.comment(parent, i)
		case strings.HasPrefix(s[i:], "<![CDATA["):
			i, ok = p.cdata(parent, i)
		default:
			return 0, false
		}
		if !ok {
			return 0, false
		}
	}
	return i, true
}

// startTag parses the start tag at s[i:], resolves names as encoding/xml does and
// records namespace prefixes as xmlquery does.
func (p *parser) startTag(parent *xmlquery.Node, i int) (int, bool) {
	s := p.s
	level := len(p.stack) + 1
	if level > maxDepth || level > p.lim.MaxDepth {
		return 0, false
	}
	start := i + 1
	end, colon, ok := scanName(s, start)
	if !ok || end-start > p.lim.MaxName {
		return 0, false
	}
	name, prefix, local := s[start:end], "", s[start:end]
	if colon >= 0 {
		prefix, local = s[start:colon], s[colon+1:end]
	}

	raw := p.raw[:0]
	empty := false
	k := end
	for {
		k = skipSpace(s, k)
		if k >= len(s) {
			return 0, false
		}
		if s[k] == '>' {
			k++
			break
		}
		if s[k] == '/' {
			if k+1 >= len(s) || s[k+1] != '>' {
				return 0, false
			}
			empty = true
			k += 2
			break
		}
		// encoding/xml needs no space between attributes, and neither does this.
		aEnd, aColon, ok := scanName(s, k)
		if !ok || aEnd-k > p.lim.MaxName || len(raw) == p.lim.MaxAttrs {
			return 0, false
		}
		var a rawAttr
		if aColon >= 0 {
			a.prefix, a.local = s[k:aColon], s[aColon+1:aEnd]
		} else {
			a.local = s[k:aEnd]
		}
		k = skipSpace(s, aEnd)
		if k >= len(s) || s[k] != '=' {
			return 0, false
		}
		k = skipSpace(s, k+1)
		if k >= len(s) || (s[k] != '"' && s[k] != '\'') {
			return 0, false
		}
		if k, a.value, ok = p.chars(k+1, s[k]); !ok || len(a.value) > p.lim.MaxText {
			return 0, false
		}
		k++
		raw = append(raw, a)
	}
	p.raw = raw

	// Declarations first, in order: encoding/xml's scoped prefix map and xmlquery's
	// global URI map, which only a prefixed declaration always overwrites.
	mark := len(p.ns)
	if mark+len(raw) > maxBindings {
		// Prefixes are resolved by searching the declarations in scope: with many of them,
		// xmlquery's maps do better.
		decls := 0
		for _, a := range raw {
			if a.prefix == "xmlns" || a.prefix == "" && a.local == "xmlns" {
				decls++
			}
		}
		if mark+decls > maxBindings {
			return 0, false
		}
	}
	for _, a := range raw {
		switch {
		case a.prefix == "" && a.local == "xmlns":
			if !plainURI(a.value) {
				return 0, false
			}
			p.ns = append(p.ns, binding{prefix: "", uri: a.value})
			if sp := p.prefixOf(a.value); sp == nil || sp.level >= level {
				if !p.setSpace(a.value, "", level) {
					return 0, false
				}
			}
		case a.prefix == "xmlns":
			if a.local == "xml" || a.local == "xmlns" || !plainURI(a.value) {
				return 0, false
			}
			p.ns = append(p.ns, binding{prefix: a.local, uri: a.value})
			if !p.setSpace(a.value, a.local, level) {
				return 0, false
			}
		case a.local == "xmlns":
			// xmlquery would take a prefixed xmlns attribute for a default declaration.
			return 0, false
		}
	}

	n := p.node(xmlquery.ElementNode)
	n.Data = local
	switch prefix {
	case "":
		if local == "xmlns" {
			return 0, false
		}
		n.NamespaceURI, _ = p.resolve("")
	case "xml":
		n.NamespaceURI = xmlURL
	default:
		if n.NamespaceURI, ok = p.resolve(prefix); !ok {
			return 0, false
		}
	}
	// xmlquery keeps the prefix only when it is written as its map has it for the URI.
	if prefix != "" {
		if sp := p.prefixOf(n.NamespaceURI); sp != nil && sp.prefix == prefix {
			n.Prefix = prefix
		}
	}

	n.Attr = p.attrSlice(len(raw))
	for j, a := range raw {
		at := &n.Attr[j]
		at.Name.Local, at.Value = a.local, a.value
		switch a.prefix {
		case "":
			// Unprefixed attributes, xmlns included, have no namespace.
		case "xmlns":
			at.Name.Space, at.NamespaceURI = "xmlns", "xmlns"
		default:
			uri := xmlURL
			if a.prefix != "xml" {
				if uri, ok = p.resolve(a.prefix); !ok {
					return 0, false
				}
			}
			at.NamespaceURI, at.Name.Space = uri, uri
			if sp := p.prefixOf(uri); sp != nil {
				at.Name.Space = sp.prefix
			}
		}
	}

	appendChild(parent, n)
	if empty {
		p.ns = p.ns[:mark]
	} else {
		p.stack = append(p.stack, frame{node: n, name: name, nsMark: mark})
	}
	return k, true
}

// plainURI accepts the namespace names that cannot collide with the raw spaces xmlquery
// looks up in its URI map ("" and "xmlns") and leaves the XML namespace to its own prefix.
func plainURI(v string) bool {
	return strings.IndexByte(v, ':') >= 0 && v != xmlURL
}

// resolve returns the namespace bound to prefix in the current scope.
func (p *parser) resolve(prefix string) (string, bool) {
	for j := len(p.ns) - 1; j >= 0; j-- {
		if p.ns[j].prefix == prefix {
			return p.ns[j].uri, true
		}
	}
	return "", false
}

func (p *parser) prefixOf(uri string) *space {
	for j := range p.spaces {
		if p.spaces[j].uri == uri {
			return &p.spaces[j]
		}
	}
	return nil
}

func (p *parser) setSpace(uri, prefix string, level int) bool {
	if sp := p.prefixOf(uri); sp != nil {
		sp.prefix, sp.level = prefix, level
		return true
	}
	if len(p.spaces) >= maxSpaces {
		return false
	}
	p.spaces = append(p.spaces, space{uri: uri, prefix: prefix, level: level})
	return true
}

// endTag parses the end tag at s[i:], which must close the innermost open element with
// the name written the same way.
func (p *parser) endTag(i int) (int, bool) {
	s := p.s
	top := p.stack[len(p.stack)-1]
	j := i + 2
	if !strings.HasPrefix(s[j:], top.name) {
		return 0, false
	}
	j += len(top.name)
	if j < len(s) && (nameByte[s[j]] || s[j] >= utf8.RuneSelf) {
		return 0, false
	}
	j = skipSpace(s, j)
	if j >= len(s) || s[j] != '>' {
		return 0, false
	}
	p.ns = p.ns[:top.nsMark]
	p.stack = p.stack[:len(p.stack)-1]
	return j + 1, true
}

// text adds the character data at s[i:] as a text node.
func (p *parser) text(parent *xmlquery.Node, i int) (int, bool) {
	s := p.s
	// xmlquery marks text that starts like a CDATA section as CharDataNode.
	if s[i] == '!' && i+1 < len(s) && s[i+1] == '[' {
		return 0, false
	}
	end, data, ok := p.chars(i, 0)
	if !ok || len(data) > p.lim.MaxText {
		return 0, false
	}
	p.addText(parent, data)
	return end, true
}

// whitespace adds the whitespace at s[i:], outside the root element, as a text node.
func (p *parser) whitespace(parent *xmlquery.Node, i int) (int, bool) {
	s := p.s
	j := skipSpace(s, i)
	if j == i || j < len(s) && s[j] != '<' || j-i > p.lim.MaxText {
		return 0, false
	}
	data := s[i:j]
	if strings.IndexByte(data, '\r') >= 0 {
		data = p.normalize(i, j)
	}
	p.addText(parent, data)
	return j, true
}

// addText adds a text node holding data as the last child of parent.
func (p *parser) addText(parent *xmlquery.Node, data string) {
	n := p.node(xmlquery.TextNode)
	n.Data = data
	appendChild(parent, n)
}

// comment adds the comment at s[i:], kept raw as encoding/xml returns it.
func (p *parser) comment(parent *xmlquery.Node, i int) (int, bool) {
	s := p.s
	j := i + len("<!--")
	k := strings.Index(s[j:], "--")
	if k < 0 {
		return 0, false
	}
	e := j + k
	if e+2 >= len(s) || s[e+2] != '>' {
		return 0, false
	}
	if _, ok := checkRaw(s, j, e); !ok || e-j > p.lim.MaxText {
		return 0, false
	}
	n := p.node(xmlquery.CommentNode)
	n.Data = s[j:e]
	appendChild(parent, n)
	return e + 3, true
}

// cdata adds the CDATA section at s[i:]; only line ends are normalized in it.
func (p *parser) cdata(parent *xmlquery.Node, i int) (int, bool) {
	s := p.s
	j := i + len("<![CDATA[")
	k := strings.Index(s[j:], "]]>")
	if k < 0 {
		return 0, false
	}
	e := j + k
	cr, ok := checkRaw(s, j, e)
	if !ok {
		return 0, false
	}
	data := s[j:e]
	if cr {
		data = p.normalize(j, e)
	}
	if len(data) > p.lim.MaxText {
		return 0, false
	}
	n := p.node(xmlquery.CharDataNode)
	n.Data = data
	appendChild(parent, n)
	return e + 3, true
}

// checkRaw rejects characters encoding/xml refuses in s[i:e] and reports whether it holds
// a CR.
func checkRaw(s string, i, e int) (cr, ok bool) {
	for ; i < e; i++ {
		if c := s[i]; rawSpecial[c] {
			switch {
			case c == '\r':
				cr = true
			case c == 0xef:
				if isNonChar(s, i) {
					return false, false
				}
			default:
				return false, false
			}
		}
	}
	return cr, true
}

// chars reads text (quote 0) up to '<' or the end of input, or an attribute value up to
// its closing quote, and returns the index of that terminator with the decoded data.
func (p *parser) chars(i int, quote byte) (int, string, bool) {
	s := p.s
	special := &textSpecial
	if quote != 0 {
		special = &valueSpecial
	}
	start := i
	for {
		for i < len(s) && !special[s[i]] {
			i++
		}
		if i >= len(s) {
			return i, s[start:i], quote == 0
		}
		switch c := s[i]; c {
		case '<':
			return i, s[start:i], quote == 0
		case '&', '\r':
			return p.decode(start, i, quote)
		case ']':
			if strings.HasPrefix(s[i:], "]]>") {
				return 0, "", false
			}
		case 0xef:
			if isNonChar(s, i) {
				return 0, "", false
			}
		case '"', '\'':
			if c == quote {
				return i, s[start:i], true
			}
		default:
			return 0, "", false
		}
		i++
	}
}

// decode continues chars from s[i:], the first entity or CR of data that started at
// s[start:], building the decoded string once.
func (p *parser) decode(start, i int, quote byte) (int, string, bool) {
	s := p.s
	special := &textSpecial
	if quote != 0 {
		special = &valueSpecial
	}
	// The text ends at the next '<' (a value at its quote) or sooner: decoded, no longer.
	end := len(s)
	term := byte('<')
	if quote != 0 {
		term = quote
	}
	if k := strings.IndexByte(s[i:], term); k >= 0 {
		end = i + k
	}
	d := p.decoder(end - start)
	mark := d.Len()
	d.WriteString(s[start:i])
	for {
		j := i
		for j < len(s) && !special[s[j]] {
			j++
		}
		d.WriteString(s[i:j])
		i = j
		if i >= len(s) {
			if quote != 0 {
				return 0, "", false
			}
			break
		}
		c := s[i]
		if c == '<' {
			if quote != 0 {
				return 0, "", false
			}
			break
		}
		if quote != 0 && c == quote {
			break
		}
		switch c {
		case '&':
			r, n, ok := entity(s, i)
			if !ok {
				return 0, "", false
			}
			d.WriteRune(r)
			i += n
			continue
		case '\r':
			d.WriteByte('\n')
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
		case ']':
			if strings.HasPrefix(s[i:], "]]>") {
				return 0, "", false
			}
			d.WriteByte(c)
		case 0xef:
			if isNonChar(s, i) {
				return 0, "", false
			}
			d.WriteByte(c)
		case '"', '\'':
			d.WriteByte(c)
		default:
			return 0, "", false
		}
		i++
	}
	return i, d.String()[mark:], true
}

// decoder returns the builder for decoded texts, with room for n more bytes: decoding never
// lengthens text, so a text of n bytes as written fits. Texts decoded earlier keep the
// builder's earlier array when it grows. (It once grew by all that was left of the input at
// the first entity, which cost a copy of a document with an attachment after an "&amp;".)
func (p *parser) decoder(n int) *strings.Builder {
	if p.dec.Cap()-p.dec.Len() < n {
		p.dec.Grow(n)
	}
	return &p.dec
}

// normalize returns s[i:e] with CRLF and lone CR turned into LF, as encoding/xml does
// in character data.
func (p *parser) normalize(i, e int) string {
	s := p.s
	d := p.decoder(e - i)
	mark := d.Len()
	for ; i < e; i++ {
		c := s[i]
		if c == '\r' {
			c = '\n'
			if i+1 < e && s[i+1] == '\n' {
				i++
			}
		}
		d.WriteByte(c)
	}
	return d.String()[mark:]
}

// entity decodes the predefined entity or character reference at s[i:] and returns the
// number of bytes it spans.
func entity(s string, i int) (rune, int, bool) {
	t := s[i+1:]
	switch {
	case strings.HasPrefix(t, "lt;"):
		return '<', 4, true
	case strings.HasPrefix(t, "gt;"):
		return '>', 4, true
	case strings.HasPrefix(t, "amp;"):
		return '&', 5, true
	case strings.HasPrefix(t, "apos;"):
		return '\'', 6, true
	case strings.HasPrefix(t, "quot;"):
		return '"', 6, true
	case !strings.HasPrefix(t, "#"):
		return 0, 0, false
	}
	j, base := 1, rune(10)
	if len(t) > 1 && t[1] == 'x' {
		j, base = 2, 16
	}
	digits := j
	var v rune
	for ; j < len(t); j++ {
		d := digit(t[j], base)
		if d < 0 {
			break
		}
		if v = v*base + d; v > utf8.MaxRune {
			return 0, 0, false
		}
	}
	if j == digits || j >= len(t) || t[j] != ';' || !isXMLChar(v) {
		return 0, 0, false
	}
	return v, j + 2, true
}

func digit(c byte, base rune) rune {
	switch {
	case '0' <= c && c <= '9':
		return rune(c - '0')
	case base == 16 && 'a' <= c && c <= 'f':
		return rune(c-'a') + 10
	case base == 16 && 'A' <= c && c <= 'F':
		return rune(c-'A') + 10
	}
	return -1
}

// isXMLChar is the Char production, as encoding/xml checks decoded text against it.
func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}
