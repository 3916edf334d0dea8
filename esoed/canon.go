package esoed

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxDepth bounds the nesting of any-content (DocAddData, a document's Signature) below its
// element; deeper input is refused rather than followed.
const maxDepth = 64

// maxPrefixes bounds the namespace prefixes in scope in any-content, which each namespaced
// attribute's prefix is looked up among.
const maxPrefixes = 64

const xmlNamespace = "http://www.w3.org/XML/1998/namespace"

// canonicalFragment canonicalizes XML content (elements, text, processing instructions) for a
// parent element in the messaging namespace.
func canonicalFragment(x RawXML) ([]byte, error) {
	if bytes.Contains(x, []byte("<!")) && (bytes.Contains(x, []byte("<!DOCTYPE")) || bytes.Contains(x, []byte("<!ENTITY"))) {
		return nil, errors.New("any-content: a DOCTYPE is not allowed")
	}
	d := xml.NewDecoder(io.MultiReader(strings.NewReader(`<w xmlns="`+Namespace+`">`), bytes.NewReader(x), strings.NewReader(`</w>`)))
	if _, err := d.Token(); err != nil {
		return nil, fmt.Errorf("any-content: %w", err)
	}
	out, err := canonicalContent(d)
	if err != nil {
		return nil, err
	}
	if tok, err := d.Token(); err != io.EOF {
		return nil, fmt.Errorf("any-content: unexpected %T after the content (%v)", tok, err)
	}
	return out, nil
}

// canonicalContent reads the content of the element whose start d has just returned, up to and
// including its end, and returns that content in XML c14n 1.0 form (without comments), with
// elements written unprefixed under default namespace declarations. The parent is taken to be
// in the messaging namespace with no prefixes in scope.
func canonicalContent(d interface{ Token() (xml.Token, error) }) ([]byte, error) {
	type scope struct {
		def string
		pre map[string]string // prefix → namespace, as rendered
	}
	stack := []scope{{def: Namespace, pre: map[string]string{}}}
	var b []byte
	for {
		tok, err := d.Token()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("any-content: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) > maxDepth {
				return nil, fmt.Errorf("any-content: nested deeper than %d elements", maxDepth)
			}
			parent := stack[len(stack)-1]
			// The parent's prefixes are shared until the element binds one of its own: copying
			// them at every element made the work grow with their number times the elements.
			sc := scope{def: t.Name.Space, pre: parent.pre}
			type decl struct{ prefix, uri string }
			var decls []decl
			tooMany := false
			bind := func(p, uri string) {
				if sc.pre[p] == uri {
					return
				}
				if len(decls) == 0 {
					sc.pre = cloneMap(parent.pre)
				}
				sc.pre[p] = uri
				decls = append(decls, decl{p, uri})
				tooMany = tooMany || len(sc.pre) > maxPrefixes
			}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" {
					bind(a.Name.Local, a.Value)
				}
			}
			type attr struct{ uri, local, qname, value string }
			var attrs []attr
			for _, a := range t.Attr {
				switch {
				case a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns"):
				case a.Name.Space == "":
					attrs = append(attrs, attr{"", a.Name.Local, a.Name.Local, a.Value})
				case a.Name.Space == xmlNamespace:
					attrs = append(attrs, attr{xmlNamespace, a.Name.Local, "xml:" + a.Name.Local, a.Value})
				default:
					p := prefixFor(sc.pre, a.Name.Space)
					if p == "" {
						for i := 1; ; i++ {
							p = "ns" + strconv.Itoa(i)
							if _, taken := sc.pre[p]; !taken {
								break
							}
						}
						bind(p, a.Name.Space)
					}
					attrs = append(attrs, attr{a.Name.Space, a.Name.Local, p + ":" + a.Name.Local, a.Value})
				}
			}
			if tooMany {
				return nil, fmt.Errorf("any-content: more than %d namespace prefixes in scope at %s", maxPrefixes, t.Name.Local)
			}
			b = append(b, '<')
			b = append(b, t.Name.Local...)
			if sc.def != parent.def {
				b = append(b, ` xmlns="`...)
				b = escapeAttr(b, sc.def)
				b = append(b, '"')
			}
			slices.SortFunc(decls, func(x, y decl) int { return strings.Compare(x.prefix, y.prefix) })
			for _, n := range decls {
				b = append(b, " xmlns:"...)
				b = append(b, n.prefix...)
				b = append(b, `="`...)
				b = escapeAttr(b, n.uri)
				b = append(b, '"')
			}
			slices.SortFunc(attrs, func(x, y attr) int {
				if c := strings.Compare(x.uri, y.uri); c != 0 {
					return c
				}
				return strings.Compare(x.local, y.local)
			})
			for _, a := range attrs {
				b = append(b, ' ')
				b = append(b, a.qname...)
				b = append(b, `="`...)
				b = escapeAttr(b, a.value)
				b = append(b, '"')
			}
			b = append(b, '>')
			stack = append(stack, sc)
		case xml.EndElement:
			if len(stack) == 1 {
				return b, nil
			}
			stack = stack[:len(stack)-1]
			b = append(b, "</"...)
			b = append(b, t.Name.Local...)
			b = append(b, '>')
		case xml.CharData:
			b = escapeText(b, t)
		case xml.ProcInst:
			b = append(b, "<?"...)
			b = append(b, t.Target...)
			if len(t.Inst) > 0 {
				b = append(b, ' ')
				b = append(b, bytes.TrimLeft(t.Inst, " \t\r\n")...)
			}
			b = append(b, "?>"...)
		case xml.Directive:
			return nil, errors.New("any-content: a directive (DOCTYPE, ENTITY) is not allowed")
		}
	}
}

func cloneMap(m map[string]string) map[string]string {
	c := make(map[string]string, len(m)+1)
	for k, v := range m {
		c[k] = v
	}
	return c
}

func prefixFor(pre map[string]string, uri string) string {
	best := ""
	for p, u := range pre {
		if u == uri && (best == "" || p < best) {
			best = p
		}
	}
	return best
}

func escapeText(b, s []byte) []byte {
	for len(s) > 0 {
		r, n := utf8.DecodeRune(s)
		switch r {
		case '&':
			b = append(b, "&amp;"...)
		case '<':
			b = append(b, "&lt;"...)
		case '>':
			b = append(b, "&gt;"...)
		case '\r':
			b = append(b, "&#xD;"...)
		default:
			b = append(b, s[:n]...)
		}
		s = s[n:]
	}
	return b
}

func escapeAttr(b []byte, s string) []byte {
	for _, r := range s {
		switch r {
		case '&':
			b = append(b, "&amp;"...)
		case '<':
			b = append(b, "&lt;"...)
		case '"':
			b = append(b, "&quot;"...)
		case '\t':
			b = append(b, "&#x9;"...)
		case '\n':
			b = append(b, "&#xA;"...)
		case '\r':
			b = append(b, "&#xD;"...)
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return b
}
