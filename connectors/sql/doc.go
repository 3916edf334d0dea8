// Package sqlconn is the "sql" connector type: a source that reads rows of a PostgreSQL,
// MariaDB/MySQL or SQLite table as messages, and a sink that writes messages as rows.
//
// # Source
//
// With mode: poll it reads, every poll_interval, up to batch_size rows of table (or of query)
// whose cursor column is past the remembered cursor, in cursor order; with tie_breaker the
// cursor is the pair (cursor, tie_breaker), so that rows sharing a timestamp are neither
// repeated nor skipped. The rows are handed to the hub, and only once the hub has stored them is
// the last row's cursor written to the hub's store (state key "cursor" of "connector:<name>").
// A stop in between reads the rows again, under the same message ids, which the routes'
// idempotency drops: a restart neither repeats nor skips rows. A batch that was full is followed
// at once by the next. Polling by a cursor assumes that rows become visible in cursor order.
// Several writers numbering rows from one sequence may commit out of order: id 11 visible while
// id 10 is still being written. Polling a table by an integer cursor, the rows after such a gap
// wait for it up to settle (2s by default), so that 10 is not skipped; a gap still there then is
// taken as a rolled-back id. A query's own conditions leave gaps, so a query is read without
// waiting, and a timestamp cursor has no such check: there, use one writer, or an outbox.
//
// With mode: outbox it claims up to batch_size rows of table in key order: in a short
// transaction it picks free rows, locking them (FOR UPDATE SKIP LOCKED on PostgreSQL, MariaDB
// 10.6 and later and MySQL 8, so that several hubs share the outbox; FOR UPDATE elsewhere;
// SQLite's write lock), writes a claim of its own into claim_column, reads them by that claim
// and commits. Only then are the rows handed to the hub; once stored, they are deleted (done:
// delete) or done_column is set to the current time (done: mark; rows where it is NULL are
// claimed), by their claim. A claim transaction the database rolls back (InnoDB choosing a
// deadlock victim, a lost connection) has handed nothing over; a removal that fails is tried
// again before the next claim, the rows staying claimed meanwhile. So every row is handed over
// once, by one hub, unless a hub stops between storing rows and removing them: its claim lapses
// after claim_timeout (2m) and any hub takes the rows again, under the same ids (the same hub's
// idempotency drops them; another hub delivers them a second time). Rows not stored are released
// at once. A claim is the time it lapses, as fixed-width digits in UTC, and a random part: it
// compares as text, with any collation, in time order, and the hubs' clocks must roughly agree.
// The claim column is not part of the message.
//
// With notify (PostgreSQL) the source also LISTENs on a channel and polls at once at every
// NOTIFY on it, reconnecting when the connection drops.
//
// A row becomes a JSON object, its keys the result's column names in order: integers and
// floats are numbers, NUMERIC and DECIMAL are numbers written exactly as the database gives
// them (never through a float), NaN and infinities text, booleans true or false, timestamps
// RFC 3339 text in UTC, dates YYYY-MM-DD, bytea and BLOB base64 text, JSON columns embedded as JSON,
// other values text; NULL is null, distinct from "". With payload_column the payload is that
// column's value as it is instead. The message id is a name-based UUID (version 5) of the
// connector's name, the table (or "query") and the row's cursor or key, so a row read twice is
// the same message; its metadata holds datacontenttype, sql_table, sql_cursor and type
// (message_type) when set.
//
// # Sink
//
// Each message is a JSON object (one row) or a list of objects (one row each, in one
// transaction). action: insert writes the columns of fields, each filled from the message's
// field at its path; upsert does the same, updating the row with the same key_columns (ON
// CONFLICT ... DO UPDATE on PostgreSQL and SQLite, ON DUPLICATE KEY UPDATE on MariaDB/MySQL);
// statement runs a configured statement whose :name parameters are filled from params. Table and
// column names come from the configuration only, checked to be plain names and quoted; values
// always travel as parameters, never inside the SQL text. Integers go as integers, other numbers
// as their exact decimal text, objects and lists as JSON text, a missing field as NULL. MariaDB
// and MySQL refuse a time zone in a DATETIME's text, so for them text that is exactly an RFC 3339
// timestamp with its zone goes as a time, written in the connection's zone (UTC unless the dsn
// says loc=...).
//
// With batch above 1 the messages sent at the same time share one transaction; when it fails,
// each is written in its own, so that one bad message fails alone. A constraint violation, data
// the database refuses and a statement it cannot run are permanent errors carrying the
// database's message (the message goes to the dead letters); a lost connection and anything else
// are retried.
//
// # Init
//
// init lists statements, idempotent DDL such as CREATE TABLE IF NOT EXISTS, that a sink runs at
// start and a source before its first read, so that a new deployment (the demo's SQLite file)
// finds its tables. Until they have all succeeded they are run again before every read or write,
// which fails meanwhile with a retryable error: a database down at start is prepared when it
// comes back. A configuration only checked (aiskao validate) runs none.
package sqlconn
