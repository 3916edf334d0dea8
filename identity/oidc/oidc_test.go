package oidc_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/account"
	"github.com/aiskao/aiskao/identity/oidc"
	"github.com/aiskao/aiskao/identity/oidc/oidctest"
	"github.com/aiskao/aiskao/identity/org"
	"github.com/aiskao/aiskao/identity/session"
	"github.com/aiskao/aiskao/store"
	"github.com/aiskao/aiskao/store/sqlite"
)

const (
	clientID = "aiskao-hub"
	secret   = "a-client-secret-of-thirty-two-bytes!"
)

type app struct {
	srv *httptest.Server
	idp *oidctest.Provider
	svc *account.Service
	st  *sqlite.Store
}

// newApp serves the single sign-on routes and GET /work (tasks.work) behind the session
// middleware, with a provider of its own; change adjusts the configuration.
func newApp(t *testing.T, change func(*oidc.Config)) app {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.New(sqlite.Config{}, store.Env{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.AddUnit(ctx, org.Unit{ID: "front-office", Name: "Звено за административно обслужване"}); err != nil {
		t.Fatal(err)
	}
	if err := st.AddPosition(ctx, org.Position{ID: "front-office.desk-1", Unit: "front-office", Title: "гише 1"}); err != nil {
		t.Fatal(err)
	}
	svc, err := account.New(st, st, st, st, account.Config{Params: account.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}})
	if err != nil {
		t.Fatal(err)
	}
	m := session.New(st, svc.Principal, session.Config{})
	var h http.Handler = http.NotFoundHandler()
	mux := http.NewServeMux()
	mux.Handle("/sso/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	mux.Handle("GET /work", session.Require(identity.TasksWork, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := identity.FromContext(r.Context())
		_, _ = io.WriteString(w, p.Name+" "+strings.Join(p.Positions, ","))
	})))
	srv := httptest.NewServer(m.Middleware(mux))
	t.Cleanup(srv.Close)
	idp := oidctest.New(t, clientID, secret, srv.URL+"/sso/callback")
	idp.SignIn(oidctest.Person{Subject: "248289761001", Email: "ivan.petrov@sofia.bg", EmailVerified: true,
		Name: "Иван Петров", Groups: []string{"aiskao-clerks", "everyone"}})
	cfg := oidc.Config{Issuer: idp.URL, ClientID: clientID, ClientSecret: secret, RedirectURL: srv.URL + "/sso/callback",
		PostLogoutRedirectURL: srv.URL + "/signin",
		Groups: map[string]oidc.Grant{
			"aiskao-clerks": {Roles: []string{"clerk"}, Positions: []string{"front-office.desk-1"}},
			"aiskao-admins": {Roles: []string{"administrator"}},
		}}
	if change != nil {
		change(&cfg)
	}
	hd, err := oidc.New(ctx, cfg, oidc.Options{Accounts: svc, Sessions: m, Journal: st})
	if err != nil {
		t.Fatal(err)
	}
	h = hd
	return app{srv: srv, idp: idp, svc: svc, st: st}
}

// browser keeps cookies and does not follow redirects.
func browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func get(t *testing.T, c *http.Client, u string) *http.Response {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// toProvider starts a sign-in in c and returns the provider's authorize URL and the cookie set.
func (a app) toProvider(t *testing.T, c *http.Client) (*url.URL, *http.Cookie) {
	t.Helper()
	resp := get(t, c, a.srv.URL+"/sso/login?return=/work")
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("login: %d %s", resp.StatusCode, body(t, resp))
	}
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(u.String(), a.idp.URL+"/authorize") {
		t.Fatalf("login sends to %q", resp.Header.Get("Location"))
	}
	cs := resp.Cookies()
	if len(cs) != 1 {
		t.Fatalf("login sets %d cookies", len(cs))
	}
	return u, cs[0]
}

// atProvider follows the authorize URL and returns the callback URL the provider sends back to.
func (a app) atProvider(t *testing.T, c *http.Client, authorize *url.URL) string {
	t.Helper()
	resp := get(t, c, authorize.String())
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, a.srv.URL+"/sso/callback") {
		t.Fatalf("provider: %d to %q", resp.StatusCode, loc)
	}
	return loc
}

