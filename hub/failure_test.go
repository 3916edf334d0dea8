package hub

import (
	"context"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/routes"
)

// failConfig delivers to an HTTP system at @URL@ after checking that JSON messages have a number.
const failConfig = `
connectors:
  in:     { type: http, auth: { type: none }, listen: "@ADDR@", path: /in, content_types: [application/xml, application/json], message_type: test.Doc }
  remote: { type: http, url: "@URL@" }
routes:
  - name: deliver
    from: in
    steps:
      - filter: { expr: "true" }
      - json_schema: { inline: { type: object, required: [number] } }
    to: remote
    on_error:
      retry: { max: @MAX@, backoff: 5ms, max_backoff: 10ms }
      dead_letter: @KEEP@
`

func failRig(t *testing.T, max, keep string, script ...int) (*rig, *recorder) {
	t.Helper()
	rec := newRecorder(t, script...)
	r := newRig(t, failConfig, map[string]string{"URL": rec.srv.URL + "/documents", "MAX": max, "KEEP": keep}, nil)
	return r, rec
}

func TestRetryThenDelivered(t *testing.T) {
	r, rec := failRig(t, "3", "true", 500, 500, 200)
	id := accept(t, r.addr, "/in", "application/json", `{"number": 1}`)
	waitFor(t, "delivery", func() bool { return outcomes(t, r.metrics, "deliver", OutcomeDelivered) == 1 })
	got := rec.requests()
	if len(got) != 3 {
		t.Fatalf("the remote system got %d requests, want 3", len(got))
	}
	for i, req := range got {
		if req.header.Get("X-Message-Id") != id {
			t.Errorf("request %d X-Message-Id = %q, want %q", i, req.header.Get("X-Message-Id"), id)
		}
		if want := string(rune('1' + i)); req.header.Get("Ce-Attempt") != want {
			t.Errorf("request %d Ce-Attempt = %q, want %s", i, req.header.Get("Ce-Attempt"), want)
		}
	}
	if n := outcomes(t, r.metrics, "deliver", OutcomeRetried); n != 2 {
		t.Errorf("retried = %v, want 2", n)
	}
	if dl := deadLetters(t, r.eng.Store()); len(dl) != 0 {
		t.Errorf("dead letters = %+v, want none", dl)
	}
}

func TestDeadLetters(t *testing.T) {
	tests := []struct {
		name, max string
		script    []int
		payload   string
		step      string
		attempts  int
		requests  int
		errHas    []string
		retried   float64
	}{
		{"remote fails every time", "2", []int{500}, `{"number": 1}`, "to[0].remote", 3, 3, []string{"500 Internal Server Error", "answer 500 from the test system"}, 2},
		{"remote refuses the message", "2", []int{400}, `{"number": 1}`, "to[0].remote", 1, 1, []string{"400 Bad Request"}, 0},
		{"message fails its schema", "2", []int{200}, `{"name": "x"}`, "steps[1].json_schema", 1, 0, []string{"number"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, rec := failRig(t, tt.max, "true", tt.script...)
			id := accept(t, r.addr, "/in", "application/json", tt.payload)
			waitFor(t, "a dead letter", func() bool { return outcomes(t, r.metrics, "deliver", OutcomeDeadLetter) == 1 })

			dl := deadLetters(t, r.eng.Store())
			if len(dl) != 1 {
				t.Fatalf("dead letters = %d, want 1", len(dl))
			}
			d := dl[0]
			if d.MessageID != id || d.Route != "deliver" || d.Step != tt.step || d.Attempts != tt.attempts {
				t.Errorf("dead letter = {message %s, route %s, step %s, attempts %d}, want {%s, deliver, %s, %d}",
					d.MessageID, d.Route, d.Step, d.Attempts, id, tt.step, tt.attempts)
			}
			if !strings.HasPrefix(d.Error, tt.step+": ") {
				t.Errorf("error %q does not start with the step", d.Error)
			}
			for _, s := range tt.errHas {
				if !strings.Contains(d.Error, s) {
					t.Errorf("error %q does not contain %q", d.Error, s)
				}
			}
			if string(d.Payload) != tt.payload {
				t.Errorf("payload = %q, want the message as received %q", d.Payload, tt.payload)
			}
			want := map[string]string{
				envelope.Route: "deliver", envelope.Source: "in", envelope.Type: "test.Doc",
				envelope.ContentType: "application/json", envelope.CorrelationID: id,
			}
			for k, v := range want {
				if d.Metadata[k] != v {
					t.Errorf("metadata %s = %q, want %q", k, d.Metadata[k], v)
				}
			}
			if d.Metadata[envelope.Time] == "" || d.Time.IsZero() {
				t.Errorf("times missing: metadata time %q, dead letter time %v", d.Metadata[envelope.Time], d.Time)
			}
			if n := len(rec.requests()); n != tt.requests {
				t.Errorf("the remote system got %d requests, want %d", n, tt.requests)
			}
			if n := outcomes(t, r.metrics, "deliver", OutcomeRetried); n != tt.retried {
				t.Errorf("retried = %v, want %v", n, tt.retried)
			}
			counts, err := r.eng.Store().CountDeadLetters(context.Background())
			if err != nil || counts["deliver"] != 1 {
				t.Errorf("CountDeadLetters = %v, %v; want deliver: 1", counts, err)
			}
			if g := metricValue(t, r.metrics, "aiskao_dead_letters", map[string]string{"route": "deliver"}); g != 1 {
				t.Errorf("aiskao_dead_letters gauge = %v, want 1", g)
			}
		})
	}
}

func TestDeadLettersOffDiscards(t *testing.T) {
	r, rec := failRig(t, "1", "false", 500)
	accept(t, r.addr, "/in", "application/json", `{"number": 1}`)
	waitFor(t, "the message discarded", func() bool { return outcomes(t, r.metrics, "deliver", OutcomeDiscarded) == 1 })
	if dl := deadLetters(t, r.eng.Store()); len(dl) != 0 {
		t.Errorf("dead letters = %+v, want none", dl)
	}
	if n := len(rec.requests()); n != 2 {
		t.Errorf("the remote system got %d requests, want 2", n)
	}
	if n := outcomes(t, r.metrics, "deliver", OutcomeDeadLetter); n != 0 {
		t.Errorf("dead_letter outcome = %v, want 0", n)
	}
}

func TestTryReportsFailedStep(t *testing.T) {
	cfg := parse(t, routes.DefaultCatalog(), failConfig, map[string]string{"ADDR": freeAddr(t), "URL": "http://127.0.0.1:1/x", "MAX": "1", "KEEP": "true"})
	tr, err := Try(context.Background(), cfg, "deliver", []byte(`{"name": "x"}`), map[string]string{"datacontenttype": "application/json"}, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if tr.FailedStep != "steps[1].json_schema" || !tr.Permanent || len(tr.Deliveries) != 0 {
		t.Errorf("trace = failed %q permanent %v deliveries %d; want steps[1].json_schema, true, 0", tr.FailedStep, tr.Permanent, len(tr.Deliveries))
	}
	last := tr.Steps[len(tr.Steps)-1]
	if last.Step != "steps[1].json_schema" || last.Error == "" {
		t.Errorf("last trace step = %+v, want the schema's error", last)
	}
}
