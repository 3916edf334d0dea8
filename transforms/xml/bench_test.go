package xml

import (
	"context"
	"os"
	"path/filepath"
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

// demoFields are the xpath step of the demo's esoed-inbox route (configs/demo.yaml).
var demoFields = XPathOptions{Namespaces: map[string]string{"m": "http://schemas.egov.bg/messaging/v1"}, Fields: map[string]string{
	"esoed_message_guid": "/m:Message/m:Header/m:MessageGUID",
	"esoed_message_type": "/m:Message/m:Header/m:MessageType",
	"esoed_sender":       "/m:Message/m:Header/m:Sender/m:Identifier",
	"esoed_doc_number":   "(/m:Message/m:Body//m:DocID/m:DocumentNumber/m:DocNumber)[1]",
	"esoed_doc_kind":     "/m:Message/m:Body//m:DocKind",
}, Required: []string{"esoed_message_guid", "esoed_message_type"}}

func BenchmarkXPath(b *testing.B) {
	benchXMLStep(b, newStep(b, "xpath", &benchFields), readFile(b, "esoed-document-status-response.xml"))
}

// BenchmarkXPathDemo is the demo route's xpath step on the ЕСОЕД registration request it
// receives, which has all five fields.
func BenchmarkXPathDemo(b *testing.B) {
	in, err := os.ReadFile(filepath.Join("..", "..", "testdata", "esoed", "registration-request.xml"))
	if err != nil {
		b.Fatal(err)
	}
	s := newStep(b, "xpath", &demoFields)
	m := transforms.NewMessage("1", nil, in)
	if err := s.Apply(context.Background(), m); err != nil || len(m.Metadata) != len(demoFields.Fields) {
		b.Fatalf("metadata %v, error %v", m.Metadata, err)
	}
	benchXMLStep(b, s, in)
}

func BenchmarkXMLToJSON(b *testing.B) {
	benchXMLStep(b, newStep(b, "xml_to_json", &ToJSONOptions{}), readFile(b, "esoed-document-status-response.xml"))
}

// benchXMLStep runs the "parsed" and "with_parse" benchmarks of s on the message in. Each run
// gets a message of its own, since a step may replace the payload.
func benchXMLStep(b *testing.B, s transforms.Step, in []byte) {
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
