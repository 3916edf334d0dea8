// Package core runs the dossier domain's commands against a store.Store: it registers
// applications as dossiers with their registration numbers, runs commands on a dossier with
// optimistic concurrency and retry, writes each change with its summary, keys and outbox messages
// in one commit, and raises deadline alerts. It knows the store only by its contract
// (dossier/store), so the embedded SQLite store and the PostgreSQL one serve alike.
//
// Every event becomes an outbox message for the hub (Message): its CloudEvents type is the
// event's type, its subject the dossier's number, its causation id the inbox message that caused
// the change. A relay (store.Relay) publishes them.
package core

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/aiskao/aiskao/dossier"
	"github.com/aiskao/aiskao/dossier/calendar"
	"github.com/aiskao/aiskao/dossier/service"
	"github.com/aiskao/aiskao/dossier/store"
	"github.com/aiskao/aiskao/envelope"
)

// Key kinds the core writes.
const (
	// KeyAccess indexes a dossier by the hash of its access code.
	KeyAccess = "access"
	// KeyInbox indexes a dossier by the message that registered it, so that a redelivered
	// registration finds the dossier it opened.
	KeyInbox = "inbox"
)

// Options configure a Core; Store and Services are required.
type Options struct {
	Store    store.Store
	Services *service.Catalog
	// Calendar counts deadlines (default calendar.Default(), Bulgaria with the shipped moved days).
	Calendar *calendar.Calendar
	// Numbering formats registration numbers (default dossier.DefaultNumbering).
	Numbering dossier.Numbering
	// Clock tells the time (default time.Now).
	Clock func() time.Time
	// Rand makes access codes (default crypto/rand.Reader).
	Rand io.Reader
	// ApplicantKey keys the hash that indexes applicants' dossiers (Summary.Applicant), so that
	// an ЕГН cannot be found from its hash by trying every ЕГН. Processes sharing a store share
	// the key. Required.
	ApplicantKey []byte
	// Near is how many working days before a deadline it counts as near (default 2).
	Near int
	// Messages, when not nil, gives the messages a change causes besides its events' own, written
	// in the same commit: such as the status an application's channel expects when its dossier
	// is registered or closed. It is given the dossier after the change and the change's events;
	// the core fills a message's subject, causation and correlation when it leaves them empty.
	Messages func(d *dossier.Dossier, evs []dossier.Event) ([]store.Message, error)
	// Notify is called after a commit that wrote outbox messages (a Relay's Notify), or nil.
	Notify func()
	// Log receives what goes wrong in the background (default: discarded). Never personal data.
	Log *slog.Logger
}

// Core runs dossier commands against a store. It is safe for concurrent use.
type Core struct {
	opt Options
}

