package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/aiskao/aiskao/dossier/calendar"
)

// Sentinel errors; implementations wrap them, so test with errors.Is.
var (
	// ErrNotFound: no such stream, summary or key.
	ErrNotFound = errors.New("dossier store: not found")
	// ErrConflict: the stream's version is not the one the commit expected; another writer
	// changed it since the caller read it. Read again and decide again.
	ErrConflict = errors.New("dossier store: version conflict")
	// ErrAlreadyApplied: the commit's inbox message was applied before; nothing was written.
	ErrAlreadyApplied = errors.New("dossier store: message already applied")
	// ErrKeyTaken: one of the commit's keys indexes another stream; nothing was written.
	ErrKeyTaken = errors.New("dossier store: key belongs to another stream")
	// ErrInvalid: the commit or query is malformed (a caller's bug, not a state of the data).
	ErrInvalid = errors.New("dossier store: invalid request")
)

// Event is one change of a stream, as the domain recorded it.
type Event struct {
	// Stream is the dossier's registration number or a feedback item's number.
	Stream string
	// Seq numbers the stream's events from 1 without gaps; Commit assigns it.
	Seq int64
	// Type names the change, such as "dossier.opened".
	Type string
	// At is when it happened, kept to the microsecond (PostgreSQL's precision, and so both
	// stores') and read back in UTC.
	At time.Time
	// Actor is who made it: a user, a position or "system".
	Actor string
	// Data is the event's body as the domain encoded it.
	Data json.RawMessage
}

// Kinds of stream.
const (
	KindDossier  = "dossier"
	KindFeedback = "feedback"
)

// Summary is a stream's projection: one row per stream, kept with its events in the same
// transaction, read by lists and the deadline dashboard without replaying events.
type Summary struct {
	Stream         string
	Kind           string // KindDossier or KindFeedback
	Service        string
	ServiceVersion string
	State          string
	// Active tells that the stream still runs against its deadlines (not closed, not
	// withdrawn): the dashboard's usual filter, which has indexes of its own.
	Active   bool
	Unit     string
	Assignee string // a user or a position
	// Applicant is a key that finds an applicant's streams, such as a keyed hash of the
	// identifier; never a raw ЕГН.
	Applicant string
	// Deadline is the overall deadline; zero when none (such summaries sort last).
	Deadline calendar.Date
	// StageDeadline is the current stage's deadline; zero when none.
	StageDeadline calendar.Date
	// NextDue is the nearest of the stream's running deadlines: the overall one, its running
	// stages', the applicant's for an irregularity, a feedback answer's. The caller computes it;
	// zero stores Deadline, for streams that know no nearer deadline than their own.
	NextDue   calendar.Date
	OpenedAt  time.Time
	UpdatedAt time.Time
	// Version is the stream's version after the commit that wrote the summary; Commit sets it.
	Version int64
	// Data holds whatever else a list shows (the title, the applicant's masked name).
	Data json.RawMessage
}

// Message is a message for the hub written to the outbox with the change that caused it.
type Message struct {
	// ID identifies the message for consumers' deduplication; Commit fills an empty one with a
	// UUIDv7.
	ID       string
	Type     string
	Subject  string // the dossier's number, the CloudEvents subject
	Payload  []byte
	Metadata map[string]string
}

// Key indexes a stream by an outside identifier, for lookups such as "which dossier holds the
// document this DocParentID names". A key belongs to one stream.
type Key struct {
	Kind  string // such as "esoed-doc" or "access"
	Value string // such as a document GUID or the hash of an access code
}

// Commit is one state change: everything in it is written in one transaction, or nothing.
type Commit struct {
	Stream string
	// Expect is the stream's version the caller read: its last event's Seq, 0 for a new stream.
	Expect int64
	// Events are appended after Expect; their Seq and Stream are filled in.
	Events []Event
	// Summary, when not nil, replaces the stream's summary.
	Summary *Summary
	// Outbox holds the messages the change causes.
	Outbox []Message
	// Inbox is the ID of the consumed message that caused the change, "" if none. A commit
	// whose Inbox was applied before writes nothing and fails with ErrAlreadyApplied.
	Inbox string
	// Keys index the stream; keys the stream already holds are accepted again.
	Keys []Key
}

// Order names the date a query bounds, orders by and pages through.
type Order string

const (
	// ByDeadline is Summary.Deadline, the overall deadline: the default.
	ByDeadline Order = ""
	// ByNextDue is Summary.NextDue, the nearest running deadline: what the deadline watch and a
	// "due soonest" list ask for.
	ByNextDue Order = "next_due"
)

