package eauth

import (
	"net/http"
	"strings"
)

// Handlers are the two ends of the sign-in at the service provider: Login sends the person to the
// identity provider, ACS takes the response back. Pages around them are the web shell's.
type Handlers struct {
	SP *SP
	// Done is called with the verified person; it starts the session and answers the request.
	Done func(w http.ResponseWriter, r *http.Request, p *Person)
	// Fail is called with a refusal (an *Error); nil writes the refusal's text in Bulgarian and
	// English with status 403 (500 for an internal failure).
	Fail func(w http.ResponseWriter, r *http.Request, err error)
}

// Login answers any GET or POST with the page that posts a new signed AuthnRequest to the identity
// provider.
func (h *Handlers) Login(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	req, err := h.SP.NewRequest(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	page, err := req.Form().Render()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	noStore(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(page)
}

// ACS takes the identity provider's response (HTTP-POST binding), verifies it and calls Done.
func (h *Handlers) ACS(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	// The form holds the response base64-encoded, a third larger than the response itself.
	r.Body = http.MaxBytesReader(w, r.Body, int64(h.SP.cfg.MaxResponseBytes)*4/3+4096)
	if err := r.ParseForm(); err != nil {
		h.fail(w, r, refuse(CodeTooLarge, "form: %v", err))
		return
	}
	p, err := h.SP.Verify(r.Context(), r.PostForm.Get("SAMLResponse"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.Done(w, r, p)
}

func (h *Handlers) fail(w http.ResponseWriter, r *http.Request, err error) {
	if h.Fail != nil {
		h.Fail(w, r, err)
		return
	}
	code := CodeOf(err)
	status := http.StatusForbidden
	if code == CodeInternal {
		status = http.StatusInternalServerError
	}
	noStore(w)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(code.Message("bg") + "\n" + code.Message("en") + "\n"))
}

// noStore keeps pages that carry SAML messages out of caches.
func noStore(w http.ResponseWriter) { w.Header().Set("Cache-Control", "no-store") }

// Lang picks "en" or "bg" from an Accept-Language header, Bulgarian unless English comes first.
func Lang(acceptLanguage string) string {
	for _, part := range strings.Split(acceptLanguage, ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		switch {
		case strings.HasPrefix(tag, "en"):
			return "en"
		case strings.HasPrefix(tag, "bg"):
			return "bg"
		}
	}
	return "bg"
}
