package dossierconn

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/dossier"
	"github.com/aiskao/aiskao/dossier/core"
	"github.com/aiskao/aiskao/dossier/ident"
	"github.com/aiskao/aiskao/dossier/service"
	"github.com/aiskao/aiskao/dossier/store"
	"github.com/aiskao/aiskao/esoed"
)

// esoedRequest is what the sink reads of an ЕСОЕД registration request, as the demo's esoed-inbox
// route gives it: its key fields, and the whole message converted to JSON under "document".
type esoedRequest struct {
	MessageGUID string `json:"message_guid"`
	Sender      string `json:"sender"`
	DocNumber   string `json:"doc_number"`
	DocKind     string `json:"doc_kind"`
	Document    struct {
		Message struct {
			Header struct {
				Sender    esoedParticipant `json:"Sender"`
				Recipient esoedParticipant `json:"Recipient"`
			} `json:"Header"`
			Body struct {
				Request struct {
					Document esoedDocument `json:"Document"`
				} `json:"DocumentRegistrationRequest"`
			} `json:"Body"`
		} `json:"Message"`
	} `json:"document"`
}

type esoedParticipant struct {
	Identifier string `json:"Identifier"`
	Name       string `json:"AdministrativeBodyName"`
	GUID       string `json:"GUID"`
}

type esoedDocument struct {
	DocID       esoedDocID `json:"DocID"`
	DocParentID esoedDocID `json:"DocParentID"`
	DocKind     string     `json:"DocKind"`
	DocAbout    string     `json:"DocAbout"`
	// Correspondents: one converts to an object, several to an array.
	Correspondents struct {
		Correspondent json.RawMessage `json:"Corespondent"`
	} `json:"DocCorrespondentList"`
	Attachments struct {
		// One attachment converts to an object, several to an array.
		Attachment json.RawMessage `json:"Attachment"`
	} `json:"DocAttachmentList"`
}

type esoedDocID struct {
	GUID   string `json:"DocumentGUID"`
	Number struct {
		DocNumber string `json:"DocNumber"`
	} `json:"DocumentNumber"`
}

type esoedAttachment struct {
	FileName string `json:"AttFileName"`
	Body     string `json:"AttBody"`
	MIMEType string `json:"AttMIMEType"`
}

type esoedCorrespondent struct {
	Name    string `json:"CorName"`
	City    string `json:"CorCity"`
	Address string `json:"CorAddress"`
	EGN     string `json:"CorEGN"`
	BULSTAT string `json:"CorBULSTAT"`
	Email   string `json:"CorEMail"`
	Kind    string `json:"CorKind"`
}

// corApplicant is the CorKind of the correspondent who applies.
const corApplicant = "Corr_Applicant"

// applicant is the party the document is about: the correspondent of kind Corr_Applicant when
// it gives a valid ЕГН (a person) or БУЛСТАТ (a company), so that the service's ex officio checks
// ask about them; else the sending administration, which then applies in its own name.
func (d esoedDocument) applicant(sender esoedParticipant) dossier.Party {
	self := dossier.Party{Kind: dossier.Company, EIK: sender.Identifier, Name: sender.Name}
	var list []esoedCorrespondent
	raw := d.Correspondents.Correspondent
	switch {
	case len(raw) == 0:
	case raw[0] == '[':
		_ = json.Unmarshal(raw, &list) // not the shape expected: no applicant among them
	case raw[0] == '{':
		var one esoedCorrespondent
		if json.Unmarshal(raw, &one) == nil {
			list = append(list, one)
		}
	}
	for _, c := range list {
		if c.Kind != corApplicant || strings.TrimSpace(c.Name) == "" {
			continue
		}
		addr := strings.TrimSpace(strings.Join(nonEmpty(c.City, c.Address), ", "))
		switch {
		case c.EGN != "" && ident.ValidateEGN(c.EGN) == nil:
			return dossier.Party{Kind: dossier.Person, EGN: c.EGN, Name: c.Name, Address: addr, Email: c.Email}
		case c.BULSTAT != "" && ident.ValidateEIK(c.BULSTAT) == nil:
			return dossier.Party{Kind: dossier.Company, EIK: c.BULSTAT, Name: c.Name, Address: addr, Email: c.Email}
		}
	}
	return self
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			out = append(out, strings.TrimSpace(s))
		}
	}
	return out
}

// attachments lists the document's attachments, whether one or several.
func (d esoedDocument) attachments() ([]esoedAttachment, error) {
	raw := d.Attachments.Attachment
	if len(raw) == 0 || string(raw) == "null" || string(raw) == `""` {
		return nil, nil
	}
	var list []esoedAttachment
	if raw[0] == '[' {
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, err
		}
		return list, nil
	}
	var one esoedAttachment
	if err := json.Unmarshal(raw, &one); err != nil {
		return nil, err
	}
	return []esoedAttachment{one}, nil
}

