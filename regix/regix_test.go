package regix

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/internal/xsd"
	"github.com/aiskao/aiskao/regix/regixtest"
)

func catalogue(t testing.TB) *Operations {
	t.Helper()
	ops, err := Catalog()
	if err != nil {
		t.Fatal(err)
	}
	return ops
}

func TestCatalog(t *testing.T) {
	ops := catalogue(t)
	tests := []struct {
		key              string
		code, register   string
		reqElem, reqNS   string
		respElem, respNS string
		params           string
	}{
		{"PersonDataSearch", "PersonDataSearch", "grao-nbd", "PersonDataRequest", "http://egov.bg/RegiX/GRAO/NBD/PersonDataRequest",
			"PersonDataResponse", "http://egov.bg/RegiX/GRAO/NBD/PersonDataResponse", "EGN:ЕГН:string:required"},
		{"TechnoLogica.RegiX.GraoNBDAdapter.APIService.INBDAPI.RelationsSearch", "RelationsSearch", "grao-nbd", "RelationsRequestType", "http://egov.bg/RegiX/GRAO/NBD/RelationsRequest",
			"RelationsResponse", "http://egov.bg/RegiX/GRAO/NBD/RelationsResponse", "EGN:ЕГН:string:required"},
		{"PermanentAddressSearch", "PermanentAddressSearch", "grao-pna", "PermanentAddressRequest", "http://egov.bg/RegiX/GRAO/PNA/PermanentAddressRequest",
			"PermanentAddressResponse", "http://egov.bg/RegiX/GRAO/PNA/PermanentAddressResponse", "EGN:ЕГН:string:required SearchDate:Дата:Date:required"},
		{"GetActualStateV3", "GetActualStateV3", "av-tr", "ActualStateRequestV3", "http://egov.bg/RegiX/AV/TR/ActualStateRequestV3",
			"ActualStateResponseV3", "http://egov.bg/RegiX/AV/TR/ActualStateResponseV3", `UIC:ЕИК:string:required FieldList:Списък с полета(с разделител "," напр: 001, 00020):string:optional`},
		{"GetPersonalIdentityV3", "GetPersonalIdentityV3", "mvr-bds", "PersonalIdentityInfoRequest", "http://egov.bg/RegiX/MVR/BDS/PersonalIdentityInfoRequest",
			"PersonalIdentityInfoResponse", "http://egov.bg/RegiX/MVR/BDS/PersonalIdentityInfoResponse", "IdentityDocumentNumber:Номер на документ за самоличност:string:required EGN:ЕГН:string:required"},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			op, ok := ops.Lookup(tt.key)
			if !ok {
				t.Fatalf("Lookup(%q): not found", tt.key)
			}
			got := []string{op.Code, op.Register, op.RequestElement, op.RequestNamespace, op.ResponseElement, op.ResponseNamespace, paramsString(op)}
			want := []string{tt.code, tt.register, tt.reqElem, tt.reqNS, tt.respElem, tt.respNS, tt.params}
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("field %d = %q, want %q", i, got[i], want[i])
				}
			}
			if !strings.HasPrefix(op.Name, "TechnoLogica.RegiX.") || !strings.HasSuffix(op.Name, "."+op.Code) {
				t.Errorf("Name = %q, want the full operation string ending in .%s", op.Name, op.Code)
			}
			if byName, _ := ops.Lookup(op.Name); byName != op {
				t.Errorf("Lookup(%q) does not return the same operation", op.Name)
			}
		})
	}
	if n := len(ops.All()); n != 30 {
		t.Errorf("%d operations, want 30 (the list per register: TestCatalogGolden)", n)
	}
	if _, ok := ops.Lookup("NoSuchOperation"); ok {
		t.Error("Lookup found an operation that does not exist")
	}
}

func paramsString(op *Operation) string {
	var parts []string
	for _, p := range op.Params {
		req := "optional"
		if p.Required {
			req = "required"
		}
		parts = append(parts, p.Name+":"+p.Label+":"+p.Type+":"+req)
	}
	return strings.Join(parts, " ")
}

