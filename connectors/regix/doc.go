// Package regixconn is the regix connector: it calls the operations of the central registers
// through the RegiX entry point from the enrich step of a route.
//
// A call names an operation of the catalogue (package regix) by code or full name, its
// parameters, and its context (CallRequest.Context) under these names, each over the
// connector's call_context defaults:
//
//	law_reason                      the legal basis (required: a call without one never leaves)
//	dossier                         the dossier's registration number: journal, cache, and
//	                                service_uri when that is not given
//	service_uri, service_type       the case and the kind of service or check
//	employee_identifier, employee_names, employee_additional_identifier, employee_position
//	administration_oid, administration_name, responsible_person_identifier, remark
//	citizen_egn, employee_egn       passed to the register only, never to RegiX's logs
//
// The answer's response document comes back as fields (CallResult.Data) and as it was received
// (CallResult.Raw). Every call, refused and failed ones too, is journaled in the store (kind
// "regix.call"): who asked, which register and operation, for which dossier, on which legal basis,
// and the result code, with personal data as journal_personal_data says. Logs show ЕГН masked.
//
// Result codes: ok, refused (nothing was sent), register_error (HasError), fault (SOAP fault),
// timeout, unavailable (the register's circuit is open), invalid_answer, failed.
package regixconn
