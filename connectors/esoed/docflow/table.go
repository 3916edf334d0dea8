// Package docflow is the document-status flow of ЕСОЕД: the status table each participant
// keeps of the documents it received and sent, and the transitions of the specification's
// scenarios (ЗР registration, ПС status requests, ИС status responses, ИГ error notices) that
// change it. The connector receives and sends the messages; this package decides what they
// mean for the documents and what to answer.
package docflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aiskao/aiskao/esoed"
	"github.com/aiskao/aiskao/store"
)

// Table is the status table. It keeps, in the store's route state, what the exchange needs to remember per
// participant this connector acts for: the documents received (to answer status requests,
// ПС.1–ПС.7, and to tell a document received twice, ЗР.1), the documents sent (their status at
// the recipient, ИС.1–ИС.7) and the messages received and sent (П.9, И.15, ИГ.1). Its state
// route is "esoed:" and the participant's GUID, so that every connector of one administration
// on one store shares it.
type Table struct {
	st store.State
	mu sync.Mutex // serializes read-modify-write of records within the process
}

// Record states of a document sent that are not a DocumentStatusType of the specification.
const (
	OutSent   = "sent"   // accepted by the recipient (an empty answer), no status known yet
	OutFailed = "failed" // the exchange failed and is not retried
)

// InDoc is a document received.
type InDoc struct {
	DocGUID     string      `json:"doc_guid"`
	DocID       esoed.DocID `json:"doc_id"` // as the sender identified it
	Kind        string      `json:"kind,omitempty"`
	Sender      string      `json:"sender"`
	SenderGUID  string      `json:"sender_guid"`
	MessageGUID string      `json:"message_guid"`
	Received    time.Time   `json:"received"`
	// Status is the document's DocumentStatusType here; it changes as status responses about
	// it are sent (the dossier core registering, refusing, closing it).
	Status          string       `json:"status"`
	Registered      *esoed.DocID `json:"registered,omitempty"` // number or УРИ it was registered under here
	RejectionReason string       `json:"rejection_reason,omitempty"`
	ExpectCloseDate time.Time    `json:"expect_close_date,omitzero"`
	Updated         time.Time    `json:"updated"`
}

// OutDoc is a document sent.
type OutDoc struct {
	DocGUID       string      `json:"doc_guid"`
	DocID         esoed.DocID `json:"doc_id"`
	Recipient     string      `json:"recipient"`
	RecipientGUID string      `json:"recipient_guid"`
	MessageGUID   string      `json:"message_guid"`
	// Status is OutSent, OutFailed or the DocumentStatusType the recipient last told.
	Status          string       `json:"status"`
	Remote          *esoed.DocID `json:"remote,omitempty"` // number or УРИ at the recipient
	RejectionReason string       `json:"rejection_reason,omitempty"`
	ExpectCloseDate time.Time    `json:"expect_close_date,omitzero"`
	Error           string       `json:"error,omitempty"`
	Attempts        int          `json:"attempts"`
	NextAttempt     time.Time    `json:"next_attempt,omitzero"`
	Updated         time.Time    `json:"updated"`
}

// MsgRec is a message received or sent.
type MsgRec struct {
	MessageGUID string    `json:"message_guid"`
	Type        string    `json:"type"`
	Direction   string    `json:"direction"` // "in" or "out"
	Peer        string    `json:"peer"`      // ЕИК/БУЛСТАТ of the other participant
	PeerGUID    string    `json:"peer_guid"`
	DocGUID     string    `json:"doc_guid,omitempty"`
	Time        time.Time `json:"time"`
}

func ns(self string) string { return "esoed:" + NormGUID(self) }

// NormGUID returns a GUID lower case without braces, for keys and comparisons.
func NormGUID(g string) string { return strings.ToLower(strings.Trim(strings.TrimSpace(g), "{}")) }

// SameParticipant compares two participants by GUID and ЕИК/БУЛСТАТ, as the specification
// requires.
func SameParticipant(a, b esoed.Participant) bool {
	return a.Identifier == b.Identifier && NormGUID(a.GUID) != "" && NormGUID(a.GUID) == NormGUID(b.GUID)
}

