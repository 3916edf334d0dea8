package regix

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/aiskao/aiskao/internal/xsd"
	"github.com/aiskao/aiskao/regix/regixtest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestCatalogGolden: the catalogue lists, per register, the operations with their request and
// response roots and parameters, as testdata/catalog.golden says (go test -update rewrites it).
func TestCatalogGolden(t *testing.T) {
	var b strings.Builder
	reg := ""
	for _, op := range catalogue(t).All() {
		if op.Register != reg {
			reg = op.Register
			fmt.Fprintf(&b, "%s\n", reg)
		}
		fmt.Fprintf(&b, "  %s\n    request  {%s}%s\n    response {%s}%s\n", op.Code, op.RequestNamespace, op.RequestElement, op.ResponseNamespace, op.ResponseElement)
		for _, p := range op.Params {
			req := "optional"
			if p.Required {
				req = "required"
			}
			fmt.Fprintf(&b, "    param %s (%s) %s %s\n", p.Name, p.Label, p.Type, req)
		}
	}
	const golden = "testdata/catalog.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("catalogue differs from %s (go test -update rewrites it):\n%s", golden, b.String())
	}
}

// TestEveryOperationHasValidSamples: every operation has a sample request and a sample
// response among its register's files; every sample request validates against its request
// schema, every sample response against its response schema unless it is one of
// regixtest.PublishedInvalid (TestPublishedInvalidSamples).
func TestEveryOperationHasValidSamples(t *testing.T) {
	ops := catalogue(t)
	seen := map[string]int{}
	for _, kind := range []string{"Request", "Response"} {
		for name, doc := range samples(t, kind) {
			op, resp, err := ops.Identify(doc)
			if err != nil || resp != (kind == "Response") {
				t.Errorf("%s: Identify: %v, response %v", name, err, resp)
				continue
			}
			if want := path.Base(path.Dir(name)); op.Register != want {
				t.Errorf("%s: operation %s of register %s", name, op.Code, op.Register)
			}
			seen[op.Code+" "+kind]++
			validate := op.ValidateRequest
			if resp {
				validate = op.ValidateResponse
			}
			err = validate(bytes.NewReader(doc))
			if invalid := regixtest.IsPublishedInvalid(name); (err != nil) != invalid {
				t.Errorf("%s: %v (listed as breaking its schema: %v)", name, err, invalid)
			}
		}
	}
	for _, op := range ops.All() {
		for _, kind := range []string{"Request", "Response"} {
			if n := seen[op.Code+" "+kind]; n != 1 {
				t.Errorf("%s: %d sample %ss, want 1", op.Code, n, strings.ToLower(kind))
			}
		}
	}
}

// TestPublishedInvalidSamples: a published sample that breaks its own schema is refused by the
// client, and the error names the element and line at fault, whether the document is parsed
// alone or comes inside a RegiX answer. GetMotorVehicleRegistrationInfoV2's sample is valid:
// its 29-digit xs:nonNegativeInteger values are allowed by the schema (the type has no upper
// bound), although libxml2 (xmllint) refuses integers of more than 24 digits.
func TestPublishedInvalidSamples(t *testing.T) {
	ops := catalogue(t)
	tests := regixtest.PublishedInvalid()
	tests = append(tests, regixtest.InvalidSample{File: "mvr-mps/GetMotorVehicleRegistrationInfoV2Response.xml"})
	if len(tests) != 4 {
		t.Fatalf("%d samples, want the 4 xmllint refuses", len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.File, func(t *testing.T) {
			doc, err := fs.ReadFile(registersFS, "registers/"+tt.File)
			if err != nil {
				t.Fatal(err)
			}
			op, _, err := ops.Identify(doc)
			if err != nil {
				t.Fatal(err)
			}
			_, err = op.ParseResponse(bytes.NewReader(doc))
			if tt.Path == "" {
				if err != nil {
					t.Fatalf("ParseResponse: %v, want the sample valid", err)
				}
				return
			}
			checkProblem(t, err, tt)

			// The same document inside a RegiX answer, through the client.
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				WriteResult(w, "ExecuteSynchronous", nil, doc, "")
			}))
			defer srv.Close()
			c := &Client{Endpoint: srv.URL, HTTP: srv.Client(), Timeout: 5 * time.Second}
			req, err := fs.ReadFile(registersFS, "registers/"+strings.Replace(tt.File, "Response", "Request", 1))
			if err != nil {
				t.Fatal(err)
			}
			fields, err := Leaves(req, 0)
			if err != nil {
				t.Fatal(err)
			}
			params := map[string]string{}
			for _, f := range fields {
				params[f.Path] = f.Value
			}
			_, err = c.ExecuteSynchronous(context.Background(), op, params, testCall)
			if err == nil {
				t.Fatal("the client accepted the answer")
			}
			// Inside the answer the element's path and line are the envelope's: the document is
			// on the envelope's second line, after the XML declaration.
			at := fmt.Sprintf("line %d: /Envelope/Body/ExecuteSynchronousResponse/ExecuteSynchronousResult/Data/Response%s: ", tt.Line+1, tt.Path)
			if !strings.Contains(err.Error(), at) {
				t.Errorf("client error %q does not contain %q", err, at)
			}
			if !IsPermanent(err) {
				t.Errorf("client error %v is not permanent", err)
			}
		})
	}
}

