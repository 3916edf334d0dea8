-- Single sign-ons in flight: the states of the sign-ins sent to the OpenID Connect provider and
-- not yet back, so that the provider's callback may reach any process of the hub.
CREATE TABLE store_oidc_states (
	key      TEXT    NOT NULL PRIMARY KEY,       -- SHA-256 of the state, hex
	binding  BLOB    NOT NULL,                   -- SHA-256 of the browser's binding cookie
	nonce    TEXT    NOT NULL,
	verifier TEXT    NOT NULL,                   -- the PKCE code verifier
	return_path TEXT NOT NULL,                   -- the local path to go to once signed in
	expires  INTEGER NOT NULL                    -- Unix nanoseconds, UTC
) WITHOUT ROWID;
CREATE INDEX store_oidc_states_expires ON store_oidc_states (expires);