// New checks opt and fills its defaults.
func New(opt Options) (*Core, error) {
	if opt.Store == nil || opt.Services == nil {
		return nil, errors.New("dossier core: a store and a service catalogue are required")
	}
	if len(opt.ApplicantKey) < 16 {
		return nil, errors.New("dossier core: the applicant key must have at least 16 bytes")
	}
	if opt.Calendar == nil {
		cal, err := calendar.Default()
		if err != nil {
			return nil, fmt.Errorf("dossier core: calendar: %w", err)
		}
		opt.Calendar = cal
	}
	if opt.Numbering.String() == "" {
		n, err := dossier.ParseNumbering(dossier.DefaultNumbering)
		if err != nil {
			return nil, fmt.Errorf("dossier core: %w", err)
		}
		opt.Numbering = n
	}
	if opt.Clock == nil {
		opt.Clock = time.Now
	}
	if opt.Rand == nil {
		opt.Rand = rand.Reader
	}
	if opt.Near <= 0 {
		opt.Near = 2
	}
	if opt.Notify == nil {
		opt.Notify = func() {}
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	return &Core{opt: opt}, nil
}

// Meta is the meta of a command that by runs now, counted by the core's calendar.
func (c *Core) Meta(by dossier.Actor) dossier.Meta {
	return dossier.Meta{By: by, At: c.opt.Clock(), Calendar: c.opt.Calendar}
}

// Cause is what caused a change: the consumed message, for the inbox (each is applied once) and
// the messages' causation id, and the flow's correlation id, which the messages keep.
type Cause struct {
	// Inbox is the id of the consumed message; "" when the change has no message behind it
	// (a clerk's command through the API, the deadline watch).
	Inbox string
	// Correlation is the correlation id of the flow; "" starts none.
	Correlation string
}

// Input is an application to register.
type Input struct {
	Application dossier.Application
	// By is who registers it (default: the system).
	By dossier.Actor
	// Keys index the new dossier by outside identifiers, such as the ЕСОЕД document's GUID
	// (kind "esoed-doc"); registering a second dossier under a key fails with store.ErrKeyTaken.
	Keys []store.Key
}

// Registered is the outcome of Register.
type Registered struct {
	Number string
	// AccessCode is given to the applicant once; it is empty when the registration was applied
	// before (Again), since only its hash is kept.
	AccessCode string
	// Again tells that the message was applied before: Number is the dossier it opened then.
	Again bool
}

// Register checks the application against its service, refusing it whole with the domain's
// *dossier.Error (every wrong field) when it is not valid, and opens a dossier with the next
// number of the service's register for the year: events, summary, keys and outbox messages in
// one commit. A registration redelivered with the same Cause.Inbox opens nothing and returns the
// dossier it opened the first time.
func (c *Core) Register(ctx context.Context, in Input, cause Cause) (Registered, error) {
	svc, _ := c.opt.Services.Latest(in.Application.Service) // nil when unknown: Validate says so
	if err := in.Application.Validate(svc); err != nil {
		return Registered{}, err
	}
	if in.By.Kind == "" {
		in.By = dossier.Actor{Kind: dossier.System, ID: "dossier"}
	}
	code, err := dossier.NewAccessCode(c.opt.Rand)
	if err != nil {
		return Registered{}, fmt.Errorf("dossier core: register: %w", err)
	}
	m := c.Meta(in.By)
	var number string
	_, err = c.opt.Store.CommitNumbered(ctx, svc.RegisterIndex, dossier.Today(m.At).Year, func(seq int64) (store.Commit, error) {
		d, evs, err := dossier.Open(m, dossier.OpenRequest{Service: svc, Application: in.Application, Numbering: c.opt.Numbering, Seq: seq, AccessCode: code})
		if err != nil {
			return store.Commit{}, err
		}
		number = d.Number
		cm, err := c.commit(d, 0, evs, cause)
		if err != nil {
			return store.Commit{}, err
		}
		cm.Keys = append(cm.Keys, store.Key{Kind: KeyAccess, Value: d.AccessCodeHash})
		if cause.Inbox != "" {
			cm.Keys = append(cm.Keys, store.Key{Kind: KeyInbox, Value: cause.Inbox})
		}
		cm.Keys = append(cm.Keys, in.Keys...)
		return cm, nil
	})
	if errors.Is(err, store.ErrAlreadyApplied) && cause.Inbox != "" {
		n, ferr := c.opt.Store.FindByKey(ctx, KeyInbox, cause.Inbox)
		if ferr != nil {
			return Registered{}, fmt.Errorf("dossier core: register: applied before, but its dossier: %w", ferr)
		}
		return Registered{Number: n, Again: true}, nil
	}
	if err != nil {
		var derr *dossier.Error
		if errors.As(err, &derr) {
			return Registered{}, err
		}
		return Registered{}, fmt.Errorf("dossier core: register %s: %w", in.Application.Service, err)
	}
	c.opt.Notify()
	return Registered{Number: number, AccessCode: code}, nil
}

// Command runs a domain command on a loaded dossier and returns its events.
type Command func(d *dossier.Dossier) ([]dossier.Event, error)

// maxAttempts bounds the retries of a command that keeps meeting other writers.
const maxAttempts = 10

// Do loads the dossier, runs cmd on it and commits the events with their summary and outbox
// messages. When another writer changed the dossier meanwhile (store.ErrConflict), it loads it
// again and runs cmd again, so cmd must decide from the dossier it is given. A message applied
// before (Cause.Inbox) changes nothing and Do returns nil, as for a command with no events; so
// does one whose command the dossier now refuses, since the first delivery changed it. A
// refusal is the domain's *dossier.Error; an unknown dossier is store.ErrNotFound. The keys and
// messages of also are written with the change, when the command makes one.
func (c *Core) Do(ctx context.Context, number string, cause Cause, cmd Command, also ...Also) error {
	var err error
	for range maxAttempts {
		var d *dossier.Dossier
		d, err = c.Get(ctx, number)
		if err != nil {
			return err
		}
		version := int64(d.Seq)
		var evs []dossier.Event
		evs, err = cmd(d)
		if err != nil || len(evs) == 0 {
			return c.settle(ctx, cause, err)
		}
		var cm store.Commit
		cm, err = c.commit(d, version, evs, cause)
		if err != nil {
			return err
		}
		for _, a := range also {
			cm.Keys = append(cm.Keys, a.Keys...)
			for _, m := range a.Messages {
				cm.Outbox = append(cm.Outbox, c.fill(m, number, cause))
			}
		}
		err = c.opt.Store.Commit(ctx, cm)
		switch {
		case err == nil:
			c.opt.Notify()
			return nil
		case errors.Is(err, store.ErrAlreadyApplied):
			return nil
		case errors.Is(err, store.ErrConflict):
			continue
		}
		return fmt.Errorf("dossier core: %s: %w", number, err)
	}
	return fmt.Errorf("dossier core: %s: gave up after %d attempts: %w", number, maxAttempts, err)
}

// settle ends a command that changed nothing: refused (refusal not nil) or with no events. Its
// message is recorded as applied, so that a redelivery is known as one: the refusal of a
// redelivered message is only the sign that the first delivery changed the dossier, so it
// succeeds; a first delivery keeps its refusal.
func (c *Core) settle(ctx context.Context, cause Cause, refusal error) error {
	if cause.Inbox == "" {
		return refusal
	}
	err := c.opt.Store.Commit(ctx, store.Commit{Inbox: cause.Inbox})
	switch {
	case errors.Is(err, store.ErrAlreadyApplied):
		return nil
	case err != nil:
		return fmt.Errorf("dossier core: record message %s: %w", cause.Inbox, err)
	}
	return refusal
}

// Get loads a dossier by its number, or returns store.ErrNotFound.
func (c *Core) Get(ctx context.Context, number string) (*dossier.Dossier, error) {
	evs, err := c.History(ctx, number)
	if err != nil {
		return nil, err
	}
	d, err := dossier.Replay(evs)
	if err != nil {
		return nil, fmt.Errorf("dossier core: %s: %w", number, err)
	}
	return d, nil
}

// History returns a dossier's events in order, or store.ErrNotFound.
func (c *Core) History(ctx context.Context, number string) ([]dossier.Event, error) {
	stored, err := c.opt.Store.Events(ctx, number, 1)
	if err != nil {
		return nil, fmt.Errorf("dossier core: %s: %w", number, err)
	}
	if len(stored) == 0 {
		return nil, fmt.Errorf("dossier core: %s: %w", number, store.ErrNotFound)
	}
	out := make([]dossier.Event, len(stored))
	for i, se := range stored {
		if out[i], err = decodeEvent(se); err != nil {
			return nil, fmt.Errorf("dossier core: %s: %w", number, err)
		}
	}
	return out, nil
}

// Public is what the applicant sees of dossier number, given its access code; a wrong code and
// an unknown dossier are alike store.ErrNotFound, so that the answer tells nobody which numbers
// exist.
func (c *Core) Public(ctx context.Context, number, accessCode string) (dossier.PublicView, error) {
	d, err := c.Get(ctx, number)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !d.CheckAccessCode(accessCode)) {
		return dossier.PublicView{}, fmt.Errorf("dossier core: %s: %w", number, store.ErrNotFound)
	}
	if err != nil {
		return dossier.PublicView{}, err
	}
	return d.Public(), nil
}

