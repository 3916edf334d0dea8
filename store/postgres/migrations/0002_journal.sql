-- Journal: accountable acts (register calls, documents exchanged), append only, newest first.
CREATE TABLE journal (
	id          text COLLATE "C" NOT NULL PRIMARY KEY,
	at          timestamptz NOT NULL,
	kind        text        NOT NULL,
	route       text        NOT NULL,
	message_id  text        NOT NULL,
	dossier     text        NOT NULL,
	actor       text        NOT NULL,
	subject     text        NOT NULL,
	legal_basis text        NOT NULL,
	result      text        NOT NULL,
	detail      bytea       NOT NULL -- length-prefixed pairs (see metadata.go)
);
CREATE INDEX journal_at ON journal (at DESC, id DESC);
CREATE INDEX journal_dossier ON journal (dossier, at DESC, id DESC);