// signIn runs a whole sign-in in c and returns the callback's answer.
func (a app) signIn(t *testing.T, c *http.Client) *http.Response {
	t.Helper()
	authorize, _ := a.toProvider(t, c)
	return get(t, c, a.atProvider(t, c, authorize))
}

func (a app) journal(t *testing.T) []store.JournalEntry {
	t.Helper()
	es, err := a.st.ListJournal(context.Background(), store.JournalFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// refused checks that resp refuses with code, and that the newest journal entry records the
// refusal with its reason and the client's address.
func (a app) refused(t *testing.T, resp *http.Response, code oidc.Code, reason string) {
	t.Helper()
	b := body(t, resp)
	if resp.StatusCode != code.Status() || !strings.Contains(b, code.Message("en")) || !strings.Contains(b, code.Message("bg")) {
		t.Fatalf("answer %d %q; want %d with %q", resp.StatusCode, b, code.Status(), code.Message("en"))
	}
	if c := resp.Header.Get("Set-Cookie"); strings.Contains(c, "aiskao_session=") && !strings.Contains(c, "Max-Age=0") {
		t.Fatalf("a refusal started a session: %s", c)
	}
	es := a.journal(t)
	if len(es) == 0 {
		t.Fatal("nothing journaled")
	}
	e := es[0]
	if e.Kind != "signin.failed" || e.Result != "refused" || !strings.Contains(e.Detail["reason"], reason) ||
		e.Detail["addr"] != "127.0.0.1" || e.Detail["method"] != "oidc" {
		t.Fatalf("journal %+v; want signin.failed for %q", e, reason)
	}
}

func TestSignInMapsGroupsToRolesAndPositions(t *testing.T) {
	a := newApp(t, nil)
	c := browser()
	authorize, cookie := a.toProvider(t, c)
	q := authorize.Query()
	if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 || q.Get("nonce") == "" ||
		q.Get("state") == "" || q.Get("scope") != "openid profile email" || q.Get("client_id") != clientID {
		t.Fatalf("authorize request %v", q)
	}
	if !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.MaxAge <= 0 || cookie.MaxAge > 600 {
		t.Fatalf("state cookie %+v", cookie)
	}
	callback := a.atProvider(t, c, authorize)
	resp := get(t, c, callback)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/work" {
		t.Fatalf("callback: %d to %q: %s", resp.StatusCode, resp.Header.Get("Location"), body(t, resp))
	}
	name := account.SSOName(a.idp.URL, "248289761001")
	work := get(t, c, a.srv.URL+"/work")
	if got := body(t, work); work.StatusCode != http.StatusOK || got != name+" front-office.desk-1" {
		t.Fatalf("/work: %d %q", work.StatusCode, got)
	}
	p, err := a.svc.Principal(context.Background(), name)
	if err != nil || len(p.Roles) != 1 || p.Roles[0] != identity.Clerk {
		t.Fatalf("principal %+v, %v", p, err)
	}

	es := a.journal(t)
	var kinds []string
	for i := len(es) - 1; i >= 0; i-- {
		kinds = append(kinds, es[i].Kind)
	}
	if got := strings.Join(kinds, " "); got != "account.created account.position_held signin.ok" {
		t.Fatalf("journal %q", got)
	}
	created := es[2]
	if created.Detail["issuer"] != a.idp.URL || created.Detail["subject"] != "248289761001" || created.Detail["roles"] != "clerk" {
		t.Fatalf("account.created %+v", created)
	}
	cb, _ := url.Parse(callback)
	for _, e := range es {
		for k, v := range e.Detail {
			if strings.Contains(v, cb.Query().Get("code")) || strings.Contains(v, cb.Query().Get("state")) ||
				strings.Contains(v, "Петров") || strings.Contains(v, "ivan.petrov") {
				t.Fatalf("journal %s keeps %s=%q", e.Kind, k, v)
			}
		}
	}
	if es[0].Actor != "person:"+name || es[0].Detail["addr"] != "127.0.0.1" {
		t.Fatalf("signin.ok %+v", es[0])
	}

	// The provider moves the person to the administrators: the next sign-in gives the new role
	// and takes the position the clerks' group gave.
	a.idp.SignIn(oidctest.Person{Subject: "248289761001", Email: "ivan.petrov@sofia.bg", EmailVerified: true,
		Name: "Иван Петров", Groups: []string{"aiskao-admins"}})
	c2 := browser()
	if resp := a.signIn(t, c2); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("second sign-in: %d %s", resp.StatusCode, body(t, resp))
	}
	p, err = a.svc.Principal(context.Background(), name)
	if err != nil || len(p.Roles) != 1 || p.Roles[0] != identity.Administrator || len(p.Positions) != 0 {
		t.Fatalf("after the change of groups: %+v, %v", p, err)
	}
	// The change of roles ended the first browser's session.
	if resp := get(t, c, a.srv.URL+"/work"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("old session after the change of roles: %d", resp.StatusCode)
	}
	if resp := get(t, c2, a.srv.URL+"/work"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("administrator on /work: %d", resp.StatusCode)
	}
}

