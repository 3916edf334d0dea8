package regix

import (
	"bytes"
	"io/fs"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestParseAnswerAsWritten checks that the documents an answer carries come back byte for byte,
// whatever their namespaces, entities, comments and CDATA, and that Signature and Matrix are
// read where ServiceResultData has them and nowhere else.
func TestParseAnswerAsWritten(t *testing.T) {
	for _, c := range []struct{ request, response string }{
		{"grao-nbd/PersonDataSearchRequest.xml", "grao-nbd/PersonDataSearchResponse.xml"},
		{"av-tr/ActualStateRequestV3.xml", "av-tr/ActualStateResponseV3.xml"},
		{"mvr-bds/GetPersonalIdentityV3Request.xml", "mvr-bds/GetPersonalIdentityV3Response.xml"},
	} {
		body := sampleAnswer(t, "ExecuteSynchronous", c.request, c.response)
		res, _, err := parseAnswer(body)
		if err != nil {
			t.Fatalf("%s: %v", c.response, err)
		}
		arg, doc := sample(t, c.request), sample(t, c.response)
		if !bytes.Equal(res.Request, bytes.TrimSpace(arg)) || !bytes.Equal(res.Response, bytes.TrimSpace(doc)) {
			t.Errorf("%s: Request or Response differs from what was written", c.response)
		}
		if res.Signed || res.Matrix != nil {
			t.Errorf("%s: Signed %v, Matrix %q without either in the answer", c.response, res.Signed, res.Matrix)
		}
	}
	doc := `<p:R xmlns:p="urn:r" a="&amp;"><p:Data><!-- c --><![CDATA[<x>]]>&lt;</p:Data><Signature/></p:R>`
	body := `<s:Envelope xmlns:s="` + SOAPNS + `"><s:Header><Security><Signature>header</Signature></Security></s:Header><s:Body><ExecuteResponse xmlns="` + EntryPointNS + `"><ExecuteResult>` +
		`<IsReady>true</IsReady><Data><Request/><Response> ` + doc + ` </Response><Matrix><m>1</m></Matrix></Data><HasError>false</HasError>` +
		`<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo/></Signature></ExecuteResult></ExecuteResponse></s:Body></s:Envelope>`
	res, _, err := parseAnswer([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Response) != doc || string(res.Matrix) != "<m>1</m>" || len(res.Request) != 0 || !res.Signed {
		t.Errorf("Response %q, Matrix %q, Request %q, Signed %v", res.Response, res.Matrix, res.Request, res.Signed)
	}
	unsigned := strings.Replace(body, `<SignedInfo/>`, ``, 1)
	if res, _, err := parseAnswer([]byte(unsigned)); err != nil || res.Signed {
		t.Errorf("an empty Signature: Signed %v, %v", res != nil && res.Signed, err)
	}
}

// BenchmarkParseAnswer reads answers of the entry point V2 that carry the bundled registers'
// sample responses, a small one and the largest.
func BenchmarkParseAnswer(b *testing.B) {
	for _, c := range []struct{ name, method, request, response string }{
		{"PersonDataSearch", "ExecuteSynchronous", "grao-nbd/PersonDataSearchRequest.xml", "grao-nbd/PersonDataSearchResponse.xml"},
		{"ActualStateV3", "ExecuteSynchronous", "av-tr/ActualStateRequestV3.xml", "av-tr/ActualStateResponseV3.xml"},
	} {
		b.Run(c.name, func(b *testing.B) {
			body := sampleAnswer(b, c.method, c.request, c.response)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				res, _, err := parseAnswer(body)
				if err != nil || len(res.Response) == 0 {
					b.Fatalf("%v, %v", res, err)
				}
			}
		})
	}
}

// sampleAnswer is the answer a server writes around a register's sample request and response.
func sampleAnswer(tb testing.TB, method, request, response string) []byte {
	tb.Helper()
	w := httptest.NewRecorder()
	WriteResult(w, method, sample(tb, request), sample(tb, response), "")
	return w.Body.Bytes()
}

// sample is a bundled register's file without its byte order mark.
func sample(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := fs.ReadFile(Registers(), "registers/"+name)
	if err != nil {
		tb.Fatal(err)
	}
	return trimBOM(b)
}
