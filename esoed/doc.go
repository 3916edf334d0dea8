// Package esoed is the model of ЕСОЕД (СЕОС) messages, the documents Bulgarian administrations
// exchange with each other, per the СЕОС technical specification v1.1 and its EGovMessaging.xsd
// (namespace http://schemas.egov.bg/messaging/v1).
//
// It bundles the specification's schemas ([Schema], compiled offline from files embedded in the
// program), reads a message's header and document identification in one streaming pass
// ([ParseHeader]) and verifies the XML-DSig enveloped signature a message carries
// ([VerifySignature]).
package esoed
