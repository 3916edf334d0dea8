// Package mapping holds the steps that work on metadata and JSON with expressions, whatever the
// payload's format:
//
//   - set: sets metadata and JSON fields, or the whole JSON payload, from expressions;
//   - filter: keeps a message only when a condition holds;
//   - log: writes a line about the message to the hub's log.
//
// Expressions are written in expr (https://expr-lang.org) and see two names: meta, the message's
// metadata, and body, its JSON payload (numbers as int or float64), or nil when the payload is not
// JSON. The payload is decoded only when an expression of the step mentions body, so steps that
// read only meta cost nothing on XML payloads.
package mapping
