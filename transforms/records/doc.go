// Package records registers the steps for the record formats of legacy registers and back-office
// exports: "csv" and "fixed_width", each parsing a file into JSON records or writing JSON records
// back into a file, and "record_reject", which turns a bad record into a dead letter.
//
// A record is a JSON object whose keys are the declared fields, in their declared order, with
// typed values: strings, integers and decimals as JSON numbers (decimals kept exactly as written,
// never through a float), dates as "YYYY-MM-DD", booleans. An empty field is null, "" or absent
// as the field's empty option says, so that a register's NULL and its empty string stay apart.
//
// Parsing makes one message holding the JSON array of the good records (output: array) or one
// message per record (output: messages). A bad record (too short, a number or a date that does
// not parse, a byte the character set does not define) either fails the whole file, naming every
// bad record (bad_records: fail, the default), or becomes a message of its own carrying the record
// number, the field, the value and the raw record (bad_records: reject), while the good records go
// on. The engine keeps one dead letter per message it takes from the transport, so rejected
// records become dead letters of their own in a route that takes the records one by one: the file
// route writes every record to a spool (a file connector) and a second route reads the spool
// through record_reject, which fails the rejected ones and lets the others pass.
package records
