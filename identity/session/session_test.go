package session_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aiskao/aiskao/internal/testpg"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/session"
	"github.com/aiskao/aiskao/store"
	"github.com/aiskao/aiskao/store/postgres"
	"github.com/aiskao/aiskao/store/sqlite"
)

// process is one hub process serving the applications: its own store handle and Manager.
type process struct {
	m   *session.Manager
	srv *httptest.Server
}

// clock is the time every process of a test sees.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// newProcess serves, over st: POST /signin?as=NAME&stage=S starts a session, GET /me answers
// the principal's name (or 401 through session.Require), POST /signout ends the session,
// POST /signout/everywhere ends all of the principal's.
func newProcess(t *testing.T, st session.Store, c *clock, cfg session.Config) *process {
	principals := func(_ context.Context, person string) (identity.Principal, error) {
		if person == "disabled" {
			return identity.Principal{}, errors.New("disabled")
		}
		return identity.Principal{Name: person, Kind: identity.KindPerson, Roles: []identity.Role{identity.Clerk}}, nil
	}
	m := session.New(st, principals, cfg)
	session.SetClock(m, c.now)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /signin", func(w http.ResponseWriter, r *http.Request) {
		stage := session.Stage(r.URL.Query().Get("stage"))
		if stage == "" {
			stage = session.SignedIn
		}
		if err := m.Start(r.Context(), w, r, r.URL.Query().Get("as"), stage); err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
	mux.Handle("GET /me", session.Require(identity.TasksWork, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := identity.FromContext(r.Context())
		_, _ = w.Write([]byte(p.Name))
	})))
	mux.Handle("GET /admin", session.Require(identity.UsersManage, http.NotFoundHandler()))
	mux.HandleFunc("POST /signout", func(w http.ResponseWriter, r *http.Request) { _, _ = m.End(r.Context(), w, r) })
	mux.HandleFunc("POST /signout/everywhere", func(w http.ResponseWriter, r *http.Request) {
		p, _ := identity.FromContext(r.Context())
		_, _ = m.EndAll(r.Context(), p.Name)
	})
	p := &process{m: m, srv: httptest.NewServer(m.Middleware(mux))}
	t.Cleanup(p.srv.Close)
	return p
}

// do sends a request to p with the cookie, and returns the status, the body and the new
// cookie's value when one was set.
func (p *process) do(t *testing.T, method, path, cookie string) (int, string, *http.Cookie) {
	t.Helper()
	req, _ := http.NewRequest(method, p.srv.URL+path, nil)
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: p.m.CookieName(), Value: cookie})
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body [256]byte
	n, _ := resp.Body.Read(body[:])
	var set *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == p.m.CookieName() {
			set = c
		}
	}
	return resp.StatusCode, string(body[:n]), set
}

func (p *process) signIn(t *testing.T, person, cookie string) string {
	t.Helper()
	code, _, c := p.do(t, "POST", "/signin?as="+person, cookie)
	if code != 200 || c == nil {
		t.Fatalf("sign-in: %d, cookie %v", code, c)
	}
	return c.Value
}

