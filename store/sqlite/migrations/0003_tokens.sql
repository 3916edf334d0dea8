-- API tokens: only a SHA-256 of each token is kept; a name is unique among active tokens.
CREATE TABLE store_tokens (
	id      TEXT    NOT NULL PRIMARY KEY, -- the token's public id
	name    TEXT    NOT NULL,
	role    TEXT    NOT NULL,
	hash    BLOB    NOT NULL,             -- SHA-256 of the whole token
	created INTEGER NOT NULL,             -- Unix nanoseconds, UTC
	revoked INTEGER NOT NULL DEFAULT 0    -- Unix nanoseconds, UTC; 0 while active
) WITHOUT ROWID;
CREATE UNIQUE INDEX store_tokens_active_name ON store_tokens (name) WHERE revoked = 0;
