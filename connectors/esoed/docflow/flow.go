package docflow

import (
	"context"
	"time"

	"github.com/aiskao/aiskao/esoed"
)

// Flow applies the specification's scenarios to the status table of the participants a
// connector acts for.
type Flow struct {
	// Table is the status table.
	Table *Table
	// Locks serializes the work on one document across requests.
	Locks *Locks
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Outcome is how the flow handled a message.
type Outcome struct {
	// Scenario names the case of the specification: ЗР.n, ПС.n, ИС.n or ИГ.n.
	Scenario string
	// Answer is the answering message; zero for an empty answer.
	Answer esoed.Body
	// DocGUID is the document the message concerns, if any.
	DocGUID string
}

// HandOn gives a message accepted to the routes, naming its document's GUID and its number
// at the sender ("" when unknown), and returns once it is stored.
type HandOn func(docGUID, docNumber string) error

func (f *Flow) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// Registration handles a DocumentRegistrationRequest received by self (ЗР.1, ЗР.2): a document
// received before is answered with its status; a new one goes to the routes (the dossier core
// registers it later and tells the sender with a status response) and is answered as awaiting
// registration.
func (f *Flow) Registration(ctx context.Context, self string, m *esoed.Message, handOn HandOn) (Outcome, error) {
	doc := m.Body.RegistrationRequest.Document
	res := Outcome{DocGUID: doc.ID.GUID}
	// Two messages with one document at the same time: the second must find the first's record.
	unlock, err := f.Locks.Lock(ctx, "doc/"+NormGUID(doc.ID.GUID))
	if err != nil {
		return res, err
	}
	defer unlock()
	rec, err := f.Table.In(ctx, self, doc.ID.GUID)
	if err != nil {
		return res, err
	}
	if rec != nil {
		res.Scenario = "ЗР.1"
		id := rec.DocID
		if rec.Registered != nil {
			id = *rec.Registered
		}
		id.GUID = doc.ID.GUID
		res.Answer.StatusResponse = &esoed.StatusResponse{DocID: id, Status: esoed.StatusAlreadyReceived}
		return res, nil
	}
	if err := handOn(doc.ID.GUID, DocNumber(doc.ID)); err != nil {
		return res, err
	}
	now := f.now()
	err = f.Table.PutIn(ctx, self, &InDoc{DocGUID: doc.ID.GUID, DocID: doc.ID, Kind: doc.Kind, Sender: m.Header.Sender.Identifier,
		SenderGUID: m.Header.Sender.GUID, MessageGUID: m.Header.MessageGUID, Received: now, Status: esoed.StatusWaitRegistration, Updated: now})
	if err != nil {
		return res, err
	}
	res.Scenario = "ЗР.2"
	res.Answer.StatusResponse = &esoed.StatusResponse{DocID: doc.ID, Status: esoed.StatusWaitRegistration}
	return res, nil
}

// StatusRequest answers a DocumentStatusRequest received by self from the status table
// (ПС.1–ПС.7).
func (f *Flow) StatusRequest(ctx context.Context, self string, m *esoed.Message) (Outcome, error) {
	asked := m.Body.StatusRequest.DocID
	res := Outcome{DocGUID: asked.GUID}
	rec, err := f.Table.In(ctx, self, asked.GUID)
	if err != nil {
		return res, err
	}
	if rec != nil && NormGUID(rec.SenderGUID) != NormGUID(m.Header.Sender.GUID) {
		rec = nil // a document another participant sent is none of this one's business
	}
	resp := &esoed.StatusResponse{DocID: asked}
	registered := func() {
		if rec.Registered != nil {
			resp.DocID = *rec.Registered
			resp.DocID.GUID = asked.GUID
		}
	}
	switch {
	case rec == nil:
		res.Scenario, resp.Status = "ПС.1", esoed.StatusNotFound
	case rec.Status == esoed.StatusAlreadyReceived:
		res.Scenario, resp.Status = "ПС.2", rec.Status
		registered()
	case rec.Status == esoed.StatusRejected:
		res.Scenario, resp.Status, resp.RejectionReason = "ПС.3", rec.Status, rec.RejectionReason
	case rec.Status == esoed.StatusRegistered:
		res.Scenario, resp.Status, resp.ExpectCloseDate = "ПС.5", rec.Status, rec.ExpectCloseDate
		registered()
	case rec.Status == esoed.StatusStopped:
		res.Scenario, resp.Status = "ПС.6", rec.Status
		registered()
	case rec.Status == esoed.StatusClosed:
		res.Scenario, resp.Status = "ПС.7", rec.Status
		registered()
	default:
		res.Scenario, resp.Status = "ПС.4", esoed.StatusWaitRegistration
	}
	res.Answer.StatusResponse = resp
	return res, nil
}

// StatusResponse records what a recipient tells self of a document sent to it (ИС.1–ИС.7) and
// hands the message to the routes.
func (f *Flow) StatusResponse(ctx context.Context, self string, m *esoed.Message, handOn HandOn) (Outcome, error) {
	sr := m.Body.StatusResponse
	res := Outcome{DocGUID: sr.DocID.GUID}
	rec, err := f.Table.Out(ctx, self, sr.DocID.GUID)
	if err != nil {
		return res, err
	}
	if rec == nil || NormGUID(rec.RecipientGUID) != NormGUID(m.Header.Sender.GUID) {
		res.Scenario = "ИС.1"
		res.Answer.Error = &esoed.ErrorNotice{MessageGUID: m.Header.MessageGUID, Type: esoed.ErrorExternal,
			Description: "Документ с GUID " + sr.DocID.GUID + " не е изпращан до вас / no document with GUID " + sr.DocID.GUID + " was sent to you"}
		return res, nil
	}
	if err := handOn(sr.DocID.GUID, DocNumber(sr.DocID)); err != nil {
		return res, err
	}
	res.Scenario = statusScenario[sr.Status]
	if sr.Status == esoed.StatusNotFound {
		// "Not found" answers a status request (ПС.1); sent unasked it says nothing of the
		// document's state, and the status recorded stands.
		return res, nil
	}
	_, err = f.Table.UpdateOut(ctx, self, sr.DocID.GUID, nil, func(d *OutDoc) { ApplyStatus(d, sr, f.now()) })
	return res, err
}

// statusScenario names the handling of a status response by the status it tells.
var statusScenario = map[string]string{
	esoed.StatusAlreadyReceived:  "ИС.2",
	esoed.StatusWaitRegistration: "ИС.3",
	esoed.StatusRejected:         "ИС.4",
	esoed.StatusRegistered:       "ИС.5",
	esoed.StatusStopped:          "ИС.6",
	esoed.StatusClosed:           "ИС.7",
	esoed.StatusNotFound:         "ИС.2-7",
}

// ErrorNotice handles an Error message received by self (ИГ.1–ИГ.3): the exchange of the message
// it names failed.
func (f *Flow) ErrorNotice(ctx context.Context, self string, m *esoed.Message, handOn HandOn) (Outcome, error) {
	en := m.Body.Error
	res := Outcome{}
	var sent *MsgRec
	if en.MessageGUID != "" {
		rec, err := f.Table.Msg(ctx, self, en.MessageGUID)
		if err != nil {
			return res, err
		}
		if rec != nil && rec.Direction == "out" && NormGUID(rec.PeerGUID) == NormGUID(m.Header.Sender.GUID) {
			sent = rec
		}
	}
	if sent == nil {
		res.Scenario = "ИГ.1"
		res.Answer.Error = &esoed.ErrorNotice{MessageGUID: m.Header.MessageGUID, Type: esoed.ErrorExternal,
			Description: "Съобщение с GUID " + en.MessageGUID + " не е изпращано до вас / no message with GUID " + en.MessageGUID + " was sent to you"}
		return res, nil
	}
	res.DocGUID = sent.DocGUID
	if err := handOn(sent.DocGUID, ""); err != nil {
		return res, err
	}
	res.Scenario = "ИГ.3"
	side := "грешка при подателя / sender's error"
	if en.Type == esoed.ErrorInternal {
		res.Scenario, side = "ИГ.2", "грешка при получателя / recipient's error"
	}
	var err error
	if sent.DocGUID != "" && sent.Type == esoed.TypeRegistrationRequest {
		_, err = f.Table.UpdateOut(ctx, self, sent.DocGUID, nil, func(d *OutDoc) {
			d.Status, d.Error, d.Updated = OutFailed, side+": "+en.Type+": "+en.Description, f.now()
		})
	}
	return res, err
}

// ApplyStatus records a status the recipient told of a document sent to it. What an earlier
// status said (a rejection reason, an expected close date) does not outlive it; the number at
// the recipient does.
func ApplyStatus(d *OutDoc, sr *esoed.StatusResponse, now time.Time) {
	d.Status, d.Updated = sr.Status, now
	d.RejectionReason, d.ExpectCloseDate = "", time.Time{}
	switch sr.Status {
	case esoed.StatusAlreadyReceived, esoed.StatusRegistered, esoed.StatusStopped, esoed.StatusClosed:
		id := sr.DocID
		d.Remote = &id
	}
	if sr.Status == esoed.StatusRejected {
		d.RejectionReason = sr.RejectionReason
	}
	if sr.Status == esoed.StatusRegistered {
		d.ExpectCloseDate = sr.ExpectCloseDate
	}
}

// ApplyAnswer records the status the synchronous answer to a message of type sent told. The
// recipient may tell a change (registered, closed) on a connection of its own before the answer
// to the registration request is read; its "awaiting registration" then comes late and must not
// undo it. A registration request sent again is answered "already received" (ЗР.1) whatever
// became of the document: a state recorded since (registered, stopped, closed, rejected) is
// kept. The answer to a status request is the recipient's current word and always counts.
func ApplyAnswer(d *OutDoc, sent string, sr *esoed.StatusResponse, now time.Time) {
	if sent == esoed.TypeRegistrationRequest {
		switch {
		case sr.Status == esoed.StatusWaitRegistration && d.Status != OutSent && d.Status != OutFailed && d.Status != "":
			return
		case sr.Status == esoed.StatusAlreadyReceived && settled(d.Status):
			id := sr.DocID
			d.Remote, d.Updated = &id, now
			return
		}
	}
	ApplyStatus(d, sr, now)
}

// settled reports whether a status is one the document reaches after it is received.
func settled(status string) bool {
	switch status {
	case esoed.StatusRegistered, esoed.StatusStopped, esoed.StatusClosed, esoed.StatusRejected:
		return true
	}
	return false
}

// DocNumber is a document's number at its sender, or "".
func DocNumber(id esoed.DocID) string {
	if id.Number != nil {
		return id.Number.Number
	}
	return ""
}
