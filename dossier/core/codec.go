package core

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aiskao/aiskao/dossier"
	"github.com/aiskao/aiskao/dossier/calendar"
	"github.com/aiskao/aiskao/dossier/store"
)

// encodeEvent is the store's form of a domain event: its payload as Data, its actor as
// "kind:id".
func encodeEvent(e dossier.Event) (store.Event, error) {
	data, err := json.Marshal(e.Data)
	if err != nil {
		return store.Event{}, fmt.Errorf("dossier core: encode %s of %s: %w", e.Type, e.Dossier, err)
	}
	return store.Event{Stream: e.Dossier, Seq: int64(e.Seq), Type: e.Type, At: e.At, Actor: string(e.By.Kind) + ":" + e.By.ID, Data: data}, nil
}

// decodeEvent is the domain event a stored one holds.
func decodeEvent(se store.Event) (dossier.Event, error) {
	kind, id, _ := strings.Cut(se.Actor, ":")
	raw, err := json.Marshal(struct {
		Dossier string          `json:"dossier"`
		Seq     int64           `json:"seq"`
		Type    string          `json:"type"`
		At      any             `json:"at"`
		By      dossier.Actor   `json:"by"`
		Data    json.RawMessage `json:"data"`
	}{se.Stream, se.Seq, se.Type, se.At, dossier.Actor{Kind: dossier.ActorKind(kind), ID: id}, se.Data})
	if err != nil {
		return dossier.Event{}, fmt.Errorf("event %d: %w", se.Seq, err)
	}
	var e dossier.Event
	if err := json.Unmarshal(raw, &e); err != nil {
		return dossier.Event{}, err
	}
	return e, nil
}

// summaryData is what lists show of a dossier besides the summary's columns; no personal data.
type summaryData struct {
	Channel string `json:"channel"`
	Term    string `json:"term"`
	Tasks   int    `json:"open_tasks"`
	FeePaid bool   `json:"fee_paid"`
	Outcome string `json:"outcome,omitempty"`
}

// summary is the dossier's row for lists and the deadline dashboard. Its unit is the service's
// register index; its assignee the first open task's for people; its applicant a keyed hash.
func (c *Core) summary(d *dossier.Dossier) store.Summary {
	s := store.Summary{
		Stream:         d.Number,
		Kind:           store.KindDossier,
		Service:        d.Service,
		ServiceVersion: fmt.Sprint(d.ServiceVersion),
		State:          string(d.Status),
		Active:         d.Status != dossier.StatusClosed,
		Unit:           d.Plan.RegisterIndex,
		Applicant:      c.ApplicantKey(d.Application.Applicant.ID()),
		OpenedAt:       d.RegisteredAt,
		UpdatedAt:      c.opt.Clock(),
	}
	// The deadline dashboard looks for the administration's deadlines: none once a result is
	// issued.
	if d.Status == dossier.StatusOpen || d.Status == dossier.StatusSuspended {
		s.Deadline = d.Deadline
	}
	open := d.OpenTasks()
	for _, t := range open {
		if !t.System {
			s.Assignee = t.Assignee.String()
			break
		}
	}
	var stage calendar.Date
	for _, st := range d.Stages {
		if st.Status == dossier.StageActive && st.Due != nil && (stage.IsZero() || st.Due.Before(stage)) {
			stage = *st.Due
		}
	}
	s.StageDeadline = stage
	// The deadline watch finds the dossier by its nearest running deadline: a stage's or the
	// applicant's can come before the overall one. None runs while it is suspended for another
	// authority, and the store then keeps the overall deadline.
	s.NextDue = d.NextDue()
	data := summaryData{Channel: string(d.Application.Channel), Term: string(d.Term.Kind), Tasks: len(open), FeePaid: d.FeePaid != nil}
	if d.Result != nil {
		data.Outcome = string(d.Result.Outcome)
	}
	s.Data, _ = json.Marshal(data) // plain strings, ints and bools: cannot fail
	return s
}
