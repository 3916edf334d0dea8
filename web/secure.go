package web

import (
	"net/http"
	"net/url"
	"strings"
)

// CSP is the Content-Security-Policy of every answer: nothing inline, nothing from elsewhere,
// never framed. Styles and any script come from the shell's own files.
const CSP = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; font-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// CSPFormAction is CSP with form-action allowing, besides this site, the origins of targets:
// the policy of a page whose form posts to another site (the eAuth login page, whose form goes
// to the identity provider). Only that page's answer sets it.
func CSPFormAction(targets ...string) string {
	extra := ""
	for _, t := range targets {
		if u, err := url.Parse(t); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
			extra += " " + u.Scheme + "://" + u.Host
		}
	}
	return strings.Replace(CSP, "form-action 'self'", "form-action 'self'"+extra, 1)
}

// Secure wraps h with the security headers and the refusal of cross-origin state-changing
// requests (CSRF) by net/http.CrossOriginProtection. HSTS is sent only over TLS: on plain HTTP a
// browser ignores it, and a proxy in front that ends TLS sends its own.
//
// crossSite names the patterns (as net/http.ServeMux writes them, "POST /saml/acs") that another
// site may post to: an identity provider's response comes back so. Each must check by other
// means that the post is one it asked for.
func Secure(h http.Handler, crossSite ...string) http.Handler {
	cop := http.NewCrossOriginProtection()
	for _, p := range crossSite {
		cop.AddInsecureBypassPattern(p)
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "403 Forbidden: cross-origin request refused / заявка от друг произход е отказана", http.StatusForbidden)
	}))
	inner := cop.Handler(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", CSP)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		if r.TLS != nil {
			hd.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		inner.ServeHTTP(w, r)
	})
}
