package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/aiskao/aiskao/dossier"
	"github.com/aiskao/aiskao/dossier/calendar"
	"github.com/aiskao/aiskao/dossier/core"
	"github.com/aiskao/aiskao/dossier/feedback"
	"github.com/aiskao/aiskao/dossier/service"
	dstore "github.com/aiskao/aiskao/dossier/store"
	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/internal/mask"
)

// The core keeps dossiers only; feedback is kept here, in the same store, as streams of kind
// dstore.KindFeedback: a feedback.received event with the feedback as received, then a
// feedback.answered event with the answer, and a summary whose deadline is the answer's, so the
// deadline dashboard sees it.
const (
	eventFeedbackReceived = "feedback.received"
	eventFeedbackAnswered = "feedback.answered"
)

// feedbackRequest is feedback as submitted; the number and the answer are the API's to give.
type feedbackRequest struct {
	Kind       feedback.Kind   `json:"kind"`
	Channel    service.Channel `json:"channel"`
	ReceivedAt time.Time       `json:"received_at"`
	Author     feedback.Author `json:"author"`
	Text       string          `json:"text"`
	Dossier    string          `json:"dossier"`
	FieldCheck bool            `json:"field_check"`
	Opinion    bool            `json:"opinion"`
}

// feedbackView is feedback as the API shows it.
type feedbackView struct {
	feedback.Feedback
	Due    calendar.Date         `json:"due"`
	State  dossier.DeadlineState `json:"deadline_state,omitempty"`
	Masked bool                  `json:"personal_data_masked"`
}

// calendar is the calendar of feedback's deadlines.
func (a *api) calendar() *calendar.Calendar { return a.cal }

func (a *api) feedbackSummary(f *feedback.Feedback) *dstore.Summary {
	state := "received"
	if f.Answer != nil {
		state = "answered"
	}
	data, _ := json.Marshal(map[string]string{"kind": string(f.Kind)}) // a string map: cannot fail
	return &dstore.Summary{Stream: f.ID, Kind: dstore.KindFeedback, State: state, Active: f.Answer == nil, Unit: a.opt.FeedbackIndex,
		Deadline: f.Due(a.calendar()), OpenedAt: f.ReceivedAt, UpdatedAt: a.opt.Now(), Data: data}
}

// submitFeedback registers feedback with a number of the feedback register.
func (a *api) submitFeedback(w http.ResponseWriter, r *http.Request) {
	body, ok := a.body(w, r, false)
	if !ok {
		return
	}
	var req feedbackRequest
	if f := decodeBody(body, &req); f != nil {
		a.malformed(w, r, *f)
		return
	}
	if req.ReceivedAt.IsZero() {
		req.ReceivedAt = a.opt.Now()
	}
	f := feedback.Feedback{Kind: req.Kind, Channel: req.Channel, ReceivedAt: req.ReceivedAt, Author: req.Author, Text: req.Text,
		Dossier: req.Dossier, FieldCheck: req.FieldCheck, Opinion: req.Opinion}
	if err := f.Validate(); err != nil {
		a.writeError(w, r, err)
		return
	}
	inbox, reqKey, ok := idempotency(w, r, "feedback", body)
	if !ok {
		return
	}
	by := actor(r)
	now := a.opt.Now()
	_, err := a.opt.Store.CommitNumbered(r.Context(), a.opt.FeedbackIndex, dossier.Today(now).Year, func(seq int64) (dstore.Commit, error) {
		f.ID = a.numbering.Format(a.opt.FeedbackIndex, seq, dossier.Today(now))
		data, err := json.Marshal(f)
		if err != nil {
			return dstore.Commit{}, err
		}
		c := dstore.Commit{Stream: f.ID, Inbox: inbox, Summary: a.feedbackSummary(&f),
			Events: []dstore.Event{{Type: eventFeedbackReceived, At: now, Actor: string(by.Kind) + ":" + by.ID, Data: data}}}
		if inbox != "" {
			c.Keys = []dstore.Key{{Kind: core.KeyInbox, Value: inbox}, {Kind: keyRequest, Value: reqKey}}
		}
		return c, nil
	})
	status := http.StatusCreated
	if errors.Is(err, dstore.ErrAlreadyApplied) && inbox != "" {
		if f.ID, err = a.opt.Store.FindByKey(r.Context(), core.KeyInbox, inbox); err == nil {
			if n, ferr := a.opt.Store.FindByKey(r.Context(), keyRequest, reqKey); ferr != nil || n != f.ID {
				keyReused(w, r)
				return
			}
		}
		status = http.StatusOK
		w.Header().Set("Idempotent-Replayed", "true")
	}
	if err != nil {
		a.writeError(w, r, fmt.Errorf("dossier api: register feedback: %w", err))
		return
	}
	loc := "/api/v1/feedback/" + url.PathEscape(f.ID)
	w.Header().Set("Location", loc)
	writeJSON(w, status, map[string]any{"number": f.ID, "location": loc, "due": f.Due(a.calendar())})
}

