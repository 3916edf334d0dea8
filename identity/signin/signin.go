// Package signin is the HTTP exchange of a member of staff signing in with a local account:
// the name and password, then the code of the second factor, then a new password when an
// administrator reset it; and signing out, here or everywhere. It answers JSON to a client that
// asks for it (Accept: application/json) and otherwise redirects to the page of the next step,
// which the web shell renders; it renders no page itself.
//
// The routes, under the prefix the application mounts the Handler at:
//
//	POST /signin              name, password       → next: totp, password or done
//	POST /signin/totp         code                 → next: password or done
//	POST /signin/password     password             → next: done
//	POST /signout                                  ends this session
//	POST /signout/everywhere                       ends every session of the person
//
// GET of the three sign-in paths answers the plainest form of the step, until the web shell's
// pages take their place. Fields come as a form or as a JSON object. Cross-origin requests are the web shell's to refuse
// (net/http.CrossOriginProtection) before they reach this handler.
package signin

import (
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/account"
	"github.com/aiskao/aiskao/identity/session"
	"github.com/aiskao/aiskao/store"
)

// Pages are where a browser is sent after each step, for the web shell to render. Zero fields
// take their defaults.
type Pages struct {
	Done      string // signed in; default "/"
	TOTP      string // ask for the code; default "/signin/totp"
	Password  string // ask for a new password; default "/signin/password"
	SignIn    string // the sign-in page, given ?error=CODE after a failure; default "/signin"
	SignedOut string // after signing out; default "/signin"
	// SignedOutEverywhere is where signing out everywhere leads; default SignedOut.
	SignedOutEverywhere string
}

// Handler serves the sign-in routes. Make it with New.
type Handler struct {
	accounts *account.Service
	sessions *session.Manager
	journal  store.Journal
	pages    Pages
	mux      *http.ServeMux
	onFail   func(w http.ResponseWriter, r *http.Request, f Failure)
}

// Failure is a refused or failed step, as a page that renders it sees it.
type Failure struct {
	// Path is the route of the step that failed ("/signin", "/signin/totp", ...).
	Path string
	// Status is the HTTP status of the answer: 400, 401, 429, 500 or 503.
	Status int
	// Code names what failed: refused, locked, expired, weak_password, bad_request, unavailable.
	Code string
}

// RenderFailures makes h answer a browser's failed step with render, which draws the step's
// page again with the error beside its field (and the values given, which a redirect would
// lose), instead of redirecting to Pages.SignIn. JSON clients are answered as before.
func (h *Handler) RenderFailures(render func(w http.ResponseWriter, r *http.Request, f Failure)) *Handler {
	h.onFail = render
	return h
}

// New returns the sign-in handler over accounts and sessions, journaling sign-outs to j.
func New(accounts *account.Service, sessions *session.Manager, j store.Journal, pages Pages) *Handler {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&pages.Done, "/")
	def(&pages.TOTP, "/signin/totp")
	def(&pages.Password, "/signin/password")
	def(&pages.SignIn, "/signin")
	def(&pages.SignedOut, "/signin")
	def(&pages.SignedOutEverywhere, pages.SignedOut)
	h := &Handler{accounts: accounts, sessions: sessions, journal: j, pages: pages, mux: http.NewServeMux()}
	h.mux.HandleFunc("POST /signin", h.password)
	h.mux.HandleFunc("POST /signin/totp", h.totp)
	h.mux.HandleFunc("POST /signin/password", h.newPassword)
	h.mux.HandleFunc("POST /signout", h.signOut)
	h.mux.HandleFunc("POST /signout/everywhere", h.signOutEverywhere)
	for path := range steps {
		h.mux.HandleFunc("GET "+path, h.page)
	}
	return h
}

// ServeHTTP serves the sign-in routes.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	h.mux.ServeHTTP(w, r)
}

// fields are what the steps take.
type fields struct {
	Name     string `json:"name"`
	Password string `json:"password"`
	Code     string `json:"code"`
}

// read returns the request's fields, from a JSON object or a form.
func read(r *http.Request) (fields, error) {
	r.Body = http.MaxBytesReader(nil, r.Body, 16<<10)
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/json" {
		var f fields
		err := json.NewDecoder(r.Body).Decode(&f)
		return f, err
	}
	if err := r.ParseForm(); err != nil {
		return fields{}, err
	}
	return fields{Name: r.PostForm.Get("name"), Password: r.PostForm.Get("password"), Code: r.PostForm.Get("code")}, nil
}

func (h *Handler) password(w http.ResponseWriter, r *http.Request) {
	f, err := read(r)
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, "bad_request", "the request could not be read")
		return
	}
	next, err := h.accounts.CheckPassword(r.Context(), strings.TrimSpace(f.Name), f.Password, h.sessions.Addr(r))
	if err != nil {
		h.refused(w, r, err)
		return
	}
	h.advance(w, r, strings.TrimSpace(f.Name), next)
}

func (h *Handler) totp(w http.ResponseWriter, r *http.Request) {
	rec, ok := h.pending(w, r, session.NeedsTOTP)
	if !ok {
		return
	}
	f, err := read(r)
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, "bad_request", "the request could not be read")
		return
	}
	next, err := h.accounts.CheckTOTP(r.Context(), rec.Person, strings.TrimSpace(f.Code), h.sessions.Addr(r))
	if err != nil {
		h.refused(w, r, err)
		return
	}
	h.advance(w, r, rec.Person, next)
}