func TestRefusals(t *testing.T) {
	for _, tc := range []struct {
		name   string
		setup  func(a app)
		code   oidc.Code
		reason string
	}{
		{"nonce of another sign-in", func(a app) { a.idp.Forge(func(c map[string]any) { c["nonce"] = "another-nonce" }) },
			oidc.CodeToken, "nonce"},
		{"expired ID token", func(a app) {
			a.idp.Forge(func(c map[string]any) {
				c["iat"], c["exp"] = time.Now().Add(-2*time.Hour).Unix(), time.Now().Add(-time.Hour).Unix()
			})
		}, oidc.CodeToken, "expired"},
		{"another audience", func(a app) { a.idp.Forge(func(c map[string]any) { c["aud"] = "another-client" }) },
			oidc.CodeToken, "audience"},
		{"another issuer", func(a app) { a.idp.Forge(func(c map[string]any) { c["iss"] = "https://evil.example" }) },
			oidc.CodeToken, "issued by a different provider"},
		{"signed by another key", func(a app) { a.idp.Sign(oidctest.SignOtherKey) }, oidc.CodeToken, "signature"},
		{"alg none", func(a app) { a.idp.Sign(oidctest.SignNone) }, oidc.CodeToken, `unexpected signature algorithm "none"`},
		{"HMAC with the client secret", func(a app) { a.idp.Sign(oidctest.SignHS256) }, oidc.CodeToken, `unexpected signature algorithm "HS256"`},
		{"no mapped group", func(a app) {
			a.idp.SignIn(oidctest.Person{Subject: "s-2", Email: "maria@sofia.bg", EmailVerified: true, Groups: []string{"everyone"}})
		}, oidc.CodeNoRole, "no role mapped"},
		{"no groups at all", func(a app) { a.idp.SignIn(oidctest.Person{Subject: "s-3"}) }, oidc.CodeNoRole, "no role mapped"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newApp(t, nil)
			tc.setup(a)
			c := browser()
			a.refused(t, a.signIn(t, c), tc.code, tc.reason)
			if resp := get(t, c, a.srv.URL+"/work"); resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("/work after a refusal: %d", resp.StatusCode)
			}
			if accounts, err := a.svc.List(context.Background()); err != nil || len(accounts) != 0 {
				t.Fatalf("accounts after a refusal: %v, %v", accounts, err)
			}
		})
	}
}

func TestRefusedState(t *testing.T) {
	a := newApp(t, nil)

	t.Run("wrong state", func(t *testing.T) {
		c := browser()
		authorize, _ := a.toProvider(t, c)
		cb, _ := url.Parse(a.atProvider(t, c, authorize))
		q := cb.Query()
		q.Set("state", "a-state-this-hub-never-issued")
		cb.RawQuery = q.Encode()
		a.refused(t, get(t, c, cb.String()), oidc.CodeState, "state unknown")
	})

	t.Run("state of another browser", func(t *testing.T) {
		victim, attacker := browser(), browser()
		a.toProvider(t, victim) // the victim's browser has a sign-in of its own pending
		authorize, _ := a.toProvider(t, attacker)
		cb := a.atProvider(t, attacker, authorize)
		a.refused(t, get(t, victim, cb), oidc.CodeState, "another browser")
	})

	t.Run("no cookie", func(t *testing.T) {
		c := browser()
		authorize, _ := a.toProvider(t, c)
		cb := a.atProvider(t, c, authorize)
		a.refused(t, get(t, browser(), cb), oidc.CodeState, "no cookie")
	})

	t.Run("replayed state", func(t *testing.T) {
		c := browser()
		authorize, cookie := a.toProvider(t, c)
		cb := a.atProvider(t, c, authorize)
		if resp := get(t, c, cb); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("first use: %d %s", resp.StatusCode, body(t, resp))
		}
		// The callback deleted the cookie; the replay brings it back, as one who copied both would.
		again := browser()
		u, _ := url.Parse(a.srv.URL)
		again.Jar.SetCookies(u, []*http.Cookie{{Name: cookie.Name, Value: cookie.Value, Path: "/"}})
		a.refused(t, get(t, again, cb), oidc.CodeState, "used before")
	})
}