func (t *Table) get(ctx context.Context, self, key string, v any) (bool, error) {
	raw, err := t.st.GetState(ctx, ns(self), key)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("status table: %w", err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return false, fmt.Errorf("status table: %s: %w", key, err)
	}
	return true, nil
}

func (t *Table) put(ctx context.Context, self, key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("status table: %s: %w", key, err)
	}
	if err := t.st.PutState(context.WithoutCancel(ctx), ns(self), key, raw); err != nil {
		return fmt.Errorf("status table: %w", err)
	}
	return nil
}

// In returns the record of document doc received by self, or nil.
func (t *Table) In(ctx context.Context, self, doc string) (*InDoc, error) {
	var d InDoc
	ok, err := t.get(ctx, self, "in/"+NormGUID(doc), &d)
	if !ok {
		return nil, err
	}
	return &d, nil
}

// Out returns the record of document doc sent by self, or nil.
func (t *Table) Out(ctx context.Context, self, doc string) (*OutDoc, error) {
	var d OutDoc
	ok, err := t.get(ctx, self, "out/"+NormGUID(doc), &d)
	if !ok {
		return nil, err
	}
	return &d, nil
}

// Msg returns the record of the message guid received or sent by self, or nil.
func (t *Table) Msg(ctx context.Context, self, guid string) (*MsgRec, error) {
	var m MsgRec
	ok, err := t.get(ctx, self, "msg/"+NormGUID(guid), &m)
	if !ok {
		return nil, err
	}
	return &m, nil
}

// PutIn stores the record of a document received.
func (t *Table) PutIn(ctx context.Context, self string, d *InDoc) error {
	return t.put(ctx, self, "in/"+NormGUID(d.DocGUID), d)
}

// PutOut stores the record of a document sent.
func (t *Table) PutOut(ctx context.Context, self string, d *OutDoc) error {
	return t.put(ctx, self, "out/"+NormGUID(d.DocGUID), d)
}

// PutMsg stores the record of a message received or sent.
func (t *Table) PutMsg(ctx context.Context, self string, m *MsgRec) error {
	return t.put(ctx, self, "msg/"+NormGUID(m.MessageGUID), m)
}

// UpdateIn applies f to the record of a document received, under the table's lock; it reports
// false when there is none.
func (t *Table) UpdateIn(ctx context.Context, self, doc string, f func(*InDoc)) (bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	d, err := t.In(ctx, self, doc)
	if d == nil || err != nil {
		return false, err
	}
	f(d)
	return true, t.PutIn(ctx, self, d)
}

// UpdateOut applies f to the record of a document sent, creating it from init when absent (a
// nil init: not created).
func (t *Table) UpdateOut(ctx context.Context, self, doc string, init *OutDoc, f func(*OutDoc)) (bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	d, err := t.Out(ctx, self, doc)
	if err != nil {
		return false, err
	}
	if d == nil {
		if init == nil {
			return false, nil
		}
		d = init
	}
	f(d)
	return true, t.PutOut(ctx, self, d)
}

// Seen reports whether a message with the GUID was received or sent by any of selves.
func (t *Table) Seen(ctx context.Context, selves []esoed.Participant, guid string) (bool, error) {
	for _, s := range selves {
		m, err := t.Msg(ctx, s.GUID, guid)
		if err != nil {
			return false, err
		}
		if m != nil {
			return true, nil
		}
	}
	return false, nil
}

// Locks serializes the work on one key (a MessageGUID) across requests.
type Locks struct {
	mu   sync.Mutex
	held map[string]chan struct{}
}

// Lock waits until key is free or ctx is done, and returns the unlock function.
func (k *Locks) Lock(ctx context.Context, key string) (func(), error) {
	for {
		k.mu.Lock()
		if k.held == nil {
			k.held = map[string]chan struct{}{}
		}
		ch, busy := k.held[key]
		if !busy {
			ch = make(chan struct{})
			k.held[key] = ch
			k.mu.Unlock()
			return func() {
				k.mu.Lock()
				delete(k.held, key)
				k.mu.Unlock()
				close(ch)
			}, nil
		}
		k.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// NewTable returns the status table kept in st's route state.
func NewTable(st store.State) *Table { return &Table{st: st} }
