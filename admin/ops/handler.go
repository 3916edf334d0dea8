package ops

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/httpauth"
	"github.com/aiskao/aiskao/store"
)

// ErrUnknownRoute is returned by Backend.Replay, wrapped with the route's name, when the dead
// letter's route is not configured any more; the API answers 409 Conflict.
var ErrUnknownRoute = errors.New("route is not configured")

// Backend is what the operations API needs from the engine.
type Backend interface {
	// Store is where the dead letters are kept.
	Store() store.Store
	// Replay publishes the dead letter's message back onto its route and deletes the dead
	// letter. It returns the id of the published message; store.ErrNotFound for an unknown
	// dead letter; an error wrapping ErrUnknownRoute when the route no longer exists.
	Replay(ctx context.Context, deadLetterID string) (messageID string, err error)
	// Ready returns nil when the hub can take messages, else the reason it cannot.
	Ready(ctx context.Context) error
}

// PartsBackend is a Backend that tells apart accepting messages from delivering them, so that
// /readyz says which is down (hub.Supervisor is one).
type PartsBackend interface {
	Backend
	// Readiness returns nil for each part that works, else why it does not. It must not wait
	// on a service.
	Readiness(ctx context.Context) (accepting, delivering error)
}

// Limits of GET /api/v1/dead-letters?limit=N; openapi.yaml states the same numbers.
const (
	defaultListLimit = 100
	maxListLimit     = 1000
)

// readyTimeout bounds a readiness check so that a stuck store makes the probe fail rather than hang.
const readyTimeout = 5 * time.Second

//go:embed openapi.yaml
var openAPI []byte

// endpoint is one request pattern the API serves.
type endpoint struct {
	pattern string // net/http ServeMux pattern: "METHOD /path/{wildcard}"
	handler http.Handler
	// perm is the permission a caller needs; open endpoints (probes, metrics) have none and
	// authenticated ones with no particular permission have anyPrincipal.
	perm identity.Permission
}

// Permissions of endpoints beside identity's.
const (
	open         = httpauth.Open         // anyone who reaches the listener
	anyPrincipal = httpauth.AnyPrincipal // anyone who proves who they are
)

// api holds what the handlers share.
type api struct {
	b       Backend
	log     *slog.Logger
	metrics http.Handler
	guard   httpauth.Guard
}

// endpoints is the one list of what the API serves: Handler registers it and the tests compare it
// with openapi.yaml.
func (a *api) endpoints() []endpoint {
	return []endpoint{
		{"GET /metrics", a.metrics, open},
		{"GET /healthz", http.HandlerFunc(a.healthz), open},
		{"GET /readyz", http.HandlerFunc(a.readyz), open},
		{"GET /api/v1/openapi.yaml", http.HandlerFunc(a.openAPI), anyPrincipal},
		{"GET /api/v1/dead-letters", http.HandlerFunc(a.listDeadLetters), identity.DeadLettersRead},
		{"GET /api/v1/dead-letters/{id}", http.HandlerFunc(a.getDeadLetter), identity.DeadLettersRead},
		{"DELETE /api/v1/dead-letters/{id}", http.HandlerFunc(a.deleteDeadLetter), identity.DeadLettersDelete},
		{"POST /api/v1/dead-letters/{id}/replay", http.HandlerFunc(a.replayDeadLetter), identity.DeadLettersReplay},
		{"GET /api/v1/journal", http.HandlerFunc(a.listJournal), identity.JournalRead},
	}
}

// Handler returns the operations API: metrics gathered from g, health probes, and dead letters
// kept in b's store. Metrics and the probes are open to whoever reaches the listener (they name
// routes and count messages, nothing about people); every endpoint under /api/v1 needs a
// principal that auth proves and whose roles grant the endpoint's permission, and refuses others
// with 401 or 403 (see identity/httpauth). A principal without personal_data.read sees every ЕГН
// and ЛНЧ masked. A nil auth refuses every /api/v1 request. A nil logger discards. Requests with a
// method that a path does not serve get 405 Method Not Allowed with an Allow header, and unknown
// paths 404, both from net/http.
func Handler(b Backend, g prometheus.Gatherer, auth httpauth.Authenticator, logger *slog.Logger) http.Handler {
	return newAPI(b, g, auth, logger).mux()
}

