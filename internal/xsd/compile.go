package xsd

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strconv"
	"strings"
)

// Schema is a compiled set of schema documents, ready to validate
// instances. It is safe for concurrent use once its limits are set.
type Schema struct {
	elements map[qname]*elemDecl
	types    map[qname]*typeDef
	attrs    map[qname]*attrDecl
	// MaxDepth bounds element nesting in an instance (default 256).
	MaxDepth int
	// MaxProblems bounds the problems reported for one instance (default 100).
	MaxProblems int
}

// compiler holds the state of one Compile call.
type compiler struct {
	cat    *Catalog
	docs   map[string]*schemaDoc
	loaded map[string]bool // namespaces with a document loaded
	// raw global definitions by expanded name
	rawElems, rawTypes, rawAttrs, rawGroups, rawAttrGroups map[qname]*node
	// resolved components
	elems    map[qname]*elemDecl
	types    map[qname]*typeDef
	attrs    map[qname]*attrDecl
	local    map[*node]*elemDecl
	anon     map[*node]*typeDef
	inFlight map[*node]bool
	missing  map[string]string // namespace → where it was imported
}

// Compile loads the entry schema files (paths in cat.FS, or namespaces
// mapped in the catalogue) with everything they import and include, and
// compiles them. Errors name the schema file and line.
func Compile(cat *Catalog, entry ...string) (*Schema, error) {
	if cat == nil || cat.FS == nil {
		return nil, errors.New("xsd: compile: no catalogue")
	}
	if len(entry) == 0 {
		return nil, errors.New("xsd: compile: no entry schema")
	}
	c := &compiler{
		cat: cat, docs: map[string]*schemaDoc{}, loaded: map[string]bool{},
		rawElems: map[qname]*node{}, rawTypes: map[qname]*node{}, rawAttrs: map[qname]*node{},
		rawGroups: map[qname]*node{}, rawAttrGroups: map[qname]*node{},
		elems: map[qname]*elemDecl{}, types: map[qname]*typeDef{}, attrs: map[qname]*attrDecl{},
		local: map[*node]*elemDecl{}, anon: map[*node]*typeDef{}, inFlight: map[*node]bool{},
		missing: map[string]string{},
	}
	for _, e := range entry {
		file := e
		if f, ok := cat.Namespaces[e]; ok {
			file = f
		}
		if _, err := c.load(path.Clean(file), nil); err != nil {
			return nil, err
		}
	}
	// Resolve every global component so schema errors surface now.
	for q, n := range c.rawTypes {
		if _, err := c.typeNamed(q, n); err != nil {
			return nil, err
		}
	}
	for q, n := range c.rawElems {
		if _, err := c.elemNamed(q, n); err != nil {
			return nil, err
		}
	}
	for q, n := range c.rawAttrs {
		if _, err := c.attrNamed(q, n); err != nil {
			return nil, err
		}
	}
	for n, td := range c.anon {
		if td.ct != nil && td.ct.model == nil && td.ct.particle != nil {
			if err := c.finishModel(n, td.ct); err != nil {
				return nil, err
			}
		}
	}
	for q, td := range c.types {
		if td.ct != nil && td.ct.model == nil && td.ct.particle != nil {
			if err := c.finishModel(c.rawTypes[q], td.ct); err != nil {
				return nil, err
			}
		}
	}
	for q, d := range c.elems {
		if err := fixedNeedsSimple(c.rawElems[q], d); err != nil {
			return nil, err
		}
	}
	for n, d := range c.local {
		if err := fixedNeedsSimple(n, d); err != nil {
			return nil, err
		}
	}
	return &Schema{elements: c.elems, types: c.types, attrs: c.attrs, MaxDepth: 256, MaxProblems: 100}, nil
}

// fixedNeedsSimple refuses a fixed value on an element whose content is not simple: the validator
// compares a fixed value only with simple content, so on mixed content it would go unchecked.
func fixedNeedsSimple(n *node, d *elemDecl) error {
	if d.fixed == nil || d.typ.simple != nil || d.typ.ct != nil && d.typ.ct.content == contentSimple {
		return nil
	}
	return n.errorf("fixed value on element %s, whose type %s has no simple content, is refused: a fixed value is checked only on simple content", d.name.local, typeName(d.typ))
}

// typeName names a type for messages.
func typeName(td *typeDef) string {
	if td.name.local == "" {
		return "(anonymous)"
	}
	return td.name.String()
}

