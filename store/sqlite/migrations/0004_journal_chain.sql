-- Journal chain (see store/chain.go): each entry gets a sequence number and hashes that chain
-- it to the entry before it. The entries journaled before this step are chained by the program
-- in the same transaction, in (time, id) order; an entry without a sequence number found later
-- was added outside the hub, and verification reports it.
ALTER TABLE store_journal ADD COLUMN seq INTEGER;
ALTER TABLE store_journal ADD COLUMN prev_hash BLOB;
ALTER TABLE store_journal ADD COLUMN body_hash BLOB;
ALTER TABLE store_journal ADD COLUMN hash BLOB;
ALTER TABLE store_journal ADD COLUMN redacted INTEGER; -- Unix nanoseconds of the redaction; NULL while whole
CREATE UNIQUE INDEX store_journal_seq ON store_journal (seq);

-- The chain's ends, in one row: the head (the last entry appended) and the anchor (the last
-- entry dropped by pruning, or 0 and zeros) with the journal.pruned entry that recorded it.
-- Appends read and move the head in the transaction that inserts, so they chain one by one.
CREATE TABLE store_journal_chain (
	one         INTEGER NOT NULL PRIMARY KEY CHECK (one = 1),
	head_seq    INTEGER NOT NULL,
	head_hash   BLOB    NOT NULL,
	anchor_seq  INTEGER NOT NULL,
	anchor_hash BLOB    NOT NULL,
	anchor_by   INTEGER NOT NULL
);
INSERT INTO store_journal_chain (one, head_seq, head_hash, anchor_seq, anchor_hash, anchor_by)
	VALUES (1, 0, zeroblob(32), 0, zeroblob(32), 0);