// checkProblem asserts err is a validation error whose first problem is the sample's.
func checkProblem(t *testing.T, err error, want regixtest.InvalidSample) {
	t.Helper()
	var ve *xsd.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) == 0 {
		t.Fatalf("err = %v, want a validation error", err)
	}
	p := ve.Problems[0]
	if p.Path != want.Path || p.Line != want.Line || p.Rule != want.Rule {
		t.Errorf("problem %s line %d [%s], want %s line %d [%s]", p.Path, p.Line, p.Rule, want.Path, want.Line, want.Rule)
	}
	if !strings.Contains(err.Error(), want.Path) {
		t.Errorf("error %q does not name %s", err, want.Path)
	}
}

// TestComplexParameters: parameters inside complex ones are named by their element path and
// built nested, in the namespace the metadata gives; the .NET serializer's XSpecified flags
// are no parameters.
func TestComplexParameters(t *testing.T) {
	ops := catalogue(t)
	tests := []struct {
		code   string
		params map[string]string
		want   string // the document's body after the root's start tag
	}{
		{"GetStateOfPlayRequest", map[string]string{"Case/Court/Code": "C1", "Case/Year": "2020", "Case/Number": "7"},
			`<Case><Court><Code xmlns="http://www.bulstat.bg/NomenclatureEntry">C1</Code></Court><Year>2020</Year><Number>7</Number></Case></GetStateOfPlayRequest>`},
		{"GetStateOfPlayRequest", map[string]string{"UIC": "121212"}, `<UIC>121212</UIC></GetStateOfPlayRequest>`},
		{"GetObligatedPersons", map[string]string{"Identity/ID": "123456", "Identity/TYPE": "EGN", "Threshold": "5"},
			`<Identity><ID>123456</ID><TYPE>EGN</TYPE></Identity><Threshold>5</Threshold></ObligationRequest>`},
		{"GetEntityInfoV2", map[string]string{"EIK": "1", "DateFrom": "2001-12-17T09:30:47Z", "DateTo": "2001-12-17T09:30:47Z", "SiteID": "045"},
			`<EIK>1</EIK><DateFrom>2001-12-17T09:30:47Z</DateFrom><DateTo>2001-12-17T09:30:47Z</DateTo><SiteID>045</SiteID></EntityInfoV2Request>`},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			op, _ := ops.Lookup(tt.code)
			doc, err := op.BuildRequest(tt.params)
			if err != nil {
				t.Fatal(err)
			}
			if _, body, _ := strings.Cut(string(doc), `">`); strings.TrimSpace(body) != tt.want {
				t.Errorf("built\n%s\nwant body\n%s", doc, tt.want)
			}
		})
	}
	op, _ := ops.Lookup("GetStateOfPlayRequest")
	_, err := op.BuildRequest(map[string]string{"Case/Court/Code": "C1", "Case/Number": "7"})
	checkProblem(t, err, regixtest.InvalidSample{Path: "/GetStateOfPlayRequest/Case/Number", Line: 2, Rule: "unexpected element"})
	op, _ = ops.Lookup("GetObligatedPersons")
	if _, err := op.BuildRequest(map[string]string{"Identity/ID": "123456"}); err == nil || !strings.Contains(err.Error(), "Identity/TYPE") {
		t.Errorf("without the required Identity/TYPE: %v", err)
	}
	if _, err := op.BuildRequest(map[string]string{"Identity/TYPE": "EGN", "ThresholdSpecified": "true"}); err == nil || !strings.Contains(err.Error(), "unknown parameter ThresholdSpecified") {
		t.Errorf("ThresholdSpecified: %v, want an unknown parameter", err)
	}
}

// TestResponseRootFromSample: where a register's response namespace does not follow from the
// request's, the register's own sample response names the root.
func TestResponseRootFromSample(t *testing.T) {
	ops := catalogue(t)
	tests := []struct{ code, ns, el string }{
		{"FetchNomenclatures", "http://www.bulstat.bg/Nomenclatures", "Nomenclatures"},
		{"GetStateOfPlayRequest", "http://www.bulstat.bg/StateOfPlay", "StateOfPlay"},
		{"GetSocialSecurityDataFromDeclarations", "", "GetSocialSecurityDataFromDeclarationsResponse"},
	}
	for _, tt := range tests {
		op, _ := ops.Lookup(tt.code)
		if op.ResponseNamespace != tt.ns || op.ResponseElement != tt.el {
			t.Errorf("%s: response {%s}%s, want {%s}%s", tt.code, op.ResponseNamespace, op.ResponseElement, tt.ns, tt.el)
		}
	}
}
