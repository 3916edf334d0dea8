package ops

import (
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/store"
)

// The fixture's dead letters as GET /api/v1/dead-letters shows them (no payload).
const (
	listedUTF8 = `{"id":"{utf8}","message_id":"m-1","route":"incoming-documents","step":"steps[2].json_schema",
		"error":"missing property 'DocumentNumber'","attempts":5,"time":"2025-03-14T09:30:00Z",
		"metadata":{"type":"esoed.DocumentRegistrationRequest","subject":"94-00-123"}}`
	listedBinary = `{"id":"{binary}","message_id":"m-2","route":"incoming-documents","step":"steps[0].xml_to_json",
		"error":"XML syntax error on line 1","attempts":1,"time":"2025-03-14T09:31:00Z",
		"metadata":{"datacontenttype":"application/octet-stream"}}`
	listedGone = `{"id":"{gone}","message_id":"m-3","route":"removed-route","step":"to[0].outbox",
		"error":"connection refused","attempts":3,"time":"2025-03-14T09:32:00Z","metadata":{}}`
	listedEmpty = `{"id":"{empty}","message_id":"m-4","route":"register-lookups","step":"steps[1].mapping",
		"error":"no field","attempts":2,"time":"2025-03-14T09:33:00Z","metadata":{}}`
)

// withPayload adds fields to a listed dead letter's JSON object.
func withPayload(listed, fields string) string {
	return strings.TrimSuffix(listed, "}") + "," + fields + "}"
}

func list(items ...string) string {
	return `{"dead_letters":[` + strings.Join(items, ",") + `]}`
}

// problem is a problem-details body of status with detail.
func problem(status int, detail string) string {
	b, _ := json.Marshal(map[string]any{"type": "about:blank", "title": http.StatusText(status), "status": status, "detail": detail})
	return string(b)
}

// noCredentials is the detail of the refusal of a request without credentials.
const noCredentials = "an API token (Authorization: Bearer) or a client certificate is required"

// refused is the case of a request that token's holder may not make: status and a problem
// document with detail.
func refused(name, method, target, token string, status int, detail string) apiCase {
	return apiCase{name: name, method: method, target: target, token: token, status: status,
		ctype: "application/problem+json", json: problem(status, detail)}
}

// then returns c with a check after the request.
func (c apiCase) then(after func(*testing.T, *fixture)) apiCase {
	c.after = after
	return c
}

// keptUTF8 checks that the dead letter {utf8} is still there.
func keptUTF8(t *testing.T, f *fixture) { f.mustKept(t, "utf8") }

const limitError = `{"error":"query parameter limit must be a whole number from 1 to 1000, got %q"}`

// apiCase is one request to the handler and what it must answer. The OpenAPI test runs the same
// cases against the document.
type apiCase struct {
	name   string
	method string
	target string         // may hold {utf8}, {binary}, {gone}, {empty}: the fixture's ids
	setup  func(*fixture) // changes the fixture before the request
	status int            // wanted status
	ctype  string         // wanted media type; "" for no body
	json   string         // wanted JSON body (compared as values), with the same placeholders
	text   string         // wanted substring of a text body
	after  func(*testing.T, *fixture)
	// token names the fixture's token sent as Authorization: Bearer: "" the operator's, "-" none,
	// "bad" one this hub never made; any other value is sent as the whole header.
	token string
}

const (
	journal1 = `{"id":"j-1","time":"2025-03-14T09:30:00Z","kind":"regix.call","route":"register-lookups",` +
		`"message_id":"m-5","dossier":"D-1","actor":"EMP-7","subject":"GRAO/PersonDataSearch",` +
		`"legal_basis":"чл. 13 АПК","result":"ok","detail":{"egn":"******1234"}}`
	journal2 = `{"id":"j-2","time":"2025-03-14T09:31:00Z","kind":"esoed.received","dossier":"D-2",` +
		`"result":"DS_ALREADY_RECEIVED"}`
)