// load reads a schema file once, registers its global components under
// ns (the target namespace, or the includer's for a chameleon include) and
// follows its imports and includes.
func (c *compiler) load(file string, includer *schemaDoc) (*schemaDoc, error) {
	if d, ok := c.docs[file]; ok {
		return d, nil
	}
	f, err := c.cat.FS.Open(file)
	if err != nil {
		return nil, fmt.Errorf("xsd: open %s: %w", file, err)
	}
	doc, err := parseSchemaDoc(file, f)
	f.Close()
	if err != nil {
		return nil, err
	}
	if includer != nil && doc.targetNS == "" && includer.targetNS != "" {
		doc.targetNS = includer.targetNS // chameleon include
	}
	if err := checkSchemaDoc(doc); err != nil {
		return nil, err
	}
	c.docs[file] = doc
	c.loaded[doc.targetNS] = true
	for _, ch := range doc.root.children {
		name, ok := ch.attr("name")
		q := qname{doc.targetNS, name}
		reg := func(m map[qname]*node) {
			if ok {
				if _, dup := m[q]; !dup {
					m[q] = ch
				}
			}
		}
		switch ch.name {
		case "element":
			reg(c.rawElems)
		case "complexType", "simpleType":
			reg(c.rawTypes)
		case "attribute":
			reg(c.rawAttrs)
		case "group":
			reg(c.rawGroups)
		case "attributeGroup":
			reg(c.rawAttrGroups)
		}
	}
	for _, ch := range doc.root.children {
		switch ch.name {
		case "import":
			ns := ch.attrs["namespace"]
			loc, hasLoc := ch.attr("schemaLocation")
			if hasLoc {
				p := path.Join(path.Dir(file), loc)
				if _, err := fs.Stat(c.cat.FS, p); err == nil {
					if _, err := c.load(p, nil); err != nil {
						return nil, err
					}
					continue
				}
			}
			if c.loaded[ns] {
				continue
			}
			if p, ok := c.cat.Namespaces[ns]; ok {
				if _, err := c.load(p, nil); err != nil {
					return nil, err
				}
				continue
			}
			if _, seen := c.missing[ns]; !seen {
				c.missing[ns] = ch.pos()
			}
		case "include":
			loc, ok := ch.attr("schemaLocation")
			if !ok {
				return nil, ch.errorf("include without schemaLocation")
			}
			if _, err := c.load(path.Join(path.Dir(file), loc), doc); err != nil {
				return nil, err
			}
		}
	}
	return doc, nil
}

// notFound explains a reference to a component that is not loaded.
func (c *compiler) notFound(n *node, kind string, q qname) error {
	if where, ok := c.missing[q.ns]; ok {
		return n.errorf("%s %s not found: namespace %q is imported at %s without a schemaLocation and is not in the catalogue", kind, q, q.ns, where)
	}
	return n.errorf("%s %s not found", kind, q)
}

// occurs reads minOccurs and maxOccurs.
func occurs(n *node) (int, int, error) {
	lo, hi := 1, 1
	if v, ok := n.attr("minOccurs"); ok {
		i, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || i < 0 {
			return 0, 0, n.errorf("minOccurs %q is not a non-negative integer", v)
		}
		lo = i
	}
	if v, ok := n.attr("maxOccurs"); ok {
		v = strings.TrimSpace(v)
		if v == "unbounded" {
			hi = -1
		} else {
			i, err := strconv.Atoi(v)
			if err != nil || i < 0 {
				return 0, 0, n.errorf("maxOccurs %q is not a non-negative integer or unbounded", v)
			}
			hi = i
		}
	}
	if hi >= 0 && lo > hi {
		return 0, 0, n.errorf("minOccurs %d is greater than maxOccurs %d", lo, hi)
	}
	return lo, hi, nil
}

// typeRef resolves a type QName.
func (c *compiler) typeRef(n *node, v string) (*typeDef, error) {
	q, err := n.qname(v)
	if err != nil {
		return nil, err
	}
	if q.ns == nsXSD {
		if q.local == "anyType" {
			return anyTypeDef, nil
		}
		if why, ok := unchecked[q.local]; ok {
			return nil, n.errorf("type %s is refused: %s", v, why)
		}
		if b, ok := builtins[q.local]; ok {
			return &typeDef{name: q, simple: b}, nil
		}
		return nil, n.errorf("unknown built-in type %s", v)
	}
	raw, ok := c.rawTypes[q]
	if !ok {
		return nil, c.notFound(n, "type", q)
	}
	return c.typeNamed(q, raw)
}

