-- Single sign-ons in flight: the states of the sign-ins sent to the OpenID Connect provider and
-- not yet back, so that the provider's callback may reach any process of the hub.
CREATE TABLE oidc_states (
	key      text COLLATE "C" NOT NULL PRIMARY KEY,  -- SHA-256 of the state, hex
	binding  bytea       NOT NULL,                   -- SHA-256 of the browser's binding cookie
	nonce    text        NOT NULL,
	verifier text        NOT NULL,                   -- the PKCE code verifier
	return_path text        NOT NULL,                   -- the local path to go to once signed in
	expires  timestamptz NOT NULL
);
CREATE INDEX oidc_states_expires ON oidc_states (expires);
