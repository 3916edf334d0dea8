package esoedconn

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

// The status table keeps, in the store's route state, what the exchange needs to remember per
// participant this connector acts for: the documents received (to answer status requests,
// ПС.1–ПС.7, and to tell a document received twice, ЗР.1), the documents sent (their status at
// the recipient, ИС.1–ИС.7) and the messages received and sent (П.9, И.15, ИГ.1). Its state
// route is "esoed:" and the participant's GUID, so that every connector of one administration
// on one store shares it.
type table struct {
	st store.Store
	mu sync.Mutex // serializes read-modify-write of records within the process
}

// Record states of a document sent that are not a DocumentStatusType of the specification.
const (
	outSent   = "sent"   // accepted by the recipient (an empty answer), no status known yet
	outFailed = "failed" // the exchange failed and is not retried
)

// inDoc is a document received.
type inDoc struct {
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

// outDoc is a document sent.
type outDoc struct {
	DocGUID       string      `json:"doc_guid"`
	DocID         esoed.DocID `json:"doc_id"`
	Recipient     string      `json:"recipient"`
	RecipientGUID string      `json:"recipient_guid"`
	MessageGUID   string      `json:"message_guid"`
	// Status is outSent, outFailed or the DocumentStatusType the recipient last told.
	Status          string       `json:"status"`
	Remote          *esoed.DocID `json:"remote,omitempty"` // number or УРИ at the recipient
	RejectionReason string       `json:"rejection_reason,omitempty"`
	ExpectCloseDate time.Time    `json:"expect_close_date,omitzero"`
	Error           string       `json:"error,omitempty"`
	Attempts        int          `json:"attempts"`
	NextAttempt     time.Time    `json:"next_attempt,omitzero"`
	Updated         time.Time    `json:"updated"`
}

// msgRec is a message received or sent.
type msgRec struct {
	MessageGUID string    `json:"message_guid"`
	Type        string    `json:"type"`
	Direction   string    `json:"direction"` // "in" or "out"
	Peer        string    `json:"peer"`      // ЕИК/БУЛСТАТ of the other participant
	PeerGUID    string    `json:"peer_guid"`
	DocGUID     string    `json:"doc_guid,omitempty"`
	Time        time.Time `json:"time"`
}

func ns(self string) string { return "esoed:" + normGUID(self) }

// normGUID returns a GUID lower case without braces, for keys and comparisons.
func normGUID(g string) string { return strings.ToLower(strings.Trim(strings.TrimSpace(g), "{}")) }

// sameParticipant compares two participants by GUID and ЕИК/БУЛСТАТ, as the specification
// requires.
func sameParticipant(a, b esoed.Participant) bool {
	return a.Identifier == b.Identifier && normGUID(a.GUID) != "" && normGUID(a.GUID) == normGUID(b.GUID)
}

func (t *table) get(ctx context.Context, self, key string, v any) (bool, error) {
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

func (t *table) put(ctx context.Context, self, key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("status table: %s: %w", key, err)
	}
	if err := t.st.PutState(context.WithoutCancel(ctx), ns(self), key, raw); err != nil {
		return fmt.Errorf("status table: %w", err)
	}
	return nil
}

func (t *table) in(ctx context.Context, self, doc string) (*inDoc, error) {
	var d inDoc
	ok, err := t.get(ctx, self, "in/"+normGUID(doc), &d)
	if !ok {
		return nil, err
	}
	return &d, nil
}

func (t *table) out(ctx context.Context, self, doc string) (*outDoc, error) {
	var d outDoc
	ok, err := t.get(ctx, self, "out/"+normGUID(doc), &d)
	if !ok {
		return nil, err
	}
	return &d, nil
}

func (t *table) msg(ctx context.Context, self, guid string) (*msgRec, error) {
	var m msgRec
	ok, err := t.get(ctx, self, "msg/"+normGUID(guid), &m)
	if !ok {
		return nil, err
	}
	return &m, nil
}

func (t *table) putIn(ctx context.Context, self string, d *inDoc) error {
	return t.put(ctx, self, "in/"+normGUID(d.DocGUID), d)
}

func (t *table) putOut(ctx context.Context, self string, d *outDoc) error {
	return t.put(ctx, self, "out/"+normGUID(d.DocGUID), d)
}

func (t *table) putMsg(ctx context.Context, self string, m *msgRec) error {
	return t.put(ctx, self, "msg/"+normGUID(m.MessageGUID), m)
}

// updateIn applies f to the record of a document received, under the table's lock; it reports
// false when there is none.
func (t *table) updateIn(ctx context.Context, self, doc string, f func(*inDoc)) (bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	d, err := t.in(ctx, self, doc)
	if d == nil || err != nil {
		return false, err
	}
	f(d)
	return true, t.putIn(ctx, self, d)
}

// updateOut applies f to the record of a document sent, creating it from init when absent (a
// nil init: not created).
func (t *table) updateOut(ctx context.Context, self, doc string, init *outDoc, f func(*outDoc)) (bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	d, err := t.out(ctx, self, doc)
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
	return true, t.putOut(ctx, self, d)
}

// seen reports whether a message with the GUID was received or sent by any of selves.
func (t *table) seen(ctx context.Context, selves []esoed.Participant, guid string) (bool, error) {
	for _, s := range selves {
		m, err := t.msg(ctx, s.GUID, guid)
		if err != nil {
			return false, err
		}
		if m != nil {
			return true, nil
		}
	}
	return false, nil
}

// keyLocks serializes the work on one key (a MessageGUID) across requests.
type keyLocks struct {
	mu   sync.Mutex
	held map[string]chan struct{}
}

// lock waits until key is free or ctx is done, and returns the unlock function.
func (k *keyLocks) lock(ctx context.Context, key string) (func(), error) {
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
