// Package jwtauth authenticates OAuth2 bearer tokens that are JWTs signed by a configured issuer:
// the signature is checked with the issuer's keys (a JWK Set from a URL or a file), and the token
// must name the issuer and the audience, carry an expiry that has not passed, and be signed with
// one of the allowed algorithms ("none" and HMAC are never allowed: the hub holds no shared
// secrets with issuers). The checks are go-jose's, a library kept by many projects' security
// reviews, rather than ours.
package jwtauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/httpauth"
)

// Algorithms is every signature algorithm that may be allowed: asymmetric ones only.
var Algorithms = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA}

// Limits on what is fetched and how often.
const (
	maxJWKS        = 1 << 20          // a key set is a few kilobytes
	refreshEvery   = 10 * time.Minute // keys fetched from a URL are fetched again this often
	refetchUnknown = 30 * time.Second // a token with an unknown kid refetches at most this often
	fetchTimeout   = 10 * time.Second
)

// Config says which tokens are accepted.
type Config struct {
	Issuer     string        // required: the iss claim
	Audience   string        // required: one of the aud claim's values
	JWKSURL    string        // the issuer's key set, https (http only on a loopback address)
	JWKSFile   string        // or the key set in a file
	Algorithms []string      // allowed algorithms; empty means RS256 and ES256
	Leeway     time.Duration // clock difference tolerated on exp, nbf, iat
	Role       identity.Role // the role every accepted token gives
	// Subjects, when not empty, are the only sub claims accepted.
	Subjects []string
	// Now returns the time tokens are checked at; nil is time.Now.
	Now func() time.Time
	// HTTP fetches JWKSURL; nil is a client with a 10-second timeout.
	HTTP *http.Client
}

// Verifier checks bearer JWTs. It implements httpauth.Authenticator.
type Verifier struct {
	cfg  Config
	algs []jose.SignatureAlgorithm

	mu      sync.Mutex
	keys    *jose.JSONWebKeySet
	fetched time.Time
}

// New checks cfg and, for a key file, reads the keys.
func New(cfg Config) (*Verifier, error) {
	if cfg.Issuer == "" || cfg.Audience == "" {
		return nil, errors.New("jwt: issuer and audience are required")
	}
	if (cfg.JWKSURL == "") == (cfg.JWKSFile == "") {
		return nil, errors.New("jwt: set one of jwks_url and jwks_file")
	}
	if cfg.JWKSURL != "" {
		if err := CheckURL(cfg.JWKSURL); err != nil {
			return nil, err
		}
	}
	algs, err := ParseAlgorithms(cfg.Algorithms)
	if err != nil {
		return nil, err
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: fetchTimeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	v := &Verifier{cfg: cfg, algs: algs}
	if cfg.JWKSFile != "" {
		b, err := os.ReadFile(cfg.JWKSFile)
		if err != nil {
			return nil, fmt.Errorf("jwt: jwks_file: %w", err)
		}
		ks, err := parseJWKS(b)
		if err != nil {
			return nil, fmt.Errorf("jwt: jwks_file %s: %w", cfg.JWKSFile, err)
		}
		v.keys = ks
	}
	return v, nil
}

// CheckURL refuses key-set addresses that could be read or changed on the way: https only, or
// http to a loopback address.
func CheckURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return fmt.Errorf("jwt: jwks_url %q is not a URL", s)
	}
	if u.Scheme == "https" {
		return nil
	}
	if ip := net.ParseIP(u.Hostname()); u.Scheme == "http" && (u.Hostname() == "localhost" || ip != nil && ip.IsLoopback()) {
		return nil
	}
	return fmt.Errorf("jwt: jwks_url %q must be https (http only to a loopback address)", s)
}

// ParseAlgorithms returns the allowed algorithms named; empty names mean RS256 and ES256.
func ParseAlgorithms(names []string) ([]jose.SignatureAlgorithm, error) {
	if len(names) == 0 {
		return []jose.SignatureAlgorithm{jose.RS256, jose.ES256}, nil
	}
	var out []jose.SignatureAlgorithm
	for _, n := range names {
		a := jose.SignatureAlgorithm(n)
		if !slices.Contains(Algorithms, a) {
			return nil, fmt.Errorf("jwt: algorithm %q is not allowed; use RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512 or EdDSA", n)
		}
		out = append(out, a)
	}
	return out, nil
}

func parseJWKS(b []byte) (*jose.JSONWebKeySet, error) {
	var ks jose.JSONWebKeySet
	if err := json.Unmarshal(b, &ks); err != nil {
		return nil, fmt.Errorf("not a JWK Set: %w", err)
	}
	if len(ks.Keys) == 0 {
		return nil, errors.New("the JWK Set has no keys")
	}
	for _, k := range ks.Keys {
		if !k.IsPublic() {
			return nil, fmt.Errorf("key %q is not a public key: an issuer's set holds public keys only", k.KeyID)
		}
	}
	return &ks, nil
}

