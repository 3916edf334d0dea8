package xsd

import (
	"maps"
	"slices"
	"strings"
)

// The compiler implements part of XML Schema 1.0. A schema using anything else must not be
// compiled into a validator that quietly checks less than the schema says, so every schema
// document is first held against an allow-list: for each kind of schema element the compiler
// handles, the attributes it reads and the children it builds. Anything else — a feature it does
// not implement, an XSD 1.1 addition, a misspelt name, an element in the wrong place — is refused
// with its file and line.

// shape is what one kind of schema element may carry: its attributes, and its children with the
// kind each becomes there.
type shape struct {
	attrs    map[string]bool
	children map[string]string
	opaque   bool // its content is not schema (appinfo, documentation)
}

// sh builds a shape from space-separated attribute names and children written "name" (the child
// is of the kind of that name) or "name=kind".
func sh(attrs string, children ...string) shape {
	s := shape{attrs: map[string]bool{}, children: map[string]string{}}
	for _, a := range strings.Fields(attrs) {
		s.attrs[a] = true
	}
	for _, list := range children {
		for _, c := range strings.Fields(list) {
			name, kind, ok := strings.Cut(c, "=")
			if !ok {
				kind = name
			}
			s.children[name] = kind
		}
	}
	return s
}

const (
	facetNames   = "minExclusive=facet minInclusive=facet maxExclusive=facet maxInclusive=facet totalDigits=facet fractionDigits=facet length=facet minLength=facet maxLength=facet enumeration=facet whiteSpace=facet pattern=facet"
	attrChildren = "attribute=localAttribute attributeGroup=attributeGroupRef anyAttribute"
	particles    = "group=groupRef all choice sequence"
	typeChildren = "annotation simpleContent complexContent " + particles + " " + attrChildren
)

// shapes are the schema elements the compiler implements, by kind. The root is "schema".
var shapes = map[string]shape{
	"schema": sh("targetNamespace elementFormDefault attributeFormDefault finalDefault version id",
		"annotation include import element=topElement attribute=topAttribute complexType=topComplexType",
		"simpleType=topSimpleType group=topGroup attributeGroup=topAttributeGroup"),
	"annotation":    sh("id", "appinfo documentation"),
	"appinfo":       {opaque: true},
	"documentation": {opaque: true},
	"include":       sh("schemaLocation id", "annotation"),
	"import":        sh("namespace schemaLocation id", "annotation"),

	// An element's final limits only substitution groups, which are refused: it changes nothing.
	"topElement":   sh("name type default fixed nillable abstract final id", "annotation simpleType=localSimpleType complexType=localComplexType"),
	"localElement": sh("name ref type minOccurs maxOccurs default fixed nillable form id", "annotation simpleType=localSimpleType complexType=localComplexType"),

	"topAttribute":   sh("name type default fixed id", "annotation simpleType=localSimpleType"),
	"localAttribute": sh("name ref type use default fixed form id", "annotation simpleType=localSimpleType"),

	"topComplexType":           sh("name mixed abstract final id", typeChildren),
	"localComplexType":         sh("mixed id", typeChildren),
	"simpleContent":            sh("id", "annotation restriction=simpleContentRestriction extension=simpleExtension"),
	"simpleContentRestriction": sh("base id", "annotation simpleType=localSimpleType", facetNames, attrChildren),
	"simpleExtension":          sh("base id", "annotation", attrChildren),
	"complexContent":           sh("mixed id", "annotation restriction=complexDerivation extension=complexDerivation"),
	"complexDerivation":        sh("base id", "annotation", particles, attrChildren),

	"topSimpleType":     sh("name final id", "annotation restriction=simpleRestriction list union"),
	"localSimpleType":   sh("id", "annotation restriction=simpleRestriction list union"),
	"simpleRestriction": sh("base id", "annotation simpleType=localSimpleType", facetNames),
	"facet":             sh("value fixed id", "annotation"),
	"list":              sh("itemType id", "annotation simpleType=localSimpleType"),
	"union":             sh("memberTypes id", "annotation simpleType=localSimpleType"),

	"topGroup": sh("name id", "annotation all=groupAll choice=groupChoice sequence=groupSequence"),
	// A group definition's compositor takes its occurrences from each reference to the group.
	"groupAll":          sh("id", "annotation element=localElement"),
	"groupChoice":       sh("id", "annotation element=localElement group=groupRef choice sequence any"),
	"groupSequence":     sh("id", "annotation element=localElement group=groupRef choice sequence any"),
	"groupRef":          sh("ref minOccurs maxOccurs id", "annotation"),
	"all":               sh("minOccurs maxOccurs id", "annotation element=localElement"),
	"choice":            sh("minOccurs maxOccurs id", "annotation element=localElement group=groupRef choice sequence any"),
	"sequence":          sh("minOccurs maxOccurs id", "annotation element=localElement group=groupRef choice sequence any"),
	"any":               sh("namespace processContents minOccurs maxOccurs id", "annotation"),
	"anyAttribute":      sh("namespace processContents id", "annotation"),
	"topAttributeGroup": sh("name id", "annotation", attrChildren),
	"attributeGroupRef": sh("ref id", "annotation"),
}

