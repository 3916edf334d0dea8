// Package api is the dossier core's JSON API under /api/v1/: the service catalogue,
// applications, dossiers with their tasks, documents, irregularities, payments and results, the
// task lists of the deadline dashboard, and feedback. openapi.yaml describes it and is served at
// /api/v1/openapi.yaml.
//
// Callers are machines that prove who they are with the hub's machine credentials (API tokens,
// client certificates, OAuth2 bearer tokens: identity/httpauth); every endpoint names the
// permission it needs (identity.ApplicationsSubmit, FeedbackSubmit, DossiersRead, DossiersWrite).
// The service catalogue is public information, as the register of administrative services is,
// so it is open to anonymous callers, and so is the API's description; everything else answers
// 401 without credentials and 403 without the permission.
//
// Refusals are RFC 9457 problem details (application/problem+json) with a stable code and, for
// bad input, every wrong field as a JSON pointer into the request body with its problem in
// Bulgarian and English: the domain's Invalid refusals answer 422, Conflict 409, NotFound 404;
// a body that is not JSON, or holds unknown fields, answers 400 naming the byte offset or the
// field. Details are in the language Accept-Language prefers, Bulgarian by default.
//
// Personal data (the applicant's identifier, name and contact, the feedback's author) is shown
// only to a principal with identity.PersonalDataRead, and each such read is journaled with who
// looked; others see ЕГН and ЛНЧ masked (internal/mask), names as initials and no addresses.
//
// A listener mounts it so:
//
//	h, err := api.New(api.Options{Core: c, Services: cat, Store: s, Journal: hubStore,
//		Auth: httpauth.Any{httpauth.Token{Auth: apitoken.Authenticator{Store: tokens}}, certs}})
//	mux.Handle("/api/v1/", h)
package api

import (
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/aiskao/aiskao/dossier"
	"github.com/aiskao/aiskao/dossier/calendar"
	"github.com/aiskao/aiskao/dossier/core"
	"github.com/aiskao/aiskao/dossier/service"
	dstore "github.com/aiskao/aiskao/dossier/store"
	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/httpauth"
	"github.com/aiskao/aiskao/store"
)

//go:embed openapi.yaml
var openAPI []byte

// OpenAPI returns the API's OpenAPI 3.1 description.
func OpenAPI() []byte { return append([]byte(nil), openAPI...) }

// DefaultMaxBody bounds a request body: documents are described, not carried, so a body is a
// few kilobytes.
const DefaultMaxBody = 1 << 20

// Options configure the API; Core, Services and Store are required.
type Options struct {
	Core     *core.Core
	Services *service.Catalog
	// Store is the dossier store Core runs on; feedback is kept in it as streams of its own kind.
	Store dstore.Store
	// Auth proves who calls; nil refuses every endpoint but the open ones with 401.
	Auth httpauth.Authenticator
	// Listener names the listener in aiskao_auth_refused_total (default "dossier-api").
	Listener string
	// Journal, when not nil, records every read of personal data with who looked.
	Journal store.Journal
	// Log receives server-side failures (default: discarded). Never personal data.
	Log *slog.Logger
	// Now tells the time (default time.Now): an application's receipt when it gives none.
	Now func() time.Time
	// MaxBody bounds a request body in bytes (default DefaultMaxBody).
	MaxBody int64
	// FeedbackIndex is the register index of feedback's registration numbers (default "СПЖ").
	FeedbackIndex string
	// Calendar counts feedback's answer deadlines (default calendar.Default()).
	Calendar *calendar.Calendar
	// Numbering formats feedback's registration numbers (default dossier.DefaultNumbering).
	Numbering string
}

// api holds what the handlers share.
type api struct {
	opt       Options
	guard     httpauth.Guard
	cal       *calendar.Calendar
	numbering dossier.Numbering
}

// endpoint is one request pattern the API serves.
type endpoint struct {
	pattern string // net/http ServeMux pattern: "METHOD /path/{wildcard}"
	handler http.HandlerFunc
	// perm is the permission a caller needs: open for the public ones, anyPrincipal for any
	// caller who proves who they are.
	perm identity.Permission
}

