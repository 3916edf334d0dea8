-- API tokens: only a SHA-256 of each token is kept; a name is unique among active tokens.
CREATE TABLE tokens (
	id      text COLLATE "C" NOT NULL PRIMARY KEY, -- the token's public id
	name    text        NOT NULL,
	role    text        NOT NULL,
	hash    bytea       NOT NULL,                  -- SHA-256 of the whole token
	created timestamptz NOT NULL,
	revoked timestamptz                             -- NULL while active
);
CREATE UNIQUE INDEX tokens_active_name ON tokens (name) WHERE revoked IS NULL;
