package jwtauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/httpauth"
)

const (
	issuer   = "https://login.example.bg/realms/aiskao"
	audience = "aiskao-hub"
)

var now = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

type keys struct {
	rsa   *rsa.PrivateKey
	ec    *ecdsa.PrivateKey
	other *rsa.PrivateKey // a key the issuer never published
	jwks  []byte
}

func newKeys(t *testing.T) keys {
	t.Helper()
	r, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	o, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	e, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &r.PublicKey, KeyID: "rsa-1", Algorithm: "RS256", Use: "sig"},
		{Key: &e.PublicKey, KeyID: "ec-1", Algorithm: "ES256", Use: "sig"},
	}}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return keys{rsa: r, ec: e, other: o, jwks: b}
}

func sign(t *testing.T, alg jose.SignatureAlgorithm, key any, kid string, c jwt.Claims) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(s).Claims(c).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func claims() jwt.Claims {
	return jwt.Claims{Issuer: issuer, Audience: jwt.Audience{audience}, Subject: "portal",
		Expiry: jwt.NewNumericDate(now.Add(5 * time.Minute)), IssuedAt: jwt.NewNumericDate(now.Add(-time.Minute))}
}

func verifier(t *testing.T, k keys, mod func(*Config)) *Verifier {
	t.Helper()
	file := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(file, k.jwks, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Issuer: issuer, Audience: audience, JWKSFile: file, Role: identity.Integrator, Now: func() time.Time { return now }}
	if mod != nil {
		mod(&cfg)
	}
	v, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func b64(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestVerify(t *testing.T) {
	k := newKeys(t)
	with := func(f func(*jwt.Claims)) jwt.Claims { c := claims(); f(&c); return c }
	pub, _ := x509.MarshalPKIXPublicKey(&k.rsa.PublicKey)
	cases := []struct {
		name   string
		token  string
		reason string // "" when accepted
	}{
		{"RS256", sign(t, jose.RS256, k.rsa, "rsa-1", claims()), ""},
		{"ES256", sign(t, jose.ES256, k.ec, "ec-1", claims()), ""},
		{"expired", sign(t, jose.RS256, k.rsa, "rsa-1", with(func(c *jwt.Claims) { c.Expiry = jwt.NewNumericDate(now.Add(-time.Minute)) })), httpauth.ReasonExpired},
		{"not yet valid", sign(t, jose.RS256, k.rsa, "rsa-1", with(func(c *jwt.Claims) { c.NotBefore = jwt.NewNumericDate(now.Add(time.Hour)) })), httpauth.ReasonExpired},
		{"no expiry", sign(t, jose.RS256, k.rsa, "rsa-1", with(func(c *jwt.Claims) { c.Expiry = nil })), httpauth.ReasonInvalid},
		{"foreign issuer", sign(t, jose.RS256, k.rsa, "rsa-1", with(func(c *jwt.Claims) { c.Issuer = "https://evil.example" })), httpauth.ReasonInvalid},
		{"wrong audience", sign(t, jose.RS256, k.rsa, "rsa-1", with(func(c *jwt.Claims) { c.Audience = jwt.Audience{"another-app"} })), httpauth.ReasonInvalid},
		{"subject not allowed", sign(t, jose.RS256, k.rsa, "rsa-1", with(func(c *jwt.Claims) { c.Subject = "someone" })), httpauth.ReasonInvalid},
		{"signed by another key under a known kid", sign(t, jose.RS256, k.other, "rsa-1", claims()), httpauth.ReasonInvalid},
		{"unknown kid", sign(t, jose.RS256, k.other, "rsa-2", claims()), httpauth.ReasonInvalid},
		{"no kid", sign(t, jose.RS256, k.rsa, "", claims()), httpauth.ReasonInvalid},
		{"RS384 not allowed", sign(t, jose.RS384, k.rsa, "rsa-1", claims()), httpauth.ReasonInvalid},
		{"alg none", b64(map[string]string{"alg": "none", "typ": "JWT", "kid": "rsa-1"}) + "." + b64(claims()) + ".", httpauth.ReasonInvalid},
		// The classic confusion: HMAC keyed with the issuer's public key.
		{"HS256 with the public key", sign(t, jose.HS256, pub, "rsa-1", claims()), httpauth.ReasonInvalid},
		{"not a JWT", "aiskao_0123456789abcdef_AAAA", httpauth.ReasonInvalid},
	}
	v := verifier(t, k, func(c *Config) { c.Subjects = []string{"portal"} })
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, ref := v.Verify(context.Background(), c.token)
			switch {
			case c.reason == "" && ref != nil:
				t.Fatalf("refused: %v", ref)
			case c.reason == "" && (p.Name != issuer+"#portal" || p.Kind != identity.KindJWT || !p.Can(identity.RoutesSend)):
				t.Errorf("principal %+v", p)
			case c.reason != "" && ref == nil:
				t.Fatalf("accepted as %+v, want refused (%s)", p, c.reason)
			case c.reason != "" && (ref.Status != http.StatusUnauthorized || ref.Reason != c.reason):
				t.Errorf("refusal %+v, want 401 %s", ref, c.reason)
			}
		})
	}
}