func brokenDisk(f *fixture) { f.backend.broken = errors.New("disk I/O error") }

var apiCases = []apiCase{
	{name: "healthz", method: "GET", target: "/healthz", status: 200, ctype: "text/plain", text: "ok"},
	{name: "healthz while not ready", method: "GET", target: "/healthz",
		setup:  func(f *fixture) { f.backend.readyErr = errors.New("routes are starting") },
		status: 200, ctype: "text/plain", text: "ok"},
	{name: "readyz", method: "GET", target: "/readyz", status: 200, ctype: "text/plain", text: "ok"},
	{name: "readyz not ready", method: "GET", target: "/readyz",
		setup:  func(f *fixture) { f.backend.readyErr = errors.New("store: database is locked") },
		status: 503, ctype: "text/plain", text: "not ready: store: database is locked"},
	{name: "readyz unknown part", method: "GET", target: "/readyz?part=everything",
		status: 400, ctype: "text/plain", text: `part must be accepting or delivering, got "everything"`},
	{name: "metrics", method: "GET", target: "/metrics", status: 200, ctype: "text/plain",
		text: "\naiskao_test_messages_total 3\n"},
	{name: "openapi", method: "GET", target: "/api/v1/openapi.yaml", status: 200, ctype: "application/yaml",
		text: "openapi: 3.1.0\n"},

	{name: "list all newest first", method: "GET", target: "/api/v1/dead-letters", status: 200, ctype: "application/json",
		json: list(listedEmpty, listedGone, listedBinary, listedUTF8)},
	{name: "list by route", method: "GET", target: "/api/v1/dead-letters?route=incoming-documents", status: 200,
		ctype: "application/json", json: list(listedBinary, listedUTF8)},
	{name: "list by route and limit", method: "GET", target: "/api/v1/dead-letters?route=incoming-documents&limit=1",
		status: 200, ctype: "application/json", json: list(listedBinary)},
	{name: "list highest limit", method: "GET", target: "/api/v1/dead-letters?limit=1000", status: 200,
		ctype: "application/json", json: list(listedEmpty, listedGone, listedBinary, listedUTF8)},
	{name: "list unknown route is empty", method: "GET", target: "/api/v1/dead-letters?route=nothing", status: 200,
		ctype: "application/json", json: `{"dead_letters":[]}`},
	{name: "list limit not a number", method: "GET", target: "/api/v1/dead-letters?limit=ten", status: 400,
		ctype: "application/json", json: strings.Replace(limitError, "%q", `\"ten\"`, 1)},
	{name: "list limit zero", method: "GET", target: "/api/v1/dead-letters?limit=0", status: 400,
		ctype: "application/json", json: strings.Replace(limitError, "%q", `\"0\"`, 1)},
	{name: "list limit too high", method: "GET", target: "/api/v1/dead-letters?limit=1001", status: 400,
		ctype: "application/json", json: strings.Replace(limitError, "%q", `\"1001\"`, 1)},
	{name: "list limit empty", method: "GET", target: "/api/v1/dead-letters?limit=", status: 400,
		ctype: "application/json", json: strings.Replace(limitError, "%q", `\"\"`, 1)},
	{name: "list store fails", method: "GET", target: "/api/v1/dead-letters", setup: brokenDisk, status: 500,
		ctype: "application/json", json: `{"error":"listing dead letters: disk I/O error"}`},

	{name: "journal newest first", method: "GET", target: "/api/v1/journal", status: 200, ctype: "application/json",
		json: `{"entries":[` + journal2 + `,` + journal1 + `]}`},
	{name: "journal by dossier", method: "GET", target: "/api/v1/journal?dossier=D-1", status: 200,
		ctype: "application/json", json: `{"entries":[` + journal1 + `]}`},
	{name: "journal by kind and limit", method: "GET", target: "/api/v1/journal?kind=regix.call&route=register-lookups&limit=1",
		status: 200, ctype: "application/json", json: `{"entries":[` + journal1 + `]}`},
	{name: "journal unknown kind is empty", method: "GET", target: "/api/v1/journal?kind=nothing", status: 200,
		ctype: "application/json", json: `{"entries":[]}`},
	{name: "journal limit too high", method: "GET", target: "/api/v1/journal?limit=5000", status: 400,
		ctype: "application/json", json: strings.Replace(limitError, "%q", `\"5000\"`, 1)},
	{name: "journal store fails", method: "GET", target: "/api/v1/journal", setup: brokenDisk, status: 500,
		ctype: "application/json", json: `{"error":"listing the journal: disk I/O error"}`},

	{name: "get UTF-8 payload as text", method: "GET", target: "/api/v1/dead-letters/{utf8}", status: 200,
		ctype: "application/json", json: withPayload(listedUTF8, `"payload":"<Doc a=\"1\">Заявление & приложения</Doc>"`)},
	{name: "get binary payload as base64", method: "GET", target: "/api/v1/dead-letters/{binary}", status: 200,
		ctype: "application/json", json: withPayload(listedBinary, `"payload_base64":"/wD+eA=="`)},
	{name: "get empty payload", method: "GET", target: "/api/v1/dead-letters/{empty}", status: 200,
		ctype: "application/json", json: withPayload(listedEmpty, `"payload":""`)},
	{name: "get unknown", method: "GET", target: "/api/v1/dead-letters/nope", status: 404,
		ctype: "application/json", json: `{"error":"dead letter \"nope\" not found"}`},
	{name: "get unknown with escaped slash", method: "GET", target: "/api/v1/dead-letters/a%2Fb", status: 404,
		ctype: "application/json", json: `{"error":"dead letter \"a/b\" not found"}`},
	{name: "get store fails", method: "GET", target: "/api/v1/dead-letters/{utf8}", setup: brokenDisk, status: 500,
		ctype: "application/json", json: `{"error":"reading dead letter \"{utf8}\": disk I/O error"}`},

	{name: "replay", method: "POST", target: "/api/v1/dead-letters/{utf8}/replay", status: 202,
		ctype: "application/json", json: `{"id":"{utf8}","message_id":"replay-of-m-1","status":"replayed"}`,
		after: func(t *testing.T, f *fixture) {
			f.mustGone(t, "utf8")
			f.mustJournal(t, "deadletter.replayed", "utf8", "token:operator")
			if want := []string{f.ids["utf8"]}; !slices.Equal(f.backend.replayed, want) {
				t.Errorf("replayed %v, want %v", f.backend.replayed, want)
			}
		}},
	{name: "replay route gone", method: "POST", target: "/api/v1/dead-letters/{gone}/replay", status: 409,
		ctype: "application/json", json: `{"error":"dead letter \"{gone}\" cannot be replayed: route is not configured: \"removed-route\""}`,
		after: func(t *testing.T, f *fixture) { f.mustKept(t, "gone") }},
	{name: "replay unknown", method: "POST", target: "/api/v1/dead-letters/nope/replay", status: 404,
		ctype: "application/json", json: `{"error":"dead letter \"nope\" not found"}`},
	{name: "replay store fails", method: "POST", target: "/api/v1/dead-letters/{utf8}/replay", setup: brokenDisk,
		status: 500, ctype: "application/json", json: `{"error":"replaying dead letter \"{utf8}\": disk I/O error"}`,
		after: func(t *testing.T, f *fixture) { f.mustKept(t, "utf8") }},

	{name: "delete", method: "DELETE", target: "/api/v1/dead-letters/{binary}", status: 204,
		after: func(t *testing.T, f *fixture) {
			f.mustGone(t, "binary")
			f.mustKept(t, "utf8")
			f.mustJournal(t, "deadletter.deleted", "binary", "token:operator")
		}},
	{name: "delete unknown", method: "DELETE", target: "/api/v1/dead-letters/nope", status: 404,
		ctype: "application/json", json: `{"error":"dead letter \"nope\" not found"}`},
	{name: "delete store fails", method: "DELETE", target: "/api/v1/dead-letters/{binary}", setup: brokenDisk,
		status: 500, ctype: "application/json", json: `{"error":"deleting dead letter \"{binary}\": disk I/O error"}`},

	// Refusals: every operation under /api/v1 refuses a caller without credentials (401), and
	// one whose role lacks the permission (403), with a problem-details body.
	refused("openapi anonymous", "GET", "/api/v1/openapi.yaml", "-", 401, noCredentials),
	refused("list anonymous", "GET", "/api/v1/dead-letters", "-", 401, noCredentials),
	refused("list unknown token", "GET", "/api/v1/dead-letters", "bad", 401, "unknown API token"),
	refused("list revoked token", "GET", "/api/v1/dead-letters", "revoked", 401, "the API token has been revoked"),
	refused("list basic auth", "GET", "/api/v1/dead-letters", "Basic YWRtaW46YWRtaW4=", 401, "the Authorization header must read: Bearer <token>"),
	refused("list not a token", "GET", "/api/v1/dead-letters", "Bearer secret", 401, "the bearer token is not an API token of this hub"),
	refused("list as integrator", "GET", "/api/v1/dead-letters", "integrator", 403, "principal token:integrator lacks permission deadletters.read"),
	{name: "list as auditor", method: "GET", target: "/api/v1/dead-letters?route=incoming-documents", token: "auditor", status: 200,
		ctype: "application/json", json: list(listedBinary, listedUTF8)},
	refused("get anonymous", "GET", "/api/v1/dead-letters/{utf8}", "-", 401, noCredentials),
	refused("get as integrator", "GET", "/api/v1/dead-letters/{utf8}", "integrator", 403, "principal token:integrator lacks permission deadletters.read"),
	{name: "get as auditor is masked", method: "GET", target: "/api/v1/dead-letters/{person}", token: "auditor",
		setup: func(f *fixture) { f.addPerson(f.t) }, status: 200, ctype: "application/json",
		json: `{"id":"{person}","message_id":"m-9","route":"register-lookups","step":"steps[1].enrich",
			"error":"register answered: no person with ЕГН ******8485","attempts":1,"time":"2025-03-14T09:40:00Z",
			"metadata":{"subject":"D-9","egn":"******8485"},"payload":"{\"application\":{\"applicant\":{\"egn\":\"******8485\"}}}"}`},
	{name: "get as operator is not masked", method: "GET", target: "/api/v1/dead-letters/{person}",
		setup: func(f *fixture) { f.addPerson(f.t) }, status: 200, ctype: "application/json",
		text: `"egn\":\"8506258485\"`},
	{name: "list as auditor is masked", method: "GET", target: "/api/v1/dead-letters?route=register-lookups&limit=1", token: "auditor",
		setup: func(f *fixture) { f.addPerson(f.t) }, status: 200, ctype: "application/json",
		text: `"error":"register answered: no person with ЕГН ******8485"`},
	refused("replay anonymous", "POST", "/api/v1/dead-letters/{utf8}/replay", "-", 401, noCredentials).then(keptUTF8),
	refused("replay as auditor", "POST", "/api/v1/dead-letters/{utf8}/replay", "auditor", 403, "principal token:auditor lacks permission deadletters.replay").then(keptUTF8),
	refused("delete anonymous", "DELETE", "/api/v1/dead-letters/{utf8}", "-", 401, noCredentials).then(keptUTF8),
	refused("delete as auditor", "DELETE", "/api/v1/dead-letters/{utf8}", "auditor", 403, "principal token:auditor lacks permission deadletters.delete").then(keptUTF8),
	refused("journal anonymous", "GET", "/api/v1/journal", "-", 401, noCredentials),
	refused("journal as integrator", "GET", "/api/v1/journal", "integrator", 403, "principal token:integrator lacks permission journal.read"),
	{name: "journal as auditor is masked", method: "GET", target: "/api/v1/journal?dossier=D-9", token: "auditor",
		setup: func(f *fixture) {
			_, _ = f.backend.st.AppendJournal(context.Background(), store.JournalEntry{ID: "j-9", Time: fixtureTime, Kind: "regix.call",
				Dossier: "D-9", Subject: "GRAO/PersonDataSearch 8506258485", Result: "ok", Detail: map[string]string{"egn": "8506258485"}})
		}, status: 200, ctype: "application/json",
		json: `{"entries":[{"id":"j-9","time":"2025-03-14T09:30:00Z","kind":"regix.call","dossier":"D-9",
			"subject":"GRAO/PersonDataSearch ******8485","result":"ok","detail":{"egn":"******8485"}}]}`},
	{name: "metrics open", method: "GET", target: "/metrics", token: "-", status: 200, ctype: "text/plain",
		text: "\naiskao_test_messages_total 3\n"},
	{name: "readyz open", method: "GET", target: "/readyz", token: "-", status: 200, ctype: "text/plain", text: "ok"},

	// Not in the document: net/http answers these.
	{name: "wrong method", method: "POST", target: "/healthz", status: 405, ctype: "text/plain"},
	{name: "get on replay", method: "GET", target: "/api/v1/dead-letters/{utf8}/replay", status: 405, ctype: "text/plain"},
	{name: "unknown path", method: "GET", target: "/api/v1/nothing", status: 404, ctype: "text/plain"},
}

