package ops

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/apitoken"
	"github.com/aiskao/aiskao/identity/httpauth"
	"github.com/aiskao/aiskao/store"
	"github.com/aiskao/aiskao/store/sqlite"
)

// brokenStore fails every dead-letter call with err, as a store with a broken disk would.
type brokenStore struct {
	store.Store
	err error
}

func (s brokenStore) ListDeadLetters(context.Context, store.Filter) ([]store.DeadLetter, error) {
	return nil, s.err
}
func (s brokenStore) GetDeadLetter(context.Context, string) (store.DeadLetter, error) {
	return store.DeadLetter{}, s.err
}
func (s brokenStore) DeleteDeadLetter(context.Context, string) error { return s.err }
func (s brokenStore) ListJournal(context.Context, store.JournalFilter) ([]store.JournalEntry, error) {
	return nil, s.err
}

// fakeBackend replays by deleting the dead letter and naming the new message after the old one,
// as the engine does minus the publishing.
type fakeBackend struct {
	st       store.Store
	routes   map[string]bool // routes that are configured
	readyErr error
	broken   error // when set, the store fails with it

	mu       sync.Mutex
	replayed []string // dead-letter ids, in order
}

func (b *fakeBackend) Store() store.Store {
	if b.broken != nil {
		return brokenStore{Store: b.st, err: b.broken}
	}
	return b.st
}

func (b *fakeBackend) Replay(ctx context.Context, id string) (string, error) {
	d, err := b.Store().GetDeadLetter(ctx, id)
	if err != nil {
		return "", err
	}
	if !b.routes[d.Route] {
		return "", fmt.Errorf("%w: %q", ErrUnknownRoute, d.Route)
	}
	if err := b.Store().DeleteDeadLetter(ctx, id); err != nil {
		return "", err
	}
	b.mu.Lock()
	b.replayed = append(b.replayed, id)
	b.mu.Unlock()
	return "replay-of-" + d.MessageID, nil
}

func (b *fakeBackend) Ready(context.Context) error { return b.readyErr }

// newStore opens the embedded SQLite store in a temporary folder, closed when t ends.
func newStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.New(sqlite.Config{}, store.Env{DataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("opening the store: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("closing the store: %v", err)
		}
	})
	return st
}

// fixture is a backend holding four dead letters, a registry with one metric, API tokens of each
// role, and the handler.
type fixture struct {
	backend *fakeBackend
	reg     *prometheus.Registry
	ids     map[string]string // fixture name -> dead-letter id
	tokens  map[string]string // operator, auditor, integrator, revoked -> token
	t       *testing.T
}

