package xsd

import (
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

const xsHead = `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">` + "\n"

// compileFiles compiles entry from schema files held in memory.
func compileFiles(files map[string]string, entry string) (*Schema, error) {
	fsys := fstest.MapFS{}
	for name, text := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(text)}
	}
	return Compile(NewCatalog(fsys), entry)
}

// Each feature the compiler does not implement is refused, named, at its file and line, instead of
// being compiled into a validator that checks less than the schema says. Before, every one of
// these schemas compiled, and the instance beside it — invalid by the schema — was valid.
func TestCompileRefusesUnimplemented(t *testing.T) {
	cases := []struct {
		name     string
		files    map[string]string // the entry is bad.xsd
		instance string            // invalid by the schema; "" when none is needed to make the point
		want     string
	}{
		{"redefine read as include", map[string]string{
			"base.xsd": xsHead + `<xs:simpleType name="Code"><xs:restriction base="xs:string"><xs:maxLength value="10"/></xs:restriction></xs:simpleType>
<xs:element name="code" type="Code"/></xs:schema>`,
			"bad.xsd": xsHead + `<xs:redefine schemaLocation="base.xsd">
<xs:simpleType name="Code"><xs:restriction base="Code"><xs:maxLength value="3"/></xs:restriction></xs:simpleType>
</xs:redefine></xs:schema>`},
			`<code>ABCDEFG</code>`, "bad.xsd:2: xs:redefine in xs:schema is refused: redefine is not implemented"},
		{"unique", map[string]string{"bad.xsd": xsHead + `<xs:element name="list"><xs:complexType><xs:sequence>
<xs:element name="item" type="xs:string" maxOccurs="unbounded"/></xs:sequence></xs:complexType>
<xs:unique name="one"><xs:selector xpath="item"/><xs:field xpath="."/></xs:unique>
</xs:element></xs:schema>`}, `<list><item>a</item><item>a</item></list>`,
			"bad.xsd:4: xs:unique in xs:element is refused: identity constraints (key, unique, keyref) are not implemented"},
		{"key", map[string]string{"bad.xsd": xsHead + `<xs:element name="list"><xs:complexType><xs:sequence>
<xs:element name="item" maxOccurs="unbounded"><xs:complexType><xs:attribute name="id" type="xs:string"/></xs:complexType></xs:element>
</xs:sequence></xs:complexType>
<xs:key name="k"><xs:selector xpath="item"/><xs:field xpath="@id"/></xs:key>
</xs:element></xs:schema>`}, `<list><item/><item id="a"/></list>`,
			"bad.xsd:5: xs:key in xs:element is refused: identity constraints"},
		{"keyref", map[string]string{"bad.xsd": xsHead + `<xs:element name="list"><xs:complexType><xs:sequence>
<xs:element name="ref" type="xs:string" maxOccurs="unbounded"/></xs:sequence></xs:complexType>
<xs:keyref name="r" refer="k"><xs:selector xpath="ref"/><xs:field xpath="."/></xs:keyref>
</xs:element></xs:schema>`}, "", "bad.xsd:4: xs:keyref in xs:element is refused: identity constraints"},
		{"block on a type", map[string]string{"bad.xsd": `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<xs:complexType name="Base" block="extension"><xs:sequence><xs:element name="a" type="xs:string"/></xs:sequence></xs:complexType>
<xs:complexType name="More"><xs:complexContent><xs:extension base="Base"><xs:sequence><xs:element name="b" type="xs:string"/></xs:sequence></xs:extension></xs:complexContent></xs:complexType>
<xs:element name="doc" type="Base"/></xs:schema>`},
			`<doc xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="More"><a/><b/></doc>`,
			"bad.xsd:2: attribute block on xs:complexType is refused: block is not implemented"},
		{"final on a simple type", map[string]string{"bad.xsd": xsHead + `<xs:simpleType name="T" final="restriction"><xs:restriction base="xs:string"/></xs:simpleType>
<xs:simpleType name="U"><xs:restriction base="T"><xs:maxLength value="2"/></xs:restriction></xs:simpleType></xs:schema>`}, "",
			"bad.xsd:3: type T is final for restriction"},
		{"final on a list item", map[string]string{"bad.xsd": xsHead + `<xs:simpleType name="T" final="list union"><xs:restriction base="xs:string"/></xs:simpleType>
<xs:simpleType name="U"><xs:list itemType="T"/></xs:simpleType></xs:schema>`}, "", "bad.xsd:3: type T is final for list"},
		{"final on a union member", map[string]string{"bad.xsd": xsHead + `<xs:simpleType name="T" final="#all"><xs:restriction base="xs:string"/></xs:simpleType>
<xs:simpleType name="U"><xs:union memberTypes="xs:int T"/></xs:simpleType></xs:schema>`}, "", "bad.xsd:3: type T is final for union"},
		{"final on a complex type", map[string]string{"bad.xsd": xsHead + `<xs:complexType name="B" final="extension"><xs:sequence><xs:element name="a"/></xs:sequence></xs:complexType>
<xs:complexType name="D"><xs:complexContent><xs:extension base="B"><xs:sequence><xs:element name="b"/></xs:sequence></xs:extension></xs:complexContent></xs:complexType></xs:schema>`}, "",
			"bad.xsd:3: type B is final for extension"},
		{"final on simple content", map[string]string{"bad.xsd": xsHead + `<xs:simpleType name="S" final="#all"><xs:restriction base="xs:string"/></xs:simpleType>
<xs:complexType name="D"><xs:simpleContent><xs:extension base="S"><xs:attribute name="x"/></xs:extension></xs:simpleContent></xs:complexType></xs:schema>`}, "",
			"bad.xsd:3: type S is final for extension"},
		{"final misspelt", map[string]string{"bad.xsd": xsHead + `<xs:simpleType name="S" final="restrict"><xs:restriction base="xs:string"/></xs:simpleType></xs:schema>`}, "",
			`bad.xsd:2: final "restrict": "restrict" is not #all, extension, restriction, list or union`},
		{"block on an element", map[string]string{"bad.xsd": xsHead + `<xs:element name="doc" type="xs:anyType" block="#all"/></xs:schema>`}, "",
			"bad.xsd:2: attribute block on xs:element is refused"},
		{"blockDefault", map[string]string{"bad.xsd": `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" blockDefault="#all">
<xs:element name="doc" type="xs:string"/></xs:schema>`}, "", "bad.xsd:1: attribute blockDefault on xs:schema is refused"},
		{"finalDefault", map[string]string{"bad.xsd": `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" finalDefault="restriction">
<xs:simpleType name="T"><xs:restriction base="xs:string"/></xs:simpleType>
<xs:simpleType name="U"><xs:restriction base="T"/></xs:simpleType></xs:schema>`}, "", "bad.xsd:3: type T is final for restriction"},
		{"substitution group", map[string]string{"bad.xsd": xsHead + `<xs:element name="head" type="xs:string"/>
<xs:element name="member" substitutionGroup="head"/></xs:schema>`}, "",
			"bad.xsd:3: attribute substitutionGroup on xs:element is refused: substitution groups are not implemented"},
		{"notation", map[string]string{"bad.xsd": xsHead + `<xs:notation name="png" public="image/png"/></xs:schema>`}, "",
			"bad.xsd:2: xs:notation in xs:schema is refused"},
		{"NOTATION type", map[string]string{"bad.xsd": xsHead + `<xs:simpleType name="N"><xs:restriction base="xs:NOTATION"><xs:enumeration value="png"/></xs:restriction></xs:simpleType></xs:schema>`}, "",
			"bad.xsd:2: type xs:NOTATION is refused"},
		{"ENTITY type", map[string]string{"bad.xsd": xsHead + `<xs:element name="e" type="xs:ENTITY"/></xs:schema>`}, `<e>anything</e>`,
			"bad.xsd:2: type xs:ENTITY is refused"},
		{"override (1.1)", map[string]string{"base.xsd": xsHead + `</xs:schema>`,
			"bad.xsd": xsHead + `<xs:override schemaLocation="base.xsd"/></xs:schema>`}, "", "bad.xsd:2: xs:override in xs:schema is refused"},
		{"assert (1.1)", map[string]string{"bad.xsd": xsHead + `<xs:element name="r"><xs:complexType>
<xs:attribute name="min" type="xs:int"/><xs:attribute name="max" type="xs:int"/>
<xs:assert test="@min le @max"/></xs:complexType></xs:element></xs:schema>`}, `<r min="2" max="1"/>`, "bad.xsd:4: xs:assert in xs:complexType is refused"},
		{"assertion facet (1.1)", map[string]string{"bad.xsd": xsHead + `<xs:simpleType name="T"><xs:restriction base="xs:int">
<xs:assertion test="$value mod 2 = 0"/></xs:restriction></xs:simpleType></xs:schema>`}, "", "bad.xsd:3: xs:assertion in xs:restriction is refused"},
		{"openContent (1.1)", map[string]string{"bad.xsd": xsHead + `<xs:complexType name="T"><xs:openContent><xs:any/></xs:openContent><xs:sequence/></xs:complexType></xs:schema>`}, "",
			"bad.xsd:2: xs:openContent in xs:complexType is refused"},
		{"alternative (1.1)", map[string]string{"bad.xsd": xsHead + `<xs:element name="e"><xs:alternative type="xs:int"/></xs:element></xs:schema>`}, "",
			"bad.xsd:2: xs:alternative in xs:element is refused"},
		{"misspelt element", map[string]string{"bad.xsd": xsHead + `<xs:element name="r"><xs:complexType><xs:sequence>
<xs:elment name="must" type="xs:string"/></xs:sequence></xs:complexType></xs:element></xs:schema>`}, `<r/>`, "bad.xsd:3: xs:elment is not allowed in xs:sequence"},
		{"attribute in a sequence", map[string]string{"bad.xsd": xsHead + `<xs:element name="r"><xs:complexType><xs:sequence>
<xs:attribute name="id" use="required"/></xs:sequence></xs:complexType></xs:element></xs:schema>`}, `<r/>`, "bad.xsd:3: xs:attribute is not allowed in xs:sequence"},
		{"misspelt use", map[string]string{"bad.xsd": xsHead + `<xs:element name="r"><xs:complexType>
<xs:attribute name="id" use="requried"/></xs:complexType></xs:element></xs:schema>`}, `<r/>`, `bad.xsd:3: attribute use on xs:attribute is "requried"; it must be one of optional, required, prohibited`},
		{"abstract not a boolean", map[string]string{"bad.xsd": xsHead + `<xs:element name="r" abstract="yes"/></xs:schema>`}, `<r/>`,
			`bad.xsd:2: attribute abstract on xs:element is "yes"`},
		{"processContents misspelt", map[string]string{"bad.xsd": xsHead + `<xs:element name="r"><xs:complexType><xs:sequence>
<xs:any processContents="strikt"/></xs:sequence></xs:complexType></xs:element></xs:schema>`}, "", `bad.xsd:3: attribute processContents on xs:any is "strikt"`},
		{"form misspelt", map[string]string{"bad.xsd": `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" elementFormDefault="qualifed"/>`}, "",
			`bad.xsd:1: attribute elementFormDefault on xs:schema is "qualifed"`},
		{"foreign element", map[string]string{"bad.xsd": `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:x="urn:x">
<xs:element name="r"><xs:complexType><xs:sequence><x:rule/></xs:sequence></xs:complexType></xs:element></xs:schema>`}, "",
			"bad.xsd:2: element x:rule is not in the XML Schema namespace"},
		{"1.1 attribute on any", map[string]string{"bad.xsd": xsHead + `<xs:element name="r"><xs:complexType><xs:sequence>
<xs:any notNamespace="urn:secret"/></xs:sequence></xs:complexType></xs:element></xs:schema>`}, "",
			"bad.xsd:3: attribute notNamespace is not allowed on xs:any"},
		{"fixed on mixed content", map[string]string{"bad.xsd": xsHead + `<xs:element name="r" fixed="exact"><xs:complexType mixed="true"><xs:sequence/></xs:complexType></xs:element></xs:schema>`},
			`<r>other</r>`, "bad.xsd:2: fixed value on element r, whose type (anonymous) has no simple content, is refused"},
		{"fixed on anyType", map[string]string{"bad.xsd": xsHead + `<xs:element name="r"><xs:complexType><xs:sequence>
<xs:element name="x" fixed="exact"/></xs:sequence></xs:complexType></xs:element></xs:schema>`},
			`<r><x>other</x></r>`, "bad.xsd:3: fixed value on element x, whose type {http://www.w3.org/2001/XMLSchema}anyType has no simple content"},
		{"occurrences inside a group definition", map[string]string{"bad.xsd": xsHead + `<xs:group name="g"><xs:sequence minOccurs="2"><xs:element name="a"/></xs:sequence></xs:group>
<xs:element name="r"><xs:complexType><xs:group ref="g"/></xs:complexType></xs:element></xs:schema>`},
			`<r><a/></r>`, "bad.xsd:2: attribute minOccurs is not allowed on xs:sequence"},
		{"element with a type and an anonymous type", map[string]string{"bad.xsd": xsHead + `<xs:element name="r" type="xs:anyType">
<xs:complexType><xs:sequence><xs:element name="must"/></xs:sequence></xs:complexType></xs:element></xs:schema>`},
			`<r/>`, "bad.xsd:2: xs:element may not have both type and xs:complexType"},
		{"element reference with a fixed value", map[string]string{"bad.xsd": xsHead + `<xs:element name="v" type="xs:string"/>
<xs:element name="r"><xs:complexType><xs:sequence><xs:element ref="v" fixed="only"/></xs:sequence></xs:complexType></xs:element></xs:schema>`},
			`<r><v>other</v></r>`, "bad.xsd:3: xs:element may not have both ref and fixed"},
		{"restriction with a base and an anonymous base", map[string]string{"bad.xsd": xsHead + `<xs:simpleType name="T"><xs:restriction base="xs:string">
<xs:simpleType><xs:restriction base="xs:string"><xs:maxLength value="1"/></xs:restriction></xs:simpleType></xs:restriction></xs:simpleType>
<xs:element name="e" type="T"/></xs:schema>`},
			`<e>long</e>`, "bad.xsd:2: xs:restriction may not have both base and xs:simpleType"},
		{"attribute with default and fixed", map[string]string{"bad.xsd": xsHead + `<xs:attribute name="a" default="x" fixed="y"/></xs:schema>`}, "",
			"bad.xsd:2: xs:attribute may not have both default and fixed"},
		{"enumeration of QNames", map[string]string{"bad.xsd": `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:s="urn:safe">
<xs:element name="code"><xs:simpleType><xs:restriction base="xs:QName"><xs:enumeration value="s:ok"/></xs:restriction></xs:simpleType></xs:element></xs:schema>`},
			`<code xmlns:s="urn:evil">s:ok</code>`, "bad.xsd:2: an enumeration of QNames is refused"},
		{"global declaration without a name", map[string]string{"bad.xsd": xsHead + `<xs:complexType><xs:sequence/></xs:complexType></xs:schema>`}, "",
			"bad.xsd:2: xs:complexType without name"},
		{"facet without a value", map[string]string{"bad.xsd": xsHead + `<xs:simpleType name="T"><xs:restriction base="xs:string"><xs:pattern/></xs:restriction></xs:simpleType></xs:schema>`}, "",
			"bad.xsd:2: xs:pattern without value"},
		{"two content models", map[string]string{"bad.xsd": xsHead + `<xs:element name="r"><xs:complexType>
<xs:sequence><xs:element name="must"/></xs:sequence>
<xs:choice minOccurs="0"><xs:element name="may"/></xs:choice></xs:complexType></xs:element></xs:schema>`},
			`<r/>`, "bad.xsd:4: xs:complexType may hold only one of simpleContent complexContent group all choice sequence: xs:choice follows xs:sequence of line 3"},
		{"simple content and a sequence", map[string]string{"bad.xsd": xsHead + `<xs:element name="r"><xs:complexType>
<xs:simpleContent><xs:extension base="xs:string"/></xs:simpleContent>
<xs:sequence><xs:element name="must"/></xs:sequence></xs:complexType></xs:element></xs:schema>`},
			`<r>text</r>`, "bad.xsd:4: xs:complexType may hold only one of"},
		{"two restrictions in a simple type", map[string]string{"bad.xsd": xsHead + `<xs:simpleType name="T">
<xs:restriction base="xs:string"/><xs:restriction base="xs:int"/></xs:simpleType>
<xs:element name="e" type="T"/></xs:schema>`}, `<e>x</e>`, "bad.xsd:3: xs:simpleType may hold only one of restriction list union"},
		{"two anonymous types", map[string]string{"bad.xsd": xsHead + `<xs:element name="e"><xs:simpleType><xs:restriction base="xs:string"/></xs:simpleType>
<xs:simpleType><xs:restriction base="xs:int"/></xs:simpleType></xs:element></xs:schema>`}, `<e>x</e>`, "bad.xsd:3: xs:element may hold only one of simpleType complexType"},
		{"empty simple type", map[string]string{"bad.xsd": xsHead + `<xs:simpleType name="T"/></xs:schema>`}, "", "bad.xsd:2: xs:simpleType needs one of restriction list union"},
		{"a facet given twice", map[string]string{"bad.xsd": xsHead + `<xs:simpleType name="T"><xs:restriction base="xs:string">
<xs:maxLength value="2"/><xs:maxLength value="20"/></xs:restriction></xs:simpleType>
<xs:element name="e" type="T"/></xs:schema>`}, `<e>too long</e>`, "bad.xsd:3: xs:restriction may hold only one of maxLength: xs:maxLength follows xs:maxLength of line 3"},
		{"refused in an included file", map[string]string{
			"part.xsd": xsHead + `<xs:element name="r" block="#all"/></xs:schema>`,
			"bad.xsd":  xsHead + `<xs:include schemaLocation="part.xsd"/></xs:schema>`}, "", "part.xsd:2: attribute block on xs:element is refused"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := compileFiles(tc.files, "bad.xsd")
			if err == nil {
				verdict := "no instance tried"
				if tc.instance != "" {
					verdict = "the invalid instance " + tc.instance + " is "
					if verr := s.Validate(strings.NewReader(tc.instance)); verr == nil {
						verdict += "valid"
					} else {
						verdict += "invalid: " + verr.Error()
					}
				}
				t.Fatalf("compiled (%s); want an error containing %q", verdict, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

// What the compiler implements still compiles with every attribute XSD 1.0 gives it, and
// xs:boolean's other forms mean what they say: abstract="1" is abstract.
func TestCompileAcceptsImplemented(t *testing.T) {
	s, err := compileFiles(map[string]string{
		"part.xsd": xsHead + `<xs:attributeGroup name="common" id="g1"><xs:attribute name="lang" type="xs:language" form="unqualified"/><xs:anyAttribute namespace="##other" processContents="skip"/></xs:attributeGroup></xs:schema>`,
		"ok.xsd": `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" version="1" id="s" elementFormDefault=" unqualified " attributeFormDefault="unqualified">
<xs:annotation id="a"><xs:appinfo><anything xmlns="urn:x" at="all"/></xs:appinfo><xs:documentation xml:lang="bg">Описание</xs:documentation></xs:annotation>
<xs:include schemaLocation="part.xsd"/>
<xs:simpleType name="Code" id="t1"><xs:restriction base="xs:string"><xs:maxLength value="3" fixed="true"/><xs:whiteSpace value="collapse"/></xs:restriction></xs:simpleType>
<xs:simpleType name="Codes"><xs:list itemType="Code"/></xs:simpleType>
<xs:simpleType name="CodeOrInt"><xs:union memberTypes="Code xs:int"/></xs:simpleType>
<xs:element name="abstract" type="xs:string" abstract="1"/>
<xs:element name="doc">
  <xs:complexType mixed="0">
    <xs:sequence minOccurs="1" maxOccurs="1">
      <xs:element name="code" type="Code" nillable="1" form="unqualified"/>
      <xs:element name="codes" type="Codes" minOccurs="0" fixed="a b"/>
      <xs:choice minOccurs="0"><xs:element ref="abstract"/><xs:any namespace="##other" processContents="lax"/></xs:choice>
    </xs:sequence>
    <xs:attributeGroup ref="common"/>
    <xs:attribute name="n" type="CodeOrInt" use=" required " default="1"/>
  </xs:complexType>
</xs:element>
</xs:schema>`}, "ok.xsd")
	if err != nil {
		t.Fatal(err)
	}
	for doc, want := range map[string]string{
		`<doc n="7"><code>ab</code></doc>`:                 "",
		`<doc n="7"><code>abcd</code></doc>`:               "maxLength",
		`<doc n="7"><code>ab</code><abstract/></doc>`:      "abstract",
		`<doc><code>ab</code></doc>`:                       "n",
		`<doc n="7"><code>ab</code><codes>a</codes></doc>`: "fixed",
		`<doc n="7" lang="bg" xmlns:o="urn:o" o:x="1"><code xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="true"/></doc>`: "",
	} {
		err := s.Validate(strings.NewReader(doc))
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", doc, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: got %v, want an error about %s", doc, err, want)
		}
	}
}

// The schemas the product ships — ЕСОЕД and every RegiX register — use nothing refused.
func TestShippedSchemasCompile(t *testing.T) {
	esoed, err := DirCatalog(filepath.Join("..", "..", "esoed", "schemas"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Compile(esoed, "EGovMessaging.xsd"); err != nil {
		t.Errorf("esoed: %v", err)
	}
	registers, _ := filepath.Glob(filepath.Join("..", "..", "regix", "registers", "*"))
	n := 0
	for _, dir := range registers {
		files, _ := filepath.Glob(filepath.Join(dir, "*.xsd"))
		if len(files) == 0 {
			continue
		}
		cat, err := DirCatalog(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			n++
			if _, err := Compile(cat, filepath.Base(f)); err != nil {
				t.Errorf("%s: %v", f, err)
			}
		}
	}
	if n < 20 {
		t.Errorf("found %d register schemas; the folders have moved?", n)
	}
}

// A schema file that is not well-formed, or that would cost far more than any schema in use, is
// refused where it goes wrong; a stray end tag used to make the compiler panic.
func TestCompileMalformedSchemaFile(t *testing.T) {
	for doc, want := range map[string]string{
		`</A>`: "bad.xsd:1: end tag </A> without a start tag",
		xsHead + `<xs:element name="a"></xs:elemen></xs:schema>`:                        "bad.xsd:2: end tag </xs:elemen> does not match <xs:element> of line 2",
		xsHead + `<xs:element name="a">`:                                                "bad.xsd:2: <xs:element> is not closed",
		xsHead + `</xs:schema><xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"/>`: "bad.xsd:2: a second root element after xs:schema",
		xsHead + strings.Repeat(`<xs:annotation>`, 300):                                 "bad.xsd:2: elements nested deeper than 256",
		`<!DOCTYPE s [<!ENTITY big "` + strings.Repeat("x", 4096) + `">]>` + "\n" + xsHead +
			`<xs:annotation><xs:documentation>` + strings.Repeat("&big;", 300) + `</xs:documentation></xs:annotation></xs:schema>`: "bad.xsd:1: entity references would add more than 1024 KB of text",
	} {
		_, err := compileFiles(map[string]string{"bad.xsd": doc}, "bad.xsd")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an error containing %q", doc, err, want)
		}
	}
}

// A type's attribute wildcard allows only what all of its wildcards allow — its own and its
// attribute groups'. Before, the last one read replaced the others.
func TestAttributeWildcardsIntersect(t *testing.T) {
	s, err := compileFiles(map[string]string{"w.xsd": `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:t" xmlns:t="urn:t">
<xs:attributeGroup name="ab"><xs:anyAttribute namespace="urn:a urn:b" processContents="skip"/></xs:attributeGroup>
<xs:attributeGroup name="bc"><xs:anyAttribute namespace="urn:b urn:c" processContents="skip"/></xs:attributeGroup>
<xs:attributeGroup name="notB"><xs:anyAttribute namespace="##other" processContents="skip"/></xs:attributeGroup>
<xs:element name="two"><xs:complexType><xs:attributeGroup ref="t:ab"/><xs:attributeGroup ref="t:bc"/></xs:complexType></xs:element>
<xs:element name="own"><xs:complexType><xs:attributeGroup ref="t:ab"/><xs:anyAttribute namespace="##any" processContents="skip"/></xs:complexType></xs:element>
<xs:element name="negated"><xs:complexType><xs:attributeGroup ref="t:notB"/><xs:anyAttribute namespace="urn:t urn:b" processContents="skip"/></xs:complexType></xs:element>
</xs:schema>`}, "w.xsd")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		elem, ns string
		valid    bool
	}{
		{"two", "urn:b", true}, {"two", "urn:a", false}, {"two", "urn:c", false},
		{"own", "urn:a", true}, {"own", "urn:c", false},
		{"negated", "urn:b", true}, {"negated", "urn:t", false}, {"negated", "urn:c", false},
	} {
		doc := `<t:` + tc.elem + ` xmlns:t="urn:t" xmlns:x="` + tc.ns + `" x:at="1"/>`
		if err := s.Validate(strings.NewReader(doc)); (err == nil) != tc.valid {
			t.Errorf("%s: got %v, want valid=%v", doc, err, tc.valid)
		}
	}
}

// final forbids only the derivations it names: the others, and a final type used as it is, compile.
func TestFinalAllowsOtherDerivations(t *testing.T) {
	s, err := compileFiles(map[string]string{"ok.xsd": `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" finalDefault="list">
<xs:simpleType name="T" final="extension union"><xs:restriction base="xs:string"><xs:maxLength value="3"/></xs:restriction></xs:simpleType>
<xs:simpleType name="U"><xs:restriction base="T"><xs:minLength value="2"/></xs:restriction></xs:simpleType>
<xs:complexType name="B" final="restriction"><xs:sequence><xs:element name="a" type="U"/></xs:sequence></xs:complexType>
<xs:complexType name="D"><xs:complexContent><xs:extension base="B"><xs:sequence><xs:element name="b" type="T"/></xs:sequence></xs:extension></xs:complexContent></xs:complexType>
<xs:element name="d" type="D" final="#all"/>
</xs:schema>`}, "ok.xsd")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(strings.NewReader(`<d><a>ab</a><b>c</b></d>`)); err != nil {
		t.Error(err)
	}
	if err := s.Validate(strings.NewReader(`<d><a>a</a><b>c</b></d>`)); err == nil {
		t.Error("a value too short for U is valid")
	}
}
