// Package sqlite is the embedded store: dead letters, idempotency keys and route state in one
// SQLite file, the same file as the embedded transport's (by default aiskao.db in the data
// folder), opened through hub/sqlitedb so that both share one connection pool. It registers the
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
//
// # Durability
//
// The file is in WAL mode with synchronous=FULL: every call that writes returns only after its
// transaction is committed and synced, so what it reported as done survives a crash and a power
// cut. A sync costs a fraction of a millisecond to several milliseconds, and the hub marks one
// idempotency key per processed message, so Mark does not commit on its own: one writer
// goroutine takes every mark waiting (up to mark_batch), writes them in one transaction, and
// releases their callers when it has committed. While a commit syncs, the next marks gather for
// the following one, so many callers share each sync and the throughput follows the disk rather
// than the number of callers. Close commits the marks already queued before it returns.
package sqlite
