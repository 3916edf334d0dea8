// Package ops is the hub's operations API: Prometheus metrics, liveness and readiness probes, and
// the handling of dead letters (list, show, replay, delete) for operations staff.
//
// Handler serves the API over net/http; openapi.yaml, embedded and served at
// GET /api/v1/openapi.yaml, describes every endpoint, and the package's tests hold the handler to
// it in both directions. Client is the Go client the aiskao command uses for its dead-letters
// subcommand.
//
// Every endpoint under /api/v1 needs a principal (identity.Principal) proved by an API token or a
// client certificate (Security), whose role grants the endpoint's permission: dead letters are
// read by operators and auditors, replayed and deleted by operators only, and the journal read by
// both; an auditor sees every ЕГН and ЛНЧ masked. Replays and deletions are journaled with the
// principal as actor. Metrics and the probes are open.
//
// The engine provides a Backend: the store of dead letters, replay, and readiness. The package
// knows nothing else of the engine.
//
// Payloads are bytes. The API shows a dead letter's payload as a JSON string in the field
// "payload" when it is valid UTF-8 (XML and JSON messages, the usual case), and otherwise as
// standard base64 in the field "payload_base64"; exactly one of the two is present.
package ops