// Keys from a URL are fetched when first needed; an issuer that cannot be reached makes the
// check fail closed with 503, not pass.
func TestJWKSURL(t *testing.T) {
	k := newKeys(t)
	fetches := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches++
		_, _ = w.Write(k.jwks)
	}))
	defer srv.Close()
	v, err := New(Config{Issuer: issuer, Audience: audience, JWKSURL: srv.URL, Role: identity.Integrator, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, ref := v.Verify(context.Background(), sign(t, jose.RS256, k.rsa, "rsa-1", claims())); ref != nil {
			t.Fatalf("refused: %v", ref)
		}
	}
	if fetches != 1 {
		t.Errorf("fetched the keys %d times, want once", fetches)
	}
	srv.Close()
	down, err := New(Config{Issuer: issuer, Audience: audience, JWKSURL: srv.URL, Role: identity.Integrator, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if _, ref := down.Verify(context.Background(), sign(t, jose.RS256, k.rsa, "rsa-1", claims())); ref == nil || ref.Status != http.StatusServiceUnavailable {
		t.Errorf("issuer down: %v, want 503", ref)
	}
}

func TestNewRefuses(t *testing.T) {
	k := newKeys(t)
	file := filepath.Join(t.TempDir(), "jwks.json")
	_ = os.WriteFile(file, k.jwks, 0o600)
	priv, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: k.rsa, KeyID: "p"}}})
	privFile := filepath.Join(t.TempDir(), "priv.json")
	_ = os.WriteFile(privFile, priv, 0o600)
	for name, c := range map[string]Config{
		"no issuer":        {Audience: audience, JWKSFile: file},
		"no keys":          {Issuer: issuer, Audience: audience},
		"both keys":        {Issuer: issuer, Audience: audience, JWKSFile: file, JWKSURL: "https://x.example/k"},
		"http url":         {Issuer: issuer, Audience: audience, JWKSURL: "http://login.example.bg/certs"},
		"HS256 allowed":    {Issuer: issuer, Audience: audience, JWKSFile: file, Algorithms: []string{"HS256"}},
		"none allowed":     {Issuer: issuer, Audience: audience, JWKSFile: file, Algorithms: []string{"none"}},
		"private key file": {Issuer: issuer, Audience: audience, JWKSFile: privFile},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("%s: New accepted %+v", name, c)
		}
	}
}

func FuzzVerify(f *testing.F) {
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, tok string) {
		k := keys{jwks: []byte(`{"keys":[{"kty":"EC","crv":"P-256","kid":"ec-1","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`)}
		v := verifier(t, k, nil)
		if p, ref := v.Verify(context.Background(), tok); ref == nil {
			t.Fatalf("accepted %q as %+v", tok, p)
		}
	})
}