// Permissions of endpoints beside identity's.
const (
	open         = httpauth.Open         // anyone who reaches the listener
	anyPrincipal = httpauth.AnyPrincipal // anyone who proves who they are
)

// endpoints is the one list of what the API serves: New registers it and the tests compare it
// with openapi.yaml and run every role against it.
func (a *api) endpoints() []endpoint {
	const d = "/api/v1/dossiers/{number}"
	return []endpoint{
		{"GET /api/v1/openapi.yaml", a.openAPI, open},
		{"GET /api/v1/services", a.listServices, open},
		{"GET /api/v1/services/{id}", a.getService, open},
		{"POST /api/v1/applications", a.submit, identity.ApplicationsSubmit},
		{"GET /api/v1/tasks", a.tasks, identity.DossiersRead},
		{"GET " + d, a.getDossier, identity.DossiersRead},
		{"GET " + d + "/history", a.history, identity.DossiersRead},
		{"POST " + d + "/public", a.public, identity.DossiersRead},
		{"POST " + d + "/tasks/{task}/complete", a.completeTask, identity.DossiersWrite},
		{"POST " + d + "/tasks/{task}/assign", a.assignTask, identity.DossiersWrite},
		{"POST " + d + "/documents", a.fileDocument, identity.DossiersWrite},
		{"POST " + d + "/stages/{stage}/start", a.startStage, identity.DossiersWrite},
		{"POST " + d + "/items/{item}", a.completeItem, identity.DossiersWrite},
		{"POST " + d + "/items/{item}/request", a.requestItem, identity.DossiersWrite},
		{"POST " + d + "/suspension", a.suspend, identity.DossiersWrite},
		{"POST " + d + "/suspension/end", a.resume, identity.DossiersWrite},
		{"POST " + d + "/irregularities", a.notifyIrregularity, identity.DossiersWrite},
		{"POST " + d + "/irregularities/{id}/answer", a.answerIrregularity, identity.DossiersWrite},
		{"POST " + d + "/payments", a.markFeePaid, identity.DossiersWrite},
		{"POST " + d + "/result", a.issueResult, identity.DossiersWrite},
		{"POST " + d + "/result/delivery", a.deliverResult, identity.DossiersWrite},
		{"POST " + d + "/close", a.close, identity.DossiersWrite},
		{"POST /api/v1/feedback", a.submitFeedback, identity.FeedbackSubmit},
		{"GET /api/v1/feedback/{number}", a.getFeedback, identity.DossiersRead},
		{"POST /api/v1/feedback/{number}/answer", a.answerFeedback, identity.DossiersWrite},
	}
}

// New returns the API's handler. It serves only paths under /api/v1/; other paths answer 404
// and methods a path does not serve 405, from net/http.
func New(opt Options) (http.Handler, error) {
	a, err := newAPI(opt)
	if err != nil {
		return nil, err
	}
	return a.mux(), nil
}

func newAPI(opt Options) (*api, error) {
	if opt.Core == nil || opt.Services == nil || opt.Store == nil {
		return nil, errors.New("dossier api: the core, its service catalogue and its store are required")
	}
	if opt.Auth == nil {
		opt.Auth = httpauth.Any{} // finds no credentials: every protected request is refused with 401
	}
	if opt.Listener == "" {
		opt.Listener = "dossier-api"
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.MaxBody <= 0 {
		opt.MaxBody = DefaultMaxBody
	}
	if opt.FeedbackIndex == "" {
		opt.FeedbackIndex = "СПЖ"
	}
	if opt.Calendar == nil {
		cal, err := calendar.Default()
		if err != nil {
			return nil, fmt.Errorf("dossier api: calendar: %w", err)
		}
		opt.Calendar = cal
	}
	if opt.Numbering == "" {
		opt.Numbering = dossier.DefaultNumbering
	}
	n, err := dossier.ParseNumbering(opt.Numbering)
	if err != nil {
		return nil, fmt.Errorf("dossier api: %w", err)
	}
	return &api{opt: opt, guard: httpauth.Guard{Listener: opt.Listener, Auth: opt.Auth}, cal: opt.Calendar, numbering: n}, nil
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

func (a *api) openAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(openAPI)
}
