package regix

import (
	"io/fs"
	"net/http/httptest"
	"testing"
)

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
	arg, err := fs.ReadFile(Registers(), "registers/"+request)
	if err != nil {
		tb.Fatal(err)
	}
	doc, err := fs.ReadFile(Registers(), "registers/"+response)
	if err != nil {
		tb.Fatal(err)
	}
	w := httptest.NewRecorder()
	WriteResult(w, method, trimBOM(arg), trimBOM(doc), "")
	return w.Body.Bytes()
}