// unchecked are the built-in types whose values the validator cannot judge.
var unchecked = map[string]string{
	"NOTATION": "its values must name notations declared in the schema, which are not implemented",
	"ENTITY":   "its values must name unparsed entities declared in a DTD, which instances may not have",
	"ENTITIES": "its values must name unparsed entities declared in a DTD, which instances may not have",
}

// simpleRef resolves a QName that must name a simple type.
func (c *compiler) simpleRef(n *node, v string) (*simpleType, error) {
	td, err := c.typeRef(n, v)
	if err != nil {
		return nil, err
	}
	if td.simple == nil {
		return nil, n.errorf("type %s is not a simple type", v)
	}
	return td.simple, nil
}

func (c *compiler) typeNamed(q qname, n *node) (*typeDef, error) {
	if td, ok := c.types[q]; ok {
		return td, nil
	}
	td, err := c.typeFromNode(n, q)
	if err != nil {
		return nil, err
	}
	c.types[q] = td
	return td, nil
}

// typeFromNode builds a simpleType or complexType node, memoised so that
// recursive types (through elements) resolve to the same definition.
func (c *compiler) typeFromNode(n *node, q qname) (*typeDef, error) {
	if td, ok := c.anon[n]; ok {
		if c.inFlight[n] && td.ct == nil && td.simple == nil {
			return nil, n.errorf("type %s is derived from itself", q)
		}
		return td, nil
	}
	td := &typeDef{name: q}
	c.anon[n] = td
	c.inFlight[n] = true
	defer delete(c.inFlight, n)
	switch n.name {
	case "simpleType":
		st, err := c.simpleFromNode(n, q)
		if err != nil {
			return nil, err
		}
		td.simple = st
	case "complexType":
		ct := &complexType{}
		td.ct = ct // set before filling so element recursion finds it
		if err := c.fillComplex(n, ct, td); err != nil {
			return nil, err
		}
	default:
		return nil, n.errorf("expected simpleType or complexType, found %s", n.name)
	}
	return td, nil
}

// finalSet reads a named type's final, or the schema's finalDefault when it has none.
func finalSet(n *node) (derivation, error) {
	v, ok := n.attr("final")
	at := n
	if !ok {
		v, _ = n.doc.root.attr("finalDefault")
		at = n.doc.root
	}
	var set derivation
	for _, m := range strings.Fields(v) {
		switch m {
		case "#all":
			set |= byExtension | byRestriction | byList | byUnion
		case "extension":
			set |= byExtension
		case "restriction":
			set |= byRestriction
		case "list":
			set |= byList
		case "union":
			set |= byUnion
		default:
			return 0, at.errorf("final %q: %q is not #all, extension, restriction, list or union", v, m)
		}
	}
	return set, nil
}

// notFinal refuses a derivation its base's final forbids, at n where the schema derives.
func notFinal(n *node, base qname, final, by derivation) error {
	if final&by == 0 {
		return nil
	}
	how := map[derivation]string{byExtension: "extension", byRestriction: "restriction", byList: "list", byUnion: "union"}[by]
	return n.errorf("type %s is final for %s: it may not be derived by %s here", base, how, how)
}

// simpleFromNode builds a simple type definition; a named one takes its final.
func (c *compiler) simpleFromNode(n *node, q qname) (*simpleType, error) {
	st, err := c.simpleBody(n, q)
	if err != nil || q.local == "" {
		return st, err
	}
	if st.final, err = finalSet(n); err != nil {
		return nil, err
	}
	return st, nil
}

