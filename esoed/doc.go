// Package esoed is the model of ЕСОЕД (СЕОС) messages, the documents Bulgarian administrations
// exchange with each other, per the СЕОС technical specification v1.1 and its EGovMessaging.xsd
// (namespace http://schemas.egov.bg/messaging/v1), and the library a connector builds on.
//
//   - Schemas: [Schema] compiles the bundled XSDs offline; [Catalog] resolves their imports.
//   - Reading: [ParseHeader] reads the header and document identification in one streaming
//     pass, skipping attachments; [ParseMessage] reads the whole [Message], decoding each
//     attachment once (or streaming it to [ParseOptions].Attachment).
//   - Writing: [Write] and [Marshal] produce XSD-valid, already canonical XML, base64-encoding
//     attachments from their readers as they go; with a [Signer] they add the enveloped
//     XML-DSig signature in the same pass. [Signer.Sign] signs a message that is already XML.
//   - Verifying: [VerifySignature] checks a message's signature and that its signer's
//     certificate chains to a [Trust] at the message's date (MessageDate, the signing time the
//     format carries) and is not revoked; [VerifySignatureIntegrity] checks integrity alone.
//   - Trust: [Trust] builds chains to configured anchors for TLS peers and signers alike;
//     [Revocation] asks the OCSP responder a certificate names, else fetches the CRL at its
//     distribution point (signed by the issuer, current), caches the answers, and applies a
//     [RevocationMode] when neither answers. A registry entry that names a certificate by serial
//     number only is matched with its issuer ([Entity.Identifies]).
//   - Transport: [WriteSubmitRequest], [ParseSubmitRequest], [WriteSubmitResponse],
//     [ParseSubmitResponse], [WriteFault] and [Submit] speak the Submit operation of
//     EGovEndpoint.wsdl (SOAP 1.1); a refusal is a [Fault].
//   - Participants: [Registry] with [SOAPRegistry] (EGovRegistry.wsdl), [FileRegistry]
//     ([LoadRegistryFile]) and [CachedRegistry].
//   - Checks and retries: [SendChecks], [ReceiveChecks], [CheckError], [Outcome],
//     [RetrySchedule].
//
// # Checks of the specification and where they are
//
// Each failed check is a *[CheckError] carrying its code and the outcome the specification
// prescribes; on the receiving side [CheckError.Fault] is the SOAP fault to answer with
// (soap:Client for the sender's errors, soap:Server otherwise).
//
//	И.1–И.6   SendChecks.Outgoing        not XML, XSD, sender/recipient in the registry, signed, signed
//	                                     with the sender's transport certificate — sender's error
//	И.7       SendChecks.ServerCertificate  the server's TLS certificate is the recipient's — exception
//	И.8       SendChecks.SubmitFailed    a fault or a transport error of Submit — exception (retry)
//	И.9–И.15  SendChecks.Answer          the synchronous answer: XML, XSD (a request is no answer),
//	                                     sender, recipient, signed, signer, MessageGUID not seen —
//	                                     recipient's error; a nil answer passes
//	П.1–П.9   ReceiveChecks.Incoming     client certificate present, XML, XSD, recipient served here,
//	                                     sender active in the registry, client certificate is the
//	                                     sender's, signed, signer, MessageGUID not seen — sender's error
//	П.10–П.15 ReceiveChecks.Reply        the answer about to be returned — recipient's error
//
// A registry that cannot answer makes any check that needs it an exception, not a verdict.
//
// Every certificate check goes through the checks' Trust: the client certificate (П.6) and the
// server certificate (И.7) are judged now, the signers (И.6, И.14, П.8, П.15) at the message's
// date. A certificate whose revocation status cannot be learnt under [RevocationRequire] makes
// the check an exception (to be tried again), not the sender's error.
//
// What the connector must supply, because it is not a pure function of the message: the client
// certificate chain of the connection (П.1, П.6) and the server certificate chain (И.7, for
// example from tls.Config.VerifyConnection), the record of MessageGUIDs already received or sent (П.9,
// И.15: the Seen functions), the participants this endpoint serves (П.4), and the message
// size limit (the procedure's unnumbered "message too large" scenario: read the request
// through an io.LimitReader and answer a fault). The application-level codes (ЗР.1–ЗР.9,
// ПС.1–ПС.7, ИС.1–ИС.7, ИГ.1–ИГ.3) depend on the state of documents and are the document
// flow's; the retry strategy of the specification is [DefaultRetry].
package esoed
