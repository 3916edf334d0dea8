// Package portal is the citizens' portal: a public start page with the services of the
// catalogue, sign-in through eAuth 2.0 (package eauth) and the signed-in person's own pages, on
// the web shell.
//
// The sign-in: the person presses the sign-in button (a same-origin POST), the portal issues a
// signed AuthnRequest recorded in the hub's store, sets a cookie binding it to this browser and
// answers the HTTP-POST binding's page, whose form goes to the identity provider (the page's
// Content-Security-Policy alone allows that form-action; a deferred script of the shell sends it
// on, and without script its button does). The identity provider posts the response back to the
// assertion consumer, the one route another site may post to: it is verified against the
// configured certificate, its request taken once from the store (any process of the hub may get
// it), and it must come from the browser that holds the binding cookie. Then the person's account
// is found or made (identity/account) and a session started in the store (identity/session).
// Every refusal is a page of the shell in the person's language, and journaled.
package portal

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aiskao/aiskao/dossier/service"
	"github.com/aiskao/aiskao/eauth"
	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/account"
	"github.com/aiskao/aiskao/identity/httpauth"
	"github.com/aiskao/aiskao/identity/session"
	"github.com/aiskao/aiskao/identity/signin"
	"github.com/aiskao/aiskao/store"
	"github.com/aiskao/aiskao/web"
)

//go:embed pages/*.html locales/*.json
var files embed.FS

// Paths of the portal.
const (
	PathSignIn   = "/signin"        // the sign-in page
	PathStart    = "/signin/eauth"  // POST: starts a sign-in through eAuth
	PathACS      = "/saml/acs"      // the assertion consumer: eAuth posts its response here
	PathMetadata = "/saml/metadata" // the portal's SAML metadata, to register it with eAuth
	PathAccount  = "/account"       // the signed-in person's page
	PathDossiers = "/dossiers"      // the person's applications
	PathSignOut  = "/signout"       // POST: ends the session
)

// MaxStarts is how many sign-ins one address may start in a minute: each records a request in
// the store, and a flood of them must not fill it. Generous, as many people may share one
// address (a carrier's NAT, an office).
const MaxStarts = 60

// BindingCookie names the cookie that binds a sign-in to the browser that started it; on TLS
// it has the __Host- prefix.
const BindingCookie = "aiskao_eauth"

// Config is what the portal is built from.
type Config struct {
	// Sessions keeps the sessions; Accounts the citizens' accounts; People reads an account's
	// name for the pages; Journal records sign-outs.
	Sessions *session.Manager
	Accounts *account.Service
	People   account.Store
	Journal  store.Journal
	// EAuth returns the eAuth service provider, or why there is none now (the identity
	// provider's certificate not there yet): sign-in is then refused with a page saying so. Nil:
	// the portal has no sign-in, only its public pages.
	EAuth func() (*eauth.SP, error)
	// Services are shown on the start page; nil shows none.
	Services *service.Catalog
	// TLS is whether browsers reach the portal over https: the binding cookie is then Secure,
	// SameSite=None (the identity provider posts from another site) and __Host-.
	TLS bool
	// Log receives refusals and failures, personal numbers masked.
	Log *slog.Logger
}

// Portal is the citizens' portal. Make it with New; serve Handler.
type Portal struct {
	cfg    Config
	shell  *web.Shell
	pages  map[string]*template.Template
	signin *signin.Handler
}

