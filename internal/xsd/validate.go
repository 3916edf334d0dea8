package xsd

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aiskao/aiskao/internal/xmllimit"
)

// Problem is one way an instance document breaks the schema.
type Problem struct {
	// Path is the element path, e.g. /Message/Header/MessageGUID, with a
	// [n] index on an element that is the n-th (n > 1) of its name.
	Path string
	// Line is the input line where the problem was found.
	Line int
	// Rule is the rule broken: "pattern", "enumeration", "minOccurs",
	// "maxOccurs", "unexpected element", "required attribute", …
	Rule string
	// Message says what is wrong, for people.
	Message string
}

// String formats the problem as "path: message".
func (p Problem) String() string {
	if p.Path == "" {
		return p.Message
	}
	return p.Path + ": " + p.Message
}

// ValidationError lists the problems of an invalid document.
type ValidationError struct {
	Problems []Problem
	// Truncated is set when validation stopped at the problem limit.
	Truncated bool
}

// Error lists every problem with its line, one a line.
func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "xsd: document is not valid (%d problem", len(e.Problems))
	if len(e.Problems) != 1 {
		b.WriteByte('s')
	}
	if e.Truncated {
		b.WriteString(", stopped at the limit")
	}
	b.WriteString(")")
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "\nline %d: %s [%s]", p.Line, p, p.Rule)
	}
	return b.String()
}

// textMode says how an element's character data is handled.
type textMode uint8

const (
	textIgnore textMode = iota // element content: only whitespace allowed
	textKeep                   // simple value: accumulated
	textBase64                 // base64 without value facets: checked as it streams
	textAny                    // mixed or skipped: anything
	textNone                   // empty content: none at all
)

type frame struct {
	seg      string
	name     qname
	decl     *elemDecl
	typ      *typeDef
	simple   *simpleType // value type for simple types and simple content
	state    mstate
	allSeen  []bool
	counts   []nameCount
	countMap map[qname]int // counts, once the children have many distinct names
	text     []byte
	b64      b64
	mode     textMode
	hasText  bool // non-whitespace character data seen
	hasChild bool
	nilled   bool
	skip     bool // processContents skip, or after an error: not validated
	lax      bool // no declaration: children validated only if declared
	bad      bool // content model already reported
	nsMark   int
	line     int
}

type nameCount struct {
	name qname
	n    int
}

type binding struct{ prefix, ns string }

type validator struct {
	s      *Schema
	d      *xmllimit.Decoder
	probs  []Problem
	full   bool
	stack  []*frame
	ns     []binding
	ids    map[string]bool
	idrefs []Problem // pending IDREF checks, as problems to report
	rd     *errReader
}

// errReader remembers a read failure, to tell it apart from a document
// that is not well-formed.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}

// errStop ends validation early (problem limit, fatal document error).
var errStop = errors.New("stop")

// Validate reads one XML document from r and checks it against the schema.
// It returns nil when the document is valid, a *ValidationError listing
// the problems (up to MaxProblems) when it is not, and another error when
// reading fails. The document is read in one pass; no tree is built.
//
// The document is bounded by xmllimit.Default, with the schema's MaxDepth:
// a document beyond a limit, with a second root element, text after the
// root or a DOCTYPE is not valid, with one problem saying what and where.
func (s *Schema) Validate(r io.Reader) error {
	return s.ValidateWith(r, xmllimit.Limits{MaxDepth: s.MaxDepth})
}

// ValidateWith is [Schema.Validate] under the given limits (zero fields from
// xmllimit.Default; MaxDepth from the schema's, then the default).
func (s *Schema) ValidateWith(r io.Reader, lim xmllimit.Limits) error {
	if lim.MaxDepth <= 0 {
		lim.MaxDepth = s.MaxDepth
	}
	er := &errReader{r: r}
	v := &validator{s: s, d: xmllimit.NewDecoder(er, lim), rd: er}
	err := v.run()
	if err != nil && err != errStop {
		return err
	}
	if len(v.probs) == 0 {
		return nil
	}
	return &ValidationError{Problems: v.probs, Truncated: v.full}
}

func (v *validator) line() int {
	l, _ := v.d.InputPos()
	return l
}

func (v *validator) path() string {
	var b strings.Builder
	for _, f := range v.stack {
		b.WriteByte('/')
		b.WriteString(f.seg)
	}
	return b.String()
}

// report records a problem at the current element; errStop at the limit.
func (v *validator) report(rule, format string, args ...any) error {
	return v.reportAt(v.path(), v.line(), rule, fmt.Sprintf(format, args...))
}

