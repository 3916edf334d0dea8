package xmltree

import (
	"bytes"
	"os"
	"testing"

	"github.com/antchfx/xmlquery"
)

const benchFile = moduleRoot + "/testdata/esoed/registration-request.xml"

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile(benchFile)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkXMLQuery(b *testing.B) {
	data, err := os.ReadFile(benchFile)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := xmlquery.Parse(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}
