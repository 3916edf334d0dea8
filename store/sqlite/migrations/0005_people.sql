-- People's identity: staff accounts, failed sign-in counts, sessions, units and positions.
CREATE TABLE store_accounts (
	name          TEXT    NOT NULL PRIMARY KEY,
	full_name     TEXT    NOT NULL DEFAULT '',
	roles         TEXT    NOT NULL DEFAULT '',  -- role names separated by commas
	password      TEXT    NOT NULL DEFAULT '',  -- argon2id hash, PHC string
	totp_secret   TEXT    NOT NULL DEFAULT '',
	totp_step     INTEGER NOT NULL DEFAULT 0,   -- last accepted TOTP time step
	reset_hash    BLOB,                         -- SHA-256 of the reset token
	reset_expires INTEGER,                      -- Unix nanoseconds, UTC
	must_change   INTEGER NOT NULL DEFAULT 0,
	disabled      INTEGER NOT NULL DEFAULT 0,
	created       INTEGER NOT NULL,
	updated       INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE store_login_failures (
	key   TEXT    NOT NULL PRIMARY KEY,         -- "account:NAME", "addr:IP"
	count INTEGER NOT NULL,
	since INTEGER NOT NULL                      -- Unix nanoseconds of the first counted failure
) WITHOUT ROWID;
CREATE TABLE store_sessions (
	hash    BLOB    NOT NULL PRIMARY KEY,       -- SHA-256 of the session id
	person  TEXT    NOT NULL,
	stage   TEXT    NOT NULL,
	addr    TEXT    NOT NULL DEFAULT '',
	created INTEGER NOT NULL,
	seen    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX store_sessions_person ON store_sessions (person);
CREATE INDEX store_sessions_seen ON store_sessions (seen);
CREATE TABLE store_units (
	id     TEXT NOT NULL PRIMARY KEY,
	name   TEXT NOT NULL,
	parent TEXT REFERENCES store_units (id)
) WITHOUT ROWID;
CREATE TABLE store_positions (
	id    TEXT NOT NULL PRIMARY KEY,
	unit  TEXT NOT NULL REFERENCES store_units (id),
	title TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE store_position_holders (
	position TEXT NOT NULL REFERENCES store_positions (id),
	person   TEXT NOT NULL,
	PRIMARY KEY (position, person)
) WITHOUT ROWID;
CREATE INDEX store_position_holders_person ON store_position_holders (person, position);
