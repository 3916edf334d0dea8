// Package store defines what the hub keeps besides messages in flight: dead letters, idempotency
// keys, route state and the journal. Implementations register themselves by type name ("sqlite",
// "postgres"); the engine knows only the interface. Lookups helps them answer the idempotency
// lookups made at the same time with one query.
package store

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/aiskao/aiskao/internal/registry"
)

// ErrNotFound is returned when a dead letter or a state key does not exist.
var ErrNotFound = errors.New("not found")

// DeadLetter is a message that a route could not process after its last retry, kept with the
// reason so that operations staff can look at it, fix the route and replay it.
type DeadLetter struct {
	ID        string            `json:"id"`         // id of the dead letter (not of the message)
	MessageID string            `json:"message_id"` // id of the failed message
	Route     string            `json:"route"`
	Step      string            `json:"step"` // the failing step, for example "steps[2].json_schema" or "to[0].outbox"
	Error     string            `json:"error"`
	Attempts  int               `json:"attempts"`
	Time      time.Time         `json:"time"` // when the message was dead-lettered
	Metadata  map[string]string `json:"metadata,omitempty"`
	Payload   []byte            `json:"payload,omitempty"`
}

// Filter narrows a dead-letter listing.
type Filter struct {
	Route string // only this route when not empty
	Limit int    // at most this many, newest first; 0 means 100
}

// Store keeps dead letters, idempotency keys and route state durably. It is safe for concurrent use.
type Store interface {
	// AddDeadLetter stores d; it fills d.ID and d.Time when empty and returns the id.
	AddDeadLetter(ctx context.Context, d DeadLetter) (string, error)
	// ListDeadLetters returns dead letters, newest first, without payloads.
	ListDeadLetters(ctx context.Context, f Filter) ([]DeadLetter, error)
	// GetDeadLetter returns one dead letter with its payload, or ErrNotFound.
	GetDeadLetter(ctx context.Context, id string) (DeadLetter, error)
	// DeleteDeadLetter removes one dead letter, or returns ErrNotFound.
	DeleteDeadLetter(ctx context.Context, id string) error
	// CountDeadLetters returns the number of dead letters per route.
	CountDeadLetters(ctx context.Context) (map[string]int, error)

	// Seen reports whether key was marked in scope and has not expired.
	Seen(ctx context.Context, scope, key string) (bool, error)
	// Mark records key in scope until ttl has passed. Marks may be grouped into one commit with
	// others; Mark returns when the mark is durable.
	Mark(ctx context.Context, scope, key string, ttl time.Duration) error

	State
	Journal
	// ListJournal returns journal entries, newest first.
	ListJournal(ctx context.Context, f JournalFilter) ([]JournalEntry, error)

	// Ping reports whether the store can be used, for readiness.
	Ping(ctx context.Context) error
	// Close releases the store.
	Close() error
}

// State keeps small values per route and key that outlive a restart: a poller's cursor, a
// connector's status table.
type State interface {
	// GetState returns the value of a route's state key, or ErrNotFound.
	GetState(ctx context.Context, route, key string) ([]byte, error)
	// PutState sets the value of a route's state key.
	PutState(ctx context.Context, route, key string, value []byte) error
}

// JournalEntry is one record of the journal: an act the hub did for the administration that must be
// accountable afterwards — a call to a register, a document received from or sent to another
// administration — with who asked, for which dossier, on which legal basis and with what result.
// Personal data goes into an entry only as the route's configuration allows.
type JournalEntry struct {
	ID         string            `json:"id"`   // time-ordered id, filled by the store when empty
	Time       time.Time         `json:"time"` // when it happened, filled by the store when zero
	Kind       string            `json:"kind"` // what happened, dotted: "regix.call", "esoed.received", ...
	Route      string            `json:"route,omitempty"`
	MessageID  string            `json:"message_id,omitempty"`
	Dossier    string            `json:"dossier,omitempty"`     // the dossier (преписка) the act is for
	Actor      string            `json:"actor,omitempty"`       // who asked: an employee, an administration
	Subject    string            `json:"subject,omitempty"`     // what about: register and operation, sender and recipient
	LegalBasis string            `json:"legal_basis,omitempty"` // the legal basis given for the act
	Result     string            `json:"result"`                // result code: "ok" or what went wrong
	Detail     map[string]string `json:"detail,omitempty"`
	// Filled by the store when read back: the entry's place in the hash chain (see Verify). Not
	// yet part of the operations API's answers.
	Seq      int64  `json:"-"`
	Hash     string `json:"-"`
	Redacted bool   `json:"-"` // its content was removed by pruning
}

// JournalFilter narrows a journal listing; empty fields do not filter.
type JournalFilter struct {
	Kind    string
	Route   string
	Dossier string
	Limit   int // at most this many, newest first; 0 means 100
}

// Conditions returns the filter's equality conditions, column name to value, for the columns a
// store's journal table shares with JournalEntry (kind, route, dossier); empty fields are left out.
func (f JournalFilter) Conditions() (columns []string, values []any) {
	for _, c := range [...]struct{ col, v string }{{"kind", f.Kind}, {"route", f.Route}, {"dossier", f.Dossier}} {
		if c.v != "" {
			columns, values = append(columns, c.col), append(values, c.v)
		}
	}
	return columns, values
}

// Journal is where steps and connectors record accountable acts. Entries are chained by hashes
// (see Verify); the hub changes or removes them only by pruning (see Retention).
type Journal interface {
	// AppendJournal records e durably as the next entry of the chain; it fills e.ID and e.Time
	// when empty and returns the id. Seq, Hash and Redacted of e are ignored.
	AppendJournal(ctx context.Context, e JournalEntry) (string, error)
}

// Env is what a store factory gets from the hub.
type Env struct {
	DataDir string
	Logger  *slog.Logger
}

// Factory makes one type of store.
type Factory struct {
	Type   string // name used in the configuration's store.type
	Doc    string // one paragraph for the configuration reference
	Config any    // pointer to the zero configuration struct, described with spec tags
	// New makes the store from a decoded, validated configuration of the same type as Config.
	New func(cfg any, env Env) (Store, error)
	// OpenChain opens the store's journal for reading only, without migrating or starting
	// anything, so that it can be verified on a copy while the hub is stopped.
	OpenChain func(cfg any, env Env) (ChainSource, error)
}

// Default is the registry that store packages fill from init.
var Default = registry.New[Factory]("store type")

// Register adds f to the Default registry.
func Register(f Factory) { Default.Register(f.Type, f) }