// esoed registers an ЕСОЕД document (ЗР.4–ЗР.6 of the specification): filed into the dossier of
// the document its DocParentID names when that document was received (ЗР.5), else opening a
// dossier for the service its DocKind maps to (ЗР.4, ЗР.6). A document received before (ЗР.1)
// changes nothing.
func (s *sink) esoed(ctx context.Context, msg *message.Message, cause core.Cause) error {
	var r esoedRequest
	if err := json.Unmarshal(msg.Payload, &r); err != nil {
		return bad("the payload is not the JSON of an ЕСОЕД registration request: %v", err)
	}
	doc := r.Document.Message.Body.Request.Document
	guid := doc.DocID.GUID
	if !esoed.ValidGUID(guid) {
		return bad("/document/Message/Body/DocumentRegistrationRequest/Document/DocID/DocumentGUID: %q is not a GUID in braces", guid)
	}
	if _, err := s.n.core.Find(ctx, KeyESOEDDoc, guid); err == nil {
		return nil // ЗР.1: received before
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	docs, err := esoedDocuments(guid, doc, msg.Payload)
	if err != nil {
		return err
	}
	key := store.Key{Kind: KeyESOEDDoc, Value: guid}
	sender, recipient := r.Document.Message.Header.Sender, r.Document.Message.Header.Recipient
	if sender.Identifier == "" {
		sender.Identifier = r.Sender
	}
	by := systemActor(msg, s.name)
	if parent := doc.DocParentID.GUID; parent != "" && parent != guid {
		num, err := s.n.core.Find(ctx, KeyESOEDDoc, parent)
		switch {
		case err == nil: // ЗР.5, and the sender is told under which number (ЗР.7)
			at := s.n.core.Meta(by).At
			sr := &esoed.StatusResponse{Status: esoed.StatusRegistered, DocID: esoed.DocID{GUID: guid, Number: &esoed.DocNumber{Number: num, Date: day(at)}}}
			status, err := statusMessage(sr, at, toParticipant(recipient), toParticipant(sender))
			if err != nil {
				return bad("ЕСОЕД status of %s: %v", guid, err)
			}
			return s.n.core.Do(ctx, num, cause, func(d *dossier.Dossier) ([]dossier.Event, error) {
				var evs []dossier.Event
				for _, fd := range docs {
					fd.Kind = dossier.KindCorrespond
					e, err := d.FileDocument(s.n.core.Meta(by), fd, dossier.Official)
					if err != nil {
						return nil, err
					}
					evs = append(evs, e...)
				}
				return evs, nil
			}, core.Also{Keys: []store.Key{key}, Messages: []store.Message{status}})
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
	}
	// ЗР.4, ЗР.6: a new dossier.
	kind := doc.DocKind
	if kind == "" {
		kind = r.DocKind
	}
	id, ok := s.n.cfg.ESOEDServices[kind]
	if !ok {
		return bad("/doc_kind: no service is configured for the ЕСОЕД document kind %q (esoed_services)", kind)
	}
	svc, _ := s.n.cat.Latest(id)
	if it := applicationItem(svc); it != "" && len(docs) > 0 {
		docs[0].Kind = it
	}
	number := doc.DocID.Number.DocNumber
	if number == "" {
		number = r.DocNumber
	}
	app := dossier.Application{
		Service:    id,
		Channel:    service.ESOED,
		ReceivedAt: s.n.core.Meta(by).At,
		Reference:  number,
		Origin: map[string]string{OriginDocGUID: guid, OriginSender: sender.Identifier, OriginSenderGUID: sender.GUID, OriginSenderName: sender.Name,
			OriginRecipient: recipient.Identifier, OriginRecipientGUID: recipient.GUID, OriginRecipientName: recipient.Name},
		Applicant: doc.applicant(sender),
		Documents: docs,
		Term:      service.Normal,
		Delivery:  dossier.DeliveryChoice{Way: service.Electronic},
	}
	_, err = s.n.core.Register(ctx, core.Input{Application: app, By: by, Keys: []store.Key{key}}, cause)
	if errors.Is(err, store.ErrKeyTaken) {
		return nil // ЗР.1: the same document came in another message at the same time
	}
	return err
}

func toParticipant(p esoedParticipant) esoed.Participant {
	return esoed.Participant{Identifier: p.Identifier, GUID: p.GUID, AdministrativeBodyName: p.Name}
}

// applicationItem is the first required item the applicant brings: what the ЕСОЕД document is.
func applicationItem(svc *service.Service) string {
	for _, it := range svc.Checklist {
		if it.Required && !it.Source.ExOfficio() {
			return it.ID
		}
	}
	return ""
}

// esoedDocuments describes the document's attachments, each checked by the SHA-256 of its
// content; a document without attachments is the message itself, as the hub received it.
func esoedDocuments(guid string, doc esoedDocument, payload []byte) ([]dossier.Document, error) {
	atts, err := doc.attachments()
	if err != nil {
		return nil, bad("/document/Message/Body/DocumentRegistrationRequest/Document/DocAttachmentList: %v", err)
	}
	id := strings.Trim(guid, "{}")
	var out []dossier.Document
	for i, a := range atts {
		body, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(a.Body), ""))
		if err != nil {
			return nil, bad("/document/Message/Body/DocumentRegistrationRequest/Document/DocAttachmentList/Attachment/%d/AttBody: not base64: %v", i, err)
		}
		sum := sha256.Sum256(body)
		mt := a.MIMEType
		if mt == "" {
			mt = "application/octet-stream"
		}
		out = append(out, dossier.Document{ID: fmt.Sprintf("%s/%d", id, i+1), Kind: dossier.KindOther, Name: a.FileName, MediaType: mt, Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:])})
	}
	if len(out) == 0 {
		sum := sha256.Sum256(payload)
		out = append(out, dossier.Document{ID: id, Kind: dossier.KindOther, Name: doc.DocAbout, MediaType: "application/json", Size: int64(len(payload)), SHA256: hex.EncodeToString(sum[:])})
	}
	return out, nil
}
