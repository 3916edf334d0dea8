package httpconn

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/connectors/connectortest"
	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/apitoken"
	"github.com/aiskao/aiskao/internal/testpki"
	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/store"
	"github.com/aiskao/aiskao/store/sqlite"
)

// authServer runs one source with auth a behind a test server (HTTPS asking for client
// certificates when tlsOn) and returns the server and what the source emitted.
func authServer(t *testing.T, st apitoken.Lookup, a Auth, tlsOn bool, baseDir string) (*httptest.Server, *connectortest.Collector) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewUnstartedServer(mux)
	if tlsOn {
		srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	c := Config{Listen: "127.0.0.1:0", Path: "/in", Auth: a}
	if tlsOn {
		c.TLS = ServerTLS{Cert: "hub.pem", Key: "hub.key"} // the test server has its own; the source only records it
	}
	env := connectors.Env{Name: "in", BaseDir: baseDir, Tokens: st,
		Mux:         func(string) (*http.ServeMux, error) { return mux, nil },
		ListenerTLS: func(string, string, string) error { return nil }}
	src, err := newSource(&c, env)
	if err != nil {
		t.Fatalf("newSource: %v", err)
	}
	got := &connectortest.Collector{}
	connectortest.Running(t, src, got.Emit)
	return srv, got
}

func send(t *testing.T, client *http.Client, url, bearer string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader("<a/>"))
	req.Header.Set("Content-Type", "application/xml")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p struct{ Detail string }
	_ = json.NewDecoder(resp.Body).Decode(&p)
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate"), p.Detail
}

