-- Dead letters: failed messages kept for operations staff, newest first by time then id.
-- Ids compare byte by byte (COLLATE "C"), so that time-ordered UUIDv7 ids of one instant list in
-- the order they were made whatever the database's collation.
CREATE TABLE dead_letters (
	id         text COLLATE "C" NOT NULL PRIMARY KEY,
	message_id text        NOT NULL,
	route      text        NOT NULL,
	step       text        NOT NULL,
	error      text        NOT NULL,
	attempts   integer     NOT NULL,
	failed_at  timestamptz NOT NULL,
	metadata   bytea       NOT NULL, -- length-prefixed pairs, byte-exact (see metadata.go)
	payload    bytea       NOT NULL
);
CREATE INDEX dead_letters_failed_at ON dead_letters (failed_at DESC, id DESC);
CREATE INDEX dead_letters_route ON dead_letters (route, failed_at DESC, id DESC);

-- Idempotency keys: a key counts as seen while expires is in the future. Scope and key are bytes,
-- compared exactly: a key taken from a message need not be valid UTF-8.
CREATE TABLE keys (
	scope   bytea       NOT NULL,
	key     bytea       NOT NULL,
	expires timestamptz NOT NULL,
	PRIMARY KEY (scope, key)
);
CREATE INDEX keys_expires ON keys (expires);

-- Route state: small values that routes keep between messages and restarts.
CREATE TABLE state (
	route   text        NOT NULL,
	key     text        NOT NULL,
	value   bytea       NOT NULL,
	updated timestamptz NOT NULL,
	PRIMARY KEY (route, key)
);
