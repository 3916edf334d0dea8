// Package oidc signs members of staff in through an OpenID Connect provider (Keycloak, Entra ID,
// any that publishes a discovery document): the Authorization Code flow with PKCE (S256), state
// and nonce bound to the browser by a short-lived single-use cookie, the ID token verified by
// github.com/coreos/go-oidc/v3 (issuer, audience, expiry, nonce, an asymmetric signature by a
// key of the provider's JWKS), and the provider's groups mapped to roles and positions. The
// person's account is found or made by identity/account (SignInSSO, by the provider's issuer
// and subject, without a password) and the session started by identity/session, as a local
// sign-in does.
//
// The routes, under the prefix the application mounts the Handler at:
//
//	GET  /sso/login?return=/path   sends the browser to the provider
//	GET  /sso/callback             where the provider sends it back (the configured redirect_url)
//	POST /sso/signout              ends this session, then the provider's if it says where
//
// Every sign-in, refusal and sign-out is journaled with who and from which address; no code,
// token, verifier, state or nonce ever is.
package oidc

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/account"
	"github.com/aiskao/aiskao/identity/session"
	"github.com/aiskao/aiskao/store"
)

// stateTTL is how long a browser has at the provider before its sign-in must start again.
const stateTTL = 10 * time.Minute

// Cookie names of the pending sign-in; on TLS the __Host- prefix keeps it to this host alone.
const (
	cookieName     = "aiskao_sso"
	hostCookieName = "__Host-aiskao_sso"
)

// signingAlgs are the ID token's algorithms accepted: asymmetric ones only. "none" and HMAC (whose
// key would be the client secret, known to the hub) are refused whatever the provider advertises.
var signingAlgs = []string{
	gooidc.RS256, gooidc.RS384, gooidc.RS512, gooidc.PS256, gooidc.PS384, gooidc.PS512,
	gooidc.ES256, gooidc.ES384, gooidc.ES512, gooidc.EdDSA,
}

// Pages are where a browser is sent. Zero fields take their defaults.
type Pages struct {
	Done      string // signed in, when the sign-in named no return path; default "/"
	SignedOut string // after signing out, when the provider has no end_session_endpoint; default "/signin"
}

// Options are what the Handler works with besides its Config.
type Options struct {
	Accounts *account.Service
	Sessions *session.Manager
	Journal  store.Journal
	// States keeps the pending sign-ins; nil keeps them in this process's memory.
	States StateStore
	// Client calls the provider (discovery, keys, token endpoint); nil: a client with a
	// 30-second time-out.
	Client *http.Client
	Pages  Pages
	// Dir is the configuration's folder, against which client_secret_file is read.
	Dir string
	// Fail answers a refused sign-in; nil writes the refusal's text in Bulgarian and English.
	Fail func(w http.ResponseWriter, r *http.Request, code Code)
}

// Handler serves the single sign-on routes. Make it with New.
type Handler struct {
	cfg        Config
	o          Options
	oauth      oauth2.Config
	verifier   *gooidc.IDTokenVerifier
	endSession string
	secure     bool
	mux        *http.ServeMux
	now        func() time.Time
}

// New validates cfg, reads the client secret and the provider's discovery document, and returns
// the Handler.
func New(ctx context.Context, cfg Config, o Options) (*Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if o.Accounts == nil || o.Sessions == nil {
		return nil, errors.New("oidc: accounts and sessions are required")
	}
	secret, err := cfg.secret(o.Dir)
	if err != nil {
		return nil, err
	}
	if o.States == nil {
		o.States = NewMemoryStates()
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if o.Pages.Done == "" {
		o.Pages.Done = "/"
	}
	if o.Pages.SignedOut == "" {
		o.Pages.SignedOut = "/signin"
	}
	if cfg.GroupsClaim == "" {
		cfg.GroupsClaim = "groups"
	}
	scopes := cfg.Scopes
	if len(scopes) == 0 {
		scopes = defaultScopes
	}
	ctx = gooidc.ClientContext(ctx, o.Client)
	p, err := gooidc.NewProvider(ctx, cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("oidc: provider %s: %w", cfg.Issuer, err)
	}
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := p.Claims(&meta); err != nil {
		return nil, fmt.Errorf("oidc: provider %s: discovery document: %w", cfg.Issuer, err)
	}
	if meta.EndSession != "" {
		if err := checkURL(meta.EndSession); err != nil {
			return nil, fmt.Errorf("oidc: provider %s: end_session_endpoint: %w", cfg.Issuer, err)
		}
	}
	u, _ := url.Parse(cfg.RedirectURL)
	h := &Handler{
		cfg: cfg, o: o,
		oauth: oauth2.Config{ClientID: cfg.ClientID, ClientSecret: secret, Endpoint: p.Endpoint(),
			RedirectURL: cfg.RedirectURL, Scopes: append([]string{gooidc.ScopeOpenID}, scopes...)},
		// The verifier's context outlives New: it fetches the provider's keys when they change.
		verifier: p.VerifierContext(gooidc.ClientContext(context.WithoutCancel(ctx), o.Client),
			&gooidc.Config{ClientID: cfg.ClientID, SupportedSigningAlgs: signingAlgs}),
		endSession: meta.EndSession,
		secure:     u.Scheme == "https",
		mux:        http.NewServeMux(),
		now:        time.Now,
	}
	h.mux.HandleFunc("GET /sso/login", h.login)
	h.mux.HandleFunc("GET /sso/callback", h.callback)
	h.mux.HandleFunc("POST /sso/signout", h.signOut)
	return h, nil
}

// ServeHTTP serves the single sign-on routes.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) cookieName() string {
	if h.secure {
		return hostCookieName
	}
	return cookieName
}