func newAPI(b Backend, g prometheus.Gatherer, auth httpauth.Authenticator, logger *slog.Logger) *api {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if auth == nil {
		auth = httpauth.Any{} // finds no credentials: every request is refused with 401
	}
	if g == nil {
		g = prometheus.NewRegistry()
	}
	return &api{
		b:     b,
		log:   logger,
		guard: httpauth.Guard{Listener: "ops", Auth: auth},
		metrics: promhttp.HandlerFor(g, promhttp.HandlerOpts{
			ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelError),
			// One failing collector must not hide every other metric.
			ErrorHandling: promhttp.ContinueOnError,
			// The hub's exposition is tens of kilobytes, scraped every few seconds from inside
			// the administration's network: gzip would cost more CPU and latency on every scrape
			// than the bytes it saves. A reverse proxy in front can still compress.
			DisableCompression: true,
		}),
	}
}

// mux registers every endpoint behind the guard on a new ServeMux.
func (a *api) mux() *http.ServeMux {
	own := a.endpoints()
	es := make([]httpauth.Endpoint, len(own))
	for i, e := range own {
		es[i] = httpauth.Endpoint{Pattern: e.pattern, Handler: e.handler, Perm: e.perm}
	}
	return a.guard.Mux(es)
}

// seesPersonalData reports whether the request's principal may see ЕГН and ЛНЧ unmasked.
func seesPersonalData(r *http.Request) bool {
	p, ok := identity.FromContext(r.Context())
	return ok && p.Can(identity.PersonalDataRead)
}

// actor names the request's principal for the journal.
func actor(r *http.Request) string {
	p, _ := identity.FromContext(r.Context())
	return p.String()
}

func (a *api) healthz(w http.ResponseWriter, _ *http.Request) {
	writeText(w, http.StatusOK, "ok")
}

// readyz answers 200 while the hub accepts messages and 503 while it does not. With a
// PartsBackend the body's first line sums up, and a line per part follows:
//
//	ok | accepting, not delivering | not ready: not accepting
//	accepting: ok | accepting: down: <why>
//	delivering: ok | delivering: down: <why>
//
// ?part=delivering answers by the delivering part instead (503 while messages wait undelivered).
func (a *api) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	part := r.URL.Query().Get("part")
	if part != "" && part != "accepting" && part != "delivering" {
		writeText(w, http.StatusBadRequest, "part must be accepting or delivering, got "+strconv.Quote(part))
		return
	}
	pb, ok := a.b.(PartsBackend)
	if !ok {
		if err := a.b.Ready(ctx); err != nil {
			writeText(w, http.StatusServiceUnavailable, "not ready: "+err.Error())
			return
		}
		writeText(w, http.StatusOK, "ok")
		return
	}
	accepting, delivering := pb.Readiness(ctx)
	line := func(name string, err error) string {
		if err == nil {
			return name + ": ok"
		}
		return name + ": down: " + err.Error()
	}
	head, status := "ok", http.StatusOK
	switch {
	case accepting != nil:
		head, status = "not ready: not accepting", http.StatusServiceUnavailable
	case delivering != nil:
		head = "accepting, not delivering"
	}
	if part == "delivering" && delivering != nil {
		status = http.StatusServiceUnavailable
	} else if part == "delivering" {
		status = http.StatusOK
	}
	writeText(w, status, head+"\n"+line("accepting", accepting)+"\n"+line("delivering", delivering))
}

func (a *api) openAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(openAPI)
}

// listLimit reads the limit query parameter; ok is false when the answer has been written.
func (a *api) listLimit(w http.ResponseWriter, r *http.Request) (limit int, ok bool) {
	q := r.URL.Query()
	if !q.Has("limit") {
		return defaultListLimit, true
	}
	s := q.Get("limit")
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxListLimit {
		a.writeError(w, r, http.StatusBadRequest,
			fmt.Errorf("query parameter limit must be a whole number from 1 to %d, got %q", maxListLimit, s))
		return 0, false
	}
	return n, true
}

