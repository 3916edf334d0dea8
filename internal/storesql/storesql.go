// Package storesql is what the SQL stores (store/sqlite and store/postgres) do alike: dead
// letters, route state, API tokens, the journal's listing, chain, pruning and the goroutines that
// group marks, lookups and appends. Each store gives its driver as a DB and its dialect (the
// statements, how it keeps text and time) as a Dialect; the logic is written here once.
package storesql

import (
	"context"
	"fmt"
	"time"

	"github.com/aiskao/aiskao/store"
)

// DB runs statements: a pool, a connection or a transaction of either driver.
type DB interface {
	// Exec runs a statement and returns the rows it affected.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	// Query runs a query; the caller closes the rows.
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	// QueryRow runs a query of one row; a missing row shows in Scan as the dialect's NoRows.
	QueryRow(ctx context.Context, query string, args ...any) store.Row
}

// Rows is a result set that the caller closes.
type Rows interface {
	store.Rows
	Close()
}

// Dialect is what a store's database does its own way.
type Dialect struct {
	Name   string // the store's name, prefixing its errors: "sqlite store"
	Closed error  // returned by every call after Close
	NoRows error  // the driver's error of a QueryRow that found no row
	// Text returns s as a text column keeps it; nil keeps every string as it is.
	Text func(s string) string
	// Time returns the argument for a time column holding t.
	Time func(t time.Time) any
	// Kept returns e as the journal keeps it, so that its hash is of what is read back.
	Kept func(e store.JournalEntry) store.JournalEntry
	// Unique reports whether err is the violation of a unique index.
	Unique func(err error) bool
	// Placeholder returns the placeholder of the i-th argument, from 1.
	Placeholder func(i int) string
	// Prefix comes before the name of a table in the people's statements (people.go), which are
	// written once for both stores: "store_" on SQLite, the quoted schema and a dot on PostgreSQL.
	Prefix string
	Q      Queries
}

// Queries are a store's statements. Times go in as Dialect.Time makes them and come back as a
// timestamp or Unix nanoseconds (see Time); the comments give the arguments in order.
type Queries struct {
	AddLetter    string // id, message_id, route, step, error, attempts, time, metadata, payload
	ListLetters  string // limit; the columns of scanLetter, newest first
	ListRoute    string // route, limit
	GetLetter    string // id; the columns of scanLetter and the payload
	DeleteLetter string // id
	CountLetters string // route, count per route
	GetState     string // route, key
	PutState     string // route, key, value, updated

	CreateToken string // id, name, role, hash, created
	RevokeToken string // revoked, name; only the active token
	ListTokens  string // id, name, role, created, revoked (NULL while active), oldest first
	TokenByID   string // id; id, name, role, hash, created, revoked

	ListJournal string // the entry columns, seq, hash, redaction time; ListJournal appends filter and order
	Version     string // the schema version, 0 when none
	ReadEnds    string // head_seq, head_hash, anchor_seq, anchor_hash, anchor_by
	LockEnds    string // head_seq, head_hash, anchor_seq, locked for the rest of the transaction
	Unchained   string // the count of entries without seq and the id of the first
	ChainRows   string // the entry columns, seq, prev, body, hash, redaction time, by seq
	Unchain     string // the entry columns of the entries without seq, in (time, id) order
	Place       string // seq, prev, body, hash, id: sets an entry's place in the chain
	Insert      string // the entry columns, seq, prev, body, hash; an id already there is skipped
	WriteHead   string // head_seq, head_hash
	WriteAnchor string // anchor_seq, anchor_hash, anchor_by

	PruneLetters string // before, limit
	FirstWhole   string // anchor_seq, the pruned kind: the least seq after it neither redacted nor of that kind
	HashOf       string // seq
	Drop         string // seq: deletes up to it
}

// EntryColumns are the journal columns that the entry scanners read, with the column of the time
// named by at.
func EntryColumns(at string) string {
	return `id, ` + at + `, kind, route, message_id, dossier, actor, subject, legal_basis, result, detail`
}

func (d *Dialect) text(s string) string {
	if d.Text == nil {
		return s
	}
	return d.Text(s)
}

// errorf returns an error of the store, prefixed with its name.
func (d *Dialect) errorf(format string, args ...any) error {
	return fmt.Errorf(d.Name+": "+format, args...)
}

// Time scans a time column kept as a timestamp (PostgreSQL) or as Unix nanoseconds (SQLite), in
// UTC; NULL leaves it invalid.
type Time struct {
	T     time.Time
	Valid bool
}

// Scan implements sql.Scanner, which both drivers use.
func (t *Time) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*t = Time{}
	case time.Time:
		*t = Time{T: v.UTC(), Valid: true}
	case int64:
		*t = Time{T: time.Unix(0, v).UTC(), Valid: true}
	default:
		return fmt.Errorf("a time column holds %T", src)
	}
	return nil
}

// Dollar is PostgreSQL's Placeholder: $1, $2, ...
func Dollar(i int) string { return fmt.Sprintf("$%d", i) }

// Question is SQLite's Placeholder: ?.
func Question(int) string { return "?" }