func (c *compiler) simpleBody(n *node, q qname) (*simpleType, error) {
	for _, ch := range n.children {
		switch ch.name {
		case "restriction":
			var base *simpleType
			var err error
			if b, ok := ch.attr("base"); ok {
				base, err = c.simpleRef(ch, b)
			} else if inner := child(ch, "simpleType"); inner != nil {
				base, err = c.simpleFromNode(inner, qname{})
			} else {
				err = ch.errorf("restriction without base")
			}
			if err != nil {
				return nil, err
			}
			if err := notFinal(ch, base.name, base.final, byRestriction); err != nil {
				return nil, err
			}
			return c.restrict(ch, q, base)
		case "list":
			var item *simpleType
			var err error
			if it, ok := ch.attr("itemType"); ok {
				item, err = c.simpleRef(ch, it)
			} else if inner := child(ch, "simpleType"); inner != nil {
				item, err = c.simpleFromNode(inner, qname{})
			} else {
				err = ch.errorf("list without itemType")
			}
			if err != nil {
				return nil, err
			}
			if err := notFinal(ch, item.name, item.final, byList); err != nil {
				return nil, err
			}
			return &simpleType{name: q, variety: list, base: anySimple, prim: "list", item: item, ws: wsCollapse}, nil
		case "union":
			st := &simpleType{name: q, variety: union, base: anySimple, prim: "union", ws: wsCollapse}
			for _, m := range strings.Fields(ch.attrs["memberTypes"]) {
				mt, err := c.simpleRef(ch, m)
				if err != nil {
					return nil, err
				}
				st.members = append(st.members, mt)
			}
			for _, inner := range ch.children {
				if inner.name == "simpleType" {
					mt, err := c.simpleFromNode(inner, qname{})
					if err != nil {
						return nil, err
					}
					st.members = append(st.members, mt)
				}
			}
			if len(st.members) == 0 {
				return nil, ch.errorf("union without member types")
			}
			for _, m := range st.members {
				if err := notFinal(ch, m.name, m.final, byUnion); err != nil {
					return nil, err
				}
			}
			return st, nil
		}
	}
	return nil, n.errorf("simpleType without restriction, list or union")
}

// restrict derives a simple type from base with the facets under n.
func (c *compiler) restrict(n *node, q qname, base *simpleType) (*simpleType, error) {
	st := &simpleType{name: q, variety: base.variety, base: base, prim: base.prim, lex: base.lex,
		ws: base.ws, item: base.item, members: base.members}
	f := &facets{length: -1, minLength: -1, maxLength: -1, totalDig: -1, fracDig: -1}
	hasFacet := false
	intFacet := func(ch *node) (int, error) {
		v := strings.TrimSpace(ch.attrs["value"])
		i, err := strconv.Atoi(v)
		if err != nil || i < 0 {
			return 0, ch.errorf("%s value %q is not a non-negative integer", ch.name, v)
		}
		return i, nil
	}
	boundFacet := func(ch *node) (*bound, error) {
		v := strings.TrimSpace(ch.attrs["value"])
		if st.variety != atomic || st.lex == nil {
			return nil, ch.errorf("%s on a non-atomic type", ch.name)
		}
		val, err := st.lex(v)
		if err != nil {
			return nil, ch.errorf("%s value %q %v", ch.name, v, err)
		}
		return &bound{val: val, src: v}, nil
	}
	var err error
	for _, ch := range n.children {
		switch ch.name {
		case "", "annotation", "simpleType":
			continue
		case "pattern":
			src := ch.attrs["value"]
			goRe, terr := translateRegex(src)
			if terr != nil {
				return nil, ch.errorf("pattern %q: %v", src, terr)
			}
			re, cerr := regexp.Compile(goRe)
			if cerr != nil {
				return nil, ch.errorf("pattern %q: %v", src, cerr)
			}
			f.patterns = append(f.patterns, re)
			f.patternSrc = append(f.patternSrc, src)
		case "enumeration":
			f.enum = append(f.enum, ch.attrs["value"])
		case "length":
			f.length, err = intFacet(ch)
		case "minLength":
			f.minLength, err = intFacet(ch)
		case "maxLength":
			f.maxLength, err = intFacet(ch)
		case "totalDigits":
			f.totalDig, err = intFacet(ch)
		case "fractionDigits":
			f.fracDig, err = intFacet(ch)
		case "minInclusive":
			f.minIncl, err = boundFacet(ch)
		case "maxInclusive":
			f.maxIncl, err = boundFacet(ch)
		case "minExclusive":
			f.minExcl, err = boundFacet(ch)
		case "maxExclusive":
			f.maxExcl, err = boundFacet(ch)
		case "whiteSpace":
			switch strings.TrimSpace(ch.attrs["value"]) {
			case "preserve":
				st.ws = wsPreserve
			case "replace":
				st.ws = wsReplace
			case "collapse":
				st.ws = wsCollapse
			default:
				return nil, ch.errorf("whiteSpace value %q is not preserve, replace or collapse", ch.attrs["value"])
			}
			continue
		case "attribute", "attributeGroup", "anyAttribute":
			continue // simpleContent restriction: handled by the caller
		default:
			return nil, ch.errorf("unsupported facet %s", ch.name)
		}
		if err != nil {
			return nil, err
		}
		hasFacet = true
	}
	if len(f.enum) > 0 && st.variety == atomic && st.prim == "QName" {
		// The validator would compare the values as written, prefix and all, not as names in
		// their namespaces: a value with the right prefix bound to another namespace would pass.
		return nil, n.errorf("an enumeration of QNames is refused: QName values are not compared by namespace")
	}
	for _, e := range f.enum {
		v := normalizeWS(e, st.ws)
		var val any = v
		if st.variety == atomic && st.lex != nil && st.prim != "QName" && st.prim != "NOTATION" {
			pv, lerr := st.lex(v)
			if lerr == nil {
				val = pv
			}
		}
		f.enumVals = append(f.enumVals, val)
	}
	if hasFacet {
		st.facets = f
	}
	return st, nil
}