func (a *api) listDeadLetters(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, ok := a.listLimit(w, r)
	if !ok {
		return
	}
	dls, err := a.b.Store().ListDeadLetters(r.Context(), store.Filter{Route: q.Get("route"), Limit: limit})
	if err != nil {
		a.writeError(w, r, http.StatusInternalServerError, fmt.Errorf("listing dead letters: %w", err))
		return
	}
	out := deadLetterList{DeadLetters: make([]deadLetterJSON, 0, len(dls))}
	see := seesPersonalData(r)
	for _, d := range dls {
		if !see {
			d = maskDeadLetter(d)
		}
		out.DeadLetters = append(out.DeadLetters, toJSON(d, false))
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *api) listJournal(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, ok := a.listLimit(w, r)
	if !ok {
		return
	}
	es, err := a.b.Store().ListJournal(r.Context(), store.JournalFilter{
		Kind: q.Get("kind"), Route: q.Get("route"), Dossier: q.Get("dossier"), Limit: limit,
	})
	if err != nil {
		a.writeError(w, r, http.StatusInternalServerError, fmt.Errorf("listing the journal: %w", err))
		return
	}
	out := journalList{Entries: make([]store.JournalEntry, 0, len(es))}
	see := seesPersonalData(r)
	for _, e := range es {
		e.Time = e.Time.UTC()
		if !see {
			e = maskJournalEntry(e)
		}
		out.Entries = append(out.Entries, e)
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *api) getDeadLetter(w http.ResponseWriter, r *http.Request) {
	id := a.deadLetterID(r.Context(), r.PathValue("id"))
	d, err := a.b.Store().GetDeadLetter(r.Context(), id)
	if err != nil {
		a.writeStoreError(w, r, id, "reading", err)
		return
	}
	if !seesPersonalData(r) {
		d = maskDeadLetter(d)
	}
	writeJSON(w, http.StatusOK, toJSON(d, true))
}

func (a *api) deleteDeadLetter(w http.ResponseWriter, r *http.Request) {
	id := a.deadLetterID(r.Context(), r.PathValue("id"))
	d, err := a.b.Store().GetDeadLetter(r.Context(), id)
	if err == nil {
		err = a.b.Store().DeleteDeadLetter(r.Context(), id)
	}
	if err != nil {
		a.writeStoreError(w, r, id, "deleting", err)
		return
	}
	a.log.Info("dead letter deleted", "dead_letter", id, "actor", actor(r))
	if !a.journal(w, r, d, "deadletter.deleted", "", "deleted") {
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *api) replayDeadLetter(w http.ResponseWriter, r *http.Request) {
	id := a.deadLetterID(r.Context(), r.PathValue("id"))
	d, err := a.b.Store().GetDeadLetter(r.Context(), id)
	if err != nil {
		a.writeStoreError(w, r, id, "replaying", err)
		return
	}
	mid, err := a.b.Replay(r.Context(), id)
	if errors.Is(err, ErrUnknownRoute) {
		a.writeError(w, r, http.StatusConflict, fmt.Errorf("dead letter %q cannot be replayed: %w", id, err))
		return
	}
	if err != nil {
		a.writeStoreError(w, r, id, "replaying", err)
		return
	}
	a.log.Info("dead letter replayed", "dead_letter", id, "message", mid, "actor", actor(r))
	if !a.journal(w, r, d, "deadletter.replayed", mid, "replayed") {
		return
	}
	writeJSON(w, http.StatusAccepted, replayResult{ID: id, MessageID: mid, Status: "replayed"})
}

// journal records that the request's principal replayed or deleted d. The act is done when this
// is called; if it cannot be journaled the caller is told so with 500, and the log keeps it.
func (a *api) journal(w http.ResponseWriter, r *http.Request, d store.DeadLetter, kind, newMessage, result string) bool {
	e := store.JournalEntry{Kind: kind, Route: d.Route, MessageID: d.MessageID, Actor: actor(r),
		Subject: "dead letter " + d.ID, Dossier: d.Metadata[envelope.Subject], Result: result}
	if newMessage != "" {
		e.Detail = map[string]string{"replayed_as": newMessage}
	}
	// Not the request's context: a client that hangs up must not leave the act unrecorded.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Second)
	defer cancel()
	if _, err := a.b.Store().AppendJournal(ctx, e); err != nil {
		a.writeError(w, r, http.StatusInternalServerError, fmt.Errorf("dead letter %q was %s but the journal did not record it: %w", d.ID, result, err))
		return false
	}
	return true
}

// writeStoreError answers 404 for store.ErrNotFound and 500 for anything else.
func (a *api) writeStoreError(w http.ResponseWriter, r *http.Request, id, doing string, err error) {
	if errors.Is(err, store.ErrNotFound) {
		a.writeError(w, r, http.StatusNotFound, fmt.Errorf("dead letter %q not found", id))
		return
	}
	a.writeError(w, r, http.StatusInternalServerError, fmt.Errorf("%s dead letter %q: %w", doing, id, err))
}

// writeError answers {"error": "..."}; server-side failures are logged too, since the client may
// not be the person who has to fix them.
func (a *api) writeError(w http.ResponseWriter, r *http.Request, status int, err error) {
	if status >= http.StatusInternalServerError {
		a.log.Error("operations API request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	writeJSON(w, status, errorJSON{Error: err.Error()})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	// Payloads are mostly XML: keep <, > and & readable instead of \u003c.
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the status is sent; a failed write means the client went away
}

func writeText(w http.ResponseWriter, status int, s string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = fmt.Fprintln(w, s)
}
