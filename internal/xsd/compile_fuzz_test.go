package xsd

import (
	"os"
	"strings"
	"testing"
	"testing/fstest"
)

// FuzzCompile compiles arbitrary schema documents: the compiler must neither panic nor hang, and
// every refusal must name the file it is about.
func FuzzCompile(f *testing.F) {
	for _, name := range []string{"testdata/esoed/EGovRegistry.xsd", "testdata/regix/mvr-bds/PersonalIdentityInfoRequestV3.xsd", "testdata/esoed/0009-000001_DocumentURI.xsd"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	for _, s := range []string{
		xsHead + `<xs:element name="r"><xs:complexType><xs:sequence><xs:element name="a" type="xs:int" maxOccurs="unbounded"/><xs:any processContents="lax"/></xs:sequence><xs:attribute name="n" use="required"/></xs:complexType></xs:element></xs:schema>`,
		xsHead + `<xs:simpleType name="T"><xs:restriction base="xs:decimal"><xs:totalDigits value="5"/><xs:minInclusive value="-3.5"/></xs:restriction></xs:simpleType><xs:element name="e" type="T" fixed="1"/></xs:schema>`,
		xsHead + `<xs:complexType name="B"><xs:simpleContent><xs:extension base="xs:string"><xs:attribute name="x"/></xs:extension></xs:simpleContent></xs:complexType><xs:complexType name="D"><xs:simpleContent><xs:restriction base="B"><xs:maxLength value="2"/></xs:restriction></xs:simpleContent></xs:complexType></xs:schema>`,
		xsHead + `<xs:group name="g"><xs:choice><xs:element name="a"/><xs:group ref="g"/></xs:choice></xs:group></xs:schema>`,
		xsHead + `<xs:element name="r"><xs:unique name="u"><xs:selector xpath="a"/><xs:field xpath="."/></xs:unique></xs:element></xs:schema>`,
		xsHead + `<xs:include schemaLocation="f.xsd"/><xs:redefine schemaLocation="f.xsd"/></xs:schema>`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		s, err := Compile(NewCatalog(fstest.MapFS{"f.xsd": &fstest.MapFile{Data: []byte(doc)}}), "f.xsd")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "xsd: ") || !strings.Contains(err.Error(), "f.xsd") {
				t.Fatalf("a refusal that does not name the file: %v", err)
			}
			return
		}
		_ = s.Validate(strings.NewReader(`<r><a>1</a></r>`))
	})
}