// canonical renders a document as (namespace, local name, sorted attributes,
// trimmed text) lines, ignoring whitespace and namespace prefixes.
func canonical(t *testing.T, doc []byte) string {
	t.Helper()
	root, err := decodeTree(doc)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	var walk func(n *node, depth int)
	walk = func(n *node, depth int) {
		var attrs []string
		for _, a := range n.attrs {
			attrs = append(attrs, fmt.Sprintf("{%s}%s=%q", a.Name.Space, a.Name.Local, a.Value))
		}
		sort.Strings(attrs)
		fmt.Fprintf(&b, "%s{%s}%s %v %q\n", strings.Repeat(" ", depth), n.name.Space, n.name.Local, attrs, n.text)
		for _, c := range n.children {
			walk(c, depth+1)
		}
	}
	walk(root, 0)
	return b.String()
}

func TestBuildRequestMatchesSamples(t *testing.T) {
	ops := catalogue(t)
	reqs := samples(t, "Request")
	if len(reqs) != 30 {
		t.Fatalf("%d request samples, want 30", len(reqs))
	}
	for name, sample := range reqs {
		t.Run(name, func(t *testing.T) {
			op, resp, err := ops.Identify(sample)
			if err != nil || resp {
				t.Fatalf("Identify: op %v, response %v, err %v", op, resp, err)
			}
			fields, err := Leaves(sample, 0)
			if err != nil {
				t.Fatal(err)
			}
			params := map[string]string{}
			for _, f := range fields {
				params[f.Path] = f.Value
			}
			got, err := op.BuildRequest(params)
			if err != nil {
				t.Fatal(err)
			}
			if c, w := canonical(t, got), canonical(t, sample); c != w {
				t.Errorf("built request differs from the sample\ngot:\n%s\nwant:\n%s", c, w)
			}
		})
	}
}

