package esoedconn

import (
	"context"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/aiskao/aiskao/connectors/esoed/docflow"
	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/esoed"
	"github.com/aiskao/aiskao/store"
)

// side is one administration with its endpoint, its sink and its store.
type side struct {
	adm  *admin
	ep   *endpoint
	sink *sink
	st   store.Store
}

func (s *side) send(t *testing.T, m *esoed.Message) {
	t.Helper()
	msg := message.NewMessage(uuid.NewString(), marshal(t, m, nil))
	msg.Metadata.Set(envelope.Attempt, "1")
	if err := s.sink.Send(context.Background(), msg); err != nil {
		t.Fatalf("%s sends %s: %v", s.adm.name, m.Body.Type(), err)
	}
}

// TestExchange runs two administrations, each with an endpoint and a sink on its own store,
// through the document flow: a registration, every status the recipient can tell of it, the
// status requests about it, and an error notice.
func TestExchange(t *testing.T) {
	w := newWorld(t)
	a := &side{adm: w.admin(t, 1, "000696327", "{676150f9-dfb5-4723-a236-fb007f3eb046}", "Столична община", false, time.Time{}), st: newStore(t)}
	b := &side{adm: w.admin(t, 2, "000471504", "{805fd26b-4b64-4823-a7b5-d40315c4b783}", "Община Пловдив", false, time.Time{}), st: newStore(t)}
	initial := w.registry(t, "registry.yaml", a.adm, b.adm)
	for _, s := range []*side{a, b} {
		s.ep = w.startSource(t, s.adm, w.config(s.adm, initial), s.st)
	}
	// Now that the endpoints listen, the registry names them.
	full := w.registry(t, "registry-full.yaml", a.adm, b.adm)
	for _, s := range []*side{a, b} {
		cfg := w.config(s.adm, full)
		cfg.Listen = ""
		s.sink = w.sink(t, cfg, "out", s.st)
	}
	ctx := context.Background()
	doc := newGUID()
	reg := registration(a.adm, b.adm, doc)

	outStatus := func(t *testing.T, want string) *docflow.OutDoc {
		t.Helper()
		d, err := a.sink.table.Out(ctx, a.adm.guid, doc)
		if err != nil || d == nil || d.Status != want {
			t.Fatalf("A's record of the document: %+v (%v), want status %s", d, err, want)
		}
		return d
	}
	t.Run("ЗР.2", func(t *testing.T) {
		a.send(t, reg)
		outStatus(t, esoed.StatusWaitRegistration)
		if got := b.ep.hub.all(); len(got) != 1 || got[0].Metadata.Get(envelope.Type) != "esoed.DocumentRegistrationRequest" {
			t.Fatalf("B's routes got %d messages", len(got))
		}
	})
	t.Run("ЗР.1", func(t *testing.T) {
		a.send(t, registration(a.adm, b.adm, doc))
		outStatus(t, esoed.StatusAlreadyReceived)
		if got := b.ep.hub.all(); len(got) != 1 {
			t.Errorf("B's routes got %d messages, want the first only", len(got))
		}
	})
	for _, c := range []struct {
		status, is, ps string
	}{
		{esoed.StatusRegistered, "ИС.5", "ПС.5"},
		{esoed.StatusStopped, "ИС.6", "ПС.6"},
		{esoed.StatusClosed, "ИС.7", "ПС.7"},
		{esoed.StatusRejected, "ИС.4", "ПС.3"},
		{esoed.StatusAlreadyReceived, "ИС.2", "ПС.2"},
		{esoed.StatusWaitRegistration, "ИС.3", "ПС.4"},
	} {
		// B tells A the document's new status; A records it and hands it to its routes.
		t.Run(c.is, func(t *testing.T) {
			before := len(a.ep.hub.all())
			b.send(t, statusResponse(b.adm, a.adm, doc, c.status))
			d := outStatus(t, c.status)
			switch c.status {
			case esoed.StatusRejected:
				if d.RejectionReason != "Непълен комплект документи" {
					t.Errorf("reason %q", d.RejectionReason)
				}
			case esoed.StatusRegistered:
				if d.Remote == nil || d.Remote.Number.Number != "ПД-12-REG" || !d.ExpectCloseDate.Equal(docDate.AddDate(0, 0, 14)) {
					t.Errorf("record %+v", d)
				}
			}
			got := a.ep.hub.all()
			if len(got) != before+1 || got[len(got)-1].Metadata.Get(envelope.Type) != "esoed.DocumentStatusResponse" {
				t.Errorf("A's routes got %d messages, want %d", len(got), before+1)
			}
			if e := lastJournal(t, a.st, "esoed.received"); e.Detail["scenario"] != c.is || e.Result != c.status || e.Detail["answer"] != "empty" {
				t.Errorf("A's journal %+v", e)
			}
		})
		// A asks B; B answers from its status table.
		t.Run(c.ps, func(t *testing.T) {
			// A status of its own, so that the answer must come from B.
			if _, err := a.sink.table.UpdateOut(ctx, a.adm.guid, doc, nil, func(d *docflow.OutDoc) { d.Status = "unknown" }); err != nil {
				t.Fatal(err)
			}
			a.send(t, statusRequest(a.adm, b.adm, doc))
			d := outStatus(t, c.status)
			e := lastJournal(t, b.st, "esoed.received")
			if e.Detail["scenario"] != c.ps || e.Result != c.status {
				t.Errorf("B's journal %+v", e)
			}
			switch c.status {
			case esoed.StatusRejected:
				if d.RejectionReason != "Непълен комплект документи" {
					t.Errorf("reason %q", d.RejectionReason)
				}
			case esoed.StatusRegistered, esoed.StatusStopped, esoed.StatusClosed, esoed.StatusAlreadyReceived:
				// The number B registered the document under, not A's.
				if d.Remote == nil || d.Remote.Number == nil || d.Remote.Number.Number != "ПД-12-"+c.status[3:6] {
					t.Errorf("remote id %+v", d.Remote)
				}
			}
		})
	}
	t.Run("ИГ.2", func(t *testing.T) {
		b.send(t, &esoed.Message{Header: esoed.Header{MessageDate: time.Now(), Sender: b.adm.participant(), Recipient: a.adm.participant(), MessageGUID: newGUID()},
			Body: esoed.Body{Error: &esoed.ErrorNotice{MessageGUID: reg.Header.MessageGUID, Type: esoed.ErrorInternal, Description: "няма връзка с базата данни"}}})
		d := outStatus(t, docflow.OutFailed)
		if d.Error == "" {
			t.Errorf("record %+v", d)
		}
		if e := lastJournal(t, a.st, "esoed.received"); e.Detail["scenario"] != "ИГ.2" {
			t.Errorf("A's journal %+v", e)
		}
	})
	t.Run("ИГ.3", func(t *testing.T) {
		b.send(t, &esoed.Message{Header: esoed.Header{MessageDate: time.Now(), Sender: b.adm.participant(), Recipient: a.adm.participant(), MessageGUID: newGUID()},
			Body: esoed.Body{Error: &esoed.ErrorNotice{MessageGUID: reg.Header.MessageGUID, Type: esoed.ErrorExternal, Description: "непознат вид документ"}}})
		outStatus(t, docflow.OutFailed)
		if e := lastJournal(t, a.st, "esoed.received"); e.Detail["scenario"] != "ИГ.3" {
			t.Errorf("A's journal %+v", e)
		}
	})
}
