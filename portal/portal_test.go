package portal_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"html"
	"io"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aiskao/aiskao/dossier/service"
	"github.com/aiskao/aiskao/eauth"
	"github.com/aiskao/aiskao/eauth/eauthsim"
	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/account"
	"github.com/aiskao/aiskao/identity/session"
	"github.com/aiskao/aiskao/internal/routematrix"
	"github.com/aiskao/aiskao/internal/testpki"
	"github.com/aiskao/aiskao/portal"
	"github.com/aiskao/aiskao/store"
	"github.com/aiskao/aiskao/store/sqlite"
	"github.com/aiskao/aiskao/web"
)

const (
	idpSSO    = "https://idp.example/sso"
	idpEntity = "https://idp.example/metadata"
)

// fixture is a portal over a new SQLite store, trusting an in-process simulator.
type fixture struct {
	st    *sqlite.Store
	p     *portal.Portal
	srv   *httptest.Server
	sim   *eauthsim.Simulator
	other *eauthsim.Simulator // the same entity, another key
	idp   *x509.Certificate   // the certificate the portal trusts
}

func cert(t *testing.T, i int) (*x509.Certificate, *rsa.PrivateKey) {
	t.Helper()
	key := testpki.RSAKey(t, i)
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "t"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c, key
}

// newFixture builds the portal; idpCertFile, when not empty, is where the portal reads the
// identity provider's certificate (written there only by the test).
func newFixture(t *testing.T, idpCertFile string) *fixture {
	t.Helper()
	return newFixtureIn(t, idpCertFile, t.TempDir(), nil)
}

