-- Journal: accountable acts (register calls, documents exchanged), append only, newest first.
CREATE TABLE store_journal (
	id          TEXT    NOT NULL PRIMARY KEY,
	time        INTEGER NOT NULL, -- Unix nanoseconds, UTC
	kind        TEXT    NOT NULL,
	route       TEXT    NOT NULL,
	message_id  TEXT    NOT NULL,
	dossier     TEXT    NOT NULL,
	actor       TEXT    NOT NULL,
	subject     TEXT    NOT NULL,
	legal_basis TEXT    NOT NULL,
	result      TEXT    NOT NULL,
	detail      BLOB    NOT NULL -- length-prefixed pairs (see metadata.go)
) WITHOUT ROWID;
CREATE INDEX store_journal_time ON store_journal (time DESC, id DESC);
CREATE INDEX store_journal_dossier ON store_journal (dossier, time DESC, id DESC);