func (h *Handler) cookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: h.cookieName(), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode}
}

func random() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("oidc: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

func stateKey(state string) string {
	h := sha256.Sum256([]byte(state))
	return hex.EncodeToString(h[:])
}

// login records a pending sign-in, binds it to the browser by a cookie and sends the browser
// to the provider.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	var vals [3]string
	for i := range vals {
		v, err := random()
		if err != nil {
			h.refuse(w, r, CodeUnavailable, "", err.Error())
			return
		}
		vals[i] = v
	}
	state, nonce, binding := vals[0], vals[1], vals[2]
	verifier := oauth2.GenerateVerifier()
	bh := sha256.Sum256([]byte(binding))
	p := Pending{Binding: bh[:], Nonce: nonce, Verifier: verifier, Return: localPath(r.URL.Query().Get("return")),
		Expires: h.now().Add(stateTTL)}
	if err := h.o.States.Put(r.Context(), stateKey(state), p); err != nil {
		h.refuse(w, r, CodeUnavailable, "", "keeping the pending sign-in: "+err.Error())
		return
	}
	http.SetCookie(w, h.cookie(binding, int(stateTTL/time.Second)))
	http.Redirect(w, r, h.oauth.AuthCodeURL(state, gooidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), http.StatusFound)
}

// localPath returns p if it is a path of this site, and "" otherwise, so that the return path
// cannot send the person elsewhere.
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n") {
		return ""
	}
	return p
}

// claims are the ID token's claims read besides those go-oidc checks.
type claims struct {
	Email         string `json:"email"`
	EmailVerified any    `json:"email_verified"` // a boolean, or a string at some providers
	Name          string `json:"name"`
	Username      string `json:"preferred_username"`
}

// callback takes the browser back from the provider: checks the state against the cookie,
// exchanges the code with the PKCE verifier, verifies the ID token and its nonce, maps the
// groups to roles and starts the session.
func (h *Handler) callback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	c, cerr := r.Cookie(h.cookieName())
	http.SetCookie(w, h.cookie("", -1)) // single use, whatever follows
	state := q.Get("state")
	if state == "" || cerr != nil || c.Value == "" {
		h.refuse(w, r, CodeState, "", "no state, or no cookie of a sign-in started in this browser")
		return
	}
	p, ok, err := h.o.States.Take(ctx, stateKey(state))
	if err != nil {
		h.refuse(w, r, CodeUnavailable, "", "taking the pending sign-in: "+err.Error())
		return
	}
	if !ok {
		h.refuse(w, r, CodeState, "", "state unknown, used before or expired")
		return
	}
	bh := sha256.Sum256([]byte(c.Value))
	if subtle.ConstantTimeCompare(bh[:], p.Binding) != 1 {
		h.refuse(w, r, CodeState, "", "state of a sign-in started in another browser")
		return
	}
	if e := q.Get("error"); e != "" {
		h.refuse(w, r, CodeProvider, "", "the provider answered "+bounded(e))
		return
	}
	tok, err := h.oauth.Exchange(gooidc.ClientContext(ctx, h.o.Client), q.Get("code"), oauth2.VerifierOption(p.Verifier))
	if err != nil {
		reason := "token endpoint failed"
		if re := (*oauth2.RetrieveError)(nil); errors.As(err, &re) {
			reason = "the provider refused the code: " + bounded(re.ErrorCode)
		}
		h.refuse(w, r, CodeProvider, "", reason)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		h.refuse(w, r, CodeToken, "", "no ID token in the token response")
		return
	}
	idt, err := h.verifier.Verify(gooidc.ClientContext(ctx, h.o.Client), raw)
	if err != nil {
		h.refuse(w, r, CodeToken, "", "ID token refused: "+bounded(err.Error()))
		return
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(p.Nonce)) != 1 {
		h.refuse(w, r, CodeToken, "", "ID token refused: nonce not that of this sign-in")
		return
	}
	var cl claims
	var all map[string]json.RawMessage
	if err := idt.Claims(&cl); err != nil || idt.Claims(&all) != nil {
		h.refuse(w, r, CodeToken, "", "ID token refused: claims cannot be read")
		return
	}
	addr := h.o.Sessions.Addr(r)
	if ok, why := h.cfg.allowed(idt.Subject, cl.Email, verified(cl.EmailVerified)); !ok {
		err := h.o.Accounts.RefuseSSO(ctx, h.cfg.Issuer, idt.Subject, addr, why)
		h.answerErr(w, r, err, CodeNotAllowed)
		return
	}
	roles, positions, managed := h.cfg.grant(groups(all[h.cfg.GroupsClaim]))
	fullName := cl.Name
	if fullName == "" {
		fullName = cl.Username
	}
	person := account.SSOPerson{Issuer: h.cfg.Issuer, Subject: idt.Subject, FullName: fullName,
		Roles: roles, Positions: positions, Managed: managed}
	name, err := h.o.Accounts.SignInSSO(ctx, person, addr)
	if err != nil {
		code := CodeRefused
		if len(roles) == 0 {
			code = CodeNoRole
		}
		h.answerErr(w, r, err, code)
		return
	}
	if err := h.o.Sessions.Start(ctx, w, r, name, session.SignedIn); err != nil {
		h.refuse(w, r, CodeUnavailable, name, "starting the session: "+err.Error())
		return
	}
	dest := p.Return
	if dest == "" {
		dest = h.o.Pages.Done
	}
	http.Redirect(w, r, dest, http.StatusSeeOther)
}

