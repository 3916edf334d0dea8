-- People's identity: staff accounts, failed sign-in counts, sessions, units and positions.
CREATE TABLE accounts (
	name          text COLLATE "C" NOT NULL PRIMARY KEY,
	full_name     text        NOT NULL DEFAULT '',
	roles         text        NOT NULL DEFAULT '',  -- role names separated by commas
	password      text        NOT NULL DEFAULT '',  -- argon2id hash, PHC string
	totp_secret   text        NOT NULL DEFAULT '',
	totp_step     bigint      NOT NULL DEFAULT 0,   -- last accepted TOTP time step
	reset_hash    bytea,                            -- SHA-256 of the reset token
	reset_expires timestamptz,
	must_change   boolean     NOT NULL DEFAULT false,
	disabled      boolean     NOT NULL DEFAULT false,
	created       timestamptz NOT NULL,
	updated       timestamptz NOT NULL
);
CREATE TABLE login_failures (
	key   text COLLATE "C" NOT NULL PRIMARY KEY,    -- "account:NAME", "addr:IP"
	count integer     NOT NULL,
	since timestamptz NOT NULL                      -- the first counted failure
);
CREATE TABLE sessions (
	hash    bytea       NOT NULL PRIMARY KEY,       -- SHA-256 of the session id
	person  text COLLATE "C" NOT NULL,
	stage   text        NOT NULL,
	addr    text        NOT NULL DEFAULT '',
	created timestamptz NOT NULL,
	seen    timestamptz NOT NULL
);
CREATE INDEX sessions_person ON sessions (person);
CREATE INDEX sessions_seen ON sessions (seen);
CREATE TABLE units (
	id     text COLLATE "C" NOT NULL PRIMARY KEY,
	name   text NOT NULL,
	parent text COLLATE "C" REFERENCES units (id)
);
CREATE TABLE positions (
	id    text COLLATE "C" NOT NULL PRIMARY KEY,
	unit  text COLLATE "C" NOT NULL REFERENCES units (id),
	title text NOT NULL
);
CREATE TABLE position_holders (
	position text COLLATE "C" NOT NULL REFERENCES positions (id),
	person   text COLLATE "C" NOT NULL,
	PRIMARY KEY (position, person)
);
CREATE INDEX position_holders_person ON position_holders (person, position);