// TestPKCEMismatch changes the code challenge on the way to the provider, as one who swapped it
// would: the provider refuses the verifier at the token endpoint.
func TestPKCEMismatch(t *testing.T) {
	a := newApp(t, nil)
	c := browser()
	authorize, _ := a.toProvider(t, c)
	q := authorize.Query()
	q.Set("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
	authorize.RawQuery = q.Encode()
	a.refused(t, get(t, c, a.atProvider(t, c, authorize)), oidc.CodeProvider, "invalid_grant")
}

func TestProviderRefuses(t *testing.T) {
	a := newApp(t, nil)
	c := browser()
	authorize, _ := a.toProvider(t, c)
	q := authorize.Query()
	q.Set("code_challenge_method", "plain")
	authorize.RawQuery = q.Encode()
	a.refused(t, get(t, c, a.atProvider(t, c, authorize)), oidc.CodeProvider, "invalid_request")
}

func TestAllowedDomainsAndSubjects(t *testing.T) {
	allow := func(c *oidc.Config) {
		c.AllowedDomains = []string{"sofia.bg"}
		c.AllowedSubjects = []string{"contractor-7"}
	}
	for _, tc := range []struct {
		name   string
		person oidctest.Person
		reason string // "" when allowed
	}{
		{"domain allowed", oidctest.Person{Subject: "s-1", Email: "a@sofia.bg", EmailVerified: true}, ""},
		{"domain in capitals", oidctest.Person{Subject: "s-1", Email: "a@SOFIA.BG", EmailVerified: true}, ""},
		{"subject allowed", oidctest.Person{Subject: "contractor-7", Email: "x@gmail.com", EmailVerified: true}, ""},
		{"other domain", oidctest.Person{Subject: "s-2", Email: "a@gmail.com", EmailVerified: true}, "domain gmail.com not allowed"},
		{"look-alike domain", oidctest.Person{Subject: "s-2", Email: "a@evilsofia.bg", EmailVerified: true}, "not allowed"},
		{"address not verified", oidctest.Person{Subject: "s-3", Email: "a@sofia.bg"}, "not verified"},
		{"no address", oidctest.Person{Subject: "s-4"}, "no e-mail address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newApp(t, allow)
			tc.person.Groups = []string{"aiskao-clerks"}
			a.idp.SignIn(tc.person)
			resp := a.signIn(t, browser())
			if tc.reason == "" {
				if resp.StatusCode != http.StatusSeeOther {
					t.Fatalf("%d %s", resp.StatusCode, body(t, resp))
				}
				return
			}
			a.refused(t, resp, oidc.CodeNotAllowed, tc.reason)
			if a.journal(t)[0].Detail["subject"] != tc.person.Subject {
				t.Fatalf("refusal journaled without the subject: %+v", a.journal(t)[0])
			}
		})
	}
}

func TestDisabledAccountRefused(t *testing.T) {
	a := newApp(t, nil)
	if resp := a.signIn(t, browser()); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("first sign-in: %d", resp.StatusCode)
	}
	name := account.SSOName(a.idp.URL, "248289761001")
	if err := a.svc.SetDisabled(context.Background(), "cli:root", name, true); err != nil {
		t.Fatal(err)
	}
	a.refused(t, a.signIn(t, browser()), oidc.CodeRefused, "account disabled")
}