// serve runs c against a new fixture and returns the response after checking status and body.
func (c apiCase) serve(t *testing.T) (*fixture, *httptest.ResponseRecorder) {
	t.Helper()
	f := newFixture(t)
	if c.setup != nil {
		c.setup(f)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(c.method, f.expand(c.target), nil)
	switch tok, ok := f.tokens[c.token]; {
	case c.token == "":
		req.Header.Set("Authorization", "Bearer "+f.tokens["operator"])
	case c.token == "-":
	case c.token == "bad":
		req.Header.Set("Authorization", "Bearer aiskao_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	case ok:
		req.Header.Set("Authorization", "Bearer "+tok)
	default:
		req.Header.Set("Authorization", c.token)
	}
	f.handler().ServeHTTP(rec, req)
	return f, rec
}

func TestHandler(t *testing.T) {
	for _, c := range apiCases {
		t.Run(c.name, func(t *testing.T) {
			f, rec := c.serve(t)
			if rec.Code != c.status {
				t.Fatalf("%s %s: status %d, want %d; body:\n%s", c.method, c.target, rec.Code, c.status, rec.Body)
			}
			mt := mediaType(rec.Header().Get("Content-Type"))
			if c.ctype == "" {
				if rec.Body.Len() != 0 || mt != "" {
					t.Errorf("got a body (%q, Content-Type %q), want none", rec.Body, mt)
				}
			} else if mt != c.ctype {
				t.Errorf("Content-Type %q, want %q", mt, c.ctype)
			}
			if c.json != "" {
				assertJSON(t, rec.Body.Bytes(), f.expand(c.json))
			}
			if !strings.Contains(rec.Body.String(), c.text) {
				t.Errorf("body does not contain %q:\n%s", c.text, rec.Body)
			}
			if c.status == http.StatusMethodNotAllowed && rec.Header().Get("Allow") == "" {
				t.Errorf("405 without an Allow header")
			}
			if c.after != nil {
				c.after(t, f)
			}
		})
	}
}

func mediaType(ct string) string {
	mt, _, _ := mime.ParseMediaType(ct)
	return mt
}

// assertJSON compares got and want as JSON values, so that key order and spacing do not matter.
func assertJSON(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad wanted JSON in the test: %v\n%s", err, want)
	}
	if !reflect.DeepEqual(g, w) {
		gi, _ := json.MarshalIndent(g, "", "  ")
		wi, _ := json.MarshalIndent(w, "", "  ")
		t.Errorf("body:\n%s\nwant:\n%s", gi, wi)
	}
}

// Payloads are mostly XML; the API must not turn <, > and & into \u003c escapes.
func TestPayloadIsReadable(t *testing.T) {
	f := newFixture(t)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/api/v1/dead-letters/"+f.ids["utf8"], nil)
	req.Header.Set("Authorization", "Bearer "+f.tokens["operator"])
	f.handler().ServeHTTP(rec, req)
	if want := `<Doc a=\"1\">Заявление & приложения</Doc>`; !strings.Contains(rec.Body.String(), want) {
		t.Errorf("body does not contain %s:\n%s", want, rec.Body)
	}
}

// The metrics endpoint answers uncompressed even when the scraper offers gzip.
func TestMetricsUncompressed(t *testing.T) {
	f := newFixture(t)
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	rec := httptest.NewRecorder()
	f.handler().ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("status %d, want 200", rec.Code)
	}
	if enc := rec.Header().Get("Content-Encoding"); enc != "" {
		t.Errorf("Content-Encoding %q, want none", enc)
	}
	if !strings.Contains(rec.Body.String(), "# TYPE aiskao_test_messages_total counter\n") {
		t.Errorf("body has no TYPE line for the test metric:\n%s", rec.Body)
	}
}