// child returns the first child with the XSD local name.
func child(n *node, name string) *node {
	for _, ch := range n.children {
		if ch.name == name {
			return ch
		}
	}
	return nil
}

// anyTypeDef is xs:anyType: any attributes, any content, processed laxly.
var anyTypeDef = func() *typeDef {
	wc := &wildcard{anyNS: true, process: processLax}
	ct := &complexType{content: contentMixed, attrs: map[qname]*attrUse{}, anyAttr: wc}
	ct.particle = &particle{kind: pWildcard, min: 0, max: -1, wc: wc}
	ct.model = buildModel(ct.particle)
	return &typeDef{name: qname{nsXSD, "anyType"}, ct: ct}
}()

// fillComplex builds a complex type from its node.
func (c *compiler) fillComplex(n *node, ct *complexType, td *typeDef) error {
	ct.attrs = map[qname]*attrUse{}
	if td.name.local != "" {
		var err error
		if ct.final, err = finalSet(n); err != nil {
			return err
		}
	}
	ct.abstract = n.flag("abstract")
	mixed := n.flag("mixed")
	ct.base = anyTypeDef
	var own *particle
	var err error
	for _, ch := range n.children {
		switch ch.name {
		case "simpleContent":
			return c.fillSimpleContent(ch, ct)
		case "complexContent":
			if _, ok := ch.attr("mixed"); ok {
				mixed = ch.flag("mixed")
			}
			return c.fillComplexContent(ch, ct, mixed)
		case "sequence", "choice", "all", "group":
			if own, err = c.particleFrom(ch); err != nil {
				return err
			}
		}
	}
	if err := c.addAttrs(n, ct); err != nil {
		return err
	}
	c.setContent(ct, own, mixed)
	return nil
}

// setContent sets the content kind from the particle and mixed.
func (c *compiler) setContent(ct *complexType, p *particle, mixed bool) {
	ct.particle = p
	switch {
	case mixed:
		ct.content = contentMixed
	case p == nil || emptyParticle(p):
		ct.content = contentEmpty
	default:
		ct.content = contentElements
	}
	if ct.particle == nil {
		ct.particle = &particle{kind: pSequence, min: 1, max: 1}
	}
}

func emptyParticle(p *particle) bool {
	if p.max == 0 {
		return true
	}
	switch p.kind {
	case pSequence, pChoice, pAll:
		for _, ch := range p.children {
			if !emptyParticle(ch) {
				return false
			}
		}
		return true
	}
	return false
}

func (c *compiler) fillComplexContent(n *node, ct *complexType, mixed bool) error {
	der := child(n, "extension")
	if der == nil {
		der = child(n, "restriction")
	}
	if der == nil {
		return n.errorf("complexContent without extension or restriction")
	}
	base, err := c.typeRef(der, der.attrs["base"])
	if err != nil {
		return err
	}
	if base.ct == nil {
		return der.errorf("complexContent base %s is a simple type", der.attrs["base"])
	}
	if c.inFlightType(base) {
		return der.errorf("type is derived from itself through %s", der.attrs["base"])
	}
	if err := notFinal(der, base.name, base.ct.final, derivedBy(der)); err != nil {
		return err
	}
	ct.base = base
	var own *particle
	for _, ch := range der.children {
		switch ch.name {
		case "sequence", "choice", "all", "group":
			if own, err = c.particleFrom(ch); err != nil {
				return err
			}
		}
	}
	if der.name == "extension" {
		for q, u := range base.ct.attrs {
			ct.attrs[q] = u
		}
		ct.anyAttr = base.ct.anyAttr
		if err := c.addAttrs(der, ct); err != nil {
			return err
		}
		switch {
		case own == nil || emptyParticle(own):
			own = base.ct.particle
			if base.ct.content == contentEmpty {
				own = nil
			}
		case base.ct.content != contentEmpty && base != anyTypeDef:
			own = &particle{kind: pSequence, min: 1, max: 1, children: []*particle{base.ct.particle, own}}
		}
		c.setContent(ct, own, mixed || base.ct.content == contentMixed && base != anyTypeDef)
	} else {
		for q, u := range base.ct.attrs {
			ct.attrs[q] = u
		}
		ct.anyAttr = nil
		if err := c.addAttrs(der, ct); err != nil {
			return err
		}
		c.setContent(ct, own, mixed)
	}
	ct.indexAttrs()
	return nil
}

