package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/antchfx/xmlquery"
	"github.com/antchfx/xpath"
	"github.com/santhosh-tekuri/jsonschema/v5"

	_ "github.com/aiskao/aiskao/connectors/all"
	_ "github.com/aiskao/aiskao/hub/store/sqlite"
	_ "github.com/aiskao/aiskao/hub/transport/embedded"
	"github.com/aiskao/aiskao/routes"
	"github.com/aiskao/aiskao/transforms"
	_ "github.com/aiskao/aiskao/transforms/all"
)

// The demo route in memory, beside a bare loop doing the same work with the same libraries: parse
// the XML once, read the same five XPaths, convert the document to JSON, validate it with the same
// schema, and serialise the output document. Run with
//
//	go test -run '^$' -bench 'DemoRoute|BareLoop' -benchmem ./hub/

var benchSample = filepath.Join("..", "testdata", "esoed", "registration-request.xml")

func loadDemo(b *testing.B) *routes.Config {
	b.Helper()
	cfg, err := routes.Load(routes.DefaultCatalog(), filepath.Join("..", "configs", "demo.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	return cfg
}

func BenchmarkDemoRoute(b *testing.B) {
	cfg := loadDemo(b)
	input, err := os.ReadFile(benchSample)
	if err != nil {
		b.Fatal(err)
	}
	p, err := newPipeline(cfg.Routes[0], Options{Catalog: routes.DefaultCatalog(), Logger: quietLogger()}, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(input)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := transforms.NewMessage("bench", map[string]string{"datacontenttype": "application/xml"}, input)
		ds, err := p.run(ctx, m, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ds[0].msg.Payload(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkBareLoop(b *testing.B) {
	input, err := os.ReadFile(benchSample)
	if err != nil {
		b.Fatal(err)
	}
	ns := map[string]string{"m": "http://schemas.egov.bg/messaging/v1"}
	paths := map[string]string{
		"message_guid": "/m:Message/m:Header/m:MessageGUID",
		"message_type": "/m:Message/m:Header/m:MessageType",
		"sender":       "/m:Message/m:Header/m:Sender/m:Identifier",
		"doc_number":   "(/m:Message/m:Body//m:DocID/m:DocumentNumber/m:DocNumber)[1]",
		"doc_kind":     "/m:Message/m:Body//m:DocKind",
	}
	exprs := map[string]*xpath.Expr{}
	for k, p := range paths {
		e, err := xpath.CompileWithNS(p, ns)
		if err != nil {
			b.Fatal(err)
		}
		exprs[k] = e
	}
	schema, err := jsonschema.Compile(filepath.Join("..", "configs", "schemas", "esoed-message.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(input)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		doc, err := xmlquery.Parse(bytes.NewReader(input))
		if err != nil {
			b.Fatal(err)
		}
		out := make(map[string]any, 6)
		for k, e := range exprs {
			if n := xmlquery.QuerySelector(doc, e); n != nil {
				out[k] = n.InnerText()
			}
		}
		var root *xmlquery.Node
		for c := doc.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == xmlquery.ElementNode {
				root = c
			}
		}
		document := map[string]any{root.Data: bareJSON(root)}
		if err := schema.Validate(document); err != nil {
			b.Fatal(err)
		}
		out["document"] = document
		if _, err := json.Marshal(out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// bareJSON is the plainest conversion of an element by the hub's convention.
func bareJSON(n *xmlquery.Node) any {
	obj := map[string]any{}
	text := ""
	for _, a := range n.Attr {
		name := a.Name.Local
		if a.Name.Space != "" {
			name = a.Name.Space + ":" + name
		}
		obj["@"+name] = a.Value
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		switch c.Type {
		case xmlquery.ElementNode:
			v := bareJSON(c)
			if prev, ok := obj[c.Data]; ok {
				if arr, ok := prev.([]any); ok {
					obj[c.Data] = append(arr, v)
				} else {
					obj[c.Data] = []any{prev, v}
				}
			} else {
				obj[c.Data] = v
			}
		case xmlquery.TextNode, xmlquery.CharDataNode:
			text += c.Data
		}
	}
	if len(obj) == 0 {
		return text
	}
	if t := bytes.TrimSpace([]byte(text)); len(t) > 0 {
		obj["#text"] = string(t)
	}
	return obj
}