// New returns the portal over cfg.
func New(cfg Config) (*Portal, error) {
	if cfg.Sessions == nil || cfg.Accounts == nil || cfg.People == nil {
		return nil, errors.New("portal: sessions, accounts and the people's store are required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	shell, err := web.New("app.portal", "/", files)
	if err != nil {
		return nil, fmt.Errorf("portal: %w", err)
	}
	shell.SignOut = PathSignOut
	p := &Portal{cfg: cfg, shell: shell, pages: map[string]*template.Template{},
		signin: signin.New(cfg.Accounts, cfg.Sessions, cfg.Journal, signin.Pages{SignedOut: "/?signedout=1"})}
	for _, name := range []string{"index", "signin", "redirect", "account", "dossiers", "refused", "notfound"} {
		t, err := shell.Template(files, "pages/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("portal: %w", err)
		}
		p.pages[name] = t
	}
	return p, nil
}

// Endpoints are the portal's routes, each with the permission it needs: the table that Handler
// serves through web.Shell.Mux, and that the role × route tests run every role against.
func (p *Portal) Endpoints() []httpauth.Endpoint {
	h := func(f http.HandlerFunc) http.Handler { return f }
	return []httpauth.Endpoint{
		{Pattern: "GET " + web.AssetPrefix, Handler: p.shell.Assets().Handler(), Perm: httpauth.Open},
		{Pattern: "GET /{$}", Handler: h(p.index), Perm: httpauth.Open},
		{Pattern: "GET " + PathSignIn, Handler: h(p.signIn), Perm: httpauth.Open},
		{Pattern: "POST " + PathStart, Handler: h(p.start), Perm: httpauth.Open},
		{Pattern: "POST " + PathACS, Handler: h(p.acs), Perm: httpauth.Open},
		{Pattern: "GET " + PathMetadata, Handler: h(p.metadata), Perm: httpauth.Open},
		{Pattern: "POST " + PathSignOut, Handler: p.signin, Perm: httpauth.Open},
		{Pattern: "GET " + PathAccount, Handler: h(p.account), Perm: httpauth.AnyPrincipal},
		{Pattern: "GET " + PathDossiers, Handler: h(p.dossiers), Perm: identity.DossiersReadOwn},
		{Pattern: "/", Handler: h(p.notFound), Perm: httpauth.Open},
	}
}

// Handler is the portal with its sessions and security headers: only the assertion consumer
// takes posts from another site.
func (p *Portal) Handler() http.Handler {
	return web.Secure(p.cfg.Sessions.Middleware(p.shell.Mux(p.Endpoints(), PathSignIn)), "POST "+PathACS)
}

// page returns a Page for r titled by message id title, with the navigation and the person
// signed in, if any.
func (p *Portal) page(r *http.Request, path, title string) *web.Page {
	tr := p.shell.Tr(r)
	pg := &web.Page{Tr: tr, Title: tr.T(title)}
	nav := []struct{ url, id string }{{"/", "nav.home"}}
	if pr, ok := identity.FromContext(r.Context()); ok {
		name := pr.Name
		if a, err := p.cfg.People.AccountByName(r.Context(), pr.Name); err == nil && a.FullName != "" {
			name = a.FullName
		}
		pg.User = &web.User{Name: name}
		nav = append(nav, struct{ url, id string }{PathDossiers, "nav.dossiers"}, struct{ url, id string }{PathAccount, "nav.account"})
	} else {
		nav = append(nav, struct{ url, id string }{PathSignIn, "nav.signin"})
	}
	for _, n := range nav {
		pg.Nav = append(pg.Nav, web.NavItem{Label: tr.T(n.id), URL: n.url, Current: n.url == path})
	}
	return pg
}

// serviceItem is a service as the start page lists it; Number is its СУНАУ number, when it has one.
type serviceItem struct{ Number, Name, Provider string }

func (p *Portal) index(w http.ResponseWriter, r *http.Request) {
	pg := p.page(r, "/", "index.title")
	var items []serviceItem
	if c := p.cfg.Services; c != nil {
		for _, id := range c.IDs() {
			s, _ := c.Latest(id)
			if s == nil || !slices.Contains(s.Apply, service.Portal) {
				continue
			}
			it := serviceItem{Name: s.Name.In(pg.Lang), Provider: s.Provider.Name.In(pg.Lang)}
			if strings.Trim(s.ID, "0123456789") == "" {
				it.Number = s.ID
			}
			items = append(items, it)
		}
	}
	_, signedIn := identity.FromContext(r.Context())
	if r.URL.Query().Get("signedout") == "1" && !signedIn {
		pg.Banner = &web.Banner{Kind: "success", Title: pg.T("signedout.title"), Body: pg.T("signedout.body")}
	}
	pg.Data = struct {
		Services []serviceItem
		SignedIn bool
	}{items, signedIn}
	p.shell.Render(w, r, http.StatusOK, p.pages["index"], pg)
}

func (p *Portal) signIn(w http.ResponseWriter, r *http.Request) {
	back := web.ReturnPath(r.URL.Query().Get("return"))
	if _, ok := identity.FromContext(r.Context()); ok {
		http.Redirect(w, r, cmpOr(back, PathAccount), http.StatusSeeOther)
		return
	}
	pg := p.page(r, PathSignIn, "signin.title")
	pg.Data = struct {
		Return    string
		Available bool
	}{back, p.cfg.EAuth != nil}
	p.shell.Render(w, r, http.StatusOK, p.pages["signin"], pg)
}

// start issues an AuthnRequest bound to this browser and answers the page that carries it to
// the identity provider.
func (p *Portal) start(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if p.cfg.EAuth == nil {
		p.refuse(w, r, http.StatusNotFound, p.shell.Tr(r).T("refused.none"), false)
		return
	}
	sp, err := p.cfg.EAuth()
	if err != nil {
		p.cfg.Log.Warn("portal: eAuth sign-in is not available", "error", err)
		p.refuse(w, r, http.StatusServiceUnavailable, p.shell.Tr(r).T("refused.unavailable"), true)
		return
	}
	n, _, err := p.cfg.People.CountFailure(r.Context(), "eauth-start:"+p.cfg.Sessions.Addr(r), time.Now(), time.Minute)
	if err != nil {
		p.fail(w, r, fmt.Errorf("count sign-in starts: %w", err))
		return
	}
	if n > MaxStarts {
		p.cfg.Log.Warn("portal: too many sign-ins started from one address", "addr", p.cfg.Sessions.Addr(r), "count", n)
		w.Header().Set("Retry-After", "60")
		p.refuse(w, r, http.StatusTooManyRequests, p.shell.Tr(r).T("refused.throttled"), false)
		return
	}
	var secret [32]byte
	if _, err := rand.Read(secret[:]); err != nil {
		p.fail(w, r, fmt.Errorf("random: %w", err))
		return
	}
	value := base64.RawURLEncoding.EncodeToString(secret[:])
	sum := sha256.Sum256([]byte(value))
	req, err := sp.NewRequestFor(r.Context(), sum[:])
	if err != nil {
		p.fail(w, r, err)
		return
	}
	http.SetCookie(w, p.bindingCookie(value, int(eauth.DefaultRequestTTL/time.Second)))
	r = asPage(r, PathSignIn)
	pg := p.page(r, PathSignIn, "redirect.title")
	pg.Scripts = []string{"autosubmit.js"}
	pg.Data = struct{ URL, SAMLRequest, RelayState string }{req.URL, req.Encoded(), web.ReturnPath(r.PostForm.Get("return"))}
	// This page alone may send a form to the identity provider.
	w.Header().Set("Content-Security-Policy", web.CSPFormAction(req.URL))
	p.shell.Render(w, r, http.StatusOK, p.pages["redirect"], pg)
}

// bindingCookie is the cookie holding value for maxAge seconds (< 0 deletes it).
func (p *Portal) bindingCookie(value string, maxAge int) *http.Cookie {
	c := &http.Cookie{Name: BindingCookie, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true, SameSite: http.SameSiteLaxMode}
	if p.cfg.TLS {
		// The identity provider's post comes from another site: only None sends the cookie with
		// it, and None needs Secure. On plain HTTP (a demo on one host) the provider is on the same
		// site, and Lax is sent.
		c.Name, c.Secure, c.SameSite = "__Host-"+BindingCookie, true, http.SameSiteNoneMode
	}
	return c
}

// acs takes the identity provider's response.
func (p *Portal) acs(w http.ResponseWriter, r *http.Request) {
	if p.cfg.EAuth == nil {
		p.refuse(w, r, http.StatusNotFound, p.shell.Tr(r).T("refused.none"), false)
		return
	}
	sp, err := p.cfg.EAuth()
	if err != nil {
		p.cfg.Log.Warn("portal: eAuth response while sign-in is not available", "error", err)
		p.refuse(w, r, http.StatusServiceUnavailable, p.shell.Tr(r).T("refused.unavailable"), true)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, int64(eauth.DefaultMaxResponseBytes)*4/3+8192)
	if err := r.ParseForm(); err != nil {
		p.refused(w, r, &eauth.Error{Code: eauth.CodeTooLarge, Err: err})
		return
	}
	var browser []byte
	name := p.bindingCookie("", 0).Name
	if c, err := r.Cookie(name); err == nil && c.Value != "" {
		sum := sha256.Sum256([]byte(c.Value))
		browser = sum[:]
	}
	person, err := sp.VerifyFrom(r.Context(), r.PostForm.Get("SAMLResponse"), browser)
	if err != nil {
		p.refused(w, r, err)
		return
	}
	fullName := person.Name
	if fullName == "" {
		fullName = person.LatinName
	}
	addr := p.cfg.Sessions.Addr(r)
	acct, err := p.cfg.Accounts.SignInCitizen(r.Context(), account.Citizen{Identifier: person.Identifier, FullName: fullName,
		Method: string(person.Method), Level: person.Level.String()}, addr)
	if errors.Is(err, account.ErrRefused) {
		p.cfg.Log.Warn("portal: sign-in refused", "person", person.String(), "reason", "account cannot sign in")
		p.refuse(w, r, http.StatusForbidden, p.shell.Tr(r).T("refused.account"), false)
		return
	}
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if err := p.cfg.Sessions.Start(r.Context(), w, r, acct, session.SignedIn); err != nil {
		p.fail(w, r, err)
		return
	}
	http.SetCookie(w, p.bindingCookie("", -1))
	p.cfg.Log.Info("portal: signed in", "account", acct, "person", person.String())
	http.Redirect(w, r, cmpOr(web.ReturnPath(r.PostForm.Get("RelayState")), PathAccount), http.StatusSeeOther)
}

// refused answers a response eauth refused: the reason in the person's language, logged and
// journaled.
func (p *Portal) refused(w http.ResponseWriter, r *http.Request, err error) {
	code := eauth.CodeOf(err)
	status := http.StatusForbidden
	if code == eauth.CodeInternal {
		status = http.StatusInternalServerError
	}
	// The error's detail masks personal numbers (package eauth); the journal gets the code only.
	p.cfg.Log.Warn("portal: eAuth response refused", "code", string(code), "error", err, "addr", p.cfg.Sessions.Addr(r))
	if jerr := p.cfg.Accounts.RefuseCitizen(r.Context(), p.cfg.Sessions.Addr(r), string(eauth.MethodEAuth), string(code)); jerr != nil {
		p.cfg.Log.Error("portal: journal a refused sign-in", "error", jerr)
	}
	http.SetCookie(w, p.bindingCookie("", -1))
	tr := p.shell.Tr(r)
	p.refuse(w, r, status, code.Message(tr.Lang), true)
}

// fail answers a failure of the portal's own side.
func (p *Portal) fail(w http.ResponseWriter, r *http.Request, err error) {
	p.cfg.Log.Error("portal: sign-in failed", "error", err)
	p.refuse(w, r, http.StatusInternalServerError, eauth.CodeInternal.Message(p.shell.Tr(r).Lang), true)
}

// refuse renders the refusal page with reason; again offers to sign in again.
func (p *Portal) refuse(w http.ResponseWriter, r *http.Request, status int, reason string, again bool) {
	r = asPage(r, PathSignIn)
	pg := p.page(r, "", "refused.title")
	pg.Failed = true
	pg.Data = struct {
		Reason string
		Again  bool
	}{reason, again}
	p.shell.Render(w, r, status, p.pages["refused"], pg)
}

// metadata serves the service provider's SAML metadata.
func (p *Portal) metadata(w http.ResponseWriter, r *http.Request) {
	if p.cfg.EAuth == nil {
		p.notFound(w, r)
		return
	}
	sp, err := p.cfg.EAuth()
	if err != nil {
		http.Error(w, "eAuth is not available now", http.StatusServiceUnavailable)
		return
	}
	md, err := sp.Metadata()
	if err != nil {
		p.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	w.Write(md)
}

func (p *Portal) account(w http.ResponseWriter, r *http.Request) {
	pg := p.page(r, PathAccount, "account.title")
	pr, _ := identity.FromContext(r.Context())
	name := ""
	if pg.User != nil {
		name = pg.User.Name
	}
	var roles []string
	for _, role := range pr.Roles {
		roles = append(roles, pg.T("role."+string(role)))
	}
	method := pg.T("account.method.local")
	if account.IsCitizen(pr.Name) {
		method = pg.T("account.method.eauth")
	}
	pg.Data = []web.SummaryRow{
		{Key: pg.T("account.name"), Value: name},
		{Key: pg.T("account.method"), Value: method},
		{Key: pg.T("account.roles"), Value: strings.Join(roles, ", ")},
	}
	p.shell.Render(w, r, http.StatusOK, p.pages["account"], pg)
}

func (p *Portal) dossiers(w http.ResponseWriter, r *http.Request) {
	p.shell.Render(w, r, http.StatusOK, p.pages["dossiers"], p.page(r, PathDossiers, "dossiers.title"))
}

func (p *Portal) notFound(w http.ResponseWriter, r *http.Request) {
	p.shell.Render(w, r, http.StatusNotFound, p.pages["notfound"], p.page(r, "", "notfound.title"))
}

// Sweep forgets the sessions, the counts of sign-in starts and the eAuth sign-ins in flight that
// have run out, every every, until ctx ends; s may be nil when the store keeps no eAuth sign-ins.
func (p *Portal) Sweep(ctx context.Context, every time.Duration, s eauth.Store) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := p.cfg.Sessions.Sweep(ctx); err != nil && ctx.Err() == nil {
			p.cfg.Log.Warn("portal: sweep sessions", "error", err)
		}
		if _, err := p.cfg.Accounts.Sweep(ctx); err != nil && ctx.Err() == nil {
			p.cfg.Log.Warn("portal: sweep counts", "error", err)
		}
		if s != nil {
			if _, err := s.DeleteStaleEAuth(ctx, time.Now()); err != nil && ctx.Err() == nil {
				p.cfg.Log.Warn("portal: sweep eAuth sign-ins", "error", err)
			}
		}
	}
}

// asPage returns r as if it had asked for path, keeping its query: a page answered to a POST
// (the refusal, the page carrying the request) switches language to path, which a GET can open.
func asPage(r *http.Request, path string) *http.Request {
	if r.Method == http.MethodGet {
		return r
	}
	c := *r
	u := *r.URL
	u.Path, u.RawPath = path, ""
	c.URL = &u
	return &c
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