// Find returns the number of the dossier an outside identifier indexes, or store.ErrNotFound.
func (c *Core) Find(ctx context.Context, kind, value string) (string, error) {
	return c.opt.Store.FindByKey(ctx, kind, value)
}

// Tasks returns a page of dossiers' summaries matching q, by deadline: the work lists of units,
// assignees and services. Only dossiers are listed, whatever q.Kind says.
func (c *Core) Tasks(ctx context.Context, q store.Query) (store.Page, error) {
	q.Kind = store.KindDossier
	p, err := c.opt.Store.Dashboard(ctx, q)
	if err != nil {
		return store.Page{}, fmt.Errorf("dossier core: tasks: %w", err)
	}
	return p, nil
}

// Also is what a command's change writes besides its events and their messages.
type Also struct {
	// Keys index the dossier by outside identifiers (store.ErrKeyTaken when one indexes another).
	Keys []store.Key
	// Messages are further messages the change causes, such as the answer its channel expects;
	// the core fills their subject, causation and correlation when they leave them empty.
	Messages []store.Message
}

// fill gives m the subject, type, causation and correlation metadata it leaves empty.
func (c *Core) fill(m store.Message, number string, cause Cause) store.Message {
	md := make(map[string]string, len(m.Metadata)+4)
	for k, v := range m.Metadata {
		md[k] = v
	}
	if m.Subject == "" {
		m.Subject = number
	}
	setDefault(md, envelope.Subject, m.Subject)
	setDefault(md, envelope.Type, m.Type)
	setDefault(md, envelope.CausationID, cause.Inbox)
	setDefault(md, envelope.CorrelationID, cause.Correlation)
	m.Metadata = md
	return m
}

