// Package postgres is the scale-out store: dead letters, idempotency keys and route state in one
// schema (by default "aiskao") of a PostgreSQL database, shared by every hub process that names
// the same database and schema, so that a dead letter written by one process is listed, replayed
// or deleted from any other. It registers the store type "postgres".
//
// # Tables
//
// Every table lives in the configured schema, created when missing; the statements name it in
// full rather than relying on search_path.
//
//   - schema_migrations: the versions applied, one row per embedded file in migrations/, with
//     the time each was applied. At start the store takes a transaction-scoped advisory lock
//     derived from the schema name (pg_advisory_xact_lock), then applies the missing versions
//     in that same transaction: processes starting together wait for each other and the later
//     ones find the work done, and a crash half-way leaves the schema as it was, since
//     PostgreSQL's DDL is transactional. A schema newer than the program is refused.
//   - dead_letters: one row per dead letter. The id is a UUIDv7, so ids grow with time and a
//     listing ordered by time then id (compared byte by byte) is stable even for dead letters of
//     the same instant. Metadata is bytea of length-prefixed pairs and the payload bytea, both
//     byte-exact (the SQLite store's layout), so that a replayed message is the message that
//     failed. The other fields are text; bytes in them that PostgreSQL's text cannot hold (NUL,
//     invalid UTF-8) are stored as U+FFFD rather than losing the dead letter.
//   - keys: idempotency keys by scope and key, both bytea so that any key compares exactly,
//     with the time they expire on the server's clock, which every process shares. Seen ignores
//     expired keys at once; a sweeper deletes them every sweep_interval in chunks, skipping rows
//     that another process's sweeper or mark writer holds.
//   - state: route state values by route and key (text), overwritten in place.
//   - journal and journal_chain: the journal as a hash chain (see store.Verify), and the
//     chain's head and anchor in one row.
//
// # Journal
//
// Entries appended at the same time are taken by one writer goroutine and sent in one pipeline,
// which PostgreSQL runs as one transaction: each entry is one statement that updates the chain's
// row (taking its lock, which orders the appends of every process sharing the schema), computes
// the entry's hash there from the head it finds, and inserts the entry. The lock is held until
// the commit, so processes take turns per batch. A pruner redacts or drops entries and deletes
// dead letters past the retention option (see prune.go).
//
// # Marks
//
// The hub marks one idempotency key per processed message, and a commit costs a round trip and
// a sync on the server, so Mark does not commit on its own: one writer goroutine takes every
// mark waiting (up to mark_batch) and writes them with one INSERT ... SELECT FROM unnest(...)
// ON CONFLICT DO UPDATE statement, then releases their callers once it has committed. While one
// statement is in flight the next marks gather, so many callers share each commit. Close
// commits the marks already queued before it returns.
//
// # Outages
//
// Connections come from a pgxpool pool (max_conns). When the server restarts or a connection
// is cut, the calls using it fail with the error, the pool drops the broken connections and
// opens new ones for the next calls: the store needs no restart. Meanwhile Ping reports the
// error, which makes the hub not ready, and each call fails within connect_timeout, so the
// engine retries the message or leaves it to be redelivered. The server must be reachable when
// the store starts, because the migrations are checked then.
//
// Each connection has the application_name "aiskao" (or the one given in the URL) in
// pg_stat_activity. Behind a pooler in transaction mode, add
// default_query_exec_mode=simple_protocol to the URL, since statements are prepared and cached
// per connection by default.
package postgres