// fixtureTime is when the oldest fixture dead letter was made; the others follow a minute apart.
var fixtureTime = time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{
		backend: &fakeBackend{st: newStore(t), routes: map[string]bool{"incoming-documents": true, "register-lookups": true}},
		reg:     prometheus.NewRegistry(),
		ids:     map[string]string{},
		tokens:  map[string]string{},
		t:       t,
	}
	ts := f.backend.st.(apitoken.Store)
	for _, r := range []identity.Role{identity.Operator, identity.Auditor, identity.Integrator, identity.Operator} {
		name := string(r)
		if _, ok := f.tokens[name]; ok {
			name = "revoked"
		}
		tok, rec, err := apitoken.New(name, r, fixtureTime)
		if err != nil {
			t.Fatal(err)
		}
		if err := ts.CreateToken(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
		f.tokens[name] = tok
	}
	if err := ts.RevokeToken(context.Background(), "revoked", fixtureTime); err != nil {
		t.Fatal(err)
	}
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "aiskao_test_messages_total", Help: "Messages seen by the test."})
	f.reg.MustRegister(c)
	c.Add(3)

	add := []struct {
		name string
		d    store.DeadLetter
	}{
		{"utf8", store.DeadLetter{
			MessageID: "m-1", Route: "incoming-documents", Step: "steps[2].json_schema",
			Error: "missing property 'DocumentNumber'", Attempts: 5,
			Metadata: map[string]string{"type": "esoed.DocumentRegistrationRequest", "subject": "94-00-123"},
			Payload:  []byte(`<Doc a="1">Заявление & приложения</Doc>`),
		}},
		{"binary", store.DeadLetter{
			MessageID: "m-2", Route: "incoming-documents", Step: "steps[0].xml_to_json",
			Error: "XML syntax error on line 1", Attempts: 1,
			Metadata: map[string]string{"datacontenttype": "application/octet-stream"},
			Payload:  []byte{0xff, 0x00, 0xfe, 'x'},
		}},
		{"gone", store.DeadLetter{
			MessageID: "m-3", Route: "removed-route", Step: "to[0].outbox",
			Error: "connection refused", Attempts: 3,
			Payload: []byte(`{"n":1}`),
		}},
		{"empty", store.DeadLetter{
			MessageID: "m-4", Route: "register-lookups", Step: "steps[1].mapping",
			Error: "no field", Attempts: 2,
		}},
	}
	for i, a := range add {
		a.d.Time = fixtureTime.Add(time.Duration(i) * time.Minute)
		id, err := f.backend.st.AddDeadLetter(context.Background(), a.d)
		if err != nil {
			t.Fatalf("adding fixture dead letter %s: %v", a.name, err)
		}
		f.ids[a.name] = id
	}
	for i, e := range []store.JournalEntry{
		{ID: "j-1", Kind: "regix.call", Route: "register-lookups", MessageID: "m-5", Dossier: "D-1",
			Actor: "EMP-7", Subject: "GRAO/PersonDataSearch", LegalBasis: "чл. 13 АПК", Result: "ok",
			Detail: map[string]string{"egn": "******1234"}},
		{ID: "j-2", Kind: "esoed.received", Dossier: "D-2", Result: "DS_ALREADY_RECEIVED"},
	} {
		e.Time = fixtureTime.Add(time.Duration(i) * time.Minute)
		if _, err := f.backend.st.AppendJournal(context.Background(), e); err != nil {
			t.Fatalf("adding fixture journal entry %s: %v", e.ID, err)
		}
	}
	return f
}

// expand replaces {utf8}, {binary}, {gone} and {empty} in s with the fixture's dead-letter ids.
func (f *fixture) expand(s string) string {
	var pairs []string
	for name, id := range f.ids {
		pairs = append(pairs, "{"+name+"}", id)
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

func (f *fixture) handler() http.Handler {
	return Handler(f.backend, f.reg, httpauth.Token{Auth: apitoken.Authenticator{Store: f.backend.st.(apitoken.Store)}}, nil)
}

// addPerson stores a dead letter whose payload, error and metadata hold an ЕГН, as "person".
func (f *fixture) addPerson(t *testing.T) {
	id, err := f.backend.st.AddDeadLetter(context.Background(), store.DeadLetter{
		MessageID: "m-9", Route: "register-lookups", Step: "steps[1].enrich", Attempts: 1, Time: fixtureTime.Add(10 * time.Minute),
		Error:    "register answered: no person with ЕГН 8506258485",
		Metadata: map[string]string{"subject": "D-9", "egn": "8506258485"},
		Payload:  []byte(`{"application":{"applicant":{"egn":"8506258485"}}}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	f.ids["person"] = id
}

// mustJournal fails t unless the newest journal entry is of kind, about the fixture dead letter
// name, by actor.
func (f *fixture) mustJournal(t *testing.T, kind, name, actor string) {
	t.Helper()
	es, err := f.backend.st.ListJournal(context.Background(), store.JournalFilter{Kind: kind})
	if err != nil || len(es) != 1 {
		t.Fatalf("journal of kind %s: %v, %v; want one entry", kind, es, err)
	}
	if e := es[0]; e.Actor != actor || e.Subject != "dead letter "+f.ids[name] || e.MessageID == "" || e.Route == "" {
		t.Errorf("journal entry %+v, want actor %s about dead letter %s", e, actor, f.ids[name])
	}
}

// mustGone fails t unless the fixture dead letter name is deleted.
func (f *fixture) mustGone(t *testing.T, name string) {
	t.Helper()
	_, err := f.backend.st.GetDeadLetter(context.Background(), f.ids[name])
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("dead letter %s: got error %v, want store.ErrNotFound (deleted)", name, err)
	}
}

// mustKept fails t unless the fixture dead letter name is still stored.
func (f *fixture) mustKept(t *testing.T, name string) {
	t.Helper()
	if _, err := f.backend.st.GetDeadLetter(context.Background(), f.ids[name]); err != nil {
		t.Errorf("dead letter %s: %v, want it kept", name, err)
	}
}
