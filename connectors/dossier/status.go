package dossierconn

import (
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/aiskao/aiskao/dossier"
	"github.com/aiskao/aiskao/dossier/service"
	"github.com/aiskao/aiskao/dossier/store"
	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/esoed"
)

// Origin entries of an application received through ЕСОЕД (dossier.Application.Origin).
const (
	OriginDocGUID       = "esoed_doc_guid"
	OriginSender        = "esoed_sender"
	OriginSenderGUID    = "esoed_sender_guid"
	OriginSenderName    = "esoed_sender_name"
	OriginRecipient     = "esoed_recipient"
	OriginRecipientGUID = "esoed_recipient_guid"
	OriginRecipientName = "esoed_recipient_name"
)

// TypeESOEDStatus is the type of the status responses the source gives for an esoed sink.
const TypeESOEDStatus = "esoed.DocumentStatusResponse"

// MetaESOEDStatus is the status a status response tells, as the esoed_status step names it.
const MetaESOEDStatus = "esoed_status"

// esoedStatuses gives, for a dossier opened from an ЕСОЕД document, the status responses its
// sender is owed (ЗР.7–ЗР.9): registered, with the dossier's number and deadline, when it is
// opened; closed when its work is done; stopped when it was withdrawn or terminated. Unsigned:
// the esoed sink a route sends them to signs them, sends them to the sender and answers status
// requests about the document with the status from then on (ПС.5–ПС.7).
func esoedStatuses(d *dossier.Dossier, evs []dossier.Event) ([]store.Message, error) {
	app := d.Application
	if app.Channel != service.ESOED || app.Origin[OriginDocGUID] == "" {
		return nil, nil
	}
	var out []store.Message
	for _, e := range evs {
		sr := &esoed.StatusResponse{DocID: esoed.DocID{GUID: app.Origin[OriginDocGUID],
			Number: &esoed.DocNumber{Number: d.Number, Date: day(d.RegisteredAt)}}}
		switch p := e.Data.(type) {
		case *dossier.Opened:
			sr.Status = esoed.StatusRegistered
			if !d.Deadline.IsZero() {
				sr.ExpectCloseDate = time.Date(d.Deadline.Year, d.Deadline.Month, d.Deadline.Day, 0, 0, 0, 0, time.UTC)
			}
		case *dossier.Closed:
			sr.Status = esoed.StatusClosed
			if p.Reason != dossier.Completed {
				sr.Status = esoed.StatusStopped
			}
		default:
			continue
		}
		msg, err := statusMessage(sr, e.At,
			esoed.Participant{Identifier: app.Origin[OriginRecipient], GUID: app.Origin[OriginRecipientGUID], AdministrativeBodyName: app.Origin[OriginRecipientName]},
			esoed.Participant{Identifier: app.Origin[OriginSender], GUID: app.Origin[OriginSenderGUID], AdministrativeBodyName: app.Origin[OriginSenderName]})
		if err != nil {
			return nil, fmt.Errorf("ЕСОЕД status %s of %s: %w", sr.Status, d.Number, err)
		}
		out = append(out, msg)
	}
	return out, nil
}

// statusMessage is the unsigned status response sr from one participant to another, dated at.
func statusMessage(sr *esoed.StatusResponse, at time.Time, from, to esoed.Participant) (store.Message, error) {
	raw, err := esoed.Marshal(&esoed.Message{
		Header: esoed.Header{MessageDate: at, Sender: from, Recipient: to, MessageGUID: "{" + uuid.NewString() + "}"},
		Body:   esoed.Body{StatusResponse: sr},
	}, nil)
	if err != nil {
		return store.Message{}, err
	}
	return store.Message{Type: TypeESOEDStatus, Payload: raw, Metadata: map[string]string{
		envelope.ContentType: "application/xml", MetaESOEDStatus: sr.Status}}, nil
}

// day is the date of t in Bulgaria, as ЕСОЕД dates are written.
func day(t time.Time) time.Time {
	d := dossier.Today(t)
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
}
