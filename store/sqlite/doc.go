// Package sqlite is the embedded store: dead letters, idempotency keys and route state in one
// SQLite file, the same file as the embedded transport's (by default aiskao.db in the data
// folder), opened through internal/sqlitedb so that both share one connection pool. It registers the
// store type "sqlite".
//
// # Tables
//
// Every table is prefixed with store_ so that it does not clash with the transport's tables.
//
//   - store_migrations: the schema versions applied, one row per embedded file in migrations/.
//     Each version is applied in its own transaction with its row, so a crash leaves the schema
//     at a known version; a file whose schema is newer than the program is refused.
//   - store_dead_letters: one row per dead letter. The id is a UUIDv7, so ids grow with time and
//     a listing ordered by time then id is stable even for dead letters of the same instant.
//     Metadata is a blob of length-prefixed pairs and the payload a blob, both byte-exact, so
//     that a replayed message is the message that failed.
//   - store_keys: idempotency keys by scope and key, with the time (Unix nanoseconds) they
//     expire. Seen ignores expired keys at once; a sweeper deletes them every sweep_interval, in
//     small chunks so that it never holds the write lock for long.
//   - store_state: route state values by route and key, overwritten in place.
//   - store_journal and store_journal_chain: the journal as a hash chain (see store.Verify),
//     and the chain's head and anchor in one row. One writer goroutine takes every entry waiting
//     (up to 256), links each after the head read in the same durable transaction, and releases
//     their callers when it has committed; the immediate transaction orders writers of other
//     processes too. A pruner redacts or drops entries and deletes dead letters past the
//     retention option (see prune.go).
//
// # Durability
//
// The file is in WAL mode with synchronous=FULL: every call that writes returns only after its
// transaction is committed and synced, so what it reported as done survives a crash and a power
// cut. Idempotency marks are the exception, as the hub marks one key per processed message: one
// writer goroutine takes every mark waiting (up to mark_batch), writes them in one relaxed
// transaction (synchronous=NORMAL, see sqlitedb.Writer) and releases their callers when it has
// committed. A mark then survives a crash of the process at once, and a power cut once the log
// is next synced by a durable commit or the checkpoint (at most about half a second later).
// A mark comes before the acknowledgement of its message and the log keeps commits in order,
// so a power cut that takes a mark back takes the acknowledgement too: the message is delivered
// again, as after a crash between its sink and its mark. Close commits the marks already
// queued before it returns, and so does the journal's writer with its entries.
package sqlite
