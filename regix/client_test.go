package regix

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

// testCall is a complete call context for tests.
var testCall = RequestData{
	CallContext: CallContext{
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
		fields, err := Leaves(doc, 0)
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

func TestClientTransportErrors(t *testing.T) {
	op, _ := catalogue(t).Lookup("PersonDataSearch")
	p := map[string]string{"EGN": "8506258485"}
	tests := []struct {
		name      string
		handler   http.HandlerFunc
		want      string
		permanent bool
	}{
		{"closed connection", func(w http.ResponseWriter, r *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			conn.Close()
		}, "closed the connection before answering", false},
		{"SOAP 1.1 client fault", func(w http.ResponseWriter, r *http.Request) {
			WriteFault(w, "s:Client", "Access denied for operation PersonDataSearch")
		}, "Access denied for operation PersonDataSearch", true},
		{"SOAP 1.2 fault", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><s:Fault><s:Code><s:Value>s:Receiver</s:Value></s:Code><s:Reason><s:Text xml:lang="bg">Вътрешна грешка</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>`)
		}, "Вътрешна грешка", false},
		{"HTTP 503", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
		}, "HTTP 503", false},
		{"HTTP 404", func(w http.ResponseWriter, r *http.Request) {
			http.NotFound(w, r)
		}, "HTTP 404", true},
		{"not SOAP", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `<html>maintenance</html>`)
		}, "not a SOAP envelope", true},
		{"no response document", func(w http.ResponseWriter, r *http.Request) {
			WriteResult(w, "ExecuteSynchronous", nil, nil, "")
		}, "Data/Response is empty", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			c := &Client{Endpoint: srv.URL, HTTP: srv.Client(), Timeout: 5 * time.Second}
			_, err := c.ExecuteSynchronous(context.Background(), op, p, testCall)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
			if IsPermanent(err) != tt.permanent {
				t.Errorf("permanent = %v, want %v (%v)", IsPermanent(err), tt.permanent, err)
			}
		})
	}
}

// skeleton renders the elements of a document as depth and qualified name,
// leaving out what lies inside Argument (the template's is empty).
func skeleton(t *testing.T, doc []byte) string {
	t.Helper()
	root, err := decodeTree(doc)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	var walk func(n *node, depth int)
	walk = func(n *node, depth int) {
		fmt.Fprintf(&b, "%s{%s}%s\n", strings.Repeat(" ", depth), n.name.Space, n.name.Local)
		if n.name.Local == "Argument" {
			return
		}
		for _, c := range n.children {
			walk(c, depth+1)
		}
	}
	walk(root, 0)
	return b.String()
}

func TestEnvelopeMatchesTemplate(t *testing.T) {
	tmpl, err := os.ReadFile("testdata/regixRequestTemplate.xml")
	if err != nil {
		t.Fatal(err)
	}
	op, _ := catalogue(t).Lookup("ValidPersonSearch")
	arg, err := op.BuildRequest(map[string]string{"EGN": "8506258485"})
	if err != nil {
		t.Fatal(err)
	}
	// The template fills every optional CallContext element and no EGN.
	rd := RequestData{
		CallContext: CallContext{
			ServiceURI: "132-11123-01.01.2016", ServiceType: "За проверовъчна дейност",
			EmployeeIdentifier: "e", EmployeeNames: "n", EmployeeAditionalIdentifier: "a", EmployeePosition: "p",
			AdministrationOId: "o", AdministrationName: "an", ResponsiblePersonIdentifier: "r", LawReason: "?", Remark: "x",
		},
		SignResult: true,
	}
	got, err := buildEnvelope("Execute", op.Name, arg, rd)
	if err != nil {
		t.Fatal(err)
	}
	if g, w := skeleton(t, got), skeleton(t, tmpl); g != w {
		t.Errorf("envelope differs from the template\ngot:\n%s\nwant:\n%s", g, w)
	}
	// Texts the template gives, and the embedded argument.
	root, _ := decodeTree(got)
	data := root.children[1].children[0].children[0].children[0]
	texts := map[string]string{}
	for _, c := range data.children {
		texts[c.name.Local] = c.text
		for _, cc := range c.children {
			texts[cc.name.Local] = cc.text
		}
	}
	for k, want := range map[string]string{"ServiceURI": "132-11123-01.01.2016", "ServiceType": "За проверовъчна дейност", "LawReason": "?", "SignResult": "true", "ReturnAccessMatrix": "false", "Operation": op.Name} {
		if texts[k] != want {
			t.Errorf("%s = %q, want %q", k, texts[k], want)
		}
	}
	if a := data.children[1]; len(a.children) != 1 || a.children[0].name != (xml.Name{Space: op.RequestNamespace, Local: op.RequestElement}) ||
		len(a.children[0].children) != 1 || a.children[0].children[0].text != "8506258485" {
		t.Errorf("Argument does not hold the request document")
	}

	// ExecuteSynchronous differs only in the method element.
	sync, err := BuildEnvelope(op.Name, arg, rd)
	if err != nil {
		t.Fatal(err)
	}
	if want := bytes.ReplaceAll(got, []byte("reg:Execute>"), []byte("reg:ExecuteSynchronous>")); !bytes.Equal(sync, want) {
		t.Errorf("ExecuteSynchronous envelope:\n%s\nwant:\n%s", sync, want)
	}
	// Empty optional elements are left out; required ones stay.
	min, err := BuildEnvelope(op.Name, arg, testCall)
	if err != nil {
		t.Fatal(err)
	}
	for _, absent := range []string{"EIDToken", "EmployeeEGN", "CitizenEGN", "Remark", "EmployeePosition"} {
		if bytes.Contains(min, []byte("<tem:"+absent)) {
			t.Errorf("empty %s is in the envelope", absent)
		}
	}
	rd.CallContext.LawReason = "  "
	if _, err := BuildEnvelope(op.Name, arg, rd); !errors.Is(err, ErrNoLawReason) || err.Error() != "regix: a legal basis (CallContext.LawReason) is required" {
		t.Errorf("blank LawReason: err = %v", err)
	}
}

func FuzzParseResultData(f *testing.F) {
	resp := samples(f, "Response")["registers/grao-nbd/ValidPersonSearchResponse.xml"]
	rec := httptest.NewRecorder()
	WriteResult(rec, "ExecuteSynchronous", []byte(`<ValidPersonRequest xmlns="http://egov.bg/RegiX/GRAO/NBD/ValidPersonRequest"><EGN>8506258485</EGN></ValidPersonRequest>`), DocumentBody(resp), "")
	f.Add(rec.Body.Bytes())
	rec = httptest.NewRecorder()
	WriteResult(rec, "ExecuteSynchronous", nil, nil, "Регистърът временно не е достъпен")
	f.Add(rec.Body.Bytes())
	rec = httptest.NewRecorder()
	WriteFault(rec, "s:Client", "x")
	f.Add(rec.Body.Bytes())
	f.Add([]byte(`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><R><X><IsReady>1</IsReady><HasError>maybe</HasError></X></R></s:Body></s:Envelope>`))
	rec = httptest.NewRecorder()
	WritePending(rec, "Execute", "42", "code-<&>")
	f.Add(rec.Body.Bytes())
	f.Add([]byte(`<s:Envelope xmlns:s="` + SOAPNS + `"><s:Body><CheckResultResponse><CheckResultResult><ServiceResultData><IsReady>true</IsReady><Data><Response><A/></Response></Data><ServiceResultData/></ServiceResultData></CheckResultResult></CheckResultResponse></s:Body></s:Envelope>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := ParseResultData(body)
		if (res == nil) == (err == nil) {
			t.Fatalf("ParseResultData returned result %v and error %v; want exactly one", res, err)
		}
	})
}
