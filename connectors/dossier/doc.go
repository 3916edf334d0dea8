// Package dossierconn is the dossier connector: the hub's way into and out of the dossier core
// (dossier/core).
//
// As a sink it takes hub messages by their envelope type: an ЕСОЕД registration request opens a
// dossier for the service its document kind maps to, or is filed into the dossier of the document
// its DocParentID names (the specification's ЗР.4–ЗР.6); application.Submitted opens a dossier;
// the applicant is the document's correspondent of kind Corr_Applicant when it gives a valid ЕГН or
// БУЛСТАТ, else the sending administration; payment.Confirmed marks a fee paid; dossier.Command runs any command; and a message that names
// a dossier's checklist item (the answer to a system task request, such as a register's) completes
// it. The message's id is the inbox id: a redelivered message changes nothing. Bad input is a
// permanent error with the domain's field errors in its text, so that it becomes a dead letter.
//
// As a source it relays the core's outbox: every event of every dossier, as a message whose type
// is the event's, whose subject is the dossier's number, handed to the hub before its outbox row
// is deleted. The source also watches deadlines and raises "deadline near" and "deadline missed".
//
// A dossier opened from an ЕСОЕД document owes its sender the document's status (ЗР.7–ЗР.9): the
// source gives an unsigned DocumentStatusResponse (type esoed.DocumentStatusResponse) when the
// dossier is registered, closed or stopped, and when a document is filed into it by its
// DocParentID (registered under the dossier's number), written in the commit of that change. A route sends
// them to the esoed connector, which signs and sends them and, from then on, answers status
// requests about the document with that status:
//
//	routes:
//	  - name: esoed-statuses
//	    from: dossiers
//	    steps:
//	      - filter: { expr: "meta.type == 'esoed.DocumentStatusResponse'" }
//	    to: esoed
package dossierconn
