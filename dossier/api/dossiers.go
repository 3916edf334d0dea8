package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aiskao/aiskao/dossier"
	"github.com/aiskao/aiskao/dossier/calendar"
	"github.com/aiskao/aiskao/dossier/core"
	"github.com/aiskao/aiskao/dossier/service"
	dstore "github.com/aiskao/aiskao/dossier/store"
	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/internal/mask"
	"github.com/aiskao/aiskao/store"
)

// keyRequest indexes a dossier registered with an Idempotency-Key by the key and the hash of
// the request's body, so that a replay with another body is told apart from a retry.
const keyRequest = "api-request"

// maxIdempotencyKey bounds an Idempotency-Key header.
const maxIdempotencyKey = 255

// principal is the request's principal; protect put it in the context.
func principal(r *http.Request) identity.Principal {
	p, _ := identity.FromContext(r.Context())
	return p
}

// actor is who acts on a dossier for the request: the machine that called, by the principal's
// name as the journal records it.
func actor(r *http.Request) dossier.Actor {
	return dossier.Actor{Kind: dossier.System, ID: principal(r).String()}
}

// dossierPath is the path of dossier number, its "/" escaped.
func dossierPath(number string) string { return "/api/v1/dossiers/" + url.PathEscape(number) }

// registered is the answer to a submitted application.
type registered struct {
	Number   string `json:"number"`
	Location string `json:"location"`
	// AccessCode lets the applicant follow the dossier online; given once, absent on a replay.
	AccessCode string         `json:"access_code,omitempty"`
	Status     dossier.Status `json:"status"`
	Deadline   calendar.Date  `json:"deadline"`
}

// submit registers an application as a dossier. With an Idempotency-Key, a retry of the same
// request answers the dossier the first one opened (200, without the access code, which only
// the first answer carries), and the same key with another body is refused (422).
func (a *api) submit(w http.ResponseWriter, r *http.Request) {
	body, ok := a.body(w, r, false)
	if !ok {
		return
	}
	var app dossier.Application
	if f := decodeBody(body, &app); f != nil {
		a.malformed(w, r, *f)
		return
	}
	if app.ReceivedAt.IsZero() {
		app.ReceivedAt = a.opt.Now()
	}
	inbox, reqKey, ok := idempotency(w, r, "application", body)
	if !ok {
		return
	}
	cause := core.Cause{Inbox: inbox}
	in := core.Input{Application: app, By: actor(r)}
	if inbox != "" {
		in.Keys = []dstore.Key{{Kind: keyRequest, Value: reqKey}}
	}
	reg, err := a.opt.Core.Register(r.Context(), in, cause)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if reg.Again {
		if n, err := a.opt.Core.Find(r.Context(), keyRequest, reqKey); errors.Is(err, dstore.ErrNotFound) || (err == nil && n != reg.Number) {
			keyReused(w, r)
			return
		} else if err != nil {
			a.writeError(w, r, err)
			return
		}
	}
	d, err := a.opt.Core.Get(r.Context(), reg.Number)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	loc := dossierPath(reg.Number)
	w.Header().Set("Location", loc)
	out := registered{Number: reg.Number, Location: loc, AccessCode: reg.AccessCode, Status: d.Status, Deadline: d.Deadline}
	if reg.Again {
		w.Header().Set("Idempotent-Replayed", "true")
		writeJSON(w, http.StatusOK, out)
		return
	}
	writeJSON(w, http.StatusCreated, out)
}

// idempotency reads the Idempotency-Key header of a submission of kind: the inbox id the
// submission is recorded under, so that a retry registers nothing again, and the key that ties
// it to its body, so that the key reused with another body is told apart. Keys are the caller's
// own: scoped by principal, so that two callers' keys never meet. Without the header both are
// empty; a malformed header is answered 400 and ok is false.
func idempotency(w http.ResponseWriter, r *http.Request, kind string, body []byte) (inbox, reqKey string, ok bool) {
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		return "", "", true
	}
	if len(key) > maxIdempotencyKey || strings.ContainsFunc(key, func(c rune) bool { return c < 0x20 || c > 0x7e }) {
		writeProblem(w, r, http.StatusBadRequest, codeMalformed, service.Text{BG: "Невалиден Idempotency-Key.", EN: "Invalid Idempotency-Key."},
			[]ProblemField{field("Idempotency-Key", "invalid_value", fmt.Sprintf("До %d видими ASCII знака.", maxIdempotencyKey), fmt.Sprintf("At most %d visible ASCII characters.", maxIdempotencyKey))})
		return "", "", false
	}
	scoped := sha256.Sum256([]byte(principal(r).String() + "\x00" + kind + "\x00" + key))
	inbox = "api:" + hex.EncodeToString(scoped[:16])
	sum := sha256.Sum256(body)
	return inbox, inbox + ":" + hex.EncodeToString(sum[:16]), true
}

