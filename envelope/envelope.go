// Package envelope defines the metadata names every hub message carries, and the ids the hub gives
// the messages it receives without one.
//
// A hub message is a Watermill message: a unique id, metadata and a payload. The names follow
// CloudEvents attribute names where one fits, so that the flow of one dossier can be traced across
// systems by its subject and correlation id. Connectors and transforms import this package; it
// imports nothing of the hub.
package envelope

import "github.com/google/uuid"

// NewID returns a new message id: a UUIDv7, ordered by time. The stores index the ids they
// remember (idempotency keys), and ids that follow each other land on the same index pages
// instead of one random page each; operators can sort them too. Like uuid.NewString, it panics
// only when the system's random source fails.
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// Metadata names. They are defined here once; no other package spells them.
const (
	// Type is the kind of message, for example "esoed.DocumentRegistrationRequest".
	Type = "type"
	// Source is the name of the connector instance that received the message.
	Source = "source"
	// Subject is the dossier's registration number, when known.
	Subject = "subject"
	// Time is when the hub received the message, RFC 3339 with nanoseconds, UTC.
	Time = "time"
	// ContentType is the media type of the payload, for example "application/xml".
	ContentType = "datacontenttype"
	// CorrelationID is shared by every message caused, directly or not, by one incoming message.
	CorrelationID = "correlation_id"
	// CausationID is the id of the message that directly caused this one.
	CausationID = "causation_id"
	// Route is the name of the route processing the message.
	Route = "route"
	// Attempt counts the deliveries of the message to its route, starting at 1.
	Attempt = "attempt"
)

// Names lists every metadata name defined here, in a stable order.
var Names = []string{Type, Source, Subject, Time, ContentType, CorrelationID, CausationID, Route, Attempt}