// answerErr answers an error of the account service: a refusal (journaled by it) with code,
// anything else as unavailable.
func (h *Handler) answerErr(w http.ResponseWriter, r *http.Request, err error, code Code) {
	if errors.Is(err, account.ErrRefused) {
		h.fail(w, r, code)
		return
	}
	h.refuse(w, r, CodeUnavailable, "", err.Error())
}

// verified reads email_verified, a boolean or, at some providers, the string "true".
func verified(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return false
}

// groups reads the groups claim: a list of strings, or one string.
func groups(raw json.RawMessage) []string {
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return list
	}
	var one string
	if json.Unmarshal(raw, &one) == nil && one != "" {
		return []string{one}
	}
	return nil
}

// bounded cuts what the provider or a library says to a length fit for the journal.
func bounded(s string) string {
	if len(s) > 200 {
		return s[:200]
	}
	return s
}

// signOut ends the session the request came with, journals it, and sends the browser to the
// provider's end_session_endpoint when it has one, so that the person is signed out there too.
func (h *Handler) signOut(w http.ResponseWriter, r *http.Request) {
	person, err := h.o.Sessions.End(r.Context(), w, r)
	if err != nil {
		h.refuse(w, r, CodeUnavailable, "", "ending the session: "+err.Error())
		return
	}
	if person != "" {
		detail := map[string]string{"addr": h.o.Sessions.Addr(r), "method": "oidc", "issuer": h.cfg.Issuer}
		if err := h.record(r.Context(), store.JournalEntry{Kind: "signout", Result: "ok",
			Actor:   identity.Principal{Name: person, Kind: identity.KindPerson}.String(),
			Subject: "account " + person, Detail: detail}); err != nil {
			h.refuse(w, r, CodeUnavailable, "", err.Error())
			return
		}
	}
	dest := h.o.Pages.SignedOut
	if h.endSession != "" && person != "" {
		// RP-Initiated Logout names the client rather than send back an ID token, which the
		// hub does not keep.
		u, _ := url.Parse(h.endSession)
		q := u.Query()
		q.Set("client_id", h.cfg.ClientID)
		if h.cfg.PostLogoutRedirectURL != "" {
			q.Set("post_logout_redirect_uri", h.cfg.PostLogoutRedirectURL)
		}
		u.RawQuery = q.Encode()
		dest = u.String()
	}
	http.Redirect(w, r, dest, http.StatusSeeOther)
}

// refuse journals a refused sign-in with why, who (when known) and from where, and answers it.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, code Code, person, reason string) {
	e := store.JournalEntry{Kind: "signin.failed", Result: "refused",
		Detail: map[string]string{"addr": h.o.Sessions.Addr(r), "method": "oidc", "issuer": h.cfg.Issuer, "reason": reason}}
	if code == CodeUnavailable {
		e.Kind, e.Result = "signin.error", "error"
	}
	if person != "" {
		e.Subject = "account " + person
	}
	_ = h.record(r.Context(), e) // the person is refused either way
	h.fail(w, r, code)
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, code Code) {
	if h.o.Fail != nil {
		h.o.Fail(w, r, code)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code.Status())
	_, _ = w.Write([]byte(code.Message("bg") + "\n" + code.Message("en") + "\n"))
}

func (h *Handler) record(ctx context.Context, e store.JournalEntry) error {
	if h.o.Journal == nil {
		return nil
	}
	// Not the caller's context alone: a client that hangs up must not leave the act unrecorded.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := h.o.Journal.AppendJournal(ctx, e); err != nil {
		return fmt.Errorf("oidc: journal %s: %w", e.Kind, err)
	}
	return nil
}