// unimplemented says why a schema feature the compiler knows of is refused.
var unimplemented = map[string]string{
	"redefine":           "redefine is not implemented (its redefinitions would be lost)",
	"override":           "override (XSD 1.1) is not implemented",
	"key":                "identity constraints (key, unique, keyref) are not implemented",
	"unique":             "identity constraints (key, unique, keyref) are not implemented",
	"keyref":             "identity constraints (key, unique, keyref) are not implemented",
	"notation":           "notation declarations are not implemented",
	"assert":             "assertions (XSD 1.1) are not implemented",
	"assertion":          "assertions (XSD 1.1) are not implemented",
	"openContent":        "open content (XSD 1.1) is not implemented",
	"defaultOpenContent": "open content (XSD 1.1) is not implemented",
	"alternative":        "type alternatives (XSD 1.1) are not implemented",
	"explicitTimezone":   "the explicitTimezone facet (XSD 1.1) is not implemented",
	"block":              "block is not implemented (xsi:type would not be limited by it)",
	"blockDefault":       "block is not implemented (xsi:type would not be limited by it)",
	"substitutionGroup":  "substitution groups are not implemented",
}

// choices are the values attributes with a fixed set of meanings may take (whitespace collapsed).
var choices = map[string][]string{
	"use":                  {"optional", "required", "prohibited"},
	"form":                 {"qualified", "unqualified"},
	"elementFormDefault":   {"qualified", "unqualified"},
	"attributeFormDefault": {"qualified", "unqualified"},
	"processContents":      {"strict", "lax", "skip"},
	"mixed":                booleans,
	"abstract":             booleans,
	"nillable":             booleans,
}

// exclusive are the pairs one kind of element may not carry together, attributes by name and
// children as xs:name: the compiler reads one of each pair, so the other would be lost.
var exclusive = map[string][][2]string{
	"topElement": {{"type", "xs:simpleType"}, {"type", "xs:complexType"}, {"xs:simpleType", "xs:complexType"}, {"default", "fixed"}},
	"localElement": {{"ref", "name"}, {"ref", "type"}, {"ref", "form"}, {"ref", "nillable"}, {"ref", "default"},
		{"ref", "fixed"}, {"ref", "xs:simpleType"}, {"ref", "xs:complexType"},
		{"type", "xs:simpleType"}, {"type", "xs:complexType"}, {"xs:simpleType", "xs:complexType"}, {"default", "fixed"}},
	"topAttribute":      {{"type", "xs:simpleType"}, {"default", "fixed"}},
	"localAttribute":    {{"ref", "name"}, {"ref", "type"}, {"ref", "form"}, {"ref", "xs:simpleType"}, {"type", "xs:simpleType"}, {"default", "fixed"}},
	"simpleRestriction": {{"base", "xs:simpleType"}},
	"list":              {{"itemType", "xs:simpleType"}},
}

// single are the children of which a kind of element may hold at most one from each group: the
// compiler builds one, and another would be dropped.
var single = map[string][]string{
	"topElement":               {"simpleType complexType"},
	"localElement":             {"simpleType complexType"},
	"topAttribute":             {"simpleType"},
	"localAttribute":           {"simpleType"},
	"topComplexType":           {"simpleContent complexContent group all choice sequence", "anyAttribute"},
	"localComplexType":         {"simpleContent complexContent group all choice sequence", "anyAttribute"},
	"simpleContent":            {"restriction extension"},
	"complexContent":           {"restriction extension"},
	"simpleContentRestriction": append([]string{"simpleType", "anyAttribute"}, singleFacets...),
	"simpleExtension":          {"anyAttribute"},
	"complexDerivation":        {"group all choice sequence", "anyAttribute"},
	"topSimpleType":            {"restriction list union"},
	"localSimpleType":          {"restriction list union"},
	"simpleRestriction":        append([]string{"simpleType"}, singleFacets...),
	"list":                     {"simpleType"},
	"topGroup":                 {"all choice sequence"},
	"topAttributeGroup":        {"anyAttribute"},
}