// derivedBy is how an extension or restriction element derives.
func derivedBy(der *node) derivation {
	if der.name == "extension" {
		return byExtension
	}
	return byRestriction
}

// finalOrZero is ct's final, none for a nil ct.
func (ct *complexType) finalOrZero() derivation {
	if ct == nil {
		return 0
	}
	return ct.final
}

// inFlightType reports whether a type is still being built (a cycle).
func (c *compiler) inFlightType(td *typeDef) bool {
	for n, t := range c.anon {
		if t == td {
			return c.inFlight[n]
		}
	}
	return false
}

func (c *compiler) fillSimpleContent(n *node, ct *complexType) error {
	der := child(n, "extension")
	if der == nil {
		der = child(n, "restriction")
	}
	if der == nil {
		return n.errorf("simpleContent without extension or restriction")
	}
	base, err := c.typeRef(der, der.attrs["base"])
	if err != nil {
		return err
	}
	if base.ct != nil && c.inFlightType(base) {
		return der.errorf("type is derived from itself through %s", der.attrs["base"])
	}
	baseFinal := base.ct.finalOrZero()
	if base.simple != nil {
		baseFinal = base.simple.final
	}
	if err := notFinal(der, base.name, baseFinal, derivedBy(der)); err != nil {
		return err
	}
	ct.base = base
	ct.content = contentSimple
	var baseSimple *simpleType
	if base.simple != nil {
		baseSimple = base.simple
	} else {
		for q, u := range base.ct.attrs {
			ct.attrs[q] = u
		}
		ct.anyAttr = base.ct.anyAttr
		baseSimple = base.ct.simple
		if baseSimple == nil {
			if base.ct.content != contentMixed && base != anyTypeDef {
				return der.errorf("simpleContent base %s has no simple content", der.attrs["base"])
			}
			baseSimple = builtins["string"]
		}
	}
	if der.name == "restriction" {
		if inner := child(der, "simpleType"); inner != nil {
			if baseSimple, err = c.simpleFromNode(inner, qname{}); err != nil {
				return err
			}
		}
		if baseSimple, err = c.restrict(der, qname{}, baseSimple); err != nil {
			return err
		}
		ct.anyAttr = nil
	}
	ct.simple = baseSimple
	if err := c.addAttrs(der, ct); err != nil {
		return err
	}
	ct.indexAttrs()
	return nil
}

// indexAttrs lists required and defaulted attributes for fast checks.
func (ct *complexType) indexAttrs() {
	ct.required, ct.defaults = nil, nil
	for _, u := range ct.attrs {
		if u.required {
			ct.required = append(ct.required, u)
		}
		if u.def != nil || u.fixed != nil {
			ct.defaults = append(ct.defaults, u)
		}
	}
}

// addAttrs adds attribute, attributeGroup and anyAttribute children of n. The attribute
// wildcard is what every wildcard there — n's own and its attribute groups' — allows (their
// intersection), processed as n's own says, or else as the first group's.
func (c *compiler) addAttrs(n *node, ct *complexType) error {
	var wcs []*wildcard
	if err := c.collectAttrs(n, ct, &wcs); err != nil {
		return err
	}
	if len(wcs) > 0 {
		w := wcs[0]
		for _, o := range wcs[1:] {
			w = intersect(w, o)
		}
		if own := child(n, "anyAttribute"); own != nil {
			w.process = wildcardFrom(own).process
		}
		ct.anyAttr = w
	}
	ct.indexAttrs()
	return nil
}

// intersect is the namespace constraint allowing what both a and b allow, processed as a.
func intersect(a, b *wildcard) *wildcard {
	switch {
	case a.anyNS:
		return &wildcard{anyNS: b.anyNS, not: b.not, allowed: b.allowed, process: a.process}
	case b.anyNS:
		return &wildcard{not: a.not, allowed: a.allowed, process: a.process}
	case a.not != nil && b.not != nil:
		return &wildcard{not: append(append([]string{}, a.not...), b.not...), process: a.process}
	}
	w := &wildcard{allowed: map[string]bool{}, process: a.process}
	set, other := a, b
	if set.not != nil {
		set, other = b, a
	}
	for ns := range set.allowed {
		if other.allows(ns) {
			w.allowed[ns] = true
		}
	}
	return w
}