// loadFeedback reads feedback number and its stream's version; nil when there is none.
func (a *api) loadFeedback(ctx context.Context, number string) (*feedback.Feedback, int64, error) {
	evs, err := a.opt.Store.Events(ctx, number, 1)
	if err != nil {
		return nil, 0, fmt.Errorf("dossier api: feedback %s: %w", number, err)
	}
	if len(evs) == 0 || evs[0].Type != eventFeedbackReceived {
		return nil, 0, nil
	}
	var f feedback.Feedback
	if err := json.Unmarshal(evs[0].Data, &f); err != nil {
		return nil, 0, fmt.Errorf("dossier api: feedback %s: %w", number, err)
	}
	for _, e := range evs[1:] {
		if e.Type == eventFeedbackAnswered {
			var ans feedback.Answer
			if err := json.Unmarshal(e.Data, &ans); err != nil {
				return nil, 0, fmt.Errorf("dossier api: feedback %s: answer: %w", number, err)
			}
			f.Answer = &ans
		}
	}
	return &f, evs[len(evs)-1].Seq, nil
}

func (a *api) noFeedback(w http.ResponseWriter, r *http.Request) {
	writeProblem(w, r, http.StatusNotFound, codeNoFeedback, service.Text{BG: "Няма такъв сигнал.", EN: "There is no such feedback."}, nil)
}

// showFeedback answers f, with its author masked unless the caller may see personal data. After
// a change (written), a read that cannot be journaled shows it masked; otherwise it answers 503.
func (a *api) showFeedback(w http.ResponseWriter, r *http.Request, f *feedback.Feedback, written bool) {
	personal := principal(r).Can(identity.PersonalDataRead)
	switch {
	case personal && written:
		personal = a.journal(r, f.ID) == nil
	case personal && !a.journalRead(w, r, f.ID):
		return
	}
	v := feedbackView{Feedback: *f, Due: f.Due(a.calendar()), State: f.State(a.calendar(), a.opt.Now(), 2), Masked: !personal}
	if !personal {
		v.Author = feedback.Author{Name: initials(f.Author.Name)}
		v.Text = mask.PersonalNumbers(f.Text)
	}
	writeJSON(w, http.StatusOK, v)
}

func (a *api) getFeedback(w http.ResponseWriter, r *http.Request) {
	f, _, err := a.loadFeedback(r.Context(), r.PathValue("number"))
	switch {
	case err != nil:
		a.writeError(w, r, err)
	case f == nil:
		a.noFeedback(w, r)
	default:
		a.showFeedback(w, r, f, false)
	}
}

// answerFeedbackRequest is the administration's answer.
type answerFeedbackRequest struct {
	Text string `json:"text"`
}

func (a *api) answerFeedback(w http.ResponseWriter, r *http.Request) {
	var req answerFeedbackRequest
	if !a.decode(w, r, &req, false) {
		return
	}
	number := r.PathValue("number")
	by := actor(r)
	for range 5 {
		f, version, err := a.loadFeedback(r.Context(), number)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		if f == nil {
			a.noFeedback(w, r)
			return
		}
		if err := f.Respond(by, a.opt.Now(), req.Text); err != nil {
			a.writeError(w, r, err)
			return
		}
		data, err := json.Marshal(f.Answer)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		err = a.opt.Store.Commit(r.Context(), dstore.Commit{Stream: number, Expect: version, Summary: a.feedbackSummary(f),
			Events: []dstore.Event{{Type: eventFeedbackAnswered, At: f.Answer.At, Actor: string(by.Kind) + ":" + by.ID, Data: data}}})
		if errors.Is(err, dstore.ErrConflict) {
			continue // answered meanwhile: load again, and Respond refuses it
		}
		if err != nil {
			a.writeError(w, r, fmt.Errorf("dossier api: answer feedback %s: %w", number, err))
			return
		}
		a.showFeedback(w, r, f, true)
		return
	}
	a.writeError(w, r, fmt.Errorf("dossier api: answer feedback %s: too many concurrent changes", number))
}
