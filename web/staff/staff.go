// Package staff is what the staff site's applications share beyond the web shell: the sign-in
// pages (name and password, the second factor's code, a new password after a reset, single
// sign-on through the organisation's provider), the start page that names the person and the
// sections their roles open, and the frame of every staff page (the person's name in the
// header, the navigation of the sections they may open).
//
// The clerks' application (clerk/) and the administration's (admin/console) are served on the
// same listener and draw their pages through a Site's Page. Every route is an
// httpauth.Endpoint with the permission it needs, put behind it by web.Shell.Mux.
package staff

import (
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"

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

// Files holds the package's message catalogues (locales/bg.json, locales/en.json), to give
// web.New with the other staff applications' catalogues.
var Files fs.FS = files

// SignInPath is the sign-in page, where web.Shell.Mux sends a person without a session.
const SignInPath = "/signin"

// Section is an application or a part of one that the start page and the navigation offer to
// those whose roles grant Perm.
type Section struct {
	// Label and Hint are message ids of the catalogues.
	Label, Hint string
	URL         string
	Perm        identity.Permission
}

// Options are what the Site works with.
type Options struct {
	Accounts *account.Service
	Sessions *session.Manager
	Journal  store.Journal
	// Sections are the applications' sections, in the order the start page lists them.
	Sections []Section
	// SSO is the single sign-on handler (identity/oidc) serving /sso/...; nil when the site
	// has local accounts only.
	SSO http.Handler
}

// Site serves the sign-in pages and the start page, and frames the staff applications' pages.
type Site struct {
	shell  *web.Shell
	o      Options
	signin *signin.Handler
	pages  map[string]*template.Template
}

// New returns the Site on shell, whose catalogues must include Files.
func New(shell *web.Shell, o Options) (*Site, error) {
	if o.Accounts == nil || o.Sessions == nil {
		return nil, fmt.Errorf("staff: accounts and sessions are required")
	}
	shell.SignOut = "/signout"
	s := &Site{shell: shell, o: o, pages: map[string]*template.Template{}}
	shell.Frame = func(r *http.Request, p *web.Page) {
		f := s.Page(r, "", "")
		p.User, p.Nav = f.User, f.Nav
	}
	for _, name := range []string{"signin", "totp", "password", "home", "notfound"} {
		t, err := shell.Template(files, "pages/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("staff: %w", err)
		}
		s.pages[name] = t
	}
	s.signin = signin.New(o.Accounts, o.Sessions, o.Journal, signin.Pages{
		Done: "/", TOTP: "/signin/totp", Password: "/signin/password", SignIn: SignInPath,
		SignedOut: SignInPath + "?done=signedout", SignedOutEverywhere: SignInPath + "?done=everywhere",
	}).RenderFailures(s.failed)
	return s, nil
}

// Shell returns the web shell the site draws with.
func (s *Site) Shell() *web.Shell { return s.shell }

// Endpoints are the site's own routes: assets, sign-in and sign-out, single sign-on, the start
// page.
func (s *Site) Endpoints() []httpauth.Endpoint {
	eps := []httpauth.Endpoint{
		{Pattern: "GET " + web.AssetPrefix, Perm: httpauth.Open, Handler: s.shell.Assets().Handler()},
		{Pattern: "GET /signin", Perm: httpauth.Open, Handler: http.HandlerFunc(s.signInPage)},
		{Pattern: "POST /signin", Perm: httpauth.Open, Handler: s.checked(s.signin, "name", "password")},
		{Pattern: "GET /signin/totp", Perm: httpauth.Open, Handler: s.pending(session.NeedsTOTP, "totp")},
		{Pattern: "POST /signin/totp", Perm: httpauth.Open, Handler: s.checked(s.signin, "code")},
		{Pattern: "GET /signin/password", Perm: httpauth.Open, Handler: s.pending(session.NeedsPassword, "password")},
		{Pattern: "POST /signin/password", Perm: httpauth.Open, Handler: s.checked(s.signin, "password")},
		// Signing out needs no session: without one it only sends the browser to sign in.
		{Pattern: "POST /signout", Perm: httpauth.Open, Handler: http.HandlerFunc(s.signOut)},
		{Pattern: "POST /signout/everywhere", Perm: httpauth.AnyPrincipal, Handler: s.signin},
		{Pattern: "GET /{$}", Perm: httpauth.AnyPrincipal, Handler: http.HandlerFunc(s.home)},
		{Pattern: "/", Perm: httpauth.Open, Handler: http.HandlerFunc(s.notFound)},
	}
	if s.o.SSO != nil {
		eps = append(eps,
			httpauth.Endpoint{Pattern: "GET /sso/login", Perm: httpauth.Open, Handler: s.o.SSO},
			httpauth.Endpoint{Pattern: "GET /sso/callback", Perm: httpauth.Open, Handler: s.o.SSO},
			httpauth.Endpoint{Pattern: "POST /sso/signout", Perm: httpauth.Open, Handler: s.o.SSO})
	}
	return eps
}

// Page returns a page of the staff site for r titled by message id title: the person's name
// in the header and the navigation of the sections their roles open, current marking the
// section at that address.
func (s *Site) Page(r *http.Request, title, current string) *web.Page {
	tr := s.shell.Tr(r)
	p := &web.Page{Tr: tr, Title: tr.T(title)}
	who, ok := identity.FromContext(r.Context())
	if !ok {
		return p
	}
	p.User = &web.User{Name: s.fullName(r, who.Name)}
	p.Nav = append(p.Nav, web.NavItem{Label: tr.T("staff.nav.home"), URL: "/", Current: current == "/"})
	for _, sec := range s.o.Sections {
		if who.Can(sec.Perm) {
			p.Nav = append(p.Nav, web.NavItem{Label: tr.T(sec.Label), URL: sec.URL, Current: current == sec.URL})
		}
	}
	return p
}

// fullName returns the name the account shows, or the account's name when it has none.
func (s *Site) fullName(r *http.Request, name string) string {
	a, _, err := s.o.Accounts.Get(r.Context(), name)
	if err != nil || a.FullName == "" {
		return name
	}
	return a.FullName
}

// RoleName returns the role's name in tr's language.
func RoleName(tr web.Tr, r identity.Role) string { return tr.T("role." + string(r)) }

// notFound answers an address the site does not have with the shell's page.
func (s *Site) notFound(w http.ResponseWriter, r *http.Request) {
	p := s.Page(r, "notfound.title", "")
	p.Data = struct{ Body, SignIn string }{p.T("notfound.body"), ""}
	s.shell.Render(w, r, http.StatusNotFound, s.pages["notfound"], p)
}

// signOut ends the session: a person signed in through single sign-on is signed out by
// identity/oidc, which answers with the provider's end-session address. A form's answer may not
// send the browser to another site (the policy's form-action), so the signed-out page offers
// that address as a link to sign out at the provider too.
func (s *Site) signOut(w http.ResponseWriter, r *http.Request) {
	p, ok := identity.FromContext(r.Context())
	if !ok || s.o.SSO == nil || !account.IsSSO(p.Name) {
		s.signin.ServeHTTP(w, r)
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/sso/signout"
	c := &captured{header: http.Header{}}
	s.o.SSO.ServeHTTP(c, r2)
	for _, v := range c.header.Values("Set-Cookie") {
		w.Header().Add("Set-Cookie", v)
	}
	loc := c.header.Get("Location")
	if c.status != http.StatusSeeOther && c.status != http.StatusFound || loc == "" {
		w.WriteHeader(c.status)
		_, _ = w.Write(c.body)
		return
	}
	if web.ReturnPath(loc) != "" {
		http.Redirect(w, r, loc, http.StatusSeeOther)
		return
	}
	tr := s.shell.Tr(r)
	banner := &web.Banner{Kind: "success", Title: tr.T("staff.banner.done"), Heading: tr.T("staff.signedout.signedout")}
	s.renderData(w, r, http.StatusOK, "signin", signInData{Form: form(tr, r, "signin"), SSO: "/sso/login", Provider: loc}, banner)
}

// captured is the answer of a handler kept to be looked at before it is sent on.
type captured struct {
	header http.Header
	status int
	body   []byte
}

func (c *captured) Header() http.Header { return c.header }

func (c *captured) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
}

func (c *captured) Write(b []byte) (int, error) {
	c.WriteHeader(http.StatusOK)
	c.body = append(c.body, b...)
	return len(b), nil
}
