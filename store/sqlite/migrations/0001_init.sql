-- Dead letters: failed messages kept for operations staff, newest first by time then id.
CREATE TABLE store_dead_letters (
	id         TEXT    NOT NULL PRIMARY KEY,
	message_id TEXT    NOT NULL,
	route      TEXT    NOT NULL,
	step       TEXT    NOT NULL,
	error      TEXT    NOT NULL,
	attempts   INTEGER NOT NULL,
	time       INTEGER NOT NULL, -- Unix nanoseconds, UTC
	metadata   BLOB    NOT NULL, -- length-prefixed pairs, byte-exact (see metadata.go)
	payload    BLOB    NOT NULL
) WITHOUT ROWID;
CREATE INDEX store_dead_letters_time ON store_dead_letters (time DESC, id DESC);
CREATE INDEX store_dead_letters_route ON store_dead_letters (route, time DESC, id DESC);

-- Idempotency keys: a key counts as seen while expires is in the future.
CREATE TABLE store_keys (
	scope   TEXT    NOT NULL,
	key     TEXT    NOT NULL,
	expires INTEGER NOT NULL, -- Unix nanoseconds
	PRIMARY KEY (scope, key)
) WITHOUT ROWID;
CREATE INDEX store_keys_expires ON store_keys (expires);

-- Route state: small values that routes keep between messages and restarts.
CREATE TABLE store_state (
	route   TEXT    NOT NULL,
	key     TEXT    NOT NULL,
	value   BLOB    NOT NULL,
	updated INTEGER NOT NULL, -- Unix nanoseconds
	PRIMARY KEY (route, key)
) WITHOUT ROWID;
