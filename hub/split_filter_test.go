package hub

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/routes"
)

const splitConfig = `
connectors:
  in:    { type: http, auth: { type: none }, listen: "@ADDR@", path: /in, content_types: [application/xml] }
  items: { type: file, dir: out, fsync: false, name: '{{id}}~{{meta "causation_id"}}~{{meta "correlation_id"}}{{ext}}' }
routes:
  - name: items
    from: in
    steps:
      - split: { xpath: /Order/Item }
    to: items
`

const order = `<Order><Item n="1">a</Item><Item n="2">b</Item><Item n="3">c</Item></Order>`

func TestSplitThroughTry(t *testing.T) {
	cfg := parse(t, routes.DefaultCatalog(), splitConfig, map[string]string{"ADDR": freeAddr(t)})
	md := map[string]string{"id": "order-7", envelope.CorrelationID: "flow-1", envelope.Subject: "DOS-1"}
	tr, err := Try(context.Background(), cfg, "items", []byte(order), md, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Deliveries) != 3 {
		t.Fatalf("deliveries = %d, want 3", len(tr.Deliveries))
	}
	for i, d := range tr.Deliveries {
		m := d.Message
		if want := fmt.Sprintf("order-7.%d", i); m.ID != want {
			t.Errorf("delivery %d id = %q, want %q", i, m.ID, want)
		}
		want := map[string]string{envelope.CausationID: "order-7", envelope.CorrelationID: "flow-1", envelope.Subject: "DOS-1"}
		for k, v := range want {
			if m.Metadata[k] != v {
				t.Errorf("delivery %d metadata %s = %q, want %q", i, k, m.Metadata[k], v)
			}
		}
		if want := fmt.Sprintf(`<Item n="%d">%c</Item>`, i+1, 'a'+i); string(m.Payload) != want {
			t.Errorf("delivery %d payload = %q, want %q", i, m.Payload, want)
		}
	}
}

func TestSplitThroughEngine(t *testing.T) {
	r := newRig(t, splitConfig, nil, nil)
	id := accept(t, r.addr, "/in", "application/xml", order)
	out := filepath.Join(r.dir, "out")
	waitFor(t, "the parent message counted delivered", func() bool { return outcomes(t, r.metrics, "items", OutcomeDelivered) == 1 })
	var want []string
	for i := range 3 {
		// The http source makes a message its own correlation.
		want = append(want, fmt.Sprintf("%s.%d~%s~%s.xml", id, i, id, id))
	}
	if got := files(t, out); !slices.Equal(got, want) {
		t.Fatalf("files = %v, want %v", got, want)
	}
	data, err := os.ReadFile(filepath.Join(out, want[1]))
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != `<Item n="2">b</Item>` {
		t.Errorf("second item file holds %q", data)
	}
}

func TestFilterDropsMessage(t *testing.T) {
	r := newRig(t, `
connectors:
  in:    { type: http, auth: { type: none }, listen: "@ADDR@", path: /in, content_types: [application/xml] }
  files: { type: file, dir: out, fsync: false }
routes:
  - name: only-urgent
    from: in
    steps:
      - filter: { xpath: "/Doc/Kind = 'urgent'" }
    to: files
`, nil, nil)
	accept(t, r.addr, "/in", "application/xml", "<Doc><Kind>normal</Kind></Doc>")
	kept := accept(t, r.addr, "/in", "application/xml", "<Doc><Kind>urgent</Kind></Doc>")
	waitFor(t, "one dropped and one delivered", func() bool {
		return outcomes(t, r.metrics, "only-urgent", OutcomeDropped) == 1 && outcomes(t, r.metrics, "only-urgent", OutcomeDelivered) == 1
	})
	if got := files(t, filepath.Join(r.dir, "out")); !slices.Equal(got, []string{kept + ".xml"}) {
		t.Errorf("files = %v, want only the urgent message", got)
	}
	if dl := deadLetters(t, r.eng.Store()); len(dl) != 0 {
		t.Errorf("dead letters = %+v, want none", dl)
	}
}
