package httpauth

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/internal/testpki"
)

func TestBearer(t *testing.T) {
	for _, c := range []struct {
		headers []string
		token   string
		ok      bool
		refused bool
	}{
		{nil, "", false, false},
		{[]string{"Bearer abc"}, "abc", true, false},
		{[]string{"bearer  abc "}, "abc", true, false},
		{[]string{"Basic YTpi"}, "", true, true},
		{[]string{"Bearer"}, "", true, true},
		{[]string{"Bearer a b"}, "", true, true},
		{[]string{"Bearer a", "Bearer b"}, "", true, true},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		for _, h := range c.headers {
			r.Header.Add("Authorization", h)
		}
		tok, ok, ref := Bearer(r)
		if tok != c.token || ok != c.ok || (ref != nil) != c.refused {
			t.Errorf("Bearer(%q) = %q, %v, %v", c.headers, tok, ok, ref)
		}
		if ref != nil && (ref.Status != 401 || ref.Reason != ReasonMalformed) {
			t.Errorf("Bearer(%q) refusal %+v", c.headers, ref)
		}
	}
}

// fixed authenticates every request as p, or refuses with ref.
type fixed struct {
	p   *identity.Principal
	ref *Refusal
}

func (f fixed) Scheme() string                                             { return "Bearer" }
func (f fixed) Authenticate(*http.Request) (*identity.Principal, *Refusal) { return f.p, f.ref }

func TestGuardRefusals(t *testing.T) {
	auditor := &identity.Principal{Name: "a", Kind: identity.KindToken, Roles: []identity.Role{identity.Auditor}}
	for _, c := range []struct {
		name      string
		auth      Authenticator
		status    int
		reason    string
		challenge string
	}{
		{"no credentials", fixed{}, 401, ReasonMissing, `Bearer realm="test"`},
		{"bad credentials", fixed{ref: Unauthorized(ReasonUnknown, "unknown API token")}, 401, ReasonUnknown, `Bearer realm="test", error="invalid_token"`},
		{"wrong role", fixed{p: auditor}, 403, ReasonForbidden, ""},
		{"store down", fixed{ref: &Refusal{Status: 503, Reason: ReasonUnavailable, Detail: "try again"}}, 503, ReasonUnavailable, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := Guard{Listener: "test-" + c.name, Auth: c.auth, Permission: identity.DeadLettersReplay, Realm: "test"}
			called := false
			rec := httptest.NewRecorder()
			g.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true })).ServeHTTP(rec, httptest.NewRequest("POST", "/", nil))
			if called || rec.Code != c.status {
				t.Fatalf("status %d, handler called %v; want %d and not called", rec.Code, called, c.status)
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != c.challenge {
				t.Errorf("WWW-Authenticate %q, want %q", got, c.challenge)
			}
			var p Problem
			if rec.Header().Get("Content-Type") != "application/problem+json" || json.Unmarshal(rec.Body.Bytes(), &p) != nil ||
				p.Type != "about:blank" || p.Status != c.status || p.Title != http.StatusText(c.status) || p.Detail == "" {
				t.Errorf("body %s (%s), want problem details", rec.Body, rec.Header().Get("Content-Type"))
			}
			if n := testutil.ToFloat64(refused.WithLabelValues(g.Listener, c.reason)); n != 1 {
				t.Errorf("aiskao_auth_refused_total{listener=%q,reason=%q} = %v, want 1", g.Listener, c.reason, n)
			}
		})
	}
	g := Guard{Listener: "test-ok", Auth: fixed{p: auditor}, Permission: identity.JournalRead}
	rec := httptest.NewRecorder()
	g.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := identity.FromContext(r.Context()); !ok || p.Name != "a" {
			t.Errorf("principal in context: %+v %v", p, ok)
		}
		w.WriteHeader(204)
	})).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 204 {
		t.Errorf("permitted request: status %d", rec.Code)
	}
}

func TestCertificate(t *testing.T) {
	trusted, foreign := testpki.New(t, "clients CA"), testpki.New(t, "someone else's CA")
	roots := x509.NewCertPool()
	roots.AddCert(trusted.Cert)
	issue := func(ca *testpki.CA, cn string, usage x509.ExtKeyUsage, notAfter time.Time) *x509.Certificate {
		return ca.Issue(t, testpki.Leaf{Subject: pkix.Name{CommonName: cn, Organization: []string{"Община Примерно"}}, Usage: usage, NotAfter: notAfter}).Leaf
	}
	later := time.Now().Add(time.Hour)
	auth := Certificate{Roots: roots, Roles: map[string]identity.Role{"CN=back-office,O=Община Примерно": identity.Integrator}}
	for _, c := range []struct {
		name   string
		cert   *x509.Certificate
		reason string
	}{
		{"trusted", issue(trusted, "back-office", x509.ExtKeyUsageClientAuth, later), ""},
		{"untrusted CA", issue(foreign, "back-office", x509.ExtKeyUsageClientAuth, later), ReasonUntrusted},
		{"self-signed copy of the subject", foreign.Cert, ReasonUntrusted},
		{"subject not allowed", issue(trusted, "intruder", x509.ExtKeyUsageClientAuth, later), ReasonUntrusted},
		{"server certificate", issue(trusted, "back-office", x509.ExtKeyUsageServerAuth, later), ReasonUntrusted},
		{"expired", issue(trusted, "back-office", x509.ExtKeyUsageClientAuth, time.Now().Add(-time.Minute)), ReasonExpired},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", nil)
			r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{c.cert}}
			p, ref := auth.Authenticate(r)
			switch {
			case c.reason == "" && (ref != nil || p == nil || p.Name != "CN=back-office,O=Община Примерно" || !p.Can(identity.RoutesSend)):
				t.Errorf("got %+v, %v; want accepted", p, ref)
			case c.reason != "" && (ref == nil || ref.Status != 401 || ref.Reason != c.reason):
				t.Errorf("got %+v, %+v; want 401 %s", p, ref, c.reason)
			}
		})
	}
	if p, ref := auth.Authenticate(httptest.NewRequest("POST", "/", nil)); p != nil || ref != nil {
		t.Errorf("request without a certificate: %v %v, want no credentials", p, ref)
	}
}
