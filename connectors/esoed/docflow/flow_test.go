package docflow

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aiskao/aiskao/esoed"
	"github.com/aiskao/aiskao/store"
)

// memState is route state in memory.
type memState struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (s *memState) GetState(_ context.Context, route, key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[route+"\x00"+key]
	if !ok {
		return nil, store.ErrNotFound
	}
	return v, nil
}

func (s *memState) PutState(_ context.Context, route, key string, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string][]byte{}
	}
	s.m[route+"\x00"+key] = value
	return nil
}

const (
	self    = "{11111111-1111-1111-1111-111111111111}"
	peer    = "{22222222-2222-2222-2222-222222222222}"
	other   = "{33333333-3333-3333-3333-333333333333}"
	docGUID = "{44444444-4444-4444-4444-444444444444}"
)

func newFlow() *Flow {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return &Flow{Table: NewTable(&memState{}), Locks: &Locks{}, Now: func() time.Time { return now }}
}

func msg(from string, b esoed.Body) *esoed.Message {
	return &esoed.Message{Header: esoed.Header{Sender: esoed.Participant{Identifier: "000000001", GUID: from},
		Recipient: esoed.Participant{Identifier: "000000002", GUID: self}, MessageGUID: "{55555555-5555-5555-5555-555555555555}"}, Body: b}
}

func registration() esoed.Body {
	return esoed.Body{RegistrationRequest: &esoed.RegistrationRequest{Document: esoed.Document{
		ID: esoed.DocID{GUID: docGUID, Number: &esoed.DocNumber{Number: "ВХ-1"}}, Kind: "Заявление"}}}
}

func statusRequest() esoed.Body {
	return esoed.Body{StatusRequest: &esoed.StatusRequest{DocID: esoed.DocID{GUID: docGUID}}}
}

// Each scenario of the specification: what is answered and what the table keeps.
func TestScenarios(t *testing.T) {
	ctx := context.Background()
	handed := 0
	handOn := func(string, string) error { handed++; return nil }

	f := newFlow()
	out, err := f.StatusRequest(ctx, self, msg(peer, statusRequest()))
	if err != nil || out.Scenario != "ПС.1" || out.Answer.StatusResponse.Status != esoed.StatusNotFound {
		t.Fatalf("status of an unknown document: %+v, %v", out, err)
	}
	out, err = f.Registration(ctx, self, msg(peer, registration()), handOn)
	if err != nil || out.Scenario != "ЗР.2" || out.Answer.StatusResponse.Status != esoed.StatusWaitRegistration || handed != 1 {
		t.Fatalf("first registration: %+v, %v, handed on %d", out, err, handed)
	}
	out, err = f.Registration(ctx, self, msg(peer, registration()), handOn)
	if err != nil || out.Scenario != "ЗР.1" || out.Answer.StatusResponse.Status != esoed.StatusAlreadyReceived || handed != 1 {
		t.Fatalf("second registration: %+v, %v, handed on %d", out, err, handed)
	}
	out, err = f.StatusRequest(ctx, self, msg(peer, statusRequest()))
	if err != nil || out.Scenario != "ПС.4" || out.Answer.StatusResponse.Status != esoed.StatusWaitRegistration {
		t.Errorf("status awaiting registration: %+v, %v", out, err)
	}
	out, err = f.StatusRequest(ctx, self, msg(other, statusRequest()))
	if err != nil || out.Scenario != "ПС.1" {
		t.Errorf("status asked by a participant who did not send the document: %+v, %v; want ПС.1", out, err)
	}
	for status, want := range map[string]string{esoed.StatusRejected: "ПС.3", esoed.StatusRegistered: "ПС.5", esoed.StatusStopped: "ПС.6", esoed.StatusClosed: "ПС.7"} {
		if _, err := f.Table.UpdateIn(ctx, self, docGUID, func(d *InDoc) { d.Status = status }); err != nil {
			t.Fatal(err)
		}
		if out, err := f.StatusRequest(ctx, self, msg(peer, statusRequest())); err != nil || out.Scenario != want || out.Answer.StatusResponse.Status != status {
			t.Errorf("status %s: %+v, %v; want %s", status, out, err, want)
		}
	}

	// ИС: a status response about a document never sent to its sender is refused.
	resp := func(status string) esoed.Body {
		return esoed.Body{StatusResponse: &esoed.StatusResponse{DocID: esoed.DocID{GUID: docGUID}, Status: status}}
	}
	out, err = f.StatusResponse(ctx, self, msg(peer, resp(esoed.StatusRegistered)), handOn)
	if err != nil || out.Scenario != "ИС.1" || out.Answer.Error == nil || handed != 1 {
		t.Fatalf("status response about a document not sent: %+v, %v", out, err)
	}
	if err := f.Table.PutOut(ctx, self, &OutDoc{DocGUID: docGUID, RecipientGUID: peer, Status: OutSent}); err != nil {
		t.Fatal(err)
	}
	out, err = f.StatusResponse(ctx, self, msg(other, resp(esoed.StatusRegistered)), handOn)
	if err != nil || out.Scenario != "ИС.1" {
		t.Errorf("status response from another participant: %+v, %v; want ИС.1", out, err)
	}
	out, err = f.StatusResponse(ctx, self, msg(peer, resp(esoed.StatusRegistered)), handOn)
	if d, _ := f.Table.Out(ctx, self, docGUID); err != nil || out.Scenario != "ИС.5" || d.Status != esoed.StatusRegistered || handed != 2 {
		t.Errorf("registered: %+v, %v, record %+v", out, err, d)
	}
	out, err = f.StatusResponse(ctx, self, msg(peer, resp(esoed.StatusNotFound)), handOn)
	if d, _ := f.Table.Out(ctx, self, docGUID); err != nil || out.Scenario != "ИС.2-7" || d.Status != esoed.StatusRegistered {
		t.Errorf("an unasked \"not found\" must leave the status: %+v, %v, record %+v", out, err, d)
	}

	// ИГ: an error notice about a message never sent is refused; one about a registration
	// request sent fails the document.
	notice := func(guid, typ string) esoed.Body {
		return esoed.Body{Error: &esoed.ErrorNotice{MessageGUID: guid, Type: typ, Description: "x"}}
	}
	sentGUID := "{66666666-6666-6666-6666-666666666666}"
	out, err = f.ErrorNotice(ctx, self, msg(peer, notice(sentGUID, esoed.ErrorExternal)), handOn)
	if err != nil || out.Scenario != "ИГ.1" || out.Answer.Error == nil {
		t.Errorf("error notice about an unknown message: %+v, %v", out, err)
	}
	if err := f.Table.PutMsg(ctx, self, &MsgRec{MessageGUID: sentGUID, Type: esoed.TypeRegistrationRequest, Direction: "out", PeerGUID: peer, DocGUID: docGUID}); err != nil {
		t.Fatal(err)
	}
	out, err = f.ErrorNotice(ctx, self, msg(other, notice(sentGUID, esoed.ErrorExternal)), handOn)
	if err != nil || out.Scenario != "ИГ.1" {
		t.Errorf("error notice from another participant: %+v, %v; want ИГ.1", out, err)
	}
	out, err = f.ErrorNotice(ctx, self, msg(peer, notice(sentGUID, esoed.ErrorInternal)), handOn)
	if d, _ := f.Table.Out(ctx, self, docGUID); err != nil || out.Scenario != "ИГ.2" || d.Status != OutFailed || out.DocGUID != docGUID {
		t.Errorf("recipient's error: %+v, %v, record %+v", out, err, d)
	}
	out, err = f.ErrorNotice(ctx, self, msg(peer, notice(sentGUID, esoed.ErrorExternal)), handOn)
	if err != nil || out.Scenario != "ИГ.3" {
		t.Errorf("sender's error: %+v, %v", out, err)
	}
}