// Scheme implements httpauth.Authenticator.
func (v *Verifier) Scheme() string { return "Bearer" }

// Authenticate implements httpauth.Authenticator.
func (v *Verifier) Authenticate(r *http.Request) (*identity.Principal, *httpauth.Refusal) {
	tok, ok, ref := httpauth.Bearer(r)
	if !ok || ref != nil {
		return nil, ref
	}
	return v.Verify(r.Context(), tok)
}

// Verify checks one token.
func (v *Verifier) Verify(ctx context.Context, tok string) (*identity.Principal, *httpauth.Refusal) {
	t, err := jwt.ParseSigned(tok, v.algs)
	if err != nil {
		return nil, httpauth.Unauthorized(httpauth.ReasonInvalid, "the bearer token is not a JWT signed with an allowed algorithm")
	}
	if len(t.Headers) != 1 || t.Headers[0].KeyID == "" {
		return nil, httpauth.Unauthorized(httpauth.ReasonInvalid, "the JWT names no key (kid)")
	}
	ks, ref := v.keySet(ctx, t.Headers[0].KeyID)
	if ref != nil {
		return nil, ref
	}
	var c jwt.Claims
	if err := t.Claims(ks, &c); err != nil {
		return nil, httpauth.Unauthorized(httpauth.ReasonInvalid, "the JWT's signature does not verify with the issuer's keys")
	}
	now := time.Now()
	if v.cfg.Now != nil {
		now = v.cfg.Now()
	}
	if c.Expiry == nil {
		return nil, httpauth.Unauthorized(httpauth.ReasonInvalid, "the JWT has no expiry (exp)")
	}
	err = c.ValidateWithLeeway(jwt.Expected{Issuer: v.cfg.Issuer, AnyAudience: jwt.Audience{v.cfg.Audience}, Time: now}, v.cfg.Leeway)
	switch {
	case errors.Is(err, jwt.ErrExpired), errors.Is(err, jwt.ErrNotValidYet), errors.Is(err, jwt.ErrIssuedInTheFuture):
		return nil, httpauth.Unauthorized(httpauth.ReasonExpired, "the JWT is expired or not yet valid")
	case errors.Is(err, jwt.ErrInvalidIssuer):
		return nil, httpauth.Unauthorized(httpauth.ReasonInvalid, "the JWT is from another issuer")
	case errors.Is(err, jwt.ErrInvalidAudience):
		return nil, httpauth.Unauthorized(httpauth.ReasonInvalid, "the JWT is meant for another audience")
	case err != nil:
		return nil, httpauth.Unauthorized(httpauth.ReasonInvalid, "the JWT's claims are not valid")
	}
	if c.Subject == "" || len(v.cfg.Subjects) > 0 && !slices.Contains(v.cfg.Subjects, c.Subject) {
		return nil, httpauth.Unauthorized(httpauth.ReasonInvalid, "the JWT's subject is not allowed")
	}
	return &identity.Principal{Name: c.Issuer + "#" + c.Subject, Kind: identity.KindJWT, Roles: []identity.Role{v.cfg.Role}}, nil
}

// keySet returns the keys, fetching them from the URL when there are none yet, when they are old,
// or when kid is not among them (at most once every refetchUnknown).
func (v *Verifier) keySet(ctx context.Context, kid string) (*jose.JSONWebKeySet, *httpauth.Refusal) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.cfg.JWKSURL == "" {
		return v.keys, nil
	}
	now := time.Now()
	stale := v.keys == nil || now.Sub(v.fetched) > refreshEvery ||
		len(v.keys.Key(kid)) == 0 && now.Sub(v.fetched) > refetchUnknown
	if stale {
		ks, err := v.fetch(ctx)
		if err == nil {
			v.keys, v.fetched = ks, now
		} else if v.keys == nil {
			return nil, &httpauth.Refusal{Status: http.StatusServiceUnavailable, Reason: httpauth.ReasonUnavailable,
				Detail: "the issuer's keys cannot be fetched now, try again"}
		}
	}
	return v.keys, nil
}

func (v *Verifier) fetch(ctx context.Context) (*jose.JSONWebKeySet, error) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.cfg.JWKSURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := v.cfg.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("jwt: fetching %s: %w", v.cfg.JWKSURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("jwt: fetching %s: HTTP %d", v.cfg.JWKSURL, resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKS+1))
	if err != nil {
		return nil, fmt.Errorf("jwt: fetching %s: %w", v.cfg.JWKSURL, err)
	}
	if len(b) > maxJWKS {
		return nil, fmt.Errorf("jwt: %s: key set larger than %d bytes", v.cfg.JWKSURL, maxJWKS)
	}
	return parseJWKS(b)
}