func (h *Handler) newPassword(w http.ResponseWriter, r *http.Request) {
	rec, ok := h.pending(w, r, session.NeedsPassword)
	if !ok {
		return
	}
	f, err := read(r)
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, "bad_request", "the request could not be read")
		return
	}
	err = h.accounts.SetPassword(r.Context(), rec.Person, f.Password, h.sessions.Addr(r))
	if errors.Is(err, account.ErrWeakPassword) {
		h.fail(w, r, http.StatusBadRequest, "weak_password", err.Error())
		return
	}
	if err != nil {
		h.fail(w, r, http.StatusInternalServerError, "unavailable", "the password could not be kept; try again later")
		return
	}
	h.advance(w, r, rec.Person, account.Done)
}

// pending returns the request's session if it is at stage, and otherwise answers 401.
func (h *Handler) pending(w http.ResponseWriter, r *http.Request, stage session.Stage) (session.Record, bool) {
	rec, err := h.sessions.Load(r.Context(), r)
	if err != nil && !errors.Is(err, session.ErrNotFound) {
		h.fail(w, r, http.StatusServiceUnavailable, "unavailable", "sign-in is not available; try again later")
		return rec, false
	}
	if err != nil || rec.Stage != stage {
		h.fail(w, r, http.StatusUnauthorized, "expired", "sign in again")
		return rec, false
	}
	return rec, true
}

// advance starts the session of the next step (a new id each time) and tells the client.
func (h *Handler) advance(w http.ResponseWriter, r *http.Request, person string, next account.Next) {
	stage, page := session.SignedIn, h.pages.Done
	switch next {
	case account.NeedTOTP:
		stage, page = session.NeedsTOTP, h.pages.TOTP
	case account.ChangePassword:
		stage, page = session.NeedsPassword, h.pages.Password
	}
	if err := h.sessions.Start(r.Context(), w, r, person, stage); err != nil {
		h.fail(w, r, http.StatusServiceUnavailable, "unavailable", "sign-in is not available; try again later")
		return
	}
	h.answer(w, r, http.StatusOK, map[string]string{"next": string(next), "redirect": page}, page)
}

// refused answers a failed step: the same words whatever failed, so that they say nothing of
// whether the account exists.
func (h *Handler) refused(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, account.ErrRefused):
		h.fail(w, r, http.StatusUnauthorized, "refused", err.Error())
	case errors.Is(err, account.ErrLocked), errors.Is(err, account.ErrThrottled):
		w.Header().Set("Retry-After", "900")
		h.fail(w, r, http.StatusTooManyRequests, "locked", err.Error())
	default:
		h.fail(w, r, http.StatusServiceUnavailable, "unavailable", "sign-in is not available; try again later")
	}
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	if h.onFail != nil && !wantsJSON(r) {
		h.onFail(w, r, Failure{Path: r.URL.Path, Status: status, Code: code})
		return
	}
	h.answer(w, r, status, map[string]string{"error": msg, "code": code}, h.pages.SignIn+"?error="+code)
}

// answer writes v as JSON to a client that asks for it, and otherwise redirects to page.
func (h *Handler) answer(w http.ResponseWriter, r *http.Request, status int, v any, page string) {
	if !wantsJSON(r) {
		http.Redirect(w, r, page, http.StatusSeeOther)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

func (h *Handler) signOut(w http.ResponseWriter, r *http.Request) {
	person, err := h.sessions.End(r.Context(), w, r)
	if err != nil {
		h.fail(w, r, http.StatusServiceUnavailable, "unavailable", "sign-out failed; try again")
		return
	}
	if person != "" && !h.record(w, r, "signout", person, "") {
		return
	}
	h.answer(w, r, http.StatusOK, map[string]string{"next": "signed_out", "redirect": h.pages.SignedOut}, h.pages.SignedOut)
}

func (h *Handler) signOutEverywhere(w http.ResponseWriter, r *http.Request) {
	rec, err := h.sessions.Load(r.Context(), r)
	if err != nil || rec.Stage != session.SignedIn {
		h.fail(w, r, http.StatusUnauthorized, "expired", "sign in again")
		return
	}
	n, err := h.sessions.EndAll(r.Context(), rec.Person)
	if err != nil {
		h.fail(w, r, http.StatusServiceUnavailable, "unavailable", "sign-out failed; try again")
		return
	}
	_, _ = h.sessions.End(r.Context(), w, r) // only deletes the cookie now
	if !h.record(w, r, "signout.everywhere", rec.Person, strconv.FormatInt(n, 10)) {
		return
	}
	h.answer(w, r, http.StatusOK, map[string]string{"next": "signed_out", "redirect": h.pages.SignedOutEverywhere}, h.pages.SignedOutEverywhere)
}

// record journals a sign-out of person; if it cannot, the client is told with 500.
func (h *Handler) record(w http.ResponseWriter, r *http.Request, kind, person, sessions string) bool {
	if h.journal == nil {
		return true
	}
	detail := map[string]string{"addr": h.sessions.Addr(r)}
	if sessions != "" {
		detail["sessions"] = sessions
	}
	e := store.JournalEntry{Kind: kind, Actor: identity.Principal{Name: person, Kind: identity.KindPerson}.String(),
		Subject: "account " + person, Result: "ok", Detail: detail}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Second)
	defer cancel()
	if _, err := h.journal.AppendJournal(ctx, e); err != nil {
		h.fail(w, r, http.StatusInternalServerError, "unavailable", "signed out, but the journal did not record it")
		return false
	}
	return true
}
