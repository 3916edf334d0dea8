// Package dossier is the domain of the dossier core: applications for
// administrative services arriving from every channel, and dossiers
// (преписки) opened for them, which go through the service's stages within
// legal deadlines until a result is issued and delivered.
//
// A dossier is event-sourced. Every change is an Event (who, when, what, on
// which dossier); the dossier's state is rebuilt by applying its events
// (Replay), and commands (Open, FileDocument, CompleteTask, ...) check their
// invariants against the state and return the new events, or an *Error that
// says why they were refused. The store persists the events, the connector
// publishes them with the dossier's number as the CloudEvents subject.
//
// The package imports no HTTP, SQL or messaging: deadlines are counted by
// dossier/calendar, services are described by dossier/service, identifiers
// are checked by dossier/ident.
package dossier
