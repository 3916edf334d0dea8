package web

import "net/http"

// CSP is the Content-Security-Policy of every answer: nothing inline, nothing from elsewhere,
// never framed. Styles and any script come from the shell's own files.
const CSP = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; font-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Secure wraps h with the security headers and the refusal of cross-origin state-changing
// requests (CSRF) by net/http.CrossOriginProtection. HSTS is sent only over TLS: on plain HTTP a
// browser ignores it, and a proxy in front that ends TLS sends its own.
func Secure(h http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
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