// keyReused answers 422 for an Idempotency-Key used before with another body.
func keyReused(w http.ResponseWriter, r *http.Request) {
	writeProblem(w, r, http.StatusUnprocessableEntity, codeKeyReused, service.Text{
		BG: "Този Idempotency-Key вече е използван за друга заявка.", EN: "This Idempotency-Key was used for another request."},
		[]ProblemField{field("Idempotency-Key", codeKeyReused, "Ключът е използван с друго тяло.", "The key was used with another body.")})
}

// getDossier answers a dossier; a reader with personal_data.read sees personal data, and the
// read is journaled.
func (a *api) getDossier(w http.ResponseWriter, r *http.Request) {
	number := r.PathValue("number")
	d, err := a.opt.Core.Get(r.Context(), number)
	if err != nil {
		a.dossierError(w, r, number, err)
		return
	}
	personal := principal(r).Can(identity.PersonalDataRead)
	if personal && !a.journalRead(w, r, number) {
		return
	}
	writeJSON(w, http.StatusOK, viewOf(d, personal))
}

// dossierError answers err of a read of or a command on dossier number. Feedback is kept in the
// same store, and the core cannot read its events as a dossier's: a stream that is not a
// dossier is no dossier (404), not a failure.
func (a *api) dossierError(w http.ResponseWriter, r *http.Request, number string, err error) {
	var derr *dossier.Error
	if !errors.As(err, &derr) && !errors.Is(err, dstore.ErrNotFound) {
		if s, serr := a.opt.Store.Summary(r.Context(), number); serr == nil && s.Kind != dstore.KindDossier {
			err = fmt.Errorf("dossier api: %s is a %s: %w", number, s.Kind, dstore.ErrNotFound)
		}
	}
	a.writeError(w, r, err)
}

// journalRead records that the request's principal read the personal data of stream. When the
// journal cannot record it, the data is not shown: it answers 503 and returns false.
func (a *api) journalRead(w http.ResponseWriter, r *http.Request, stream string) bool {
	if err := a.journal(r, stream); err != nil {
		w.Header().Set("Retry-After", "1")
		writeProblem(w, r, http.StatusServiceUnavailable, codeUnavailable, service.Text{
			BG: "Четенето не може да бъде записано в журнала; опитайте отново.", EN: "The read cannot be journaled; try again."}, nil)
		return false
	}
	return true
}

// journal records that the request's principal read the personal data of stream.
func (a *api) journal(r *http.Request, stream string) error {
	if a.opt.Journal == nil {
		return nil
	}
	_, err := a.opt.Journal.AppendJournal(r.Context(), store.JournalEntry{
		Kind: "dossier.personal_data_read", Dossier: stream, Actor: principal(r).String(),
		Subject: r.Pattern, Result: "ok",
	})
	if err != nil {
		a.opt.Log.Error("dossier API: journaling a read of personal data failed", "dossier", stream, "error", err)
	}
	return err
}

// historyEntry is one event of a dossier as its history shows it: no personal data.
type historyEntry struct {
	Seq         int           `json:"seq"`
	Type        string        `json:"type"`
	At          time.Time     `json:"at"`
	By          dossier.Actor `json:"by"`
	Description service.Text  `json:"description"`
}

