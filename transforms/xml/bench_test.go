package xml

import (
	"context"
	"testing"

	"github.com/aiskao/aiskao/transforms"
)

// The benchmarks run on the real ЕСОЕД message. "parsed" measures the step alone on a message
// whose document an earlier step parsed; "with_parse" includes parsing the payload.

var benchFields = XPathOptions{Namespaces: esoedNS, Fields: map[string]string{
	"subject":      "/m:Message/m:Body/m:DocumentStatusResponse/m:DocID/m:DocumentNumber/m:DocNumber",
	"message_guid": "/m:Message/m:Header/m:MessageGUID",
	"type":         "/m:Message/m:Header/m:MessageType",
	"sender":       "/m:Message/m:Header/m:Sender/m:Identifier",
}, Required: []string{"subject", "message_guid"}}

func BenchmarkXPath(b *testing.B) {
	benchXMLStep(b, newStep(b, "xpath", &benchFields))
}

func BenchmarkXMLToJSON(b *testing.B) {
	benchXMLStep(b, newStep(b, "xml_to_json", &ToJSONOptions{}))
}

// benchXMLStep runs the "parsed" and "with_parse" benchmarks of s on the ЕСОЕД message. Each
// run gets a message of its own, since a step may replace the payload.
func benchXMLStep(b *testing.B, s transforms.Step) {
	in := readFile(b, "esoed-document-status-response.xml")
	ctx := context.Background()
	b.Run("parsed", func(b *testing.B) {
		doc, err := transforms.NewMessage("1", nil, in).XML()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			m := transforms.NewMessage("1", nil, nil)
			m.SetXML(doc)
			if err := s.Apply(ctx, m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("with_parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := s.Apply(ctx, transforms.NewMessage("1", nil, in)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkJSONToXML(b *testing.B) {
	in := readFile(b, "esoed-document-status-response.golden.json")
	s := newStep(b, "json_to_xml", &ToXMLOptions{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Apply(ctx, transforms.NewMessage("1", nil, in)); err != nil {
			b.Fatal(err)
		}
	}
}