// partsBackend tells its parts apart, as the hub's supervisor does.
type partsBackend struct {
	*fakeBackend
	accepting, delivering error
}

func (b partsBackend) Readiness(context.Context) (error, error) { return b.accepting, b.delivering }

// TestReadyzParts: /readyz names the part that is down, answers 503 only while the hub does not
// accept messages, and ?part=delivering answers by the deliveries.
func TestReadyzParts(t *testing.T) {
	broker := errors.New("transport: rabbitmq: broker silent")
	db := errors.New("store: not answering for 1.5s")
	cases := []struct {
		name                  string
		accepting, delivering error
		query                 string
		status                int
		body                  string
	}{
		{"all up", nil, nil, "", 200, "ok\naccepting: ok\ndelivering: ok\n"},
		{"database down", nil, db, "", 200, "accepting, not delivering\naccepting: ok\ndelivering: down: store: not answering for 1.5s\n"},
		{"database down, asked for deliveries", nil, db, "?part=delivering", 503, "accepting, not delivering\naccepting: ok\ndelivering: down: store: not answering for 1.5s\n"},
		{"all up, asked for deliveries", nil, nil, "?part=delivering", 200, "ok\naccepting: ok\ndelivering: ok\n"},
		{"broker down", broker, broker, "", 503, "not ready: not accepting\naccepting: down: transport: rabbitmq: broker silent\ndelivering: down: transport: rabbitmq: broker silent\n"},
		{"asked for accepting", broker, nil, "?part=accepting", 503, "not ready: not accepting\naccepting: down: transport: rabbitmq: broker silent\ndelivering: ok\n"},
		{"unknown part", nil, nil, "?part=all", 400, "part must be accepting or delivering, got \"all\"\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := partsBackend{fakeBackend: &fakeBackend{st: newStore(t)}, accepting: c.accepting, delivering: c.delivering}
			rec := httptest.NewRecorder()
			Handler(b, nil, nil, nil).ServeHTTP(rec, httptest.NewRequest("GET", "/readyz"+c.query, nil))
			if rec.Code != c.status || rec.Body.String() != c.body {
				t.Errorf("GET /readyz%s = %d %q, want %d %q", c.query, rec.Code, rec.Body.String(), c.status, c.body)
			}
		})
	}
}