// setDefault sets md[k] to v when it has no value and v is one.
func setDefault(md map[string]string, k, v string) {
	if md[k] == "" && v != "" {
		md[k] = v
	}
}

// ApplicantKey is the key under which Summary.Applicant indexes the dossiers of the party with
// identifier id (an ЕГН, ЛНЧ or ЕИК): a keyed hash, never the identifier itself.
func (c *Core) ApplicantKey(id string) string {
	if id == "" {
		return ""
	}
	h := hmac.New(sha256.New, c.opt.ApplicantKey)
	h.Write([]byte(id))
	return hex.EncodeToString(h.Sum(nil))
}

// commit assembles the commit of evs, made on d (already applied) from version: the events, the
// summary and their messages.
func (c *Core) commit(d *dossier.Dossier, version int64, evs []dossier.Event, cause Cause) (store.Commit, error) {
	cm := store.Commit{Stream: d.Number, Expect: version, Inbox: cause.Inbox}
	for _, e := range evs {
		se, err := encodeEvent(e)
		if err != nil {
			return store.Commit{}, err
		}
		cm.Events = append(cm.Events, se)
		msg, err := message(e, cause)
		if err != nil {
			return store.Commit{}, err
		}
		cm.Outbox = append(cm.Outbox, msg)
	}
	if c.opt.Messages != nil {
		more, err := c.opt.Messages(d, evs)
		if err != nil {
			return store.Commit{}, fmt.Errorf("dossier core: messages of %s: %w", d.Number, err)
		}
		for _, m := range more {
			cm.Outbox = append(cm.Outbox, c.fill(m, d.Number, cause))
		}
	}
	sum := c.summary(d)
	cm.Summary = &sum
	return cm, nil
}