// history answers a dossier's events, each described for people.
func (a *api) history(w http.ResponseWriter, r *http.Request) {
	number := r.PathValue("number")
	evs, err := a.opt.Core.History(r.Context(), number)
	if err != nil {
		a.dossierError(w, r, number, err)
		return
	}
	out := make([]historyEntry, len(evs))
	for i, e := range evs {
		desc := dossier.Describe(e)
		// Descriptions name ids, not people; a reference someone typed may still hold an ЕГН.
		desc.BG, desc.EN = mask.PersonalNumbers(desc.BG), mask.PersonalNumbers(desc.EN)
		out[i] = historyEntry{Seq: e.Seq, Type: e.Type, At: e.At, By: e.By, Description: desc}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
}

// taskItem is a dossier in a task list: its summary, which holds no personal data.
type taskItem struct {
	Number         string          `json:"number"`
	Service        string          `json:"service"`
	ServiceVersion string          `json:"service_version"`
	State          string          `json:"state"`
	Active         bool            `json:"active"`
	Unit           string          `json:"unit"`
	Assignee       string          `json:"assignee,omitempty"`
	Deadline       *calendar.Date  `json:"deadline,omitempty"`
	StageDeadline  *calendar.Date  `json:"stage_deadline,omitempty"`
	OpenedAt       time.Time       `json:"opened_at"`
	UpdatedAt      time.Time       `json:"updated_at"`
	Details        json.RawMessage `json:"details,omitempty"`
}

// tasks answers a page of the task lists: dossiers by unit, assignee, service and state, by
// deadline. Without state, only active dossiers are listed.
func (a *api) tasks(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	bad := func(name, bg, en string) {
		writeProblem(w, r, http.StatusBadRequest, codeBadQuery, service.Text{BG: "Невалиден параметър на заявката.", EN: "Invalid query parameter."},
			[]ProblemField{field(name, "invalid_value", bg, en)})
	}
	for name := range q {
		switch name {
		case "unit", "assignee", "service", "state", "due_before", "cursor", "limit":
		default:
			bad(name, "Непознат параметър.", "Unknown parameter.")
			return
		}
	}
	query := dstore.Query{Unit: q.Get("unit"), Assignee: q.Get("assignee"), Service: q.Get("service"), After: q.Get("cursor")}
	for _, s := range q["state"] {
		for _, st := range strings.Split(s, ",") {
			if st = strings.TrimSpace(st); st != "" {
				query.States = append(query.States, st)
			}
		}
	}
	query.Active = len(query.States) == 0
	if s := q.Get("due_before"); s != "" {
		d, err := calendar.ParseDate(s)
		if err != nil {
			bad("due_before", "Датата трябва да е във вида ГГГГ-ММ-ДД.", "The date must be written YYYY-MM-DD.")
			return
		}
		query.DeadlineBefore = d
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > dstore.MaxLimit {
			bad("limit", fmt.Sprintf("Число от 1 до %d.", dstore.MaxLimit), fmt.Sprintf("A number from 1 to %d.", dstore.MaxLimit))
			return
		}
		query.Limit = n
	}
	page, err := a.opt.Core.Tasks(r.Context(), query)
	if errors.Is(err, dstore.ErrInvalid) {
		bad("cursor", "Невалиден курсор.", "Invalid cursor.")
		return
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	items := make([]taskItem, len(page.Items))
	for i, s := range page.Items {
		items[i] = taskItem{Number: s.Stream, Service: s.Service, ServiceVersion: s.ServiceVersion, State: s.State, Active: s.Active,
			Unit: s.Unit, Assignee: s.Assignee, OpenedAt: s.OpenedAt, UpdatedAt: s.UpdatedAt, Details: s.Data}
		if !s.Deadline.IsZero() {
			d := s.Deadline
			items[i].Deadline = &d
		}
		if !s.StageDeadline.IsZero() {
			d := s.StageDeadline
			items[i].StageDeadline = &d
		}
	}
	out := map[string]any{"items": items}
	if page.Next != "" {
		q.Set("cursor", page.Next)
		out["next"] = "/api/v1/tasks?" + q.Encode()
		w.Header().Set("Link", `<`+out["next"].(string)+`>; rel="next"`)
	}
	writeJSON(w, http.StatusOK, out)
}

// publicRequest proves the applicant: the access code given when the dossier was opened.
type publicRequest struct {
	AccessCode string `json:"access_code"`
}

// public answers what the applicant sees of a dossier (its progress and official section), for
// a caller relaying an applicant who gives the dossier's access code, such as the portal. A
// wrong code answers as an unknown dossier does, so that a number alone reveals nothing.
func (a *api) public(w http.ResponseWriter, r *http.Request) {
	var req publicRequest
	if !a.decode(w, r, &req, false) {
		return
	}
	number := r.PathValue("number")
	d, err := a.opt.Core.Get(r.Context(), number)
	if err == nil && !d.CheckAccessCode(req.AccessCode) {
		err = fmt.Errorf("dossier api: %s: wrong access code: %w", number, dstore.ErrNotFound)
	}
	if err != nil {
		a.dossierError(w, r, number, err)
		return
	}
	writeJSON(w, http.StatusOK, d.Public())
}
