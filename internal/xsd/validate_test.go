package xsd

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

// typesSchema declares one element per type under test, in no namespace.
const typesSchema = `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
<xs:simpleType name="guid"><xs:restriction base="xs:string">
  <xs:pattern value="\{[a-fA-F0-9]{8}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{12}\}"/></xs:restriction></xs:simpleType>
<xs:simpleType name="egn"><xs:restriction base="xs:string"><xs:pattern value="\d{10}"/></xs:restriction></xs:simpleType>
<xs:simpleType name="color"><xs:restriction base="xs:token"><xs:enumeration value="red"/><xs:enumeration value="green"/></xs:restriction></xs:simpleType>
<xs:simpleType name="code"><xs:restriction base="xs:string"><xs:length value="3"/></xs:restriction></xs:simpleType>
<xs:simpleType name="short"><xs:restriction base="xs:string"><xs:minLength value="2"/><xs:maxLength value="4"/></xs:restriction></xs:simpleType>
<xs:simpleType name="pct"><xs:restriction base="xs:decimal"><xs:minInclusive value="0"/><xs:maxExclusive value="100"/>
  <xs:totalDigits value="4"/><xs:fractionDigits value="2"/></xs:restriction></xs:simpleType>
<xs:simpleType name="vowelless"><xs:restriction base="xs:string"><xs:pattern value="[a-z-[aeiou]]+"/></xs:restriction></xs:simpleType>
<xs:simpleType name="cyr"><xs:restriction base="xs:string"><xs:pattern value="\p{IsCyrillic}+"/></xs:restriction></xs:simpleType>
<xs:simpleType name="name"><xs:restriction base="xs:string"><xs:pattern value="\i\c*"/></xs:restriction></xs:simpleType>
<xs:simpleType name="ints"><xs:list itemType="xs:int"/></xs:simpleType>
<xs:simpleType name="intOrAuto"><xs:union memberTypes="xs:int"><xs:simpleType><xs:restriction base="xs:string"><xs:enumeration value="auto"/></xs:restriction></xs:simpleType></xs:union></xs:simpleType>
<xs:simpleType name="after2000"><xs:restriction base="xs:date"><xs:minInclusive value="2000-01-01"/></xs:restriction></xs:simpleType>
<xs:element name="v"><xs:complexType><xs:choice>
  <xs:element name="guid" type="guid"/><xs:element name="egn" type="egn"/><xs:element name="color" type="color"/>
  <xs:element name="code" type="code"/><xs:element name="short" type="short"/><xs:element name="pct" type="pct"/>
  <xs:element name="vowelless" type="vowelless"/><xs:element name="cyr" type="cyr"/><xs:element name="name" type="name"/>
  <xs:element name="ints" type="ints"/><xs:element name="intOrAuto" type="intOrAuto"/><xs:element name="after2000" type="after2000"/>
  <xs:element name="string" type="xs:string"/><xs:element name="token" type="xs:token"/><xs:element name="boolean" type="xs:boolean"/>
  <xs:element name="decimal" type="xs:decimal"/><xs:element name="integer" type="xs:integer"/><xs:element name="int" type="xs:int"/>
  <xs:element name="long" type="xs:long"/><xs:element name="short16" type="xs:short"/><xs:element name="byte" type="xs:byte"/>
  <xs:element name="nonNegativeInteger" type="xs:nonNegativeInteger"/><xs:element name="positiveInteger" type="xs:positiveInteger"/>
  <xs:element name="unsignedByte" type="xs:unsignedByte"/><xs:element name="float" type="xs:float"/><xs:element name="double" type="xs:double"/>
  <xs:element name="date" type="xs:date"/><xs:element name="time" type="xs:time"/><xs:element name="dateTime" type="xs:dateTime"/>
  <xs:element name="duration" type="xs:duration"/><xs:element name="gYear" type="xs:gYear"/><xs:element name="gYearMonth" type="xs:gYearMonth"/>
  <xs:element name="base64Binary" type="xs:base64Binary"/><xs:element name="hexBinary" type="xs:hexBinary"/><xs:element name="anyURI" type="xs:anyURI"/>
  <xs:element name="QName" type="xs:QName"/><xs:element name="language" type="xs:language"/><xs:element name="NMTOKEN" type="xs:NMTOKEN"/>
  <xs:element name="Name" type="xs:Name"/><xs:element name="NCName" type="xs:NCName"/>
</xs:choice></xs:complexType></xs:element>
</xs:schema>`

