-- The dossier core's tables, beside the hub's in the shared file.
CREATE TABLE dossier_streams (
	stream  TEXT    NOT NULL PRIMARY KEY,
	version INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE dossier_events (
	stream TEXT    NOT NULL,
	seq    INTEGER NOT NULL,
	type   TEXT    NOT NULL,
	at     INTEGER NOT NULL, -- Unix nanoseconds, 0 for the zero time
	actor  TEXT    NOT NULL,
	data   BLOB    NOT NULL,
	PRIMARY KEY (stream, seq)
) WITHOUT ROWID;

CREATE TABLE dossier_summaries (
	stream          TEXT    NOT NULL PRIMARY KEY,
	kind            TEXT    NOT NULL,
	service         TEXT    NOT NULL,
	service_version TEXT    NOT NULL,
	state           TEXT    NOT NULL,
	active          INTEGER NOT NULL, -- 1 while the stream runs against its deadlines
	unit            TEXT    NOT NULL,
	assignee        TEXT    NOT NULL,
	applicant       TEXT    NOT NULL,
	deadline        TEXT    NOT NULL, -- YYYY-MM-DD, 9999-12-31 for none
	stage_deadline  TEXT    NOT NULL,
	opened_at       INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL,
	version         INTEGER NOT NULL,
	data            BLOB    NOT NULL
);
-- The dashboard orders by (deadline, stream); each filter leads an index in that order. The
-- deadline dashboard asks for active streams, a few among the closed ones of past years: they
-- have partial indexes of their own (used when the query says active = 1 literally).
CREATE INDEX dossier_summaries_deadline   ON dossier_summaries (deadline, stream);
CREATE INDEX dossier_summaries_unit       ON dossier_summaries (unit, deadline, stream);
CREATE INDEX dossier_summaries_state      ON dossier_summaries (state, deadline, stream);
CREATE INDEX dossier_summaries_applicant  ON dossier_summaries (applicant);
CREATE INDEX dossier_summaries_a_deadline ON dossier_summaries (deadline, stream) WHERE active = 1;
CREATE INDEX dossier_summaries_a_unit     ON dossier_summaries (unit, deadline, stream) WHERE active = 1;
CREATE INDEX dossier_summaries_a_assignee ON dossier_summaries (assignee, deadline, stream) WHERE active = 1;
CREATE INDEX dossier_summaries_a_service  ON dossier_summaries (service, deadline, stream) WHERE active = 1;

CREATE TABLE dossier_outbox (
	pos           INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, -- never reused: the publishing order
	stream        TEXT    NOT NULL,
	id            TEXT    NOT NULL,
	type          TEXT    NOT NULL,
	subject       TEXT    NOT NULL,
	payload       BLOB    NOT NULL,
	metadata      TEXT    NOT NULL, -- JSON object
	claimed_until INTEGER NOT NULL DEFAULT 0 -- Unix nanoseconds; a relay's lease
);
CREATE INDEX dossier_outbox_stream ON dossier_outbox (stream, pos);

CREATE TABLE dossier_inbox (
	id      TEXT    NOT NULL PRIMARY KEY,
	stream  TEXT    NOT NULL,
	applied INTEGER NOT NULL -- Unix nanoseconds
) WITHOUT ROWID;
CREATE INDEX dossier_inbox_applied ON dossier_inbox (applied);

CREATE TABLE dossier_keys (
	kind   TEXT NOT NULL,
	value  TEXT NOT NULL,
	stream TEXT NOT NULL,
	PRIMARY KEY (kind, value)
) WITHOUT ROWID;
CREATE INDEX dossier_keys_stream ON dossier_keys (stream);

CREATE TABLE dossier_sequences (
	name  TEXT    NOT NULL,
	year  INTEGER NOT NULL,
	value INTEGER NOT NULL,
	PRIMARY KEY (name, year)
) WITHOUT ROWID;

CREATE TABLE dossier_raised (
	stream TEXT    NOT NULL,
	kind   TEXT    NOT NULL,
	due    TEXT    NOT NULL,
	raised INTEGER NOT NULL,
	PRIMARY KEY (stream, kind, due)
) WITHOUT ROWID;
