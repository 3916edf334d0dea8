package xsd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// TestCompileReferenceSchemas compiles every bundled reference schema,
// imports resolved through a catalogue of its folder.
func TestCompileReferenceSchemas(t *testing.T) {
	// This published schema refers to FoodItemPurpose through the prefix of
	// R-1045; xmllint rejects it as well.
	broken := map[string]string{
		"testdata/rio/R-1053_FoodGroupData.xsd": "R-1053_FoodGroupData.xsd:80: type {http://ereg.egov.bg/value/R-1045}FoodItemPurpose not found",
	}
	for _, dir := range []string{"testdata/esoed", "testdata/rio", "testdata/epayments", "testdata/regix/av-tr", "testdata/regix/grao-nbd", "testdata/regix/grao-pna", "testdata/regix/mvr-bds"} {
		cat, err := DirCatalog(dir)
		if err != nil {
			t.Fatal(err)
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*.xsd"))
		for _, f := range files {
			_, err := Compile(cat, filepath.Base(f))
			if want, ok := broken[f]; ok {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("%s: got %v, want an error containing %q", f, err, want)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: %v", f, err)
			}
		}
	}
}

func TestCompileErrorsNameFileAndLine(t *testing.T) {
	cases := []struct{ name, schema, want string }{
		{"unknown type", `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
<xs:element name="a" type="xs:nosuch"/></xs:schema>`, "bad.xsd:2: unknown built-in type xs:nosuch"},
		{"missing import", `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:o="urn:other">
<xs:import namespace="urn:other"/>
<xs:element name="a" type="o:T"/></xs:schema>`, `bad.xsd:3: type {urn:other}T not found: namespace "urn:other" is imported at bad.xsd:2 without a schemaLocation and is not in the catalogue`},
		{"bad pattern", `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
<xs:simpleType name="t"><xs:restriction base="xs:string">
<xs:pattern value="[a-"/></xs:restriction></xs:simpleType></xs:schema>`, "bad.xsd:3: pattern"},
		{"bad occurs", `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
<xs:element name="a"><xs:complexType><xs:sequence>
<xs:element name="b" minOccurs="2" maxOccurs="1"/></xs:sequence></xs:complexType></xs:element></xs:schema>`, "bad.xsd:3: minOccurs 2 is greater than maxOccurs 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "bad.xsd"), []byte(c.schema), 0o644)
			cat, _ := DirCatalog(dir)
			_, err := Compile(cat, "bad.xsd")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want it to contain %q", err, c.want)
			}
		})
	}
}

// TestNamesAreWhitespaceCollapsed: a name declared with a stray blank, as a register's schema
// does, is the name without it.
func TestNamesAreWhitespaceCollapsed(t *testing.T) {
	cat := NewCatalog(fstest.MapFS{"a.xsd": &fstest.MapFile{Data: []byte(`<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:element name="Root">
    <xs:complexType><xs:sequence><xs:element name="Item " type=" xs:string"/></xs:sequence></xs:complexType>
  </xs:element>
</xs:schema>`)}})
	s, err := Compile(cat, "a.xsd")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(strings.NewReader(`<Root><Item>x</Item></Root>`)); err != nil {
		t.Errorf("Validate: %v", err)
	}
}
