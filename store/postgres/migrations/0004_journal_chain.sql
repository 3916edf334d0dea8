-- Journal chain (see store/chain.go): each entry gets a sequence number and hashes that chain
-- it to the entry before it. The entries journaled before this step are chained by the program
-- in the same transaction, in (at, id) order; an entry without a sequence number found later
-- was added outside the hub, and verification reports it.
ALTER TABLE journal
	ADD COLUMN seq         bigint,
	ADD COLUMN prev_hash   bytea,
	ADD COLUMN body_hash   bytea,
	ADD COLUMN hash        bytea,
	ADD COLUMN redacted_at timestamptz; -- NULL while whole
CREATE UNIQUE INDEX journal_seq ON journal (seq);

-- The chain's ends, in one row: the head (the last entry appended) and the anchor (the last
-- entry dropped by pruning, or 0 and zeros) with the journal.pruned entry that recorded it.
-- Each append moves the head with one UPDATE of this row, which links the entry (its hash is
-- computed there, under the row's lock) and inserts it in the same statement, so that the
-- processes sharing the schema chain their entries one by one. head_prev is the hash before the
-- last move, which the append's RETURNING gives to its insert.
CREATE TABLE journal_chain (
	one         boolean NOT NULL PRIMARY KEY DEFAULT true CHECK (one),
	head_seq    bigint  NOT NULL,
	head_hash   bytea   NOT NULL,
	head_prev   bytea,
	anchor_seq  bigint  NOT NULL,
	anchor_hash bytea   NOT NULL,
	anchor_by   bigint  NOT NULL
);
INSERT INTO journal_chain (head_seq, head_hash, anchor_seq, anchor_hash, anchor_by)
	VALUES (0, '\x0000000000000000000000000000000000000000000000000000000000000000', 0,
		'\x0000000000000000000000000000000000000000000000000000000000000000', 0);
