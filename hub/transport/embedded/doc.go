// Package embedded is the durable transport that runs inside the hub process: messages are kept
// in an SQLite file (by default aiskao.db in the data folder, shared with the embedded store),
// so a single hub needs no broker and still loses no message a source has acknowledged.
//
// # Tables
//
//	transport_messages       seq (AUTOINCREMENT), topic, uuid, metadata (JSON), payload (BLOB:
//	                         the whole payload, or its first MiB when parts > 0)
//	transport_parts          seq, n, data: the rest of a payload larger than a MiB, a MiB a row
//	transport_subscriptions  id, grp, topic: one row per consumer group and topic
//	transport_pending        (sub, seq, deliveries, not_before, attempts): message seq waits for
//	                         subscription sub; deliveries counts the processes that were handed
//	                         it; not_before (Unix ms) holds it back until a delayed retry is due;
//	                         attempts counts the attempts made before it was delayed
//
// A publish inserts one row per message and, in the same transaction, one pending row for every
// group subscribed to the topic at that moment. An acknowledgement deletes its pending row, and
// the message row goes with it once no pending row refers to it: acknowledged messages are
// cleaned up in the same batched transactions as the acknowledgements, so the file does not grow
// with the messages that went through. Backlog counts a group's pending rows.
//
// Before a process hands out a message for the first time, it raises the message's deliveries in
// the file (grouped: the uncounted messages queued, up to prefetch, in one statement). A process
// that stops while handling a message thus leaves a higher count behind, and the next one sets
// the envelope's attempt from it, so that the engine turns a message that keeps stopping
// processes into a dead letter (max_deliveries) instead of taking it for ever.
//
// seq is AUTOINCREMENT so that a sequence number is never reused after the newest messages were
// deleted: a subscription reads its pending rows in seq order from a cursor, and a reused number
// below the cursor would be missed.
//
// # Reading
//
// A subscription's dispatcher reads its pending rows in seq order from a cursor, at most 256 rows
// and read_bytes of payload at a time (a larger message alone), only when the messages it read
// before are handed out. A message published in the same process is not read back: after the
// commit the writer hands it to the dispatchers of its topic (handoff_bytes at most each, a
// larger message alone), which take it when their read of the pending rows reaches it. The
// payload is the publisher's slice, shared by the subscriptions: publishers must not change a
// payload after Publish, and handlers only read it. A large document is thus in memory once
// instead of once more for each of SQLite's result buffer, the driver's copy and
// database/sql's. The pending rows stay the truth: a message handed over but no longer pending
// (acknowledged by another process on the file) is dropped when the read passes it, and what did
// not fit is read from the file in its turn, as after a restart.
//
// # Groups
//
// A group becomes known for a topic when it subscribes to it (Subscribe, or SubscribeInitialize,
// which registers without consuming and is best called for every group before sources start). The
// first group of a topic takes over the messages published before any group was known, so none
// is lost to start-up order; a group added later starts with the messages published after it
// registered. A group stays known, and its pending rows keep their messages, until its row in
// transport_subscriptions and its pending rows are deleted (no API does this yet).
//
// Every group gets every message of a topic. The consumers (Subscribe calls) of one group and topic
// in one Transport compete: each message goes to one of them. Each consumer holds at most prefetch
// unacknowledged messages (the configured prefetch, or the subscriber's transport.WithPrefetch);
// with prefetch 1 and one consumer, messages arrive in publish order, also across Nack. Nack
// gives the message back at once for redelivery, ahead of later messages.
//
// # Delayed redelivery
//
// A handler that asked with transport.RedeliverAfter to have a message back after a delay, and
// Nacks it, frees its consumer's slot at once: the pending row gets the due time in not_before
// and the attempts made so far (the envelope's attempt when Nacked) in attempts, and its
// delivery count starts again, in one committed statement; the message waits in memory until it
// is due and is then delivered ahead of later messages. After a restart the row is read back
// with its due time, so the delay holds across restarts and the envelope's attempt goes on from
// attempts. Backlog counts a waiting message. Two
// Transport values opened on the same file do not coordinate: each may deliver a message (at least
// once, as always), which only tests do.
//
// # Writes and durability
//
// One writer goroutine per Transport does every write. It takes the publishes and
// acknowledgements that are waiting, up to batch_max messages, into one transaction (group
// commit): callers that arrive while a commit is syncing share the next commit, so many
// concurrent publishers cost few syncs. Publish returns only after its transaction committed.
// Acknowledgements never make a publisher wait: they ride along with publish commits, or are
// committed on their own after ack_interval.
//
// The database is in WAL mode (set by internal/sqlitedb). A commit that stores messages is durable
// (synchronous=FULL): it returns only after the WAL is synced to the disk. A commit of
// acknowledgements alone is relaxed (synchronous=NORMAL, see sqlitedb.Writer): it costs no sync
// of its own and becomes durable with the next durable commit or checkpoint. Hence:
//   - After Publish returned, the messages survive kill -9 and a power cut (given a disk that
//     honours sync); a source may acknowledge them to their sender.
//   - A publish that had not returned may or may not be stored; its sender, not having been
//     answered, sends again.
//   - An acknowledgement survives kill -9 once its commit ran, up to ack_interval later, and a
//     power cut once the log was next synced (at most about half a second later). An
//     acknowledgement lost means the message is delivered again after the restart; the hub's
//     consumers are idempotent, so this never applies a message twice after a crash of the
//     process. The log keeps commits in order, so a power cut never keeps an acknowledgement
//     while taking back what was written before it.
//   - Messages delivered but not acknowledged when the process ends are delivered again by the
//     next process that opens the file, because their pending rows are still there.
//   - A delivery count is raised in a relaxed commit too: it survives kill -9, which is what the
//     count is for (a message that keeps stopping processes); a power cut may take it back, and
//     the message then runs once more before it becomes a dead letter.
//
// A publish commit stays durable: a relaxed one would survive kill -9 but not a power cut, and a
// source acknowledges its sender as soon as Publish returns, so nothing later (a sink's sync, a
// checkpoint) could make up for the sync it saves. Only what a power cut may undo at the cost of
// a redelivery (acknowledgements, delivery counts, the store's idempotency marks) is relaxed.
//
// Close stops the subscriptions: no new message is taken, and the messages in flight get
// close_timeout to be acknowledged with their contexts intact (a drain); only then are the
// contexts of those still unsettled cancelled and the messages put back for the next start. It
// answers every admitted publish, commits the last acknowledgements and releases the database.
package embedded
