// Package httpauth checks who calls an HTTP listener of the hub and refuses, in one way, those who
// may not: 401 Unauthorized (no credentials, or credentials that prove nothing) with a
// WWW-Authenticate challenge, or 403 Forbidden (a principal whose roles lack the permission), each
// with an RFC 9457 problem-details body, and each counted in aiskao_auth_refused_total by listener
// and reason.
//
// The ways of proving who one is are Authenticators: API tokens from the store (Token), TLS client
// certificates chained to configured CAs (Certificate), OAuth2 bearer JWTs (identity/jwtauth), or
// the first of several that applies (Any).
package httpauth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/apitoken"
)

// Reasons of a refusal, the reason label of aiskao_auth_refused_total.
const (
	ReasonMissing     = "missing"     // no credentials at all
	ReasonMalformed   = "malformed"   // an Authorization header or token that cannot be read
	ReasonUnknown     = "unknown"     // a token the store does not know, or whose secret is wrong
	ReasonRevoked     = "revoked"     // a revoked API token
	ReasonExpired     = "expired"     // an expired or not yet valid JWT or certificate
	ReasonInvalid     = "invalid"     // a JWT with a bad signature, issuer, audience or algorithm
	ReasonUntrusted   = "untrusted"   // a client certificate that does not chain to the CA, or a subject not allowed
	ReasonForbidden   = "forbidden"   // a principal whose roles lack the permission
	ReasonUnavailable = "unavailable" // the credentials could not be checked (the store did not answer)
)

// refused counts every refusal of every listener of the process. It is one counter for the
// process, not per engine, so that its counts survive a reload of the configuration; it is made
// once here and registered by the command that serves the metrics.
var refused = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "aiskao_auth_refused_total",
	Help: "Requests refused for want of credentials (401) or of permission (403), by listener and reason.",
}, []string{"listener", "reason"})

// Collector returns the collector of aiskao_auth_refused_total, to register where metrics are served.
func Collector() prometheus.Collector { return refused }

// Refusal is why a request is refused.
type Refusal struct {
	Status int    // 401, 403 or 503
	Reason string // one of the Reason constants
	Detail string // said to the client: what is wrong, never a secret
}

// Error implements error.
func (r *Refusal) Error() string { return r.Detail }

// Unauthorized returns a 401 refusal.
func Unauthorized(reason, detail string) *Refusal {
	return &Refusal{Status: http.StatusUnauthorized, Reason: reason, Detail: detail}
}

// Authenticator proves who sent a request. It returns the principal, or a refusal; a nil
// principal with a nil refusal means the request carries no credentials of its kind (Any then
// asks the next).
type Authenticator interface {
	Authenticate(r *http.Request) (*identity.Principal, *Refusal)
	// Scheme is the authentication scheme named in the WWW-Authenticate challenge, such as Bearer.
	Scheme() string
}

// Guard refuses requests whose principal lacks Permission, on the listener it names.
type Guard struct {
	Listener   string        // the metric's listener label: "ops", or the connector's name
	Auth       Authenticator // how callers prove who they are
	Permission identity.Permission
	Realm      string // the challenge's realm; "aiskao" when empty
}

// Check returns the request's principal when it has the permission; otherwise it writes the
// refusal and returns false.
func (g Guard) Check(w http.ResponseWriter, r *http.Request) (identity.Principal, bool) {
	return g.CheckPermission(w, r, g.Permission)
}

// CheckPermission is Check for a permission other than the guard's own.
func (g Guard) CheckPermission(w http.ResponseWriter, r *http.Request, perm identity.Permission) (identity.Principal, bool) {
	p, ref := g.Auth.Authenticate(r)
	if ref == nil && p == nil {
		ref = Unauthorized(ReasonMissing, "credentials are required")
	}
	if ref == nil && !p.Can(perm) {
		ref = &Refusal{Status: http.StatusForbidden, Reason: ReasonForbidden,
			Detail: "principal " + p.String() + " lacks permission " + string(perm)}
	}
	if ref != nil {
		g.Refuse(w, ref)
		return identity.Principal{}, false
	}
	return *p, true
}

// Wrap returns h behind the guard, with the principal in the request's context.
func (g Guard) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := g.Check(w, r)
		if !ok {
			return
		}
		h.ServeHTTP(w, r.WithContext(identity.WithPrincipal(r.Context(), p)))
	})
}

// Refuse writes ref as a problem-details answer and counts it.
func (g Guard) Refuse(w http.ResponseWriter, ref *Refusal) {
	refused.WithLabelValues(g.Listener, ref.Reason).Inc()
	if ref.Status == http.StatusUnauthorized {
		realm := g.Realm
		if realm == "" {
			realm = "aiskao"
		}
		ch := g.Auth.Scheme() + ` realm="` + realm + `"`
		if ref.Reason != ReasonMissing && g.Auth.Scheme() == "Bearer" {
			ch += `, error="invalid_token"` // RFC 6750 §3.1
		}
		w.Header().Set("WWW-Authenticate", ch)
	}
	if ref.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	WriteProblem(w, ref.Status, ref.Detail)
}