// Finding 1 of issue 17 at the source: with api_key, only an integrator's active token sends.
func TestAPIKey(t *testing.T) {
	st, err := sqlite.New(sqlite.Config{}, store.Env{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	tokens := map[string]string{}
	for _, r := range []identity.Role{identity.Integrator, identity.Auditor, identity.Operator} {
		tok, rec, _ := apitoken.New(string(r), r, time.Now())
		if err := st.CreateToken(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
		tokens[string(r)] = tok
	}
	old, rec, _ := apitoken.New("old", identity.Integrator, time.Now())
	_ = st.CreateToken(context.Background(), rec)
	_ = st.RevokeToken(context.Background(), "old", time.Now())

	// The secret's last letter changed to another that strict base64url allows there (it
	// carries four bits and two zero bits): replacing it with a fixed letter left the token
	// unchanged one time in sixteen.
	tampered := tokens["integrator"][:len(tokens["integrator"])-1] + "A"
	if tampered == tokens["integrator"] {
		tampered = tampered[:len(tampered)-1] + "E"
	}
	srv, got := authServer(t, st, Auth{Type: "api_key", Role: "integrator"}, false, "")
	for _, c := range []struct {
		name, token string
		status      int
		detail      string
	}{
		{"no token", "", 401, "credentials are required"},
		{"unknown token", "aiskao_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 401, "unknown API token"},
		{"tampered secret", tampered, 401, "unknown API token"},
		{"revoked token", old, 401, "the API token has been revoked"},
		{"auditor", tokens["auditor"], 403, "principal token:auditor lacks permission routes.send"},
		{"operator", tokens["operator"], 403, "principal token:operator lacks permission routes.send"},
		{"integrator", tokens["integrator"], 202, ""},
	} {
		status, challenge, detail := send(t, srv.Client(), srv.URL+"/in", c.token)
		if status != c.status || detail != c.detail {
			t.Errorf("%s: %d %q, want %d %q", c.name, status, detail, c.status, c.detail)
		}
		if (status == 401) != strings.HasPrefix(challenge, `Bearer realm="aiskao"`) {
			t.Errorf("%s: WWW-Authenticate %q", c.name, challenge)
		}
	}
	if len(got.Messages()) != 1 {
		t.Errorf("emitted %d messages, want only the integrator's", len(got.Messages()))
	}
}

func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	ca, foreign := testpki.New(t, "clients"), testpki.New(t, "someone else")
	ca.WriteCA(t, dir, "clients-ca.pem")
	srv, got := authServer(t, nil, Auth{Type: "mtls", Role: "integrator", CA: "clients-ca.pem", Subjects: []string{"CN=back-office"}}, true, dir)
	client := func(cert *tls.Certificate) *http.Client {
		c := srv.Client()
		tr := c.Transport.(*http.Transport).Clone()
		if cert != nil {
			tr.TLSClientConfig.Certificates = []tls.Certificate{*cert}
		}
		c.Transport = tr
		return c
	}
	issue := func(ca *testpki.CA, cn string) tls.Certificate {
		return ca.Issue(t, testpki.Leaf{Subject: pkix.Name{CommonName: cn}, Usage: x509.ExtKeyUsageClientAuth})
	}
	good, stranger, forged := issue(ca, "back-office"), issue(ca, "stranger"), issue(foreign, "back-office")
	for _, c := range []struct {
		name   string
		cert   *tls.Certificate
		status int
	}{
		{"no certificate", nil, 401},
		{"untrusted CA", &forged, 401},
		{"subject not allowed", &stranger, 401},
		{"trusted", &good, 202},
	} {
		if status, _, detail := send(t, client(c.cert), srv.URL+"/in", ""); status != c.status {
			t.Errorf("%s: %d %s, want %d", c.name, status, detail, c.status)
		}
	}
	if len(got.Messages()) != 1 {
		t.Errorf("emitted %d messages, want 1", len(got.Messages()))
	}
}

func TestJWT(t *testing.T) {
	dir := t.TempDir()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256"}}})
	if err := os.WriteFile(filepath.Join(dir, "issuer.json"), set, 0o600); err != nil {
		t.Fatal(err)
	}
	srv, got := authServer(t, nil, Auth{Type: "jwt", Role: "integrator", Issuer: "https://idp.example", Audience: "hub",
		JWKSFile: "issuer.json", Algorithms: []string{"ES256"}}, false, dir)
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
	token := func(iss, aud string, exp time.Duration) string {
		s, _ := jwt.Signed(signer).Claims(jwt.Claims{Issuer: iss, Audience: jwt.Audience{aud}, Subject: "portal",
			Expiry: jwt.NewNumericDate(time.Now().Add(exp))}).Serialize()
		return s
	}
	for _, c := range []struct {
		name, token string
		status      int
	}{
		{"none", "", 401},
		{"expired", token("https://idp.example", "hub", -time.Hour), 401},
		{"foreign issuer", token("https://evil.example", "hub", time.Hour), 401},
		{"wrong audience", token("https://idp.example", "other", time.Hour), 401},
		{"valid", token("https://idp.example", "hub", time.Hour), 202},
	} {
		if status, _, detail := send(t, srv.Client(), srv.URL+"/in", c.token); status != c.status {
			t.Errorf("%s: %d %s, want %d", c.name, status, detail, c.status)
		}
	}
	if len(got.Messages()) != 1 {
		t.Errorf("emitted %d messages, want 1", len(got.Messages()))
	}
}

func TestAuthConfig(t *testing.T) {
	for _, c := range []struct {
		name string
		auth Auth
		tls  ServerTLS
		want string
	}{
		{"absent", Auth{}, ServerTLS{}, "auth: required for a source: write auth: {type: none}"},
		{"unknown type", Auth{Type: "basic"}, ServerTLS{}, `auth.type: "basic" is not one of none, api_key, mtls, jwt`},
		{"role that cannot send", Auth{Type: "api_key", Role: "auditor"}, ServerTLS{}, "auth.role: role auditor does not grant routes.send"},
		{"mtls without tls", Auth{Type: "mtls", CA: "ca.pem"}, ServerTLS{}, "tls: required with auth type mtls"},
		{"mtls without ca", Auth{Type: "mtls"}, ServerTLS{Cert: "c", Key: "k"}, "auth.ca: required with type mtls"},
		{"jwt without issuer", Auth{Type: "jwt", Audience: "a", JWKSFile: "f"}, ServerTLS{}, "auth.issuer: required with type jwt"},
		{"jwt over http", Auth{Type: "jwt", Issuer: "i", Audience: "a", JWKSURL: "http://idp.example/keys"}, ServerTLS{}, "must be https"},
		{"jwt with HS256", Auth{Type: "jwt", Issuer: "i", Audience: "a", JWKSFile: "f", Algorithms: []string{"HS256"}}, ServerTLS{}, `algorithm "HS256" is not allowed`},
		{"cert without key", Auth{Type: "none"}, ServerTLS{Cert: "c"}, "tls: set both cert and key"},
	} {
		cfg := Config{Listen: ":8080", Path: "/in", Auth: c.auth, TLS: c.tls}
		if err := spec.FillDefaults(&cfg); err != nil {
			t.Fatal(err)
		}
		if c.auth.Role != "" {
			cfg.Auth.Role = c.auth.Role
		}
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	// A source of a store that keeps no tokens fails at start, not at the first request.
	if _, err := newSource(&Config{Listen: ":1", Path: "/x", Auth: Auth{Type: "api_key"}}, connectors.Env{Name: "in",
		Mux: func(string) (*http.ServeMux, error) { return http.NewServeMux(), nil }}); err == nil || !strings.Contains(err.Error(), "keeps API tokens") {
		t.Errorf("api_key without a token store: %v", err)
	}
}
