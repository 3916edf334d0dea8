package esoedconn

import (
	"context"
	"testing"
	"time"

	"github.com/aiskao/aiskao/connectors/esoed/docflow"
	"github.com/aiskao/aiskao/esoed"
)

// TestStatusFlow is the smaller part of finding 12 of issue 17, at the endpoint: what status
// responses from the recipient of a document do to its record.
func TestStatusFlow(t *testing.T) {
	r := newReceiving(t, 0)
	a, b := r.a, r.b
	ctx := context.Background()
	table := r.ep.src.table
	// B sent the document to A, which registered it.
	doc := newGUID()
	closeBy := docDate.AddDate(0, 0, 30)
	remote := esoed.DocID{Number: &esoed.DocNumber{Number: "ПД-12-REG", Date: docDate}, GUID: doc}
	if err := table.PutOut(ctx, b.guid, &docflow.OutDoc{DocGUID: doc, Recipient: a.id, RecipientGUID: a.guid, Status: esoed.StatusRegistered,
		Remote: &remote, ExpectCloseDate: closeBy}); err != nil {
		t.Fatal(err)
	}
	record := func() *docflow.OutDoc {
		t.Helper()
		d, err := table.Out(ctx, b.guid, doc)
		if err != nil || d == nil {
			t.Fatalf("record: %v", err)
		}
		return d
	}
	tell := func(status string, change func(*esoed.StatusResponse)) {
		t.Helper()
		m := statusResponse(a, b, doc, status)
		if change != nil {
			change(m.Body.StatusResponse)
		}
		if answer, f := submit(t, r.ep.url, &a.pair, marshal(t, m, a.signer)); f != nil || answer != nil {
			t.Fatalf("%s: answer %s, fault %v; want an empty answer", status, answer, f)
		}
	}

	t.Run("unsolicited DS_NOT_FOUND", func(t *testing.T) {
		tell(esoed.StatusNotFound, nil)
		if d := record(); d.Status != esoed.StatusRegistered || !d.ExpectCloseDate.Equal(closeBy) || d.Remote == nil || d.Remote.Number.Number != "ПД-12-REG" {
			t.Errorf("record after an unasked DS_NOT_FOUND: %+v", d)
		}
		if e := lastJournal(t, r.ep.st, "esoed.received"); e.Result != esoed.StatusNotFound {
			t.Errorf("journal %+v", e)
		}
	})
	t.Run("a rejection reason does not outlive the rejection", func(t *testing.T) {
		tell(esoed.StatusRejected, nil)
		if d := record(); d.Status != esoed.StatusRejected || d.RejectionReason == "" || !d.ExpectCloseDate.IsZero() {
			t.Errorf("rejected: %+v", d)
		}
		tell(esoed.StatusRegistered, nil)
		if d := record(); d.Status != esoed.StatusRegistered || d.RejectionReason != "" || d.ExpectCloseDate.IsZero() {
			t.Errorf("registered after the rejection: %+v", d)
		}
	})
	t.Run("an expected close date does not outlive the registration", func(t *testing.T) {
		tell(esoed.StatusClosed, func(sr *esoed.StatusResponse) { sr.ExpectCloseDate = time.Time{} })
		if d := record(); d.Status != esoed.StatusClosed || !d.ExpectCloseDate.IsZero() || d.RejectionReason != "" {
			t.Errorf("closed: %+v", d)
		}
	})
}

// TestResendKeepsTheClosedState: a registration request sent again is answered "already
// received" (ЗР.1); the document's recorded DS_CLOSED stays.
func TestResendKeepsTheClosedState(t *testing.T) {
	s := newSending(t, false)
	doc := newGUID()
	closed := esoed.DocID{Number: &esoed.DocNumber{Number: "ПД-12-CLO", Date: docDate}, GUID: doc}
	if err := s.sink.table.PutOut(context.Background(), s.a.guid, &docflow.OutDoc{DocGUID: doc, Recipient: s.b.id, RecipientGUID: s.b.guid,
		Status: esoed.StatusClosed, Remote: &closed}); err != nil {
		t.Fatal(err)
	}
	s.reply = func(in *esoed.Summary) (int, []byte) {
		return 200, s.statusReply(in, s.b.signer, func(m *esoed.Message) { m.Body.StatusResponse.Status = esoed.StatusAlreadyReceived })
	}
	if err := s.send(marshal(t, registration(s.a, s.b, doc), s.a.signer), 1); err != nil {
		t.Fatal(err)
	}
	if d := s.outDoc(t, doc); d.Status != esoed.StatusClosed {
		t.Errorf("record after the resend: %+v, want %s kept", d, esoed.StatusClosed)
	}
	if e := lastJournal(t, s.st, "esoed.sent"); e.Result != esoed.StatusAlreadyReceived {
		t.Errorf("journal %+v", e)
	}
}

// TestErrorAnswerAboutAnotherMessage: a synchronous error notice fails the message sent only
// when it names that message (ИГ.1); one about another message, or none, is journaled and the
// message counts as sent.
func TestErrorAnswerAboutAnotherMessage(t *testing.T) {
	s := newSending(t, false)
	for name, about := range map[string]string{"another message": newGUID(), "no message": ""} {
		t.Run(name, func(t *testing.T) {
			s.reply = func(in *esoed.Summary) (int, []byte) {
				m := &esoed.Message{Header: esoed.Header{MessageDate: time.Now(), Sender: s.b.participant(), Recipient: s.a.participant(), MessageGUID: newGUID()},
					Body: esoed.Body{Error: &esoed.ErrorNotice{MessageGUID: about, Type: esoed.ErrorExternal, Description: "грешка"}}}
				return 200, answer(marshal(t, m, s.b.signer))
			}
			doc := newGUID()
			if err := s.send(marshal(t, registration(s.a, s.b, doc), s.a.signer), 1); err != nil {
				t.Fatalf("send: %v", err)
			}
			if d := s.outDoc(t, doc); d.Status != docflow.OutSent || d.Error != "" {
				t.Errorf("record %+v, want it sent", d)
			}
			if e := lastJournal(t, s.st, "esoed.sent"); e.Result != "ИГ.1" || e.Detail["error_notice"] == "" {
				t.Errorf("journal %+v", e)
			}
		})
	}
}