// newFixtureIn builds the portal over the SQLite store in data; like, when given, is a portal
// this one stands beside as another process of one deployment: the same store, keys, public
// address and identity provider.
func newFixtureIn(t *testing.T, idpCertFile, data string, like *fixture) *fixture {
	t.Helper()
	st, err := sqlite.New(sqlite.Config{}, store.Env{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	accounts, err := account.New(st, st, st, st, account.Config{})
	if err != nil {
		t.Fatal(err)
	}
	sessions := session.New(st, accounts.Principal, session.Config{})
	idpCert, idpKey := cert(t, 0)
	spCert, spKey := cert(t, 1)
	otherCert, otherKey := cert(t, 2)
	f := &fixture{st: st}
	f.sim, _ = eauthsim.New(eauthsim.Config{EntityID: idpEntity, Key: idpKey, Certificate: idpCert})
	f.other, _ = eauthsim.New(eauthsim.Config{EntityID: idpEntity, Key: otherKey, Certificate: otherCert})
	mux := http.NewServeMux()
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	public := f.srv.URL
	if like != nil {
		public, f.sim, f.other, idpCert = like.srv.URL, like.sim, like.other, like.idp
	}
	f.idp = idpCert
	cfg := eauth.Config{EntityID: public + "/saml/metadata", ACSURL: public + portal.PathACS, IdPSSOURL: idpSSO, IdPEntityID: idpEntity,
		IdPCertificate: idpCert, Key: spKey, Certificate: spCert, Service: "2.16.100.1.1.1.1.13.1.1.1", Provider: "2.16.100.1.1.1.1.13",
		Level: eauth.LevelSubstantial, Requests: eauth.StoreRequests(st, nil), Replay: eauth.StoreReplay(st, nil)}
	sp := func() (*eauth.SP, error) { return eauth.New(cfg) }
	if idpCertFile != "" {
		sp = portal.EAuthFromFile(cfg, idpCertFile)
	}
	cat := service.NewCatalog()
	if c, err := service.LoadDir("../configs/services"); err == nil {
		cat = c
	}
	f.p, err = portal.New(portal.Config{Sessions: sessions, Accounts: accounts, People: st, Journal: st, EAuth: sp, Services: cat})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/", f.p.Handler())
	return f
}

// browser is an HTTP client with its own cookies, which does not follow redirects.
func browser(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type answer struct {
	code int
	body string
	h    http.Header
}

func do(t *testing.T, c *http.Client, method, target string, form url.Values, hdr ...string) answer {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, string(b), resp.Header}
}

var hidden = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// start presses the sign-in button in c and returns the request the portal sends to the
// identity provider, and the relay state.
func (f *fixture) start(t *testing.T, c *http.Client, back string) (*eauthsim.AuthnRequest, string) {
	t.Helper()
	a := do(t, c, "POST", f.srv.URL+portal.PathStart, url.Values{"return": {back}})
	if a.code != 200 {
		t.Fatalf("start: %d\n%s", a.code, a.body)
	}
	if csp := a.h.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://idp.example;") {
		t.Errorf("the login page's CSP %q does not let its form go to the identity provider", csp)
	}
	if !strings.Contains(a.body, `action="`+idpSSO+`"`) || strings.Contains(a.body, "<script>") || !strings.Contains(a.body, "autosubmit.") {
		t.Errorf("login page:\n%s", a.body)
	}
	v := url.Values{}
	for _, m := range hidden.FindAllStringSubmatch(a.body, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	req, err := eauthsim.ParseRequest(v.Get("SAMLRequest"))
	if err != nil {
		t.Fatal(err)
	}
	return req, v.Get("RelayState")
}

func (f *fixture) respond(t *testing.T, sim *eauthsim.Simulator, req *eauthsim.AuthnRequest, faults eauthsim.Faults) string {
	t.Helper()
	xml, err := sim.Response(req, sim.Persons()[2], faults)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(xml)
}

func TestSignInThroughEAuth(t *testing.T) {
	f := newFixture(t, "")
	c := browser(t)
	if a := do(t, c, "GET", f.srv.URL+"/dossiers", nil); a.code != 303 || a.h.Get("Location") != "/signin?return=%2Fdossiers" {
		t.Fatalf("a page for the signed-in, before sign-in: %d %s", a.code, a.h.Get("Location"))
	}
	if a := do(t, c, "GET", f.srv.URL+"/signin?return=%2Fdossiers", nil); a.code != 200 || !strings.Contains(a.body, `name="return" value="/dossiers"`) {
		t.Fatalf("sign-in page: %d\n%s", a.code, a.body)
	}
	req, relay := f.start(t, c, "/dossiers")
	if relay != "/dossiers" {
		t.Errorf("relay state %q", relay)
	}
	resp := f.respond(t, f.sim, req, eauthsim.Faults{})
	// Another browser cannot use the response.
	if a := do(t, browser(t), "POST", f.srv.URL+portal.PathACS, url.Values{"SAMLResponse": {resp}}); a.code != 403 ||
		!strings.Contains(a.body, html.EscapeString(eauth.CodeBrowser.Message("bg"))) {
		t.Fatalf("a response posted from another browser: %d\n%s", a.code, a.body)
	}
	req, _ = f.start(t, c, "/dossiers")
	resp = f.respond(t, f.sim, req, eauthsim.Faults{})
	// The identity provider posts from another site: the assertion consumer takes it.
	a := do(t, c, "POST", f.srv.URL+portal.PathACS, url.Values{"SAMLResponse": {resp}, "RelayState": {"/dossiers"}},
		"Origin", "https://idp.example", "Sec-Fetch-Site", "cross-site")
	if a.code != 303 || a.h.Get("Location") != "/dossiers" {
		t.Fatalf("sign-in: %d %v\n%s", a.code, a.h, a.body)
	}
	if a := do(t, c, "GET", f.srv.URL+portal.PathMetadata, nil); a.code != 200 || !strings.Contains(a.body, `Location="`+f.srv.URL+portal.PathACS+`"`) {
		t.Errorf("metadata: %d\n%s", a.code, a.body)
	}
	a = do(t, c, "GET", f.srv.URL+"/account?lang=en", nil)
	if a.code != 200 || !strings.Contains(a.body, "Десислава Николова Пробна") || strings.Contains(a.body, "9007040212") ||
		!strings.Contains(a.body, "citizen") {
		t.Fatalf("account page: %d\n%s", a.code, a.body)
	}
	if a.h.Get("Content-Security-Policy") != web.CSP {
		t.Errorf("account page CSP %q", a.h.Get("Content-Security-Policy"))
	}
	// The same response again is a replay.
	if a := do(t, c, "POST", f.srv.URL+portal.PathACS, url.Values{"SAMLResponse": {resp}}); a.code != 403 ||
		!strings.Contains(a.body, html.EscapeString(eauth.CodeReplay.Message("en"))) {
		t.Fatalf("replay: %d\n%s", a.code, a.body)
	}
	// Sign-out ends the session.
	if a := do(t, c, "POST", f.srv.URL+portal.PathSignOut, url.Values{}); a.code != 303 || a.h.Get("Location") != "/?signedout=1" {
		t.Fatalf("sign-out: %d %s", a.code, a.h.Get("Location"))
	}
	if a := do(t, c, "GET", f.srv.URL+"/account", nil); a.code != 303 {
		t.Fatalf("after sign-out: %d", a.code)
	}
	// Journaled: the account made, the sign-in, the refusals and the sign-out; no ЕГН anywhere.
	es, err := f.st.ListJournal(context.Background(), store.JournalFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range es {
		kinds = append(kinds, e.Kind+":"+e.Detail["reason"])
		if strings.Contains(e.Subject+e.Actor+strings.Join(mapValues(e.Detail), " "), "9007040212") {
			t.Errorf("journal entry %+v holds the ЕГН", e)
		}
	}
	got := strings.Join(kinds, " ")
	for _, want := range []string{"account.created:", "signin.ok:", "signin.failed:browser", "signin.failed:replay", "signout:"} {
		if !strings.Contains(got, want) {
			t.Errorf("journal %q lacks %q", got, want)
		}
	}
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// TestRefusals posts each wrong response to the assertion consumer from the browser that asked,
// and expects the refusal page with its reason in the person's language.
func TestRefusals(t *testing.T) {
	f := newFixture(t, "")
	for _, tc := range []struct {
		name   string
		sim    *eauthsim.Simulator
		faults eauthsim.Faults
		edit   func(string) string
		want   eauth.Code
	}{
		{"forged", f.sim, eauthsim.Faults{}, func(s string) string {
			raw, _ := base64.StdEncoding.DecodeString(s)
			return base64.StdEncoding.EncodeToString([]byte(strings.Replace(string(raw), "PNOBG-9007040212", "PNOBG-8511300152", 1)))
		}, eauth.CodeSignature},
		{"signed by another key", f.other, eauthsim.Faults{}, nil, eauth.CodeSignature},
		{"past its validity", f.sim, eauthsim.Faults{Expired: true}, nil, eauth.CodeExpired},
		{"for another audience", f.sim, eauthsim.Faults{Audience: "https://another.example/metadata"}, nil, eauth.CodeAudience},
		{"cancelled", f.sim, eauthsim.Faults{Status: eauthsim.StatusAuthnFailed}, nil, eauth.CodeStatus},
	} {
		for _, lang := range []string{"bg", "en"} {
			t.Run(tc.name+"/"+lang, func(t *testing.T) {
				c := browser(t)
				do(t, c, "GET", f.srv.URL+"/?lang="+lang, nil)
				req, _ := f.start(t, c, "")
				resp := f.respond(t, tc.sim, req, tc.faults)
				if tc.edit != nil {
					resp = tc.edit(resp)
				}
				a := do(t, c, "POST", f.srv.URL+portal.PathACS, url.Values{"SAMLResponse": {resp}})
				if a.code != 403 || !strings.Contains(a.body, html.EscapeString(tc.want.Message(lang))) || !strings.Contains(a.body, `<html lang="`+lang+`">`) {
					t.Fatalf("%d, want 403 with %q:\n%s", a.code, tc.want.Message(lang), a.body)
				}
				if !strings.Contains(a.body, `href="/signin?lang=`) {
					t.Error("the refusal page's language switch does not lead to the sign-in page")
				}
				if a := do(t, c, "GET", f.srv.URL+"/account", nil); a.code != 303 {
					t.Errorf("signed in after a refusal: %d", a.code)
				}
			})
		}
	}
}

// TestSignInWaitsForTheIdPCertificate: without the identity provider's certificate the portal
// serves its pages and refuses sign-in with a page saying why; once the file is there, sign-in
// works.
func TestSignInWaitsForTheIdPCertificate(t *testing.T) {
	file := filepath.Join(t.TempDir(), "idp.crt")
	f := newFixture(t, file)
	c := browser(t)
	if a := do(t, c, "GET", f.srv.URL+"/", nil); a.code != 200 {
		t.Fatalf("start page: %d", a.code)
	}
	a := do(t, c, "POST", f.srv.URL+portal.PathStart, url.Values{})
	if a.code != 503 || !strings.Contains(a.body, "временно не е достъпен") {
		t.Fatalf("without the certificate: %d\n%s", a.code, a.body)
	}
	if err := os.WriteFile(file, f.sim.CertificatePEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	req, _ := f.start(t, c, "")
	if a := do(t, c, "POST", f.srv.URL+portal.PathACS, url.Values{"SAMLResponse": {f.respond(t, f.sim, req, eauthsim.Faults{})}}); a.code != 303 {
		t.Fatalf("with the certificate: %d\n%s", a.code, a.body)
	}
}

// TestOnlyTheACSTakesCrossSitePosts: the sign-in button's post and the sign-out from another
// site are refused; the assertion consumer's is not (its own checks refuse a bad one).
func TestOnlyTheACSTakesCrossSitePosts(t *testing.T) {
	f := newFixture(t, "")
	for path, want := range map[string]int{portal.PathStart: 403, portal.PathSignOut: 403} {
		a := do(t, browser(t), "POST", f.srv.URL+path, url.Values{}, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
		if a.code != want || !strings.Contains(a.body, "cross-origin") {
			t.Errorf("cross-site POST %s: %d %q", path, a.code, a.body)
		}
	}
	a := do(t, browser(t), "POST", f.srv.URL+portal.PathACS, url.Values{"SAMLResponse": {"x"}}, "Origin", "https://idp.example", "Sec-Fetch-Site", "cross-site")
	if a.code != 403 || strings.Contains(a.body, "cross-origin") || !strings.Contains(a.body, html.EscapeString(eauth.CodeMalformed.Message("bg"))) {
		t.Errorf("cross-site POST to the ACS: %d %q", a.code, a.body)
	}
}

// TestResponseReachesAnotherProcess: a sign-in started on one portal is completed on another
// over the same store, as two processes of one deployment behind one address; the response
// posted again to the first is a replay.
func TestResponseReachesAnotherProcess(t *testing.T) {
	data := t.TempDir()
	a := newFixtureIn(t, "", data, nil)
	b := newFixtureIn(t, "", data, a)
	c := browser(t)
	req, _ := a.start(t, c, "")
	resp := a.respond(t, a.sim, req, eauthsim.Faults{})
	if got := do(t, c, "POST", b.srv.URL+portal.PathACS, url.Values{"SAMLResponse": {resp}}); got.code != 303 {
		t.Fatalf("on the other process: %d\n%s", got.code, got.body)
	}
	if got := do(t, c, "GET", a.srv.URL+portal.PathAccount, nil); got.code != 200 || !strings.Contains(got.body, "Десислава") {
		t.Fatalf("the session is not seen by the first process: %d", got.code)
	}
	if got := do(t, c, "POST", a.srv.URL+portal.PathACS, url.Values{"SAMLResponse": {resp}}); got.code != 403 ||
		!strings.Contains(got.body, html.EscapeString(eauth.CodeReplay.Message("bg"))) {
		t.Fatalf("replayed to the first process: %d", got.code)
	}
}

// TestSignInStartsAreLimited: one address may start MaxStarts sign-ins a minute, then is told
// to wait.
func TestSignInStartsAreLimited(t *testing.T) {
	f := newFixture(t, "")
	c := browser(t)
	for i := 0; i < portal.MaxStarts; i++ {
		if a := do(t, c, "POST", f.srv.URL+portal.PathStart, url.Values{}); a.code != 200 {
			t.Fatalf("start %d: %d", i+1, a.code)
		}
	}
	a := do(t, c, "POST", f.srv.URL+portal.PathStart, url.Values{})
	if a.code != 429 || a.h.Get("Retry-After") == "" || !strings.Contains(a.body, "Изчакайте минута") {
		t.Fatalf("start %d: %d\n%s", portal.MaxStarts+1, a.code, a.body)
	}
}

// TestRoleMatrix runs every role against every route of the portal.
func TestRoleMatrix(t *testing.T) {
	f := newFixture(t, "")
	h := f.p.Handler()
	call := func(method, path string, role identity.Role) (int, string) {
		r := httptest.NewRequest(method, path, nil)
		if role != "" {
			p := identity.Principal{Kind: identity.KindPerson, Name: "matrix." + string(role), Roles: []identity.Role{role}}
			r = r.WithContext(identity.WithPrincipal(r.Context(), p))
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code, w.Header().Get("Location")
	}
	routematrix.Check(t, f.p.Endpoints(), call, routematrix.Options{SignIn: portal.PathSignIn})
}

func TestCatalogues(t *testing.T) {
	if p := web.CatalogueProblems(os.DirFS(".")); len(p) > 0 {
		t.Errorf("catalogues: %v", p)
	}
}