func compileString(t testing.TB, files map[string]string, entry string) *Schema {
	t.Helper()
	fsys := fstest.MapFS{}
	for n, s := range files {
		fsys[n] = &fstest.MapFile{Data: []byte(s)}
	}
	cat := NewCatalog(fsys)
	if err := cat.Scan("."); err != nil {
		t.Fatal(err)
	}
	s, err := Compile(cat, entry)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// problems validates doc and returns its problems (nil when valid).
func problems(t *testing.T, s *Schema, doc string) []Problem {
	t.Helper()
	err := s.Validate(strings.NewReader(doc))
	if err == nil {
		return nil
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("not a ValidationError: %v", err)
	}
	return ve.Problems
}

func TestSimpleTypes(t *testing.T) {
	s := compileString(t, map[string]string{"t.xsd": typesSchema}, "t.xsd")
	cases := []struct {
		elem, value string
		rule, msg   string // rule "" = valid
	}{
		{"guid", "{f3da1c2e-19b4-4dab-bb60-4a926d8f6d58}", "", ""},
		{"guid", "abc", "pattern", `/v/guid: value "abc" does not match pattern \{[a-fA-F0-9]{8}-`},
		{"egn", "7501020018", "", ""},
		{"egn", "75010200181", "pattern", `value "75010200181" does not match pattern \d{10}`},
		{"egn", "７５０１０２００１８", "", ""}, // \d is any Unicode digit in XSD
		{"color", "  red ", "", ""},
		{"color", "blue", "enumeration", `value "blue" is not one of the allowed values "red", "green"`},
		{"code", "abc", "", ""},
		{"code", "abcd", "length", `value "abcd" has length 4, must be 3`},
		{"code", "абв", "", ""},
		{"short", "a", "minLength", `less than minLength 2`},
		{"short", "abcde", "maxLength", `more than maxLength 4`},
		{"pct", "99.99", "", ""},
		{"pct", "-1", "minInclusive", `value "-1" is less than 0`},
		{"pct", "100", "maxExclusive", `value "100" is not less than 100`},
		{"pct", "1.234", "fractionDigits", `has 3 fraction digits`},
		{"pct", "12.5x", "type", `value "12.5x" is not a valid decimal`},
		{"vowelless", "bcd", "", ""},
		{"vowelless", "bad", "pattern", "does not match"},
		{"cyr", "Иван", "", ""},
		{"cyr", "Ivan", "pattern", ""},
		{"name", "_a.b-c", "", ""},
		{"name", "1abc", "pattern", ""},
		{"ints", " 1 2  3 ", "", ""},
		{"ints", "1 x", "type", `list item value "x" is not a valid int`},
		{"intOrAuto", "auto", "", ""},
		{"intOrAuto", "12", "", ""},
		{"intOrAuto", "manual", "type", "is not valid for any member type"},
		{"after2000", "2021-08-19", "", ""},
		{"after2000", "1999-12-31", "minInclusive", "less than 2000-01-01"},
		{"string", " any\ttext ", "", ""},
		{"boolean", "1", "", ""},
		{"boolean", "yes", "type", `value "yes" is not a valid boolean`},
		{"decimal", "+.5", "", ""},
		{"decimal", "1e3", "type", ""},
		{"integer", "-0012", "", ""},
		{"integer", "1.0", "type", ""},
		{"int", "2147483648", "type", "is out of the range of int"},
		{"long", "-9223372036854775808", "", ""},
		{"short16", "32768", "type", "out of the range of short"},
		{"byte", "-129", "type", ""},
		{"nonNegativeInteger", "-1", "type", ""},
		{"positiveInteger", "0", "type", ""},
		{"unsignedByte", "255", "", ""},
		{"float", "-INF", "", ""},
		{"double", "1.5E-10", "", ""},
		{"double", "1,5", "type", ""},
		{"date", "2021-02-29", "type", "is not a valid date"},
		{"date", "2020-02-29+02:00", "", ""},
		{"time", "24:00:00", "", ""},
		{"time", "12:60:00", "type", ""},
		{"dateTime", "2021-08-24T01:02:54.2432872+03:00", "", ""},
		{"dateTime", "2021-08-24 01:02:54", "type", ""},
		{"duration", "P1Y2MT3H", "", ""},
		{"duration", "PT", "type", ""},
		{"gYear", "2021", "", ""},
		{"gYearMonth", "2021-13", "type", ""},
		{"base64Binary", "SGVs\n bG8=", "", ""},
		{"base64Binary", "SGVsbG8=SGVs", "type", "data after padding"},
		{"base64Binary", "SGVsbG8", "type", "length not a multiple of 4"},
		{"hexBinary", "0aFF", "", ""},
		{"hexBinary", "0aF", "type", "odd number"},
		{"anyURI", "http://example.org/a b", "", ""},
		{"QName", "xs:string", "", ""},
		{"QName", "nope:string", "type", `undeclared prefix "nope"`},
		{"language", "bg-BG", "", ""},
		{"language", "bulgarian1", "type", ""},
		{"NMTOKEN", "-12", "", ""},
		{"Name", "a:b", "", ""},
		{"NCName", "a:b", "type", ""},
	}
	for _, c := range cases {
		t.Run(c.elem+"="+c.value, func(t *testing.T) {
			doc := fmt.Sprintf(`<v xmlns:xs="http://www.w3.org/2001/XMLSchema"><%s>%s</%s></v>`, c.elem, c.value, c.elem)
			ps := problems(t, s, doc)
			if c.rule == "" {
				if ps != nil {
					t.Fatalf("want valid, got %v", ps)
				}
				return
			}
			if len(ps) != 1 || ps[0].Rule != c.rule || !strings.Contains(ps[0].String(), c.msg) {
				t.Fatalf("want one %q problem containing %q, got %v", c.rule, c.msg, ps)
			}
		})
	}
}

const structSchema = `<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns="urn:t" targetNamespace="urn:t" elementFormDefault="qualified">
<xs:attributeGroup name="common"><xs:attribute name="lang" type="xs:language" default="bg"/></xs:attributeGroup>
<xs:group name="names"><xs:sequence><xs:element name="First" type="xs:string"/><xs:element name="Last" type="xs:string" minOccurs="0"/></xs:sequence></xs:group>
<xs:complexType name="Base"><xs:sequence><xs:element name="Id" type="xs:ID"/></xs:sequence></xs:complexType>
<xs:complexType name="Person"><xs:complexContent><xs:extension base="Base">
  <xs:sequence><xs:group ref="names"/><xs:element name="Ref" type="xs:IDREF" minOccurs="0"/></xs:sequence>
  <xs:attribute name="kind" use="required"><xs:simpleType><xs:restriction base="xs:string"><xs:enumeration value="a"/><xs:enumeration value="b"/></xs:restriction></xs:simpleType></xs:attribute>
  <xs:attributeGroup ref="common"/>
</xs:extension></xs:complexContent></xs:complexType>
<xs:complexType name="Amount"><xs:simpleContent><xs:extension base="xs:decimal"><xs:attribute name="cur" type="xs:string"/></xs:extension></xs:simpleContent></xs:complexType>
<xs:element name="Root"><xs:complexType><xs:sequence>
  <xs:element name="Person" type="Person" maxOccurs="3"/>
  <xs:element name="Amount" type="Amount" nillable="true" minOccurs="0"/>
  <xs:element name="Opts" minOccurs="0"><xs:complexType><xs:all><xs:element name="X" type="xs:int"/><xs:element name="Y" type="xs:int" minOccurs="0"/></xs:all></xs:complexType></xs:element>
  <xs:any namespace="##other" processContents="lax" minOccurs="0" maxOccurs="unbounded"/>
</xs:sequence></xs:complexType></xs:element>
</xs:schema>`

func TestStructure(t *testing.T) {
	s := compileString(t, map[string]string{"s.xsd": structSchema}, "s.xsd")
	const person = `<Person kind="a"><Id>p1</Id><First>Иван</First></Person>`
	wrap := func(inner string) string {
		return `<Root xmlns="urn:t" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` + inner + `</Root>`
	}
	cases := []struct {
		name, doc string
		want      []string // "rule|path|message part"
	}{
		{"valid", wrap(person + `<Person kind="b"><Id>p2</Id><First>A</First><Last>B</Last><Ref>p1</Ref></Person><Amount cur="BGN">1.50</Amount><Opts><Y>1</Y><X>2</X></Opts><o:x xmlns:o="urn:o"><o:y/></o:x>`), nil},
		{"nil", wrap(person + `<Amount xsi:nil="true"/>`), nil},
		{"nil with content", wrap(person + `<Amount xsi:nil="true">1</Amount>`), []string{"nillable|/Root/Amount|has xsi:nil but has content"}},
		{"missing required", wrap(`<Person kind="a"><Id>p1</Id></Person>`), []string{"minOccurs|/Root/Person|missing child element First"}},
		{"too many", wrap(person + strings.ReplaceAll(person, "p1", "p2") + strings.ReplaceAll(person, "p1", "p3") + strings.ReplaceAll(person, "p1", "p4")), []string{"maxOccurs|/Root/Person[4]|more times than allowed"}},
		{"wrong order", wrap(`<Person kind="a"><Id>p1</Id><Last>x</Last><First>y</First></Person>`), []string{"unexpected element|/Root/Person/Last|expected First"}},
		{"unknown element", wrap(person + `<Bogus/>`), []string{"unexpected element|/Root/Bogus|element Bogus is not allowed here"}},
		{"required attribute", wrap(`<Person><Id>p1</Id><First>A</First></Person>`), []string{"required attribute|/Root/Person|required attribute kind is missing"}},
		{"bad attribute", wrap(`<Person kind="c" lang="x_y"><Id>p1</Id><First>A</First></Person>`), []string{"enumeration|/Root/Person|attribute kind: value \"c\"", "type|/Root/Person|attribute lang"}},
		{"unexpected attribute", wrap(`<Person kind="a" extra="1"><Id>p1</Id><First>A</First></Person>`), []string{"unexpected attribute|/Root/Person|attribute extra is not allowed"}},
		{"duplicate ID", wrap(person + person), []string{"ID|/Root/Person[2]/Id|ID \"p1\" is not unique"}},
		{"dangling IDREF", wrap(`<Person kind="a"><Id>p1</Id><First>A</First><Ref>p9</Ref></Person>`), []string{"IDREF|/Root/Person/Ref|IDREF \"p9\""}},
		{"all twice", wrap(person + `<Opts><X>1</X><X>2</X></Opts>`), []string{"maxOccurs|/Root/Opts/X[2]|occurs more than once"}},
		{"all missing", wrap(person + `<Opts><Y>1</Y></Opts>`), []string{"minOccurs|/Root/Opts|required child element X is missing"}},
		{"text in element content", wrap(person + `oops`), []string{"unexpected text|/Root|character data is not allowed"}},
		{"wrong namespace root", `<Root xmlns="urn:x"/>`, []string{"unexpected element|/Root|no global declaration for root element {urn:x}Root"}},
		{"not well-formed", wrap(person + `<Amount>`), []string{"syntax||not well-formed"}},
		{"doctype", `<!DOCTYPE Root [<!ENTITY x SYSTEM "file:///etc/passwd">]>` + wrap(person), []string{"doctype||DOCTYPE is not allowed"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ps := problems(t, s, c.doc)
			if len(ps) != len(c.want) {
				t.Fatalf("want %d problems, got %v", len(c.want), ps)
			}
			for i, w := range c.want {
				parts := strings.SplitN(w, "|", 3)
				if ps[i].Rule != parts[0] || !strings.HasPrefix(ps[i].Path, parts[1]) || !strings.Contains(ps[i].Message, parts[2]) || ps[i].Line < 1 {
					t.Errorf("problem %d: want %q, got %+v", i, w, ps[i])
				}
			}
		})
	}
}

func TestLimits(t *testing.T) {
	s := compileString(t, map[string]string{"s.xsd": structSchema}, "s.xsd")
	t.Run("depth", func(t *testing.T) {
		doc := `<Root xmlns="urn:t"><Person kind="a"><Id>p1</Id><First>A</First></Person>` + strings.Repeat("<o:x xmlns:o='urn:o'>", 300)
		ps := problems(t, s, doc)
		if len(ps) != 1 || ps[0].Rule != "depth" {
			t.Fatalf("got %v", ps)
		}
	})
	t.Run("problem limit", func(t *testing.T) {
		s2 := *s
		s2.MaxProblems = 5
		doc := `<Root xmlns="urn:t"><Person kind="a"><Id>p1</Id><First>A</First></Person>` + strings.Repeat(`<Person kind="z"><Id>p1</Id><First>A</First></Person>`, 20) + `</Root>`
		err := s2.Validate(strings.NewReader(doc))
		var ve *ValidationError
		if !errors.As(err, &ve) || len(ve.Problems) != 5 || !ve.Truncated {
			t.Fatalf("got %v", err)
		}
	})
}

// TestESOEDMessages checks the ЕСОЕД samples and the path, line and rule
// of a broken GUID.
func TestESOEDMessages(t *testing.T) {
	s := esoedSchema(t)
	data := esoedSample(t)
	if err := s.Validate(bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	bad := bytes.Replace(data, []byte("<MessageGUID>{"), []byte("<MessageGUID>x{"), 1)
	err := s.Validate(bytes.NewReader(bad))
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 {
		t.Fatalf("got %v", err)
	}
	p := ve.Problems[0]
	if p.Path != "/Message/Header/MessageGUID" || p.Rule != "pattern" || p.Line < 2 ||
		!strings.HasPrefix(p.String(), `/Message/Header/MessageGUID: value "x{`) {
		t.Fatalf("got %+v", p)
	}
}

// esoedSample is the ЕСОЕД sample message, a registration request.
func esoedSample(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/esoed/registration-request.xml")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func esoedSchema(t testing.TB) *Schema {
	cat, err := DirCatalog("testdata/esoed")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Compile(cat, "EGovMessaging.xsd")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestLargeAttachmentStreams validates a message with a 32 MiB attachment
// and checks that the validator holds no copy of it.
func TestLargeAttachmentStreams(t *testing.T) {
	s := esoedSchema(t)
	data := esoedSample(t)
	i := bytes.Index(data, []byte("<AttBody>"))
	j := bytes.Index(data, []byte("</AttBody>"))
	if i < 0 || j < 0 {
		t.Skip("sample has no AttBody")
	}
	const size = 32 << 20
	r := io.MultiReader(bytes.NewReader(data[:i+len("<AttBody>")]), &repeatReader{pat: []byte("QUJD"), n: size}, bytes.NewReader(data[j:]))
	if err := s.Validate(r); err != nil {
		t.Fatal(err)
	}
	f := &frame{mode: textBase64}
	f.b64.writeBytes(bytes.Repeat([]byte("QUJD"), 1024))
	if f.text != nil || f.b64.octets() != 3072 {
		t.Fatalf("base64 frame kept text or miscounted: %d", f.b64.octets())
	}
}

type repeatReader struct {
	pat []byte
	n   int
	off int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	k := 0
	for k < len(p) && r.n > 0 {
		p[k] = r.pat[r.off%len(r.pat)]
		r.off++
		r.n--
		k++
	}
	return k, nil
}

func TestTranslateRegex(t *testing.T) {
	cases := []struct {
		xsd, in string
		match   bool
	}{
		{`\d{3}`, "123", true},
		{`\d{3}`, "1234", false},
		{`^\d{2}$`, "12", false},
		{`^\d{2}$`, "^12$", true},
		{`[a-z-[aeiou]]+`, "xyz", true},
		{`[a-z-[aeiou]]+`, "xaz", false},
		{`[\w\-!#$%&'*+/=?^{|}~."]+@([\w]+[.-]?)+[\w]\.[\w]+`, "a.b@mail.example.bg", true},
		{`.`, "\n", false},
		{`\s`, "\f", false},
		{`[^\d]`, "a", true},
		{`\P{Lu}`, "A", false},
		{`\c+`, "a-b.c", true},
	}
	for _, c := range cases {
		re, err := translateRegex(c.xsd)
		if err != nil {
			t.Fatalf("%s: %v", c.xsd, err)
		}
		got := mustCompile(t, re).MatchString(c.in)
		if got != c.match {
			t.Errorf("%s on %q: got %v", c.xsd, c.in, got)
		}
	}
	if _, err := translateRegex(`\p{IsKlingon}`); err == nil {
		t.Error("unknown block accepted")
	}
}

// FuzzValidate feeds arbitrary documents to the ЕСОЕД schema: no panics.
func FuzzValidate(f *testing.F) {
	files, _ := filepath.Glob("testdata/esoed/*.xml")
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`<Message xmlns="http://schemas.egov.bg/messaging/v1"><Header/></Message>`))
	s := esoedSchema(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		err := s.Validate(bytes.NewReader(data))
		var ve *ValidationError
		if err != nil && !errors.As(err, &ve) {
			t.Fatalf("unexpected error type: %v", err)
		}
	})
}

func BenchmarkValidateESOED(b *testing.B) {
	s := esoedSchema(b)
	data := esoedSample(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Validate(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

func mustCompile(t *testing.T, re string) interface{ MatchString(string) bool } {
	t.Helper()
	r, err := regexpCompile(re)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var regexpCompile = regexp.Compile
