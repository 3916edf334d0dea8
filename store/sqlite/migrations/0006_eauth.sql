-- eAuth sign-ins in flight: the requests sent and not yet answered, and the assertions accepted
-- (the replay cache), so that a response may reach any process of the hub.
CREATE TABLE store_eauth_requests (
	id      TEXT    NOT NULL PRIMARY KEY,        -- the AuthnRequest's ID
	level   INTEGER NOT NULL,                    -- the level of assurance asked for
	browser BLOB,                                -- SHA-256 of the browser's binding cookie
	expires INTEGER NOT NULL                     -- Unix nanoseconds, UTC
) WITHOUT ROWID;
CREATE INDEX store_eauth_requests_expires ON store_eauth_requests (expires);
CREATE TABLE store_eauth_assertions (
	id    TEXT    NOT NULL PRIMARY KEY,          -- the assertion's ID
	until INTEGER NOT NULL                       -- kept until, Unix nanoseconds, UTC
) WITHOUT ROWID;
CREATE INDEX store_eauth_assertions_until ON store_eauth_assertions (until);
