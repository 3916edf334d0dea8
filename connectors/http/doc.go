// Package httpconn is the "http" connector type: a source that takes messages POSTed to an
// endpoint of the hub, and a sink that delivers messages with an HTTP request.
//
// As a source (options listen and path) it mounts "POST <path>" on the hub's HTTP server for the
// listen address, which it shares with every connector listening there. Who may send is the
// option auth, which a source must state, so that an open ingress is a decision written in the
// configuration and never a default: none (anyone who reaches the listener), api_key (an API token
// of the hub's store with the role given, integrator by default, sent as Authorization: Bearer),
// mtls (a TLS client certificate chained to the CA in ca, its subject among subjects when given;
// the listener then serves HTTPS with tls, and connectors sharing an address must give the same
// tls), or jwt (an OAuth2 bearer JWT signed by issuer's keys, for audience, unexpired, with an
// allowed asymmetric algorithm; see identity/jwtauth). Credentials are checked before the body is
// read. A caller without credentials, or whose credentials prove nothing, gets 401 with a
// WWW-Authenticate challenge; one whose role may not send gets 403; both with an RFC 9457
// problem-details body, counted in aiskao_auth_refused_total{listener=<connector>}.
//
// A request whose body is stored is answered 202 Accepted with {"id": "<message id>"}; the answer
// comes only once the hub has durably stored the message (or, for a route that is inline,
// delivered it), so a client that got 202 may forget it.
// Every other refusal is a plain text, Bulgarian first and English second:
//
//	400  empty body, unreadable body, malformed Idempotency-Key
//	405  any method but POST (with Allow: POST)
//	413  body larger than max_body
//	415  Content-Type missing, or not among content_types (parameters such as charset ignored)
//	503  the hub is not accepting yet, is stopping, may not have stored the message, or holds as
//	     many bodies as max_in_flight_bytes allows and found no room within 2 s: try again (after
//	     a publish that may have stored the message, with the Idempotency-Key the answer gives)
//
// Each message gets a new time-ordered UUID (version 7) as its id. A client that retries can send an
// Idempotency-Key header (1 to 255 printable ASCII characters); the id is then a name-based UUID
// (version 5) of the connector's name and the key, the same for every retry, so the hub's
// de-duplication drops repeats. When the message could not be confirmed stored (the 503 of a
// publish that failed or timed out, after which the transport may hold it all the same), the
// answer carries Retry-After, X-Message-Id and Idempotency-Key headers and names the key in its
// text: the client's own key, or for a message sent without one a key the source issued (its
// time and random bytes, "0190a5b2c3d4.9f86d081884c7d659a2feaa0c55ad015"), which stands for the
// same time-ordered id. Sent again with that key, the message has the same id and is taken once. The payload is the body as sent; the envelope's datacontenttype is
// the request's Content-Type as sent, and its type is message_type when set.
//
// As a sink (option url) it sends each message's payload with the configured method, Content-Type
// from the envelope (application/octet-stream when absent), X-Message-Id with the message id, and
// the envelope as CloudEvents headers in binary mode: Ce-Id, Ce-Specversion, and Ce-<name> for
// each envelope name present, underscores dropped (correlation_id becomes Ce-Correlationid), values
// percent-encoded outside printable ASCII. Configured headers are sent too; Content-Type from the
// envelope wins over a configured one. A 2xx answer is success. 408, 429 and 5xx answers, network
// errors and timeouts are retried; any other answer (other 4xx, and 3xx, since redirects are not
// followed) is permanent and names the status and the start of the answer's body.
//
// As a poll source (option poll) it GETs poll.url and takes each item of the JSON array at the
// JSON pointer poll.items as one message: the item's bytes as sent as payload, application/json,
// and as id a name-based UUID of the connector and the item's id (poll.id) or else of the page's
// address and the item's place in it. It then follows the pages (poll.paging: a URL at a JSON
// pointer, the Link header's rel="next", or a page or offset query parameter) up to max_pages,
// and waits poll.interval. After each page whose messages the hub has stored it writes a cursor
// to the hub's store (route "connector:<name>", key "poll"): the page to ask next and how many of
// its items are taken. A restart resumes there, so that nothing is skipped, and an item offered
// twice after a stop between storing and writing the cursor has the same id, which the routes'
// idempotency drops. A next page on another server than poll.url is refused, since the hub's
// credentials would go there; answers larger than max_body, not JSON, or without the array are
// errors logged once and retried at every interval.
//
// The requests the hub makes (sink and poll source) can prove who it is with client_auth: a
// bearer token (token or token_file), basic auth (username, password or password_file) or an
// OAuth2 client-credentials token from token_url (golang.org/x/oauth2/clientcredentials), kept
// until shortly before it expires; and with client_tls: a client certificate for mutual TLS and
// the CA the server's certificate must chain to. Secrets in files are read once at start; none
// is logged or put into an error. A token endpoint refusing the client (400, 401, 403) makes the
// delivery fail permanently, as a 401 or 403 from url does; 5xx answers and network errors of
// either are retried. Redirects are never followed, so credentials never go to another address.
// client_auth is distinct from auth, which checks those who send to the hub.
//
// One connector may be both: it then receives at listen and path (or polls), and delivers to url.
package httpconn
