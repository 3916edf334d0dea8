package dossierconn

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/dossier"
	"github.com/aiskao/aiskao/dossier/core"
	"github.com/aiskao/aiskao/dossier/service"
	dstore "github.com/aiskao/aiskao/dossier/store"
	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/fault"
)

// Envelope types the sink takes.
const (
	TypeESOEDRegistration = "esoed.DocumentRegistrationRequest"
	TypeApplication       = "application.Submitted"
	TypePayment           = "payment.Confirmed"
	TypeCommand           = "dossier.Command"
)

// MetaOutcome, on the answer to a system task request, says "unavailable" when the register or
// administration has no data; anything else is taken as received.
const MetaOutcome = "dossier_outcome"

type sink struct {
	n    *node
	name string
}

func newSink(cfg any, env connectors.Env) (*sink, error) {
	n, err := newNode("sink", cfg, env)
	if err != nil {
		return nil, err
	}
	if n.cfg.API != nil {
		if err := serveAPI(n, env); err != nil {
			_ = n.close()
			return nil, fmt.Errorf("dossier sink %s: %w", env.Name, err)
		}
	}
	return &sink{n: n, name: env.Name}, nil
}

// Close closes the dossier store.
func (s *sink) Close() error { return s.n.close() }

// Send applies one message to the dossiers, once.
func (s *sink) Send(ctx context.Context, msg *message.Message) error {
	cause := core.Cause{Inbox: msg.UUID, Correlation: msg.Metadata.Get(envelope.CorrelationID)}
	typ := msg.Metadata.Get(envelope.Type)
	var err error
	switch {
	case typ == TypeESOEDRegistration:
		err = s.esoed(ctx, msg, cause)
	case typ == TypeApplication:
		err = s.application(ctx, msg, cause)
	case typ == TypePayment:
		err = s.payment(ctx, msg, cause)
	case typ == TypeCommand:
		err = s.command(ctx, msg, cause)
	case msg.Metadata.Get(core.MetaItem) != "":
		err = s.answer(ctx, msg, cause)
	default:
		err = fault.Permanent(fmt.Errorf("dossier sink %s: message type %q is none the sink takes (%s, %s, %s, %s, or an answer with %s)",
			s.name, typ, TypeESOEDRegistration, TypeApplication, TypePayment, TypeCommand, core.MetaItem))
	}
	return classify(s.name, typ, err)
}

// classify marks what retrying cannot mend as permanent: the domain's refusals (with their
// fields), an unknown dossier, a key of another dossier, malformed input.
func classify(name, typ string, err error) error {
	if err == nil || fault.IsPermanent(err) {
		return err
	}
	var derr *dossier.Error
	if errors.As(err, &derr) || errors.Is(err, dstore.ErrNotFound) || errors.Is(err, dstore.ErrKeyTaken) || errors.Is(err, dstore.ErrInvalid) {
		return fault.Permanent(fmt.Errorf("dossier sink %s: %s: %w", name, typ, err))
	}
	return fmt.Errorf("dossier sink %s: %s: %w", name, typ, err)
}

// bad is a permanent error about the message's input.
func bad(format string, args ...any) error { return fault.Permanent(fmt.Errorf(format, args...)) }

// decode reads a JSON payload strictly into v.
func decode(msg *message.Message, v any) error {
	if err := decodeJSON(msg.Payload, v); err != nil {
		return bad("the payload is not the JSON expected: %v", err)
	}
	return nil
}

// decodeJSON reads b into v, refusing names v does not have: a misspelt field is an error, not
// a value silently left out.
func decodeJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// systemActor is the actor of what comes through the hub: the connector's messages' source.
func systemActor(msg *message.Message, fallback string) dossier.Actor {
	id := msg.Metadata.Get(envelope.Source)
	if id == "" {
		id = fallback
	}
	return dossier.Actor{Kind: dossier.System, ID: id}
}

// application opens a dossier for an application: the payload is the domain's application, or
// an object holding it under "application".
func (s *sink) application(ctx context.Context, msg *message.Message, cause core.Cause) error {
	var app dossier.Application
	var top map[string]json.RawMessage
	if err := json.Unmarshal(msg.Payload, &top); err != nil {
		return bad("the payload is not a JSON object: %v", err)
	}
	if inner, ok := top["application"]; ok {
		if err := decodeJSON(inner, &app); err != nil {
			return bad("/application: %v", err)
		}
	} else if err := decodeJSON(msg.Payload, &app); err != nil {
		return bad("the payload is not an application: %v", err)
	}
	if app.Channel == "" {
		app.Channel = service.Portal
	}
	if app.ReceivedAt.IsZero() {
		app.ReceivedAt = s.n.core.Meta(dossier.Actor{}).At
	}
	_, err := s.n.core.Register(ctx, core.Input{Application: app, By: systemActor(msg, s.name)}, cause)
	return err
}

// number is the dossier a message is about: the one its payload names, else its subject.
func number(msg *message.Message, fromPayload string) (string, error) {
	if fromPayload != "" {
		return fromPayload, nil
	}
	if n := msg.Metadata.Get(envelope.Subject); n != "" {
		return n, nil
	}
	return "", bad("the message names no dossier: set its subject to the registration number")
}

// answer completes a checklist item with the answer to a system task request: the payload is
// the answer, filed in the dossier's internal section.
func (s *sink) answer(ctx context.Context, msg *message.Message, cause core.Cause) error {
	num, err := number(msg, "")
	if err != nil {
		return err
	}
	item := msg.Metadata.Get(core.MetaItem)
	outcome := dossier.Received
	if msg.Metadata.Get(MetaOutcome) == string(dossier.Unavailable) {
		outcome = dossier.Unavailable
	}
	var doc *dossier.Document
	if outcome == dossier.Received {
		sum := sha256.Sum256(msg.Payload)
		ct := msg.Metadata.Get(envelope.ContentType)
		if ct == "" {
			ct = "application/json"
		}
		name := msg.Metadata.Get(core.MetaOperation)
		if name == "" {
			name = item
		}
		doc = &dossier.Document{ID: "answer-" + msg.UUID, Kind: dossier.KindRegister, Name: name, MediaType: ct, Size: int64(len(msg.Payload)), SHA256: hex.EncodeToString(sum[:])}
	}
	by := systemActor(msg, s.name)
	return s.n.core.Do(ctx, num, cause, func(d *dossier.Dossier) ([]dossier.Event, error) {
		return d.CompleteItem(s.n.core.Meta(by), item, outcome, doc)
	})
}

// payment marks a dossier's fee paid.
func (s *sink) payment(ctx context.Context, msg *message.Message, cause core.Cause) error {
	var p struct {
		Dossier   string        `json:"dossier"`
		Amount    service.Money `json:"amount_cents"`
		Reference string        `json:"reference"`
	}
	if err := decode(msg, &p); err != nil {
		return err
	}
	num, err := number(msg, p.Dossier)
	if err != nil {
		return err
	}
	by := systemActor(msg, s.name)
	return s.n.core.Do(ctx, num, cause, func(d *dossier.Dossier) ([]dossier.Event, error) {
		return d.MarkFeePaid(s.n.core.Meta(by), p.Amount, p.Reference)
	})
}