// Query selects summaries for lists and the deadline dashboard. Empty fields do not filter.
// Results are ordered by the date By names, then stream.
type Query struct {
	Kind     string
	Unit     string
	Assignee string
	Service  string
	// Applicant finds an applicant's streams, by the key Summary.Applicant holds.
	Applicant string
	States    []string // any of these
	// Active keeps only active streams (Summary.Active); false does not filter.
	Active bool
	// By chooses the date the range bounds and the results follow: the deadline (ByDeadline,
	// the default) or the next due date (ByNextDue).
	By Order
	// DeadlineFrom and DeadlineBefore bound the date By names: From ≤ date < Before.
	DeadlineFrom   calendar.Date
	DeadlineBefore calendar.Date
	// Limit is the page size: 1 to MaxLimit, 0 means DefaultLimit.
	Limit int
	// After is the Next of the previous page of the same order, "" for the first.
	After string
}

// Page limits.
const (
	DefaultLimit = 50
	MaxLimit     = 1000
)

// Page is one page of a query's results.
type Page struct {
	Items []Summary
	// Next is the cursor of the following page, "" when this is the last.
	Next string
}

// OutboxRow is a claimed outbox message.
type OutboxRow struct {
	// Pos orders the outbox: a stream's messages in the order they were committed.
	Pos     int64
	Stream  string
	Message Message
}

// Outbox is what a Relay needs from a store.
type Outbox interface {
	// ClaimOutbox leases up to n unpublished messages for lease, oldest first, so that other
	// relays skip them. It never hands out a message of a stream while an earlier message of
	// that stream is under another live lease, so a stream's messages are published in order.
	ClaimOutbox(ctx context.Context, n int, lease time.Duration) ([]OutboxRow, error)
	// MarkPublished removes published messages from the outbox.
	MarkPublished(ctx context.Context, pos []int64) error
	// ReleaseOutbox ends the leases of messages not published, for an early retry.
	ReleaseOutbox(ctx context.Context, pos []int64) error
}

// Store persists the dossier core's event streams, their summaries, keys, sequences, inbox and
// outbox. Implementations pass storetest.Run.
type Store interface {
	Outbox
	// Commit writes c in one transaction: the events with optimistic concurrency
	// (ErrConflict), the summary, the outbox messages, the inbox id (ErrAlreadyApplied) and
	// the keys (ErrKeyTaken); ErrInvalid for a malformed c. On those errors nothing of c is
	// written. When ctx ends first, c may or may not have been written: a retry with the same
	// Inbox then fails with ErrAlreadyApplied or ErrConflict if it was.
	Commit(ctx context.Context, c Commit) error
	// Events returns the stream's events with Seq ≥ from, in order; none for an unknown stream.
	Events(ctx context.Context, stream string, from int64) ([]Event, error)
	// Summary returns the stream's summary, or ErrNotFound.
	Summary(ctx context.Context, stream string) (Summary, error)
	// FindByKey returns the stream a key indexes, or ErrNotFound.
	FindByKey(ctx context.Context, kind, value string) (string, error)
	// CommitNumbered takes the next number of the sequence name in year and commits what
	// build makes of it, in one transaction: when build fails or the commit is refused, the
	// number is given back, so a register's numbers have no gaps. It returns the number used.
	// build runs while the sequence is held, so it only assembles the commit.
	CommitNumbered(ctx context.Context, name string, year int, build func(n int64) (Commit, error)) (int64, error)
	// NextSequence returns the next number of the sequence name in year, from 1: consecutive
	// and unique across processes. A number taken by a caller that then fails to commit is
	// lost; CommitNumbered does not lose it.
	NextSequence(ctx context.Context, name string, year int) (int64, error)
	// Dashboard returns a page of summaries matching q, by the date q.By names.
	Dashboard(ctx context.Context, q Query) (Page, error)
	// RaiseOnce records that the event kind (such as "deadline-near") was raised for the
	// stream's deadline due; it reports true to exactly one caller across all processes.
	RaiseOnce(ctx context.Context, stream, kind string, due calendar.Date) (bool, error)
	// Applied reports whether the consumed message id was applied, so that a consumer can
	// skip a redelivery before doing its work; the commit's Inbox check stays the guarantee.
	Applied(ctx context.Context, id string) (bool, error)
	// PruneInbox forgets the consumed messages applied before t, and returns how many. A
	// message redelivered after that is applied again, so t lies well beyond the transport's
	// redelivery horizon (days, not minutes).
	PruneInbox(ctx context.Context, before time.Time) (int64, error)
	// Close releases the store's resources.
	Close() error
}