// collectAttrs adds the attributes of n and of the attribute groups it refers to, and gathers
// their wildcards.
func (c *compiler) collectAttrs(n *node, ct *complexType, wcs *[]*wildcard) error {
	for _, ch := range n.children {
		switch ch.name {
		case "attribute":
			u, err := c.attrUseFrom(ch)
			if err != nil {
				return err
			}
			if u.prohibited {
				delete(ct.attrs, u.decl.name)
				continue
			}
			ct.attrs[u.decl.name] = u
		case "attributeGroup":
			ref, ok := ch.attr("ref")
			if !ok {
				return ch.errorf("attributeGroup without ref")
			}
			q, err := ch.qname(ref)
			if err != nil {
				return err
			}
			g, ok := c.rawAttrGroups[q]
			if !ok {
				return c.notFound(ch, "attribute group", q)
			}
			if c.inFlight[g] {
				return ch.errorf("attribute group %s refers to itself", q)
			}
			c.inFlight[g] = true
			err = c.collectAttrs(g, ct, wcs)
			delete(c.inFlight, g)
			if err != nil {
				return err
			}
		case "anyAttribute":
			*wcs = append(*wcs, wildcardFrom(ch))
		}
	}
	return nil
}

func (c *compiler) attrUseFrom(n *node) (*attrUse, error) {
	u := &attrUse{}
	switch use, _ := n.attr("use"); use {
	case "required":
		u.required = true
	case "prohibited":
		u.prohibited = true
	}
	if ref, ok := n.attr("ref"); ok {
		q, err := n.qname(ref)
		if err != nil {
			return nil, err
		}
		raw, ok := c.rawAttrs[q]
		var d *attrDecl
		switch {
		case ok:
			if d, err = c.attrNamed(q, raw); err != nil {
				return nil, err
			}
		case q.ns == nsXML:
			d = &attrDecl{name: q, typ: builtins["string"]}
		default:
			return nil, c.notFound(n, "attribute", q)
		}
		u.decl = d
	} else {
		d, err := c.attrDeclFrom(n, false)
		if err != nil {
			return nil, err
		}
		u.decl = d
	}
	u.def, u.fixed = u.decl.def, u.decl.fixed
	if v, ok := n.attr("default"); ok {
		u.def = &v
	}
	if v, ok := n.attr("fixed"); ok {
		u.fixed = &v
	}
	return u, nil
}

func (c *compiler) attrNamed(q qname, n *node) (*attrDecl, error) {
	if d, ok := c.attrs[q]; ok {
		return d, nil
	}
	d, err := c.attrDeclFrom(n, true)
	if err != nil {
		return nil, err
	}
	c.attrs[q] = d
	return d, nil
}

func (c *compiler) attrDeclFrom(n *node, global bool) (*attrDecl, error) {
	name, ok := n.attr("name")
	if !ok {
		return nil, n.errorf("attribute without name or ref")
	}
	q := qname{local: name}
	if global || n.qualified(n.doc.attrQual) {
		q.ns = n.doc.targetNS
	}
	d := &attrDecl{name: q, typ: anySimple}
	if t, ok := n.attr("type"); ok {
		st, err := c.simpleRef(n, t)
		if err != nil {
			return nil, err
		}
		d.typ = st
	} else if inner := child(n, "simpleType"); inner != nil {
		st, err := c.simpleFromNode(inner, qname{})
		if err != nil {
			return nil, err
		}
		d.typ = st
	}
	if v, ok := n.attr("default"); ok {
		d.def = &v
	}
	if v, ok := n.attr("fixed"); ok {
		d.fixed = &v
	}
	return d, nil
}

func wildcardFrom(n *node) *wildcard {
	w := &wildcard{}
	switch pc, _ := n.attr("processContents"); pc {
	case "lax":
		w.process = processLax
	case "skip":
		w.process = processSkip
	}
	ns, ok := n.attr("namespace")
	if !ok {
		ns = "##any"
	}
	switch strings.TrimSpace(ns) {
	case "##any":
		w.anyNS = true
	case "##other":
		w.not = []string{n.doc.targetNS, ""}
	default:
		w.allowed = map[string]bool{}
		for _, t := range strings.Fields(ns) {
			switch t {
			case "##targetNamespace":
				w.allowed[n.doc.targetNS] = true
			case "##local":
				w.allowed[""] = true
			default:
				w.allowed[t] = true
			}
		}
	}
	return w
}