// singleFacets are the facets a restriction gives once (pattern and enumeration may repeat): the
// compiler keeps the last, so a stricter first one would be lost.
var singleFacets = strings.Fields("length minLength maxLength totalDigits fractionDigits minInclusive maxInclusive minExclusive maxExclusive whiteSpace")

// needOne are the groups of children of which a kind of element must hold one.
var needOne = map[string]string{
	"simpleContent": "restriction extension", "complexContent": "restriction extension",
	"topSimpleType": "restriction list union", "localSimpleType": "restriction list union",
	"topGroup": "all choice sequence",
}

// required are the attributes a kind of element must carry; without them it would be skipped.
var required = map[string][]string{
	"topElement": {"name"}, "topAttribute": {"name"}, "topComplexType": {"name"}, "topSimpleType": {"name"},
	"topGroup": {"name"}, "topAttributeGroup": {"name"}, "groupRef": {"ref"}, "attributeGroupRef": {"ref"},
	"include": {"schemaLocation"}, "complexDerivation": {"base"}, "simpleExtension": {"base"},
	"simpleContentRestriction": {"base"}, "facet": {"value"},
}

// booleans are xs:boolean's lexical forms.
var booleans = []string{"true", "false", "1", "0"}

// checkSchemaDoc refuses a schema document that uses anything the compiler does not implement.
func checkSchemaDoc(doc *schemaDoc) error {
	return checkShape(doc.root, "schema")
}

func checkShape(n *node, kind string) error {
	s := shapes[kind]
	if s.opaque {
		return nil
	}
	for _, a := range slices.Sorted(maps.Keys(n.attrs)) { // the same first problem on every run
		if !s.attrs[a] {
			if why, ok := unimplemented[a]; ok {
				return n.errorf("attribute %s on xs:%s is refused: %s", a, n.name, why)
			}
			return n.errorf("attribute %s is not allowed on xs:%s", a, n.name)
		}
		want := choices[a]
		if a == "fixed" && kind == "facet" {
			want = booleans // on elements and attributes it is a value, on facets a boolean
		}
		if want != nil && !slices.Contains(want, strings.TrimSpace(n.attrs[a])) {
			return n.errorf("attribute %s on xs:%s is %q; it must be one of %s", a, n.name, n.attrs[a], strings.Join(want, ", "))
		}
	}
	for _, a := range required[kind] {
		if _, ok := n.attrs[a]; !ok {
			return n.errorf("xs:%s without %s", n.name, a)
		}
	}
	for _, group := range single[kind] {
		var first *node
		for _, ch := range n.children {
			if ch.name != "" && slices.Contains(strings.Fields(group), ch.name) {
				if first != nil {
					return ch.errorf("xs:%s may hold only one of %s: xs:%s follows xs:%s of line %d", n.name, group, ch.name, first.name, first.line)
				}
				first = ch
			}
		}
	}
	if group, ok := needOne[kind]; ok && !slices.ContainsFunc(n.children, func(ch *node) bool { return slices.Contains(strings.Fields(group), ch.name) }) {
		return n.errorf("xs:%s needs one of %s", n.name, group)
	}
	for _, pair := range exclusive[kind] {
		if has(n, pair[0]) && has(n, pair[1]) {
			return n.errorf("xs:%s may not have both %s and %s", n.name, pair[0], pair[1])
		}
	}
	for _, ch := range n.children {
		if ch.name == "" {
			return ch.errorf("element %s is not in the XML Schema namespace; only xs:appinfo and xs:documentation may hold such elements", ch.foreign)
		}
		next, ok := s.children[ch.name]
		if !ok {
			if why, known := unimplemented[ch.name]; known {
				return ch.errorf("xs:%s in xs:%s is refused: %s", ch.name, n.name, why)
			}
			return ch.errorf("xs:%s is not allowed in xs:%s", ch.name, n.name)
		}
		if err := checkShape(ch, next); err != nil {
			return err
		}
	}
	return nil
}

// has tells whether n carries the attribute name, or the child xs:name.
func has(n *node, name string) bool {
	if local, ok := strings.CutPrefix(name, "xs:"); ok {
		return child(n, local) != nil
	}
	_, ok := n.attrs[name]
	return ok
}
