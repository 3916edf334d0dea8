// Package store is the dossier core's persistence contract: event streams with JSON payloads,
// one summary row per stream for lists and the deadline dashboard, keys that find a stream by an
// outside identifier, registration-number sequences, an inbox that applies each consumed message
// once and an outbox that a Relay publishes to the hub. It knows no domain types: the domain
// encodes its events and summaries, the store keeps them.
//
// Two implementations pass one conformance suite (storetest): sqlite, the embedded default, in
// the file the hub's embedded store and transport share, and postgres, for many processes on one
// schema. Each embeds its migrations and applies them on open.
//
// # One transaction per change
//
// Commit writes a state change whole or not at all: the inbox id of the message that caused it
// (first, so that a redelivered message fails with ErrAlreadyApplied before anything else is
// looked at), the stream's version checked and moved from Expect to Expect+len(Events)
// (ErrConflict when another writer moved it first: optimistic concurrency), the events, the
// summary, the keys (ErrKeyTaken when one names another stream) and the outbox messages.
//
// # Outbox and relay
//
// Outbox rows are numbered as they are written; a stream's rows follow the order of its
// commits, which the version check makes one at a time. A Relay claims a batch under a lease, publishes
// each message and deletes the published ones. Claims are taken one at a time across all
// processes (PostgreSQL: a transaction-scoped advisory lock; SQLite: the write lock), skip
// leased rows, and never hand out a row while an earlier row of its stream is leased to
// another relay: so several relays share the work and each stream's messages go out in order.
// Delivery is at least once: a relay that crashed after publishing and before deleting leaves
// its rows to be published again when the lease ends. Consumers deduplicate by Message.ID, which
// is fixed when the row is written. The committer calls Relay.Notify after a commit with
// messages; otherwise the relay polls. PostgreSQL's NOTIFY is not used to wake the relays of
// other processes: a transaction that notifies takes a database-wide lock at commit, which
// would put every commit of the core in one line.
//
// The inbox keeps the id of every consumed message until PruneInbox forgets those applied
// long enough ago that no transport redelivers them.
//
// # Dashboard
//
// Dashboard filters summaries by kind, unit, assignee, service, applicant, states, activity and a deadline range and
// pages through them by (deadline, stream) with a keyset cursor, so that a page costs the same
// wherever it is. A query By ByNextDue bounds and orders by the next due date instead: the
// nearest of the stream's running deadlines (a stage's or the applicant's can come before the
// overall one), which the caller computes and a summary without one takes from its deadline;
// the deadline watch asks for the active streams due within its window and reads no others.
// A cursor names its order, and is refused by the other. Deadlines are stored as YYYY-MM-DD text (a date on PostgreSQL) with no deadline
// stored as 9999-12-31, so such summaries sort last and need no NULL handling. Each filter
// column has an index led by it and followed by (deadline, stream), and the unit's and
// assignee's by (next_due, stream) for active streams; the deadline dashboard asks
// for active streams only, which are few beside the closed ones of past years, so the active
// ones have partial indexes of their own that skip the closed; the text columns compare
// byte by byte (COLLATE "C" on PostgreSQL), so both stores order alike. Each page is a Page
// whose Next is the cursor of the following one.
//
// # Deadline alerts and sequences
//
// RaiseOnce inserts (stream, kind, due) and reports whether this call inserted it: "deadline
// near" and "deadline missed" are raised once per deadline across all processes, and again if
// a suspension moves the deadline. Sequences are one row per (name, year), incremented under
// its row lock: numbers are unique and consecutive across processes. CommitNumbered increments
// it in the transaction of the commit that uses the number, so a refused commit gives the
// number back and registers have no gaps; NextSequence increments it in a transaction of its
// own, for numbers that need no such guarantee.
//
// # Tables
//
// Both stores name their tables dossier_*: streams (stream, version), events (stream, seq,
// type, at, actor, data), summaries, outbox (pos, stream, message, claimed_until), inbox (id),
// keys (kind, value, stream), sequences (name, year, value) and raised (stream, kind, due), with
// their applied migrations in dossier_migrations, apart from the hub store's.
package store
