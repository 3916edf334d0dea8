package staff

import (
	"errors"
	"net/http"
	"strings"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/oidc"
	"github.com/aiskao/aiskao/identity/session"
	"github.com/aiskao/aiskao/identity/signin"
	"github.com/aiskao/aiskao/web"
)

// returnCookie keeps, while a person signs in, the address they asked for before.
const returnCookie = "aiskao_return"

// signInData is what the sign-in pages draw: the form, the single sign-on link, and a banner
// for what happened before (signed out, sign-in expired).
type signInData struct {
	web.Form
	SSO string
	// Provider is the single sign-on provider's end-session address, after signing out here.
	Provider string
}

// form returns the form of the step tmpl, in tr's language, with the values of r's form.
func form(tr web.Tr, r *http.Request, tmpl string) web.Form {
	switch tmpl {
	case "totp":
		return web.NewForm(tr, "/signin/totp", tr.T("staff.continue"),
			web.Field{Name: "code", Label: tr.T("staff.code"), Hint: tr.T("staff.code.hint"), Autocomplete: "one-time-code", Width: "w-s"})
	case "password":
		return web.NewForm(tr, "/signin/password", tr.T("staff.password.save"),
			web.Field{Name: "password", Label: tr.T("staff.password.new"), Hint: tr.T("staff.password.new.hint"), Type: "password", Autocomplete: "new-password", Width: "w-l"})
	}
	return web.NewForm(tr, SignInPath, tr.T("staff.signin.submit"),
		web.Field{Name: "name", Label: tr.T("staff.name"), Autocomplete: "username", Value: strings.TrimSpace(r.PostFormValue("name")), Width: "w-l"},
		web.Field{Name: "password", Label: tr.T("staff.password"), Type: "password", Autocomplete: "current-password", Width: "w-l"})
}

// render draws the step tmpl with f, with status code.
func (s *Site) render(w http.ResponseWriter, r *http.Request, code int, tmpl string, f web.Form, banner *web.Banner) {
	d := signInData{Form: f}
	if s.o.SSO != nil && tmpl == "signin" {
		d.SSO = "/sso/login"
	}
	s.renderData(w, r, code, tmpl, d, banner)
}

// renderData draws the step tmpl with d.
func (s *Site) renderData(w http.ResponseWriter, r *http.Request, code int, tmpl string, d signInData, banner *web.Banner) {
	tr := s.shell.Tr(r)
	p := &web.Page{Tr: tr, Title: tr.T("staff." + tmpl + ".title"), Failed: !d.Valid(), Banner: banner, Data: d}
	s.shell.Render(w, r, code, s.pages[tmpl], p)
}

// signInPage is the first step's page. A person signed in already is sent to the start page.
func (s *Site) signInPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := identity.FromContext(r.Context()); ok {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	q := r.URL.Query()
	if back := web.ReturnPath(q.Get("return")); back != "" && back != "/" {
		// Kept for the start page, which sends the person on once they have signed in.
		http.SetCookie(w, &http.Cookie{Name: returnCookie, Value: back, Path: "/", MaxAge: 600,
			HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	}
	tr := s.shell.Tr(r)
	f := form(tr, r, "signin")
	var banner *web.Banner
	switch done := q.Get("done"); done {
	case "signedout", "everywhere":
		banner = &web.Banner{Kind: "success", Title: tr.T("staff.banner.done"), Heading: tr.T("staff.signedout." + done)}
	}
	code := q.Get("error")
	switch {
	case code == "expired":
		banner = &web.Banner{Kind: "warning", Title: tr.T("staff.banner.important"), Heading: tr.T("staff.error.expired")}
	case strings.HasPrefix(code, "sso_"):
		banner = &web.Banner{Kind: "warning", Title: tr.T("staff.banner.important"), Heading: oidc.Code(code).Message(tr.Lang)}
	}
	s.render(w, r, http.StatusOK, "signin", f, banner)
}

// pending serves the page of a later step to a browser whose sign-in is at stage, and sends any
// other to the first step.
func (s *Site) pending(stage session.Stage, tmpl string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec, err := s.o.Sessions.Load(r.Context(), r)
		if err != nil && !errors.Is(err, session.ErrNotFound) {
			http.Error(w, "sessions are not available; try again later", http.StatusServiceUnavailable)
			return
		}
		if err != nil || rec.Stage != stage {
			http.Redirect(w, r, SignInPath+"?error=expired", http.StatusSeeOther)
			return
		}
		s.render(w, r, http.StatusOK, tmpl, form(s.shell.Tr(r), r, tmpl), nil)
	})
}

// checked answers a browser's form with an empty field by drawing its page again with the
// error beside it, and passes every other request to next.
func (s *Site) checked(next http.Handler, names ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.Header.Get("Accept"), "application/json") {
			next.ServeHTTP(w, r)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "the form could not be read", http.StatusBadRequest)
			return
		}
		tmpl := stepOf(r.URL.Path)
		tr := s.shell.Tr(r)
		f := form(tr, r, tmpl)
		for _, n := range names {
			if strings.TrimSpace(r.PostFormValue(n)) == "" {
				f.Set(n, tr.T("staff.error.empty."+tmpl+"."+n))
			}
		}
		if !f.Valid() {
			s.render(w, r, http.StatusBadRequest, tmpl, f, nil)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// stepOf returns the page template of a sign-in route.
func stepOf(path string) string {
	switch path {
	case "/signin/totp":
		return "totp"
	case "/signin/password":
		return "password"
	}
	return "signin"
}

// failed draws the page of a step that identity/signin refused, the error beside the field it
// concerns and in the summary at the top. A step whose sign-in has expired starts again.
func (s *Site) failed(w http.ResponseWriter, r *http.Request, fl signin.Failure) {
	if fl.Code == "expired" {
		http.Redirect(w, r, SignInPath+"?error=expired", http.StatusSeeOther)
		return
	}
	tmpl := stepOf(fl.Path)
	tr := s.shell.Tr(r)
	f := form(tr, r, tmpl)
	field := map[string]string{"signin": "password", "totp": "code", "password": "password"}[tmpl]
	msg := tr.T("staff.error.unavailable")
	switch fl.Code {
	case "refused":
		msg = tr.T("staff.error.refused." + tmpl)
	case "locked":
		msg = tr.T("staff.error.locked")
	case "weak_password":
		msg = tr.T("staff.error.weak")
	case "bad_request":
		msg = tr.T("staff.error.bad_request")
	}
	f.Set(field, msg)
	s.render(w, r, fl.Status, tmpl, f, nil)
}

// SSOFailed draws the sign-in page with the reason a single sign-on was refused, for
// identity/oidc's Options.Fail.
func (s *Site) SSOFailed(w http.ResponseWriter, r *http.Request, code oidc.Code) {
	tr := s.shell.Tr(r)
	banner := &web.Banner{Kind: "warning", Title: tr.T("staff.banner.important"), Heading: code.Message(tr.Lang)}
	s.render(w, r, code.Status(), "signin", form(tr, r, "signin"), banner)
}
