package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/httpauth"
)

// Mux registers each endpoint of a web application behind the permission it declares, reading
// the principal that the session middleware put in the request's context
// (identity.FromContext). The same httpauth.Endpoint describes a page and an API's call, so one
// table test runs every role against every route of every application and API.
//
// A request without a principal to a page that needs one is sent to signIn with the address it
// asked for (a GET; 303) or refused with 401 (any other method, whose form would be lost); a
// principal whose roles lack the permission gets 403. Both refusals are pages of the shell, in
// the person's language. An endpoint that declares no permission refuses everyone: forgetting
// to declare one must not open a page.
func (s *Shell) Mux(endpoints []httpauth.Endpoint, signIn string) *http.ServeMux {
	mux := http.NewServeMux()
	for _, e := range endpoints {
		mux.Handle(e.Pattern, s.Protect(e, signIn))
	}
	return mux
}

// Protect is Mux for one endpoint.
func (s *Shell) Protect(e httpauth.Endpoint, signIn string) http.Handler {
	if e.Perm == httpauth.Open {
		return e.Handler
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := identity.FromContext(r.Context())
		switch {
		case !ok && (r.Method == http.MethodGet || r.Method == http.MethodHead):
			http.Redirect(w, r, SignInURL(signIn, r), http.StatusSeeOther)
		case !ok:
			s.refuse(w, r, http.StatusUnauthorized, "signin.required.title", "signin.required.body", signIn)
		case e.Perm == "" || (e.Perm != httpauth.AnyPrincipal && !p.Can(e.Perm)):
			s.refuse(w, r, http.StatusForbidden, "forbidden.title", "forbidden.body", "")
		default:
			e.Handler.ServeHTTP(w, r)
		}
	})
}

// SignInURL is signIn with the address r asked for as its "return" parameter, for the sign-in to
// come back to. Only a path of this site is passed on (ReturnPath checks it again on the way back).
func SignInURL(signIn string, r *http.Request) string {
	back := r.URL.RequestURI()
	if ReturnPath(back) == "" {
		return signIn
	}
	sep := "?"
	if strings.Contains(signIn, "?") {
		sep = "&"
	}
	return signIn + sep + "return=" + url.QueryEscape(back)
}

// ReturnPath returns p when it is a path of this site (starting with one slash, not "//" or
// "/\", which browsers read as another host), and "" otherwise: a sign-in must never send a
// person on to an address that someone else wrote into the link.
func ReturnPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") ||
		strings.ContainsAny(p, "\r\n\t") {
		return ""
	}
	return p
}

// refuse renders the shell's refusal page.
func (s *Shell) refuse(w http.ResponseWriter, r *http.Request, code int, title, body, signIn string) {
	p := &Page{Tr: s.Tr(r)}
	if s.Frame != nil {
		s.Frame(r, p)
	}
	p.Title = p.T(title)
	p.Data = struct{ Body, SignIn string }{p.T(body), signIn}
	s.Render(w, r, code, s.refusal, p)
}