func TestSignOut(t *testing.T) {
	a := newApp(t, nil)
	c := browser()
	if resp := a.signIn(t, c); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	resp, err := c.Post(a.srv.URL+"/sso/signout", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc.String(), a.idp.URL+"/logout?") ||
		loc.Query().Get("client_id") != clientID || loc.Query().Get("post_logout_redirect_uri") != a.srv.URL+"/signin" {
		t.Fatalf("sign-out: %d to %q", resp.StatusCode, loc)
	}
	if resp := get(t, c, a.srv.URL+"/work"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("/work after sign-out: %d", resp.StatusCode)
	}
	e := a.journal(t)[0]
	name := account.SSOName(a.idp.URL, "248289761001")
	if e.Kind != "signout" || e.Actor != "person:"+name || e.Detail["addr"] != "127.0.0.1" {
		t.Fatalf("journal %+v", e)
	}
	if resp := get(t, c, loc.String()); resp.StatusCode != http.StatusOK || len(a.idp.Logouts()) != 1 {
		t.Fatalf("provider's sign-out: %d, %d", resp.StatusCode, len(a.idp.Logouts()))
	}
}

func TestReturnPathStaysOnSite(t *testing.T) {
	a := newApp(t, nil)
	for _, ret := range []string{"https://evil.example/", "//evil.example/x", "/\\evil.example"} {
		c := browser()
		resp := get(t, c, a.srv.URL+"/sso/login?return="+url.QueryEscape(ret))
		authorize, _ := url.Parse(resp.Header.Get("Location"))
		resp = get(t, c, a.atProvider(t, c, authorize))
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
			t.Fatalf("return %q: %d to %q", ret, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}

// TestStateCookieOnTLS checks the cookie of a hub served over TLS: Secure, and named with the
// __Host- prefix so that no sibling domain can plant one.
func TestStateCookieOnTLS(t *testing.T) {
	a := newApp(t, nil)
	m := session.New(a.st, a.svc.Principal, session.Config{TLS: true})
	h, err := oidc.New(context.Background(), oidc.Config{Issuer: a.idp.URL, ClientID: clientID, ClientSecret: secret,
		RedirectURL: "https://hub.example.bg/sso/callback", Groups: map[string]oidc.Grant{"g": {Roles: []string{"clerk"}}}},
		oidc.Options{Accounts: a.svc, Sessions: m, Journal: a.st})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "https://hub.example.bg/sso/login", nil))
	c := w.Result().Cookies()
	if w.Code != http.StatusFound || len(c) != 1 || c[0].Name != "__Host-aiskao_sso" || !c[0].Secure || !c[0].HttpOnly ||
		c[0].SameSite != http.SameSiteLaxMode || c[0].Path != "/" || c[0].Domain != "" || len(c[0].Value) != 43 {
		t.Fatalf("%d %+v", w.Code, c)
	}
	if w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("Cache-Control %q", w.Header().Get("Cache-Control"))
	}
}

// TestSignOutWithoutEndSession: a provider that advertises no end_session_endpoint leaves the
// browser on the hub's page after the local session ends.
func TestSignOutWithoutEndSession(t *testing.T) {
	a := newApp(t, nil)
	a.idp.HideEndSession = true
	m := session.New(a.st, a.svc.Principal, session.Config{})
	h, err := oidc.New(context.Background(), oidc.Config{Issuer: a.idp.URL, ClientID: clientID, ClientSecret: secret,
		RedirectURL: a.srv.URL + "/sso/callback", Groups: map[string]oidc.Grant{"aiskao-clerks": {Roles: []string{"clerk"}}}},
		oidc.Options{Accounts: a.svc, Sessions: m, Journal: a.st, Pages: oidc.Pages{SignedOut: "/bye"}})
	if err != nil {
		t.Fatal(err)
	}
	c := browser()
	if resp := a.signIn(t, c); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	u, _ := url.Parse(a.srv.URL)
	req := httptest.NewRequest("POST", a.srv.URL+"/sso/signout", nil)
	for _, ck := range c.Jar.Cookies(u) {
		req.AddCookie(ck)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/bye" {
		t.Fatalf("sign-out: %d to %q", w.Code, w.Header().Get("Location"))
	}
	if resp := get(t, c, a.srv.URL+"/work"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("/work after sign-out: %d", resp.StatusCode)
	}
}
