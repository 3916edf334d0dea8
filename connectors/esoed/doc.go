// Package esoedconn is the "esoed" connector: the hub's participant in ЕСОЕД (СЕОС), the exchange
// of documents between Bulgarian administrations, per the СЕОС technical specification v1.1.
//
// As a source it serves the participant endpoint of EGovEndpoint.wsdl (SOAP 1.1 Submit) over
// HTTPS with client certificates, on its own listener. Each request goes through the receiving
// checks П.1–П.9 in the specification's order (a request over max_message_size and a client
// certificate that is expired, revoked or not issued by a configured CA are refused first); a failed
// check is answered with a SOAP fault whose faultstring starts with the check's code, and
// journaled as esoed.refused. An accepted message is handled at the application level:
//
//   - a registration request for a document not received before is handed to the routes, stored
//     before the answer, and answered with DS_WAIT_REGISTRATION (ЗР.2); one for a document
//     received before is answered with DS_ALREADY_RECEIVED (ЗР.1) and not handed on;
//   - a status request is answered from the status table (ПС.1–ПС.7);
//   - a status response about a document sent updates its status in the table and is handed on
//     (ИС.2–ИС.7); one about a document never sent to that participant is answered with an error
//     notice (ИС.1);
//   - an error notice about a message sent marks its document failed and is handed on (ИГ.2,
//     ИГ.3); one about a message never sent is answered with an error notice (ИГ.1).
//
// The answers are signed with the administration's key and pass the checks П.10–П.15 before
// they leave. A message's MessageGUID is recorded once it is handled, so that the same message
// sent again is refused (П.9).
//
// Every certificate, of a connection or of a signature, must chain to the authorities in ca, be
// valid (a signature's at the message's date, MessageDate) and not be revoked: the OCSP
// responder the certificate names is asked, else the CRL at its distribution point is fetched
// (signed by the issuer, current), both cached; revocation.mode says what to do when neither
// answers (require by default: the specification makes the check mandatory). A participant the
// registry names by serial number only must hold a certificate of a configured authority.
//
// As a sink it takes an ЕСОЕД message as the payload, signs it (dated now) when it carries no
// signature, runs the sending checks И.1–И.6, submits it to the recipient's endpoint from the
// registry with the transport certificate as the client certificate, checks the server's
// certificate against the registry (И.7) and the answer (И.9–И.15), and records the document
// and the status the answer tells; an error notice as the answer fails the message only when it
// names it (ИГ.1). Exceptions (И.7, И.8) are retried on the specification's schedule and at most
// retries times; every other failure is permanent.
//
// The status table lives in the store's route state under "esoed:" and the participant's GUID,
// shared by every esoed connector of one administration on one store. It keeps the documents
// received and their status here (the routes change it by sending status responses through an
// esoed sink), the documents sent and their status at the recipient, and the messages received
// and sent.
package esoedconn
