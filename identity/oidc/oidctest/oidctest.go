// Package oidctest is an OpenID Connect provider for tests, served in the test's process: a
// discovery document, a JWK Set, an authorize endpoint that signs in the configured person at
// once and redirects back with a code, a token endpoint that checks the code, the client secret,
// the redirect URI and the PKCE verifier and returns an RS256-signed ID token, and an
// end-session endpoint. A test changes the ID token it issues (Forge) to try every refusal.
package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Signing is how the provider signs the ID tokens it issues.
type Signing int

// The ways of signing an ID token.
const (
	SignRS256    Signing = iota // with the key its JWKS publishes
	SignOtherKey                // RS256 with a key it does not publish, under the same key id
	SignNone                    // "alg": "none", no signature
	SignHS256                   // HMAC-SHA256 keyed with the client secret
)

// Person is who signs in at the provider.
type Person struct {
	Subject       string
	Email         string
	EmailVerified bool
	Name          string
	Groups        []string
}

// Provider is a running OpenID Connect provider. Fields may be changed between sign-ins.
type Provider struct {
	URL          string // the issuer
	ClientID     string
	ClientSecret string
	RedirectURL  string // the only redirect URI registered
	// HideEndSession leaves end_session_endpoint out of the discovery document.
	HideEndSession bool

	mu      sync.Mutex
	person  Person
	signing Signing
	forge   func(claims map[string]any)
	codes   map[string]grant
	logouts []url.Values

	key, other *rsa.PrivateKey
	srv        *httptest.Server
}

type grant struct {
	nonce, challenge, redirect string
	person                     Person
}

// New starts a provider for clientID and secret, whose only registered redirect URI is
// redirectURL, and stops it when the test ends.
func New(t testing.TB, clientID, secret, redirectURL string) *Provider {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &Provider{ClientID: clientID, ClientSecret: secret, RedirectURL: redirectURL,
		codes: map[string]grant{}, key: key, other: other}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("GET /logout", p.logout)
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	p.URL = p.srv.URL
	return p
}

// SignIn makes person the one who signs in at the next authorize request.
func (p *Provider) SignIn(person Person) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.person = person
}

// Sign sets how the next ID tokens are signed.
func (p *Provider) Sign(s Signing) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.signing = s
}

// Forge sets a function that changes the claims of the next ID tokens before they are signed
// (nil: none).
func (p *Provider) Forge(f func(claims map[string]any)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.forge = f
}

// Logouts returns the queries of the requests its end-session endpoint received.
func (p *Provider) Logouts() []url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]url.Values(nil), p.logouts...)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (p *Provider) discovery(w http.ResponseWriter, _ *http.Request) {
	doc := map[string]any{
		"issuer":                                p.URL,
		"authorization_endpoint":                p.URL + "/authorize",
		"token_endpoint":                        p.URL + "/token",
		"jwks_uri":                              p.URL + "/jwks",
		"end_session_endpoint":                  p.URL + "/logout",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256", "HS256", "none"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
	}
	if p.HideEndSession {
		delete(doc, "end_session_endpoint")
	}
	writeJSON(w, http.StatusOK, doc)
}

func (p *Provider) jwks(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &p.key.PublicKey, KeyID: "k1", Algorithm: string(jose.RS256), Use: "sig"}}})
}

// authorize signs the configured person in at once and redirects back with a code.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch {
	case q.Get("client_id") != p.ClientID:
		http.Error(w, "unknown client", http.StatusBadRequest)
		return
	case q.Get("redirect_uri") != p.RedirectURL:
		http.Error(w, "redirect_uri not registered", http.StatusBadRequest)
		return
	}
	back, _ := url.Parse(p.RedirectURL)
	bq := back.Query()
	bq.Set("state", q.Get("state"))
	switch {
	case q.Get("response_type") != "code":
		bq.Set("error", "unsupported_response_type")
	case q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "":
		bq.Set("error", "invalid_request")
	default:
		code := rand.Text()
		p.mu.Lock()
		p.codes[code] = grant{nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri"), person: p.person}
		p.mu.Unlock()
		bq.Set("code", code)
	}
	back.RawQuery = bq.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// token checks the client, the code (once), the redirect URI and the PKCE verifier, and
// returns the tokens.
func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	id, secret, ok := r.BasicAuth()
	if ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != p.ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(p.ClientSecret)) != 1 {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	if r.PostForm.Get("grant_type") != "authorization_code" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	p.mu.Lock()
	g, ok := p.codes[r.PostForm.Get("code")]
	delete(p.codes, r.PostForm.Get("code"))
	signing, forge := p.signing, p.forge
	p.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	switch {
	case !ok, g.redirect != r.PostForm.Get("redirect_uri"),
		base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
		return
	}
	now := time.Now()
	claims := map[string]any{
		"iss": p.URL, "sub": g.person.Subject, "aud": p.ClientID,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "nonce": g.nonce,
		"email": g.person.Email, "email_verified": g.person.EmailVerified, "name": g.person.Name,
		"groups": g.person.Groups,
	}
	if forge != nil {
		forge(claims)
	}
	idToken, err := p.sign(signing, claims)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "server_error"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"access_token": rand.Text(), "token_type": "Bearer",
		"expires_in": 300, "id_token": idToken})
}

// sign returns the compact JWS of claims, signed as s says.
func (p *Provider) sign(s Signing, claims map[string]any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	if s == SignNone {
		enc := base64.RawURLEncoding
		return enc.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc.EncodeToString(payload) + ".", nil
	}
	key := jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: p.key, KeyID: "k1"}}
	switch s {
	case SignOtherKey:
		key.Key = jose.JSONWebKey{Key: p.other, KeyID: "k1"}
	case SignHS256:
		key = jose.SigningKey{Algorithm: jose.HS256, Key: []byte(p.ClientSecret)}
	}
	signer, err := jose.NewSigner(key, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

func (p *Provider) logout(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.logouts = append(p.logouts, r.URL.Query())
	p.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("signed out\n"))
}