// Problem is an RFC 9457 problem-details body.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// WriteProblem answers status with a problem-details body; the type is about:blank, so the title
// is the status's text (RFC 9457 §4.2.1).
func WriteProblem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail})
}

// maxCredentials bounds an Authorization header that is read; a token is 74 characters, a JWT a
// few kilobytes.
const maxCredentials = 16 << 10

// Bearer returns the token of an "Authorization: Bearer ..." header: ok is false when there is no
// Authorization header; a refusal when there is one that is not a single bearer token.
func Bearer(r *http.Request) (token string, ok bool, ref *Refusal) {
	hs := r.Header.Values("Authorization")
	if len(hs) == 0 {
		return "", false, nil
	}
	if len(hs) > 1 {
		return "", true, Unauthorized(ReasonMalformed, "more than one Authorization header")
	}
	h := hs[0]
	scheme, tok, found := strings.Cut(h, " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", true, Unauthorized(ReasonMalformed, "the Authorization header must read: Bearer <token>")
	}
	tok = strings.TrimSpace(tok)
	if tok == "" || len(tok) > maxCredentials || strings.ContainsAny(tok, " \t") {
		return "", true, Unauthorized(ReasonMalformed, "the Authorization header must read: Bearer <token>")
	}
	return tok, true, nil
}

// Token authenticates API tokens from the store, sent as "Authorization: Bearer <token>".
type Token struct {
	Auth apitoken.Authenticator
}

// Scheme implements Authenticator.
func (Token) Scheme() string { return "Bearer" }

// Authenticate implements Authenticator.
func (t Token) Authenticate(r *http.Request) (*identity.Principal, *Refusal) {
	tok, ok, ref := Bearer(r)
	if !ok || ref != nil {
		return nil, ref
	}
	return t.check(r.Context(), tok)
}

func (t Token) check(ctx context.Context, tok string) (*identity.Principal, *Refusal) {
	p, err := t.Auth.Authenticate(ctx, tok)
	switch {
	case err == nil:
		return &p, nil
	case errors.Is(err, apitoken.ErrMalformed):
		return nil, Unauthorized(ReasonMalformed, "the bearer token is not an API token of this hub")
	case errors.Is(err, apitoken.ErrUnknown):
		return nil, Unauthorized(ReasonUnknown, "unknown API token")
	case errors.Is(err, apitoken.ErrRevoked):
		return nil, Unauthorized(ReasonRevoked, "the API token has been revoked")
	}
	return nil, &Refusal{Status: http.StatusServiceUnavailable, Reason: ReasonUnavailable,
		Detail: "credentials cannot be checked now, try again"}
}

// Any tries each authenticator in turn and uses the first that finds credentials of its kind.
type Any []Authenticator

// Scheme implements Authenticator: the first authenticator's scheme.
func (a Any) Scheme() string {
	if len(a) == 0 {
		return "Bearer"
	}
	return a[0].Scheme()
}

// Authenticate implements Authenticator.
func (a Any) Authenticate(r *http.Request) (*identity.Principal, *Refusal) {
	for _, x := range a {
		if p, ref := x.Authenticate(r); p != nil || ref != nil {
			return p, ref
		}
	}
	return nil, nil
}

// Open and AnyPrincipal are the permissions an Endpoint declares when anyone who reaches the
// listener may call it, and when anyone who proves who they are may.
const (
	Open         identity.Permission = "(open)"
	AnyPrincipal identity.Permission = "(any)"
)

// Endpoint is one request pattern an API serves and the permission its callers need.
type Endpoint struct {
	Pattern string // net/http ServeMux pattern: "METHOD /path/{wildcard}"
	Handler http.Handler
	Perm    identity.Permission
}

// Mux registers every endpoint behind the guard on a new ServeMux.
func (g Guard) Mux(endpoints []Endpoint) *http.ServeMux {
	mux := http.NewServeMux()
	for _, e := range endpoints {
		mux.Handle(e.Pattern, g.Protect(e))
	}
	return mux
}

// Protect puts e behind the guard for its permission, with the principal in the request's
// context; an endpoint that declares none is a programming error and refuses everyone.
func (g Guard) Protect(e Endpoint) http.Handler {
	if e.Perm == Open {
		return e.Handler
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ref := g.Auth.Authenticate(r)
		switch {
		case ref != nil:
			g.Refuse(w, ref)
			return
		case p == nil:
			g.Refuse(w, Unauthorized(ReasonMissing, "an API token (Authorization: Bearer) or a client certificate is required"))
			return
		case e.Perm == "" || (e.Perm != AnyPrincipal && !p.Can(e.Perm)):
			g.Refuse(w, &Refusal{Status: http.StatusForbidden, Reason: ReasonForbidden,
				Detail: "principal " + p.String() + " lacks permission " + string(e.Perm)})
			return
		}
		e.Handler.ServeHTTP(w, r.WithContext(identity.WithPrincipal(r.Context(), *p)))
	})
}
