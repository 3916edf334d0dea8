package hub

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aiskao/aiskao/routes"
)

// The switch routes: urgent documents go to their own sink; notices (by type, an expr
// condition) get a subject and go on; other known kinds take the default branch; the third case
// is shadowed for urgent documents by the first, since the first matching case wins.
const switchConfig = `
connectors:
  in:      { type: http, auth: { type: none }, listen: "@ADDR@", path: /in, content_types: [application/xml] }
  urgent:  { type: file, dir: out/urgent, fsync: false }
  normal:  { type: file, dir: out/normal, fsync: false }
  other:   { type: file, dir: out/other, fsync: false }
  archive: { type: file, dir: out/archive, fsync: false }
routes:
  - name: sorting
    from: in
    steps:
      - switch:
          cases:
            - when: { xpath: "/Doc/Kind = 'urgent'" }
              to: urgent
            - when: { expr: "meta.type == 'esoed.Notice'" }
              steps:
                - set: { metadata: { subject: '"notice-" + meta.type' } }
            - when: { xpath: "/Doc/Kind = 'urgent' or /Doc/Kind = 'normal'" }
              to: [normal, archive]
          default:
            steps:
              - set: { metadata: { branch: '"default"' } }
            to: other
      - set: { metadata: { after_switch: '"yes"' } }
    to: archive
  - name: lenient
    from: in
    steps:
      - switch:
          cases:
            - when: { expr: "meta.type == 'esoed.Notice'" }
              to: urgent
      - set: { metadata: { after_switch: '"yes"' } }
    to: archive
`

func TestSwitchThroughTry(t *testing.T) {
	cfg := parse(t, routes.DefaultCatalog(), switchConfig, map[string]string{"ADDR": freeAddr(t)})
	tests := []struct {
		name, route, kind, typ string
		wantTrace              string   // the switch's trace step
		wantTo                 []string // sinks of the single delivery
		wantMeta               map[string]string
		absentMeta             []string
	}{
		{
			name: "xpath case with its own sinks", route: "sorting", kind: "urgent", typ: "esoed.Notice",
			wantTrace: "steps[0].switch → cases[0]", wantTo: []string{"urgent"},
			absentMeta: []string{"after_switch", "subject"},
		},
		{
			name: "expr case without sinks goes on", route: "sorting", kind: "normal", typ: "esoed.Notice",
			wantTrace: "steps[0].switch → cases[1]", wantTo: []string{"archive"},
			wantMeta: map[string]string{"subject": "notice-esoed.Notice", "after_switch": "yes"},
		},
		{
			name: "later case when earlier ones do not match", route: "sorting", kind: "normal", typ: "esoed.Letter",
			wantTrace: "steps[0].switch → cases[2]", wantTo: []string{"normal", "archive"},
			absentMeta: []string{"after_switch"},
		},
		{
			name: "default branch", route: "sorting", kind: "other", typ: "esoed.Letter",
			wantTrace: "steps[0].switch → default", wantTo: []string{"other"},
			wantMeta: map[string]string{"branch": "default"}, absentMeta: []string{"after_switch"},
		},
		{
			name: "no match and no default goes on", route: "lenient", kind: "other", typ: "esoed.Letter",
			wantTrace: "steps[0].switch → no case matched, going on", wantTo: []string{"archive"},
			wantMeta: map[string]string{"after_switch": "yes"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload := "<Doc><Kind>" + tt.kind + "</Kind></Doc>"
			tr, err := Try(context.Background(), cfg, tt.route, []byte(payload), map[string]string{"type": tt.typ, "datacontenttype": "application/xml"}, Options{Logger: quietLogger()})
			if err != nil {
				t.Fatal(err)
			}
			if tr.Error != "" {
				t.Fatalf("trace error at %s: %s", tr.FailedStep, tr.Error)
			}
			var names []string
			for _, s := range tr.Steps {
				names = append(names, s.Step)
			}
			if len(names) == 0 || names[0] != tt.wantTrace {
				t.Errorf("trace steps = %q, want first %q", names, tt.wantTrace)
			}
			if len(tr.Deliveries) != 1 {
				t.Fatalf("deliveries = %+v, want 1", tr.Deliveries)
			}
			d := tr.Deliveries[0]
			if !slices.Equal(d.To, tt.wantTo) {
				t.Errorf("delivered to %v, want %v", d.To, tt.wantTo)
			}
			for k, v := range tt.wantMeta {
				if d.Message.Metadata[k] != v {
					t.Errorf("metadata %s = %q, want %q", k, d.Message.Metadata[k], v)
				}
			}
			for _, k := range tt.absentMeta {
				if v, ok := d.Message.Metadata[k]; ok {
					t.Errorf("metadata %s = %q, want it unset", k, v)
				}
			}
			if string(d.Message.Payload) != payload {
				t.Errorf("payload = %q, want %q", d.Message.Payload, payload)
			}
		})
	}
}

func TestSwitchRoutesToFileSinks(t *testing.T) {
	cfg := `
connectors:
  in:      { type: http, auth: { type: none }, listen: "@ADDR@", path: /in, content_types: [application/xml] }
  urgent:  { type: file, dir: out/urgent, fsync: false }
  normal:  { type: file, dir: out/normal, fsync: false }
  other:   { type: file, dir: out/other, fsync: false }
  archive: { type: file, dir: out/archive, fsync: false }
routes:
  - name: sorting
    from: in
    steps:
      - switch:
          cases:
            - when: { xpath: "/Doc/Kind = 'urgent'" }
              to: urgent
            - when: { xpath: "/Doc/Kind = 'normal'" }
              to: [normal, archive]
          default:
            to: other
    to: archive
`
	r := newRig(t, cfg, nil, nil)
	ids := map[string]string{}
	for _, kind := range []string{"urgent", "normal", "other"} {
		ids[kind] = accept(t, r.addr, "/in", "application/xml", "<Doc><Kind>"+kind+"</Kind></Doc>")
	}
	waitFor(t, "three delivered messages", func() bool { return outcomes(t, r.metrics, "sorting", OutcomeDelivered) == 3 })
	want := map[string][]string{
		"urgent":  {ids["urgent"] + ".xml"},
		"normal":  {ids["normal"] + ".xml"},
		"other":   {ids["other"] + ".xml"},
		"archive": {ids["normal"] + ".xml"},
	}
	for dir, names := range want {
		if got := files(t, filepath.Join(r.dir, "out", dir)); !slices.Equal(got, names) {
			t.Errorf("out/%s holds %v, want %v", dir, got, names)
		}
	}
}