// runShared shows two processes over one database sharing sessions: a session started in one
// is known to the other, and signing out, here or everywhere, in one ends it in the other.
func runShared(t *testing.T, a, b session.Store) {
	c := &clock{t: time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)}
	cfg := session.Config{Idle: 30 * time.Minute, Absolute: 8 * time.Hour}
	pa, pb := newProcess(t, a, c, cfg), newProcess(t, b, c, cfg)

	one := pa.signIn(t, "ivanova", "")
	if code, body, _ := pb.do(t, "GET", "/me", one); code != 200 || body != "ivanova" {
		t.Fatalf("the other process: %d %q, want ivanova", code, body)
	}
	if code, _, _ := pb.do(t, "GET", "/admin", one); code != http.StatusForbidden {
		t.Errorf("a clerk on an administrator's route: %d, want 403", code)
	}
	// Signing in again rotates the id: the old one is worth nothing.
	two := pb.signIn(t, "ivanova", one)
	if two == one {
		t.Fatal("the session id did not change at sign-in")
	}
	if code, _, _ := pa.do(t, "GET", "/me", one); code != http.StatusUnauthorized {
		t.Errorf("the id before rotation: %d, want 401", code)
	}
	// Sign out in one process: the other no longer knows the session.
	if code, _, c := pa.do(t, "POST", "/signout", two); code != 200 || c == nil || c.MaxAge >= 0 {
		t.Errorf("sign-out: %d, cookie %v (want it deleted)", code, c)
	}
	if code, _, _ := pb.do(t, "GET", "/me", two); code != http.StatusUnauthorized {
		t.Errorf("after sign-out in the other process: %d, want 401", code)
	}
	// Sign out everywhere: both of a person's sessions end, another person's stays.
	x, y := pa.signIn(t, "petrov", ""), pb.signIn(t, "petrov", "")
	other := pa.signIn(t, "georgiev", "")
	if code, _, _ := pb.do(t, "POST", "/signout/everywhere", y); code != 200 {
		t.Fatalf("sign-out everywhere: %d", code)
	}
	for _, s := range []string{x, y} {
		if code, _, _ := pa.do(t, "GET", "/me", s); code != http.StatusUnauthorized {
			t.Errorf("a session after sign-out everywhere: %d, want 401", code)
		}
	}
	if code, _, _ := pa.do(t, "GET", "/me", other); code != 200 {
		t.Errorf("another person's session after sign-out everywhere: %d", code)
	}
	// Idle and absolute time-outs, seen by both processes.
	idle := pa.signIn(t, "idle", "")
	c.add(29 * time.Minute)
	if code, _, _ := pb.do(t, "GET", "/me", idle); code != 200 {
		t.Errorf("after 29 idle minutes: %d", code)
	}
	c.add(29 * time.Minute) // used 29 minutes ago: alive
	if code, _, _ := pa.do(t, "GET", "/me", idle); code != 200 {
		t.Errorf("used 29 minutes ago: %d", code)
	}
	c.add(31 * time.Minute)
	if code, _, _ := pa.do(t, "GET", "/me", idle); code != http.StatusUnauthorized {
		t.Errorf("after 31 idle minutes: %d, want 401", code)
	}
	busy := pa.signIn(t, "busy", "")
	for range 17 {
		c.add(29 * time.Minute)
		pb.do(t, "GET", "/me", busy)
	}
	if code, _, _ := pb.do(t, "GET", "/me", busy); code != http.StatusUnauthorized {
		t.Errorf("used all along for more than 8 hours: %d, want 401", code)
	}
	// A session awaiting its second factor gives no principal, and ends after Pending.
	code, _, half := pa.do(t, "POST", "/signin?as=ivanova&stage="+string(session.NeedsTOTP), "")
	if code != 200 || half == nil {
		t.Fatal("half sign-in")
	}
	if code, _, _ := pb.do(t, "GET", "/me", half.Value); code != http.StatusUnauthorized {
		t.Errorf("a session awaiting its code: %d, want 401", code)
	}
	// A person who may no longer sign in has no principal.
	dis := pa.signIn(t, "disabled", "")
	if code, _, _ := pb.do(t, "GET", "/me", dis); code != http.StatusUnauthorized {
		t.Errorf("a disabled person's session: %d, want 401", code)
	}
}

func TestSharedSQLite(t *testing.T) {
	dir := t.TempDir()
	a, err := sqlite.New(sqlite.Config{}, store.Env{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := sqlite.New(sqlite.Config{}, store.Env{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	runShared(t, a, b)
}

func TestSharedPostgres(t *testing.T) {
	u, name := testpg.URL(t), testpg.Schema(t, "aiskao_test_sessions_")
	cfg := postgres.Config{URL: u, Schema: name}
	a, err := postgres.New(cfg, store.Env{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := postgres.New(cfg, store.Env{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	runShared(t, a, b)
}

// The cookie is HttpOnly and SameSite=Lax, and on TLS Secure with the __Host- prefix.
func TestCookie(t *testing.T) {
	for _, tls := range []bool{false, true} {
		st := &memStore{}
		m := session.New(st, nil, session.Config{TLS: tls})
		w := httptest.NewRecorder()
		if err := m.Start(context.Background(), w, httptest.NewRequest("POST", "/", nil), "ivanova", session.SignedIn); err != nil {
			t.Fatal(err)
		}
		c := w.Result().Cookies()[0]
		wantName := "aiskao_session"
		if tls {
			wantName = "__Host-aiskao_session"
		}
		if c.Name != wantName || !c.HttpOnly || c.Secure != tls || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" || len(c.Value) != 43 {
			t.Errorf("TLS %v: cookie %+v", tls, c)
		}
		if len(st.created) != 1 || string(st.created[0].Hash) != string(session.Hash(c.Value)) {
			t.Errorf("the store keeps %+v, not the id's hash", st.created)
		}
	}
}

// TestCookieNamedBySite: a site given its own cookie name sets that one, and does not read (so
// does not end) another site's session on the same host.
func TestCookieNamedBySite(t *testing.T) {
	for tls, want := range map[bool]string{false: "aiskao_portal", true: "__Host-aiskao_portal"} {
		m := session.New(&memStore{}, nil, session.Config{TLS: tls, Cookie: "aiskao_portal"})
		if m.CookieName() != want {
			t.Errorf("TLS %v: cookie name %q, want %q", tls, m.CookieName(), want)
		}
		staff := session.New(&memStore{}, nil, session.Config{TLS: tls})
		r := httptest.NewRequest("GET", "/", nil)
		r.AddCookie(&http.Cookie{Name: staff.CookieName(), Value: strings.Repeat("a", 43)})
		if _, err := m.Load(context.Background(), r); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("TLS %v: the portal read the staff site's cookie: %v", tls, err)
		}
	}
}

// memStore records what Start creates.
type memStore struct {
	session.Store
	created []session.Record
}

func (s *memStore) CreateSession(_ context.Context, r session.Record) error {
	s.created = append(s.created, r)
	return nil
}