func (v *validator) reportAt(path string, line int, rule, msg string) error {
	max := v.s.MaxProblems
	if max <= 0 {
		max = 100
	}
	if len(v.probs) >= max {
		v.full = true
		return errStop
	}
	v.probs = append(v.probs, Problem{Path: path, Line: line, Rule: rule, Message: msg})
	if len(v.probs) >= max {
		v.full = true
		return errStop
	}
	return nil
}

func (v *validator) run() error {
	for {
		tok, err := v.d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			var le *xmllimit.Error
			if errors.As(err, &le) {
				return v.refused(le)
			}
			if v.rd.err != nil {
				return fmt.Errorf("xsd: validate: %w", v.rd.err)
			}
			msg, line := err.Error(), v.line()
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				msg, line = se.Msg, se.Line
			}
			v.reportAt(v.path(), line, "syntax", "the document is not well-formed XML: "+msg)
			return errStop
		}
		switch t := tok.(type) {
		case xml.StartElement:
			err = v.start(t)
		case xml.EndElement:
			err = v.end()
		case xml.CharData:
			err = v.chars(t)
		}
		if err != nil {
			return err
		}
	}
	for _, p := range v.idrefs {
		if !v.ids[p.Message] {
			if err := v.reportAt(p.Path, p.Line, "IDREF", fmt.Sprintf("IDREF %q does not match any ID in the document", p.Message)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (v *validator) resolvePrefix(prefix string) (string, bool) {
	if prefix == "xml" {
		return nsXML, true
	}
	for i := len(v.ns) - 1; i >= 0; i-- {
		if v.ns[i].prefix == prefix {
			return v.ns[i].ns, v.ns[i].ns != "" || prefix == ""
		}
	}
	return "", prefix == ""
}

// refused reports the decoder's refusal of the document (a limit, a second
// root, a DOCTYPE) as its one last problem.
func (v *validator) refused(le *xmllimit.Error) error {
	rule := "syntax"
	switch {
	case le.What == xmllimit.WhatDepth:
		rule = "depth"
	case le.What == xmllimit.WhatDoctype:
		rule = "doctype"
	case le.Limit > 0:
		rule = "limit"
	}
	msg := strings.TrimPrefix(le.Error(), "xml: ")
	if rule == "doctype" {
		msg = "a DOCTYPE is not allowed; DTDs and entities are not processed (" + msg + ")"
	}
	v.reportAt(v.path(), le.Line, rule, msg)
	return errStop
}

func (v *validator) start(t xml.StartElement) error {
	name := qname{t.Name.Space, t.Name.Local}
	f := &frame{name: name, seg: name.local, nsMark: len(v.ns), line: v.line()}
	for _, a := range t.Attr {
		switch {
		case a.Name.Space == "xmlns":
			v.ns = append(v.ns, binding{a.Name.Local, a.Value})
		case a.Name.Space == "" && a.Name.Local == "xmlns":
			v.ns = append(v.ns, binding{"", a.Value})
		}
	}
	if len(v.ns) > maxBindings {
		// Prefixes of xsi:type and QName values are looked up among the declarations in
		// scope; without a bound, many of them would make that work quadratic.
		v.report("limit", "more than %d namespace declarations in scope", maxBindings)
		return errStop
	}
	var parent *frame
	if n := len(v.stack); n > 0 {
		parent = v.stack[n-1]
		parent.hasChild = true
		f.seg = parent.childSeg(name)
	}
	v.stack = append(v.stack, f)

	if parent != nil && parent.skip {
		f.skip = true
		return nil
	}
	var decl *elemDecl
	switch {
	case parent == nil:
		decl = v.s.elements[name]
		if decl == nil {
			f.skip = true
			return v.report("unexpected element", "no global declaration for root element %s", name)
		}
	case parent.lax:
		decl = v.s.elements[name]
		if decl == nil {
			f.lax = true
			f.mode = textAny
			return v.laxAttrs(t)
		}
	default:
		var err error
		var wc *wildcard
		decl, wc, err = v.child(parent, name)
		if err != nil || (decl == nil && wc == nil) {
			f.skip = true
			return err
		}
		if decl == nil {
			switch wc.process {
			case processSkip:
				f.skip = true
				return nil
			case processLax:
				if decl = v.s.elements[name]; decl == nil {
					f.lax = true
					f.mode = textAny
					return v.laxAttrs(t)
				}
			default:
				if decl = v.s.elements[name]; decl == nil {
					f.skip = true
					return v.report("unexpected element", "element %s matches a strict wildcard but has no global declaration", name)
				}
			}
		}
	}
	f.decl = decl
	f.typ = decl.typ
	if decl.abstract {
		if err := v.report("abstract", "element %s is abstract", name.local); err != nil {
			return err
		}
	}
	for _, a := range t.Attr {
		if a.Name.Space != nsXSI {
			continue
		}
		switch a.Name.Local {
		case "type":
			if err := v.xsiType(f, a.Value); err != nil {
				return err
			}
		case "nil":
			nv := strings.TrimSpace(a.Value)
			if nv != "true" && nv != "1" && nv != "false" && nv != "0" {
				if err := v.report("nillable", "xsi:nil value %q is not a boolean", a.Value); err != nil {
					return err
				}
				continue
			}
			if !decl.nillable {
				if err := v.report("nillable", "element %s is not nillable but has xsi:nil", name.local); err != nil {
					return err
				}
				continue
			}
			f.nilled = nv == "true" || nv == "1"
		}
	}
	if ct := f.typ.ct; ct != nil {
		if ct.abstract {
			if err := v.report("abstract", "type %s is abstract; use xsi:type to name a concrete type", f.typ.name.local); err != nil {
				return err
			}
		}
		switch ct.content {
		case contentSimple:
			f.simple = ct.simple
		case contentElements:
			f.mode = textIgnore
		case contentMixed:
			f.mode = textAny
		case contentEmpty:
			f.mode = textNone
		}
		if ct.model != nil && ct.model.all != nil {
			f.allSeen = make([]bool, len(ct.model.all.elems))
		}
		if err := v.attrs(f, ct, t.Attr); err != nil {
			return err
		}
	} else {
		f.simple = f.typ.simple
		if err := v.attrs(f, nil, t.Attr); err != nil {
			return err
		}
	}
	if f.simple != nil {
		f.mode = textKeep
		if f.simple.variety == atomic && f.simple.prim == "base64Binary" && !hasValueFacets(f.simple) && decl.fixed == nil {
			f.mode = textBase64
		}
	}
	return nil
}

// hasValueFacets reports facets that need the whole value at once.
func hasValueFacets(st *simpleType) bool {
	for t := st; t != nil; t = t.base {
		if f := t.facets; f != nil && (len(f.patterns) > 0 || len(f.enum) > 0) {
			return true
		}
	}
	return false
}

// childSeg names a child in paths, counting repeats.
func (f *frame) childSeg(name qname) string {
	n := 1
	switch {
	case f.countMap != nil:
		n = f.countMap[name] + 1
		f.countMap[name] = n
	default:
		found := false
		for i := range f.counts {
			if f.counts[i].name == name {
				f.counts[i].n++
				n, found = f.counts[i].n, true
				break
			}
		}
		switch {
		case found:
		case len(f.counts) < maxCountList:
			f.counts = append(f.counts, nameCount{name, 1})
		default:
			// Many distinct names among the children: a search of the list for each child
			// would make the work quadratic in their number.
			f.countMap = make(map[qname]int, 2*maxCountList)
			for _, c := range f.counts {
				f.countMap[c.name] = c.n
			}
			f.countMap[name] = 1
			f.counts = nil
		}
	}
	if n == 1 {
		return name.local
	}
	return fmt.Sprintf("%s[%d]", name.local, n)
}

// maxBindings bounds the namespace declarations in scope.
const maxBindings = 256

// maxCountList is how many distinct child names a frame counts in a list before a map.
const maxCountList = 16

// child matches a child element against the parent's content model. It
// returns the declaration or the wildcard matched, or neither after
// reporting.
func (v *validator) child(p *frame, name qname) (*elemDecl, *wildcard, error) {
	if p.nilled {
		p.bad = true
		return nil, nil, v.report("nillable", "element %s has xsi:nil but has child elements", p.name.local)
	}
	ct := p.typ.ct
	if ct == nil || ct.content == contentSimple || ct.content == contentEmpty {
		if p.bad {
			return nil, nil, nil
		}
		p.bad = true
		return nil, nil, v.report("unexpected element", "element %s is not allowed: %s has no child elements", name.local, p.name.local)
	}
	m := ct.model
	if p.bad {
		return nil, nil, nil
	}
	if m.all != nil {
		for i, e := range m.all.elems {
			if e.elem.name == name {
				if p.allSeen[i] {
					p.bad = true
					return nil, nil, v.report("maxOccurs", "element %s occurs more than once", name.local)
				}
				p.allSeen[i] = true
				return e.elem, nil, nil
			}
		}
		p.bad = true
		return nil, nil, v.report("unexpected element", "element %s is not allowed here", name.local)
	}
	prev := p.state
	l, ok := m.step(&p.state, name)
	if ok {
		return l.elem, l.wc, nil
	}
	p.bad = true
	exp := m.expected(&prev)
	repeated := false
	if prev.started {
		for _, q := range prev.set {
			if lb := m.labels[q]; lb.elem != nil && lb.elem.name == name {
				repeated = true
			}
		}
	}
	switch {
	case repeated:
		return nil, nil, v.report("maxOccurs", "element %s occurs more times than allowed (maxOccurs)", name.local)
	case len(exp) == 0:
		return nil, nil, v.report("unexpected element", "element %s is not allowed here: no more child elements are allowed in %s", name.local, p.name.local)
	default:
		return nil, nil, v.report("unexpected element", "element %s is not allowed here; expected %s", name.local, strings.Join(exp, " or "))
	}
}

// xsiType switches the frame to the type named by xsi:type.
func (v *validator) xsiType(f *frame, val string) error {
	val = strings.TrimSpace(val)
	prefix, local, ok := strings.Cut(val, ":")
	if !ok {
		prefix, local = "", val
	}
	ns, bound := v.resolvePrefix(prefix)
	if !bound {
		return v.report("xsi:type", "xsi:type %q uses an undeclared prefix", val)
	}
	q := qname{ns, local}
	var td *typeDef
	if ns == nsXSD {
		if local == "anyType" {
			td = anyTypeDef
		} else if b, ok := builtins[local]; ok {
			td = &typeDef{name: q, simple: b}
		}
	} else {
		td = v.s.types[q]
	}
	if td == nil {
		return v.report("xsi:type", "xsi:type %s names no known type", q)
	}
	if !derivesFrom(td, f.typ) {
		return v.report("xsi:type", "xsi:type %s is not derived from the declared type of %s", q, f.name.local)
	}
	f.typ = td
	return nil
}

// derivesFrom reports whether td is base or derived from it.
func derivesFrom(td, base *typeDef) bool {
	if base == anyTypeDef {
		return true
	}
	for t := td; t != nil; {
		if t == base || (t.name == base.name && t.name.local != "") {
			return true
		}
		if t.ct != nil {
			if t.ct.base == nil || t.ct.base == t {
				return false
			}
			t = t.ct.base
			continue
		}
		if base.simple != nil {
			for s := t.simple; s != nil; s = s.base {
				if s == base.simple {
					return true
				}
			}
		}
		return false
	}
	return false
}

// laxAttrs validates attributes of an undeclared element laxly.
func (v *validator) laxAttrs(t xml.StartElement) error {
	for _, a := range t.Attr {
		if d := v.s.attrs[qname{a.Name.Space, a.Name.Local}]; d != nil {
			if err := v.attrValue(d.typ, a, d.fixed); err != nil {
				return err
			}
		}
	}
	return nil
}

func isMetaAttr(a xml.Attr) bool {
	if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
		return true
	}
	if a.Name.Space == nsXSI {
		switch a.Name.Local {
		case "type", "nil", "schemaLocation", "noNamespaceSchemaLocation":
			return true
		}
	}
	return false
}

// attrs checks attributes against a complex type (nil for simple types).
func (v *validator) attrs(f *frame, ct *complexType, attrs []xml.Attr) error {
	for _, a := range attrs {
		if isMetaAttr(a) {
			continue
		}
		q := qname{a.Name.Space, a.Name.Local}
		if ct != nil {
			if u := ct.attrs[q]; u != nil {
				if err := v.attrValue(u.decl.typ, a, u.fixed); err != nil {
					return err
				}
				continue
			}
			if w := ct.anyAttr; w != nil && w.allows(q.ns) {
				d := v.s.attrs[q]
				switch {
				case w.process == processSkip:
				case d != nil:
					if err := v.attrValue(d.typ, a, d.fixed); err != nil {
						return err
					}
				case w.process == processStrict:
					if err := v.report("unexpected attribute", "attribute %s matches a strict wildcard but has no global declaration", q); err != nil {
						return err
					}
				}
				continue
			}
		}
		if err := v.report("unexpected attribute", "attribute %s is not allowed on %s", q, f.name.local); err != nil {
			return err
		}
	}
	if ct == nil {
		return nil
	}
	for _, u := range ct.required {
		found := false
		for _, a := range attrs {
			if a.Name.Local == u.decl.name.local && a.Name.Space == u.decl.name.ns {
				found = true
				break
			}
		}
		if !found {
			if err := v.report("required attribute", "required attribute %s is missing", u.decl.name); err != nil {
				return err
			}
		}
	}
	return nil
}

// attrValue checks one attribute value.
func (v *validator) attrValue(st *simpleType, a xml.Attr, fixed *string) error {
	_, bad := checkValue(st, a.Value, v.resolvePrefix)
	if bad != nil {
		return v.report(bad.rule, "attribute %s: %s", a.Name.Local, bad.msg)
	}
	if fixed != nil && normalizeWS(a.Value, st.ws) != normalizeWS(*fixed, st.ws) {
		return v.report("fixed", "attribute %s: value %s must be %q", a.Name.Local, quote(a.Value), *fixed)
	}
	return v.ids1(st, a.Value)
}

// ids1 records IDs and IDREFs of a value.
func (v *validator) ids1(st *simpleType, val string) error {
	switch {
	case derivesFromBuiltin(st, "ID"):
		id := strings.TrimSpace(val)
		if v.ids == nil {
			v.ids = map[string]bool{}
		}
		if v.ids[id] {
			return v.report("ID", "ID %q is not unique in the document", id)
		}
		v.ids[id] = true
	case derivesFromBuiltin(st, "IDREF"):
		v.idrefs = append(v.idrefs, Problem{Path: v.path(), Line: v.line(), Message: strings.TrimSpace(val)})
	case st.variety == list && st.item != nil && derivesFromBuiltin(st.item, "IDREF"):
		for _, r := range strings.Fields(val) {
			v.idrefs = append(v.idrefs, Problem{Path: v.path(), Line: v.line(), Message: r})
		}
	}
	return nil
}

func (v *validator) chars(t xml.CharData) error {
	if len(v.stack) == 0 {
		return nil
	}
	f := v.stack[len(v.stack)-1]
	if f.skip {
		return nil
	}
	ws := len(bytes.TrimLeft(t, " \t\r\n")) == 0
	switch f.mode {
	case textKeep:
		f.text = append(f.text, t...)
		f.hasText = f.hasText || !ws
	case textBase64:
		f.b64.writeBytes(t)
		f.hasText = f.hasText || !ws
	case textAny:
		f.hasText = f.hasText || !ws
	case textIgnore, textNone:
		if (!ws || f.mode == textNone) && !f.hasText && len(t) > 0 {
			f.hasText = true
			if f.nilled {
				return nil // reported at the end
			}
			what := "only child elements"
			if f.mode == textNone {
				what = "no content"
			}
			return v.report("unexpected text", "character data is not allowed: %s has %s", f.name.local, what)
		}
	}
	return nil
}

func (v *validator) end() error {
	f := v.stack[len(v.stack)-1]
	err := v.finish(f)
	v.stack = v.stack[:len(v.stack)-1]
	v.ns = v.ns[:f.nsMark]
	return err
}

// finish runs the checks that need the whole element.
func (v *validator) finish(f *frame) error {
	if f.skip || f.lax || f.typ == nil {
		return nil
	}
	if f.nilled {
		if f.hasText || f.hasChild {
			return v.report("nillable", "element %s has xsi:nil but has content", f.name.local)
		}
		if f.decl.fixed != nil {
			return v.report("nillable", "element %s has a fixed value and cannot be nil", f.name.local)
		}
		return nil
	}
	if f.simple != nil {
		if f.mode == textBase64 {
			if err := f.b64.finish(); err != nil {
				return v.report("type", "value %v", err)
			}
			return nil
		}
		text := string(f.text)
		if len(f.text) == 0 && !f.hasChild {
			if f.decl.def != nil {
				text = *f.decl.def
			} else if f.decl.fixed != nil {
				text = *f.decl.fixed
			}
		}
		_, bad := checkValue(f.simple, text, v.resolvePrefix)
		if bad != nil {
			return v.report(bad.rule, "%s", bad.msg)
		}
		if fx := f.decl.fixed; fx != nil && normalizeWS(text, f.simple.ws) != normalizeWS(*fx, f.simple.ws) {
			return v.report("fixed", "value %s must be %q", quote(text), *fx)
		}
		return v.ids1(f.simple, text)
	}
	ct := f.typ.ct
	if ct == nil || ct.model == nil || f.bad {
		return nil
	}
	m := ct.model
	if m.all != nil {
		any := false
		for _, s := range f.allSeen {
			any = any || s
		}
		if !any && m.all.optional {
			return nil
		}
		for i, e := range m.all.elems {
			if !f.allSeen[i] && e.min > 0 {
				if err := v.reportAt(v.path(), f.line, "minOccurs", fmt.Sprintf("required child element %s is missing", e.elem.name.local)); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if !m.accepting(&f.state) {
		exp := m.expected(&f.state)
		return v.reportAt(v.path(), f.line, "minOccurs", fmt.Sprintf("content is incomplete: missing child element %s", strings.Join(exp, " or ")))
	}
	return nil
}
