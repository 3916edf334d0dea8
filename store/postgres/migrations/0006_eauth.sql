-- eAuth sign-ins in flight: the requests sent and not yet answered, and the assertions accepted
-- (the replay cache), so that a response may reach any process of the hub.
CREATE TABLE eauth_requests (
	id      text COLLATE "C" NOT NULL PRIMARY KEY,  -- the AuthnRequest's ID
	level   integer     NOT NULL,                   -- the level of assurance asked for
	browser bytea,                                  -- SHA-256 of the browser's binding cookie
	expires timestamptz NOT NULL
);
CREATE INDEX eauth_requests_expires ON eauth_requests (expires);
CREATE TABLE eauth_assertions (
	id    text COLLATE "C" NOT NULL PRIMARY KEY,    -- the assertion's ID
	until timestamptz NOT NULL                      -- kept until
);
CREATE INDEX eauth_assertions_until ON eauth_assertions (until);
