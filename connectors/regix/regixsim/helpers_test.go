package regixsim

import (
	"testing"

	"github.com/aiskao/aiskao/regix"
	"github.com/aiskao/aiskao/regix/regixtest"
)

const v1Path = "/RegiX/RegiXEntryPoint.svc"

var testCall = regix.RequestData{
	CallContext: regix.CallContext{
		ServiceURI:         "123-12345-01.01.2026",
		ServiceType:        "За административна услуга",
		EmployeeIdentifier: "officer@example.bg",
		EmployeeNames:      "Иван Петров Иванов",
		AdministrationOId:  "2.16.100.1.1.1.1.1",
		AdministrationName: "Община Пример",
		LawReason:          "чл. 13, ал. 1 от Наредбата",
	},
	SignResult: true,
}

func catalogue(t testing.TB) *regix.Operations {
	t.Helper()
	ops, err := regix.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	return ops
}

// sampleParams returns, by operation code, the parameters of each bundled request sample.
func sampleParams(t *testing.T) map[string]map[string]string {
	t.Helper()
	ops := catalogue(t)
	out := map[string]map[string]string{}
	for name, doc := range samples(t, "Request") {
		op, _, err := ops.Identify(doc)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		fields, err := regix.Leaves(doc, 0)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		params := map[string]string{}
		for _, f := range fields {
			params[f.Path] = f.Value
		}
		out[op.Code] = params
	}
	return out
}

// wsdlServer is the V1 server of the public WSDL, whose checks judge the simulator's answers.
func wsdlServer(t *testing.T) *regixtest.V1Server {
	t.Helper()
	srv, err := regixtest.NewV1Server("../../../regix/testdata/wsdl.xml", func(operation string, _ []byte) ([]byte, string) {
		return nil, "not used"
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// samples returns the bundled sample documents whose names contain kind.
func samples(t testing.TB, kind string) map[string][]byte {
	return regixtest.Samples(t, regix.Registers(), kind)
}

func field(m map[string]any, path ...string) any { return regixtest.Field(m, path...) }