// A message that cannot be handed on to the routes leaves no record: the sender tries again.
func TestRegistrationNotHandedOn(t *testing.T) {
	ctx := context.Background()
	f := newFlow()
	boom := errors.New("boom")
	if _, err := f.Registration(ctx, self, msg(peer, registration()), func(string, string) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if d, err := f.Table.In(ctx, self, docGUID); d != nil || err != nil {
		t.Errorf("record %+v, %v; want none", d, err)
	}
}

// The recipient's status response on a connection of its own can overtake the synchronous
// answer to the registration request: the late "awaiting registration" must not undo it.
func TestLateAnswerDoesNotUndoAStatusChange(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct{ before, sent, answer, want string }{
		{OutSent, esoed.TypeRegistrationRequest, esoed.StatusWaitRegistration, esoed.StatusWaitRegistration},
		{esoed.StatusRegistered, esoed.TypeRegistrationRequest, esoed.StatusWaitRegistration, esoed.StatusRegistered},
		{esoed.StatusClosed, esoed.TypeRegistrationRequest, esoed.StatusWaitRegistration, esoed.StatusClosed},
		// A registration request sent again is "already received" whatever became of it.
		{esoed.StatusRegistered, esoed.TypeRegistrationRequest, esoed.StatusAlreadyReceived, esoed.StatusRegistered},
		{esoed.StatusClosed, esoed.TypeRegistrationRequest, esoed.StatusAlreadyReceived, esoed.StatusClosed},
		{esoed.StatusRejected, esoed.TypeRegistrationRequest, esoed.StatusAlreadyReceived, esoed.StatusRejected},
		{esoed.StatusWaitRegistration, esoed.TypeRegistrationRequest, esoed.StatusAlreadyReceived, esoed.StatusAlreadyReceived},
		{OutSent, esoed.TypeRegistrationRequest, esoed.StatusAlreadyReceived, esoed.StatusAlreadyReceived},
		{OutSent, esoed.TypeRegistrationRequest, esoed.StatusRejected, esoed.StatusRejected},
		// A status request's answer is the recipient's current word.
		{esoed.StatusRegistered, esoed.TypeStatusRequest, esoed.StatusWaitRegistration, esoed.StatusWaitRegistration},
	} {
		d := &OutDoc{Status: tc.before}
		ApplyAnswer(d, tc.sent, &esoed.StatusResponse{DocID: esoed.DocID{GUID: docGUID}, Status: tc.answer}, now)
		if d.Status != tc.want {
			t.Errorf("%s, then the answer %s to %s: %s, want %s", tc.before, tc.answer, tc.sent, d.Status, tc.want)
		}
	}
}
