-- The dossier core's tables, in the schema that search_path names. Text that orders the
-- dashboard and the outbox is compared byte by byte (COLLATE "C"): the same order on every
-- server, whatever its locale, and cheaper.
CREATE TABLE dossier_streams (
	stream  text   COLLATE "C" NOT NULL PRIMARY KEY,
	version bigint NOT NULL
);

CREATE TABLE dossier_events (
	stream text        COLLATE "C" NOT NULL,
	seq    bigint      NOT NULL,
	type   text        NOT NULL,
	at     timestamptz NOT NULL,
	actor  text        NOT NULL,
	data   json        NOT NULL, -- json, not jsonb: kept as the domain wrote it
	PRIMARY KEY (stream, seq)
);

CREATE TABLE dossier_summaries (
	stream          text        COLLATE "C" NOT NULL PRIMARY KEY,
	kind            text        COLLATE "C" NOT NULL,
	service         text        COLLATE "C" NOT NULL,
	service_version text        NOT NULL,
	state           text        COLLATE "C" NOT NULL,
	active          boolean     NOT NULL, -- while the stream runs against its deadlines
	unit            text        COLLATE "C" NOT NULL,
	assignee        text        COLLATE "C" NOT NULL,
	applicant       text        COLLATE "C" NOT NULL,
	deadline        date        NOT NULL, -- 9999-12-31 for none
	stage_deadline  date        NOT NULL,
	opened_at       timestamptz NOT NULL,
	updated_at      timestamptz NOT NULL,
	version         bigint      NOT NULL,
	data            json        NOT NULL
);
-- The dashboard orders by (deadline, stream); each filter leads an index in that order. The
-- deadline dashboard asks for active streams, a few among the closed ones of past years: they
-- have partial indexes of their own.
CREATE INDEX dossier_summaries_deadline   ON dossier_summaries (deadline, stream);
CREATE INDEX dossier_summaries_unit       ON dossier_summaries (unit, deadline, stream);
CREATE INDEX dossier_summaries_state      ON dossier_summaries (state, deadline, stream);
CREATE INDEX dossier_summaries_applicant  ON dossier_summaries (applicant);
CREATE INDEX dossier_summaries_a_deadline ON dossier_summaries (deadline, stream) WHERE active;
CREATE INDEX dossier_summaries_a_unit     ON dossier_summaries (unit, deadline, stream) WHERE active;
CREATE INDEX dossier_summaries_a_assignee ON dossier_summaries (assignee, deadline, stream) WHERE active;
CREATE INDEX dossier_summaries_a_service  ON dossier_summaries (service, deadline, stream) WHERE active;

CREATE TABLE dossier_outbox (
	pos           bigserial   NOT NULL PRIMARY KEY, -- the publishing order
	stream        text        COLLATE "C" NOT NULL,
	id            text        NOT NULL,
	type          text        NOT NULL,
	subject       text        NOT NULL,
	payload       bytea       NOT NULL,
	metadata      jsonb       NOT NULL,
	claimed_until timestamptz NOT NULL DEFAULT '-infinity' -- a relay's lease
);
CREATE INDEX dossier_outbox_stream ON dossier_outbox (stream, pos);

CREATE TABLE dossier_inbox (
	id      text        NOT NULL PRIMARY KEY,
	stream  text        NOT NULL,
	applied timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dossier_inbox_applied ON dossier_inbox (applied);

CREATE TABLE dossier_keys (
	kind   text COLLATE "C" NOT NULL,
	value  text COLLATE "C" NOT NULL,
	stream text COLLATE "C" NOT NULL,
	PRIMARY KEY (kind, value)
);
CREATE INDEX dossier_keys_stream ON dossier_keys (stream);

CREATE TABLE dossier_sequences (
	name  text    NOT NULL,
	year  integer NOT NULL,
	value bigint  NOT NULL,
	PRIMARY KEY (name, year)
);

CREATE TABLE dossier_raised (
	stream text        COLLATE "C" NOT NULL,
	kind   text        NOT NULL,
	due    date        NOT NULL,
	raised timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (stream, kind, due)
);
