package xsd

import "regexp"

// qname is an expanded name: namespace and local part.
type qname struct{ ns, local string }

// String writes the name as {namespace}local, or local alone.
func (q qname) String() string {
	if q.ns == "" {
		return q.local
	}
	return "{" + q.ns + "}" + q.local
}

// typeDef is a simple or a complex type definition; exactly one of simple
// and ct is set.
type typeDef struct {
	name   qname
	simple *simpleType
	ct     *complexType
}

// whiteSpace is the whiteSpace facet's value.
type whiteSpace uint8

const (
	wsPreserve whiteSpace = iota
	wsReplace
	wsCollapse
)

// variety tells atomic, list and union simple types apart.
type variety uint8

const (
	atomic variety = iota
	list
	union
)

// derivation is a set of ways of deriving a type, as final names them.
type derivation uint8

const (
	byExtension derivation = 1 << iota
	byRestriction
	byList
	byUnion
)

// simpleType is a simple type definition, built-in or user-defined.
type simpleType struct {
	name    qname
	variety variety
	base    *simpleType
	// prim is the primitive built-in type's local name ("string",
	// "decimal", …); it decides length units and value comparison.
	prim string
	// lex checks the lexical form against the nearest built-in type and
	// returns the value; inherited from base when nil at compile time.
	lex     func(string) (any, error)
	ws      whiteSpace
	facets  *facets // of this derivation step only; nil when none
	item    *simpleType
	members []*simpleType
	builtin bool
	final   derivation // how other types may not derive from it
}

// facets are the constraining facets given in one restriction step.
type facets struct {
	patterns   []*regexp.Regexp
	patternSrc []string
	enum       []string
	enumVals   []any
	length     int
	minLength  int
	maxLength  int
	minIncl    *bound
	maxIncl    *bound
	minExcl    *bound
	maxExcl    *bound
	totalDig   int
	fracDig    int
}

// bound is an ordering facet's value, kept with its text for messages.
type bound struct {
	val any
	src string
}

// contentKind is the {content type} of a complex type.
type contentKind uint8

const (
	contentEmpty contentKind = iota
	contentSimple
	contentElements
	contentMixed
)

// complexType is a complex type definition.
type complexType struct {
	base     *typeDef
	abstract bool
	content  contentKind
	simple   *simpleType // for contentSimple
	particle *particle   // before the automaton is built
	model    *model      // for contentElements and contentMixed
	attrs    map[qname]*attrUse
	required []*attrUse // attrs with use="required", in declaration order
	defaults []*attrUse // attrs with a default or fixed value
	anyAttr  *wildcard
	final    derivation // how other types may not derive from it
}

// elemDecl is an element declaration, global or local.
type elemDecl struct {
	name     qname
	typ      *typeDef
	nillable bool
	abstract bool
	fixed    *string
	def      *string
}

// attrDecl is an attribute declaration.
type attrDecl struct {
	name  qname
	typ   *simpleType
	fixed *string
	def   *string
}

// attrUse is an attribute declaration as used by a complex type.
type attrUse struct {
	decl       *attrDecl
	required   bool
	prohibited bool
	fixed      *string
	def        *string
}

// process is a wildcard's processContents.
type process uint8

const (
	processStrict process = iota
	processLax
	processSkip
)

// wildcard is an any or anyAttribute namespace constraint.
type wildcard struct {
	anyNS   bool
	not     []string // ##other: neither the target namespace nor absent
	allowed map[string]bool
	process process
}

// allows reports whether namespace ns satisfies the constraint.
func (w *wildcard) allows(ns string) bool {
	if w.anyNS {
		return true
	}
	if w.not != nil {
		for _, n := range w.not {
			if n == ns {
				return false
			}
		}
		return true
	}
	return w.allowed[ns]
}

// particleKind tells particles apart.
type particleKind uint8

const (
	pElement particleKind = iota
	pWildcard
	pSequence
	pChoice
	pAll
)

// particle is a term with occurrence bounds; max < 0 means unbounded.
type particle struct {
	kind     particleKind
	min, max int
	elem     *elemDecl
	wc       *wildcard
	children []*particle
}
