package xmltree

import (
	"bytes"
	"os"
	"testing"

	"github.com/antchfx/xmlquery"
)

const benchFile = moduleRoot + "/testdata/esoed/registration-request.xml"

// BenchmarkParse compares Parse with xmlquery.Parse on a real ЕСОЕД message.
func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile(benchFile)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		parse func([]byte) (*xmlquery.Node, error)
	}{
		{"xmltree", Parse},
		{"xmlquery", func(d []byte) (*xmlquery.Node, error) { return xmlquery.Parse(bytes.NewReader(d)) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.parse(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