func TestBuildRequestErrors(t *testing.T) {
	ops := catalogue(t)
	tests := []struct {
		code   string
		params map[string]string
		want   []string // substrings of the error
		rule   string   // rule of the validation problem, if any
	}{
		{"PersonDataSearch", map[string]string{"EGN": "85062584851"}, []string{"/PersonDataRequest/EGN"}, "pattern"},
		{"PermanentAddressSearch", map[string]string{"EGN": "8506258485", "SearchDate": "23.11.2015"}, []string{"/PermanentAddressRequest/SearchDate"}, "type"},
		{"PersonDataSearch", map[string]string{}, []string{"parameter EGN (ЕГН) is required"}, ""},
		{"PersonDataSearch", map[string]string{"EGN": "8506258485", "Egn": "1"}, []string{"unknown parameter Egn", "expected EGN"}, ""},
		{"GetActualStateV3", map[string]string{"FieldList": "001"}, []string{"parameter UIC (ЕИК) is required"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.code+"/"+strings.Join(tt.want, ","), func(t *testing.T) {
			op, _ := ops.Lookup(tt.code)
			_, err := op.BuildRequest(tt.params)
			if err == nil {
				t.Fatal("BuildRequest succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			var ve *xsd.ValidationError
			if tt.rule != "" {
				if !errors.As(err, &ve) {
					t.Fatalf("error %v is not a validation error", err)
				}
				if ve.Problems[0].Rule != tt.rule {
					t.Errorf("rule = %q, want %q (%v)", ve.Problems[0].Rule, tt.rule, err)
				}
			}
		})
	}
}

func TestBuildRequestEscapes(t *testing.T) {
	op, _ := catalogue(t).Lookup("GetActualStateV3")
	doc, err := op.BuildRequest(map[string]string{"UIC": `12<3>&"4`})
	if err != nil {
		t.Fatal(err)
	}
	fields, err := Leaves(doc, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(fields) != 1 || fields[0].Value != `12<3>&"4` {
		t.Errorf("fields = %v, want UIC with the value as given", fields)
	}
}

func TestParseResponseSamples(t *testing.T) {
	ops := catalogue(t)
	tests := map[string]struct {
		path []string
		want string
	}{
		"PersonDataSearch":       {[]string{"PersonNames", "FirstName"}, "Ивелина"},
		"RelationsSearch":        {[]string{"PersonRelations", "0", "FirstName"}, "Димитър"},
		"ValidPersonSearch":      {[]string{"DeathDate"}, "1972-01-05"},
		"PermanentAddressSearch": {[]string{"SettlementName"}, "София"},
		"TemporaryAddressSearch": {[]string{"Entrance"}, "Б"},
		"GetActualState":         {[]string{"Company"}, "ТехноЛогика"},
		"GetValidUICInfo":        {[]string{"LegalForm", "LegalFormAbbr"}, "ЕАД"},
		"GetActualStateV3":       {[]string{"Deed", "CompanyName"}, "ДСК ЛИЗИНГ АД"},
		"GetPersonalIdentityV3":  {[]string{"PersonNames", "Surname"}, "Surname1"},
	}
	resps := samples(t, "Response")
	seen := map[string]bool{}
	for name, sample := range resps {
		if regixtest.IsPublishedInvalid(name) {
			continue // TestPublishedInvalidSamples
		}
		op, resp, err := ops.Identify(sample)
		if err != nil || !resp {
			t.Fatalf("%s: Identify: op %v, response %v, err %v", name, op, resp, err)
		}
		seen[op.Code] = true
		m, err := op.ParseResponse(bytes.NewReader(sample))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		tt, ok := tests[op.Code]
		if !ok {
			continue
		}
		if v := field(m, tt.path...); v != tt.want {
			t.Errorf("%s: %v = %#v, want %q", op.Code, tt.path, v, tt.want)
		}
	}
	for code := range tests {
		if !seen[code] {
			t.Errorf("no response sample for %s", code)
		}
	}
}

func TestParseResponseErrors(t *testing.T) {
	op, _ := catalogue(t).Lookup("ValidPersonSearch")
	tests := []struct {
		name, doc, want string
	}{
		{"bad date", `<ValidPersonResponse xmlns="http://egov.bg/RegiX/GRAO/NBD/ValidPersonResponse"><BirthDate>03.03.1922</BirthDate></ValidPersonResponse>`, "/ValidPersonResponse/BirthDate"},
		{"other root", `<PersonDataResponse xmlns="http://egov.bg/RegiX/GRAO/NBD/PersonDataResponse"/>`, "PersonDataResponse"},
		{"not xml", `Service unavailable`, "ValidPersonSearch: response"},
		{"empty", ``, "ValidPersonSearch: response"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := op.ParseResponse(strings.NewReader(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one naming %q", err, tt.want)
			}
		})
	}
	m, err := op.ParseResponse(strings.NewReader(`<ValidPersonResponse xmlns="http://egov.bg/RegiX/GRAO/NBD/ValidPersonResponse"/>`))
	if err != nil || len(m) != 0 {
		t.Errorf("empty response: %v, %v; want no fields and no error", m, err)
	}
}

func TestIdentifyUnknown(t *testing.T) {
	ops := catalogue(t)
	for _, doc := range []string{`<a xmlns="urn:x"/>`, `<PersonDataRequest><EGN>1</EGN></PersonDataRequest>`, ``} {
		if _, _, err := ops.Identify([]byte(doc)); !errors.Is(err, ErrUnknownDocument) {
			t.Errorf("Identify(%q) = %v, want ErrUnknownDocument", doc, err)
		}
	}
}

func FuzzParseResponse(f *testing.F) {
	ops := catalogue(f)
	codes := map[string]uint8{}
	for i, op := range ops.All() {
		codes[op.Code] = uint8(i)
	}
	for _, sample := range samples(f, "Response") {
		op, _, err := ops.Identify(sample)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(codes[op.Code], sample)
	}
	f.Fuzz(func(t *testing.T, i uint8, doc []byte) {
		op := ops.All()[int(i)%len(ops.All())]
		m, err := op.ParseResponse(bytes.NewReader(doc))
		if err == nil && m == nil {
			t.Error("ParseResponse returned neither fields nor an error")
		}
		_, _, _ = ops.Identify(doc)
		_, _ = Leaves(doc, 5)
	})
}

// samples returns the bundled sample documents whose names contain kind.
func samples(t testing.TB, kind string) map[string][]byte {
	return regixtest.Samples(t, registersFS, kind)
}

func field(m map[string]any, path ...string) any { return regixtest.Field(m, path...) }