func (c *compiler) elemNamed(q qname, n *node) (*elemDecl, error) {
	if d, ok := c.elems[q]; ok {
		return d, nil
	}
	d := &elemDecl{name: q}
	c.elems[q] = d // before the type, for recursion
	if err := c.fillElem(n, d); err != nil {
		return nil, err
	}
	return d, nil
}

func (c *compiler) fillElem(n *node, d *elemDecl) error {
	d.nillable = n.flag("nillable")
	d.abstract = n.flag("abstract")
	if v, ok := n.attr("default"); ok {
		d.def = &v
	}
	if v, ok := n.attr("fixed"); ok {
		d.fixed = &v
	}
	var err error
	if t, ok := n.attr("type"); ok {
		d.typ, err = c.typeRef(n, t)
	} else if inner := child(n, "complexType"); inner != nil {
		d.typ, err = c.typeFromNode(inner, qname{})
	} else if inner := child(n, "simpleType"); inner != nil {
		d.typ, err = c.typeFromNode(inner, qname{})
	} else {
		d.typ = anyTypeDef
	}
	return err
}

// particleFrom builds a particle from element, any, sequence, choice, all
// or group (reference).
func (c *compiler) particleFrom(n *node) (*particle, error) {
	lo, hi, err := occurs(n)
	if err != nil {
		return nil, err
	}
	p := &particle{min: lo, max: hi}
	switch n.name {
	case "element":
		p.kind = pElement
		if ref, ok := n.attr("ref"); ok {
			q, err := n.qname(ref)
			if err != nil {
				return nil, err
			}
			raw, ok := c.rawElems[q]
			if !ok {
				return nil, c.notFound(n, "element", q)
			}
			if p.elem, err = c.elemNamed(q, raw); err != nil {
				return nil, err
			}
			return p, nil
		}
		if d, ok := c.local[n]; ok {
			p.elem = d
			return p, nil
		}
		name, ok := n.attr("name")
		if !ok {
			return nil, n.errorf("element without name or ref")
		}
		q := qname{local: name}
		if n.qualified(n.doc.elemQual) {
			q.ns = n.doc.targetNS
		}
		d := &elemDecl{name: q}
		c.local[n] = d
		if err := c.fillElem(n, d); err != nil {
			return nil, err
		}
		p.elem = d
	case "any":
		p.kind = pWildcard
		p.wc = wildcardFrom(n)
	case "sequence", "choice", "all":
		p.kind = map[string]particleKind{"sequence": pSequence, "choice": pChoice, "all": pAll}[n.name]
		for _, ch := range n.children {
			switch ch.name {
			case "element", "any", "sequence", "choice", "group":
				cp, err := c.particleFrom(ch)
				if err != nil {
					return nil, err
				}
				p.children = append(p.children, cp)
			}
		}
	case "group":
		ref, ok := n.attr("ref")
		if !ok {
			return nil, n.errorf("group without ref")
		}
		q, err := n.qname(ref)
		if err != nil {
			return nil, err
		}
		g, ok := c.rawGroups[q]
		if !ok {
			return nil, c.notFound(n, "group", q)
		}
		if c.inFlight[g] {
			return nil, n.errorf("group %s refers to itself", q)
		}
		var body *node
		for _, ch := range g.children {
			if ch.name == "sequence" || ch.name == "choice" || ch.name == "all" {
				body = ch
			}
		}
		if body == nil {
			return nil, g.errorf("group %s has no sequence, choice or all", q)
		}
		c.inFlight[g] = true
		inner, err := c.particleFrom(body)
		delete(c.inFlight, g)
		if err != nil {
			return nil, err
		}
		inner.min, inner.max = lo, hi
		return inner, nil
	default:
		return nil, n.errorf("unexpected %s in a content model", n.name)
	}
	return p, nil
}

// finishModel builds the automaton of a complex type's particle.
func (c *compiler) finishModel(n *node, ct *complexType) error {
	if ct.content != contentElements && ct.content != contentMixed && ct.content != contentEmpty {
		return nil
	}
	m, err := newModel(ct.particle)
	if err != nil {
		if n != nil {
			return n.errorf("content model: %v", err)
		}
		return fmt.Errorf("xsd: content model: %w", err)
	}
	ct.model = m
	return nil
}
