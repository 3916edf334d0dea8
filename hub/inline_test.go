package hub

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aiskao/aiskao/routes"
)

// inlineConfig is failConfig's route, run within the sender's request.
var inlineConfig = strings.Replace(failConfig, "    from: in\n", "    from: in\n    inline: true\n", 1)

func inlineRig(t *testing.T, cat *routes.Catalog, config string, script ...int) (*rig, *recorder) {
	t.Helper()
	rec := newRecorder(t, script...)
	r := newRig(t, config, map[string]string{"URL": rec.srv.URL + "/documents", "MAX": "3", "KEEP": "true"}, cat)
	return r, rec
}

func TestInlineDeliversBeforeAnswering(t *testing.T) {
	r, rec := inlineRig(t, nil, inlineConfig, 200)
	id := accept(t, r.addr, "/in", "application/json", `{"number": 1}`)
	// No waiting: the 202 came after the delivery.
	got := rec.requests()
	if len(got) != 1 || got[0].header.Get("X-Message-Id") != id {
		t.Fatalf("the remote system got %d requests by the time of the 202, want 1 with id %s", len(got), id)
	}
	if n := outcomes(t, r.metrics, "deliver", OutcomeDelivered); n != 1 {
		t.Errorf("delivered = %v by the time of the 202, want 1", n)
	}
	// An id the source made for the request is neither looked up nor remembered.
	if seen, err := r.eng.Store().Seen(context.Background(), idempotencyScope("deliver"), id); err != nil || seen {
		t.Errorf("Seen(%s) = %v, %v; want false: a new id is not remembered", id, seen, err)
	}
	time.Sleep(100 * time.Millisecond) // the transport, had it the message, would deliver it again by now
	if n := len(rec.requests()); n != 1 {
		t.Errorf("the remote system got %d requests, want 1", n)
	}
}

func TestInlineWithKeyTakesTheMessageOnce(t *testing.T) {
	r, rec := inlineRig(t, nil, inlineConfig, 200)
	var ids []string
	for range 2 {
		status, answer := post(t, r.addr, "/in", "application/json", `{"number": 1}`, map[string]string{"Idempotency-Key": "order-17"})
		if status != http.StatusAccepted {
			t.Fatalf("status %d (%s), want 202", status, answer)
		}
		ids = append(ids, answerID(t, answer))
	}
	if ids[0] != ids[1] {
		t.Fatalf("ids %v: the same key must give the same id", ids)
	}
	if n := len(rec.requests()); n != 1 {
		t.Errorf("the remote system got %d requests, want 1", n)
	}
	if n := outcomes(t, r.metrics, "deliver", OutcomeDuplicate); n != 1 {
		t.Errorf("duplicates = %v, want 1", n)
	}
	if seen, err := r.eng.Store().Seen(context.Background(), idempotencyScope("deliver"), ids[0]); err != nil || !seen {
		t.Errorf("Seen(%s) = %v, %v; want true: an id from a key is remembered", ids[0], seen, err)
	}
}

func TestInlineFailureGoesToTheTransport(t *testing.T) {
	r, rec := inlineRig(t, nil, inlineConfig, 503, 200)
	id := accept(t, r.addr, "/in", "application/json", `{"number": 1}`)
	waitFor(t, "delivery through the transport", func() bool { return outcomes(t, r.metrics, "deliver", OutcomeDelivered) == 1 })
	got := rec.requests()
	if len(got) != 2 {
		t.Fatalf("the remote system got %d requests, want 2 (inline, then from the transport)", len(got))
	}
	for i, req := range got {
		if req.header.Get("X-Message-Id") != id || req.body != `{"number": 1}` {
			t.Errorf("request %d: id %q body %q, want %s and the message as sent", i, req.header.Get("X-Message-Id"), req.body, id)
		}
	}
	if dl := deadLetters(t, r.eng.Store()); len(dl) != 0 {
		t.Errorf("dead letters = %+v, want none", dl)
	}
	if n := outcomes(t, r.metrics, "deliver", OutcomeRetried); n != 1 {
		t.Errorf("retried = %v, want 1: the inline attempt", n)
	}
}

func TestInlineFailuresBecomeDeadLetters(t *testing.T) {
	cat := testCatalog(panicStep)
	panicking := strings.Replace(inlineConfig, "      - filter: { expr: \"true\" }\n", "      - panic_on_boom: {}\n", 1)
	tests := []struct {
		name, config, payload, step string
	}{
		{"the schema refuses it", inlineConfig, `{"name": "x"}`, "steps[1].json_schema"},
		{"a step panics", panicking, `{"number": 1, "boom": true}`, ""}, // a panic names no step
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, rec := inlineRig(t, &cat, tt.config, 200)
			id := accept(t, r.addr, "/in", "application/json", tt.payload)
			waitFor(t, "a dead letter", func() bool { return outcomes(t, r.metrics, "deliver", OutcomeDeadLetter) == 1 })
			dl := deadLetters(t, r.eng.Store())
			if len(dl) != 1 || dl[0].MessageID != id || dl[0].Step != tt.step || string(dl[0].Payload) != tt.payload {
				t.Fatalf("dead letters = %+v, want one of %s at %s with the payload as sent", dl, id, tt.step)
			}
			if tt.step == "" && !strings.Contains(dl[0].Error, "panic") {
				t.Errorf("error %q does not name the panic", dl[0].Error)
			}
			if n := len(rec.requests()); n != 0 {
				t.Errorf("the remote system got %d requests, want none", n)
			}
		})
	}
}

func TestInlineNeedsASourceOfItsOwn(t *testing.T) {
	text := inlineConfig + `
  - name: copy
    from: in
    to: remote
`
	_, err := parseErr(t, routes.DefaultCatalog(), text, map[string]string{"ADDR": "127.0.0.1:1", "URL": "http://127.0.0.1:1", "MAX": "1", "KEEP": "true"})
	if err == nil || !strings.Contains(err.Error(), `routes[0].from: inline: connector "in" also feeds route "copy"`) {
		t.Fatalf("error = %v, want the inline route's source named with the other route", err)
	}
}
