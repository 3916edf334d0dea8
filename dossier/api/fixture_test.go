package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aiskao/aiskao/dossier/core"
	"github.com/aiskao/aiskao/dossier/service"
	dstore "github.com/aiskao/aiskao/dossier/store"
	"github.com/aiskao/aiskao/dossier/store/sqlite"
	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/httpauth"
	"github.com/aiskao/aiskao/internal/openapitest"
	"github.com/aiskao/aiskao/store"
)

var sofia, _ = time.LoadLocation("Europe/Sofia")

// start is when the tests run: Friday 4 December 2026, 9:30 in Sofia.
var start = time.Date(2026, 12, 4, 9, 30, 0, 0, sofia)

const sum = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

// roleAuth proves callers by "Authorization: Bearer <name>", where name is a role (or
// "<role>-<anything>", another principal with that role); "nobody" has no role.
type roleAuth struct{}

func (roleAuth) Scheme() string { return "Bearer" }

func (roleAuth) Authenticate(r *http.Request) (*identity.Principal, *httpauth.Refusal) {
	tok, ok, ref := httpauth.Bearer(r)
	if !ok || ref != nil {
		return nil, ref
	}
	role, _, _ := strings.Cut(tok, "-")
	if _, err := identity.ParseRole(role); err != nil && role != "nobody" {
		return nil, httpauth.Unauthorized(httpauth.ReasonUnknown, "unknown API token")
	}
	p := &identity.Principal{Name: tok, Kind: identity.KindToken}
	if role != "nobody" {
		p.Roles = []identity.Role{identity.Role(role)}
	}
	return p, nil
}

// journal records entries.
type journal struct {
	mu      sync.Mutex
	entries []store.JournalEntry
	fail    error
}

func (j *journal) AppendJournal(_ context.Context, e store.JournalEntry) (string, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.fail != nil {
		return "", j.fail
	}
	j.entries = append(j.entries, e)
	return strconv.Itoa(len(j.entries)), nil
}

func (j *journal) list() []store.JournalEntry {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]store.JournalEntry(nil), j.entries...)
}

// fixture is the API on an SQLite dossier store with the shipped service catalogue.
type fixture struct {
	t       *testing.T
	api     *api
	mux     *http.ServeMux
	store   dstore.Store
	core    *core.Core
	journal *journal
	doc     *openapitest.Doc
	now     time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "dossiers.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	cat, err := service.LoadDir("../../configs/services")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, store: s, journal: &journal{}, doc: loadOpenAPI(t), now: start}
	c, err := core.New(core.Options{Store: s, Services: cat, Clock: func() time.Time { return f.now }, ApplicantKey: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	f.core = c
	a, err := newAPI(Options{Core: c, Services: cat, Store: s, Auth: roleAuth{}, Journal: f.journal, Now: func() time.Time { return f.now }, MaxBody: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	f.api, f.mux = a, a.mux()
	return f
}

// req is a request of a test.
type req struct {
	method, path string
	as           string // the bearer token: a role, or "" for none
	body         any    // marshalled to JSON; a string or []byte is sent as it is
	header       map[string]string
}

// do serves rq and checks the answer against openapi.yaml: a status the document lists for the
// operation, with the documented media type and, for JSON, a body valid against its schema.
func (f *fixture) do(rq req) *httptest.ResponseRecorder {
	f.t.Helper()
	var body []byte
	switch b := rq.body.(type) {
	case nil:
	case string:
		body = []byte(b)
	case []byte:
		body = b
	default:
		var err error
		if body, err = json.Marshal(b); err != nil {
			f.t.Fatal(err)
		}
	}
	r := httptest.NewRequest(rq.method, rq.path, bytes.NewReader(body))
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if rq.as != "" {
		r.Header.Set("Authorization", "Bearer "+rq.as)
	}
	for k, v := range rq.header {
		r.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	f.mux.ServeHTTP(rec, r)
	check(f.t, f.doc, f.mux, r, rec)
	return rec
}

// must serves rq and fails unless it answers want; it returns the decoded body.
func (f *fixture) must(rq req, want int) map[string]any {
	f.t.Helper()
	rec := f.do(rq)
	if rec.Code != want {
		f.t.Fatalf("%s %s as %q: %d, want %d: %s", rq.method, rq.path, rq.as, rec.Code, want, rec.Body)
	}
	var out map[string]any
	if strings.Contains(rec.Header().Get("Content-Type"), "json") {
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			f.t.Fatalf("%s %s: %v", rq.method, rq.path, err)
		}
	}
	return out
}

// path is the path of dossier number, with rest after it.
func path(number, rest string) string { return "/api/v1/dossiers/" + url.PathEscape(number) + rest }

// application is a valid application for a certificate of heirs (СУНАУ 2016).
func application() map[string]any {
	return map[string]any{
		"service":   "2016",
		"channel":   "portal",
		"applicant": map[string]any{"kind": "person", "egn": "8506258485", "name": "Мария Петрова", "address": "ул. Образцова 1, Примерно", "email": "maria@example.bg"},
		"documents": []any{doc("doc-1", "application")},
		"data":      map[string]any{"deceased_egn": "7501020018", "deceased_name": "Петър Петров"},
		"term":      "normal",
		"delivery":  map[string]any{"way": "counter"},
	}
}

func doc(id, kind string) map[string]any {
	return map[string]any{"id": id, "kind": kind, "name": id + ".pdf", "media_type": "application/pdf", "size": 2048, "sha256": sum}
}

// streams counts the store's dossiers, active or not.
func (f *fixture) streams() int {
	f.t.Helper()
	n := 0
	for _, state := range []string{"open", "suspended", "result_issued", "delivered", "closed"} {
		p, err := f.store.Dashboard(context.Background(), dstore.Query{Kind: dstore.KindDossier, States: []string{state}, Limit: dstore.MaxLimit})
		if err != nil {
			f.t.Fatal(err)
		}
		n += len(p.Items)
	}
	return n
}

// problemField returns the problem's field error at pointer, or fails.
func problemField(t *testing.T, p map[string]any, pointer string) map[string]any {
	t.Helper()
	errs, _ := p["errors"].([]any)
	for _, e := range errs {
		if m := e.(map[string]any); m["pointer"] == pointer {
			return m
		}
	}
	t.Fatalf("the problem names no field %q: %v", pointer, p)
	return nil
}

var errJournal = errors.New("journal down")

func escape(number string) string { return url.PathEscape(number) }
