// Package dossier is the domain of the dossier core: applications for
// administrative services arriving from every channel, and dossiers
// (преписки) opened for them, which go through the service's stages within
// legal deadlines until a result is issued and delivered.
//
// A dossier is event-sourced. Every change is an Event (who, when, what, on
// which dossier); the dossier's state is rebuilt by applying its events
// (Replay), and commands check their invariants against the state and return
// the new events, or an *Error that says why they were refused (Kind
// Invalid, Conflict or NotFound, a stable Code, a message in Bulgarian and
// English, and for bad input every wrong field as a JSON pointer).
//
// A store and a connector use it so:
//
//	code, _ := dossier.NewAccessCode(rand.Reader)   // given to the applicant once
//	d, events, err := dossier.Open(meta, dossier.OpenRequest{
//		Service: svc, Application: app, Numbering: n, Seq: seq, AccessCode: code})
//	// append events in one transaction with the outbox; later:
//	d, err := dossier.Replay(stored)
//	events, err := d.CompleteTask(meta, "T1", "")
//	// append events after d's earlier ones; (dossier, seq) is unique
//
// The commands are Open, FileDocument, StartStage, AssignTask, CompleteTask,
// RequestItem, CompleteItem, NotifyIrregularity, AnswerIrregularity,
// SuspendForAuthority, Resume, MarkFeePaid, IssueResult, DeliverResult, Close
// and RaiseDeadlines. A SystemTaskRequested event asks the connector to
// obtain an ex officio item (a register operation through RegiX, or another
// administration through ЕСОЕД); its answer comes back as CompleteItem.
// Deadlines reports the deadlines near or missed at a moment; Public is what
// the applicant may see; Describe words each event for the journal.
//
// A deadline is missed the day after its last day (for a term in hours, after
// its moment). It is near when at most the warning's working days are left
// after today and fewer than the deadline's own length in working days: a
// deadline is never near on the day it starts, so a stage of one working day
// with a warning of two is near on its last day, not the moment it begins
// (DeadlineStateAt). NextDue is the last day of the nearest deadline that
// runs, for a store to find the dossiers a deadline watch must look at.
//
// The package imports no HTTP, SQL or messaging: deadlines are counted by
// dossier/calendar, services are described by dossier/service, identifiers
// are checked by dossier/ident, feedback is in dossier/feedback.
package dossier
