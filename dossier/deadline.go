package dossier

import (
	"time"

	"github.com/aiskao/aiskao/dossier/calendar"
)

// DeadlineKind says whose deadline it is.
type DeadlineKind string

const (
	// Overall is the term of the service, for the administration.
	Overall DeadlineKind = "overall"
	// StageTerm is a stage's own term, for whoever does the stage.
	StageTerm DeadlineKind = "stage"
	// IrregularityTerm is the applicant's deadline to remove an irregularity.
	IrregularityTerm DeadlineKind = "irregularity"
)

// DeadlineState is how a deadline stands on a day.
type DeadlineState string

const (
	Running DeadlineState = "running" // more than the warning's days are left
	Near    DeadlineState = "near"    // it ends within the warning's days
	Missed  DeadlineState = "missed"  // it has passed
	Stopped DeadlineState = "stopped" // the dossier is suspended; it does not run
)

// Deadline is one deadline of a dossier and how it stands.
type Deadline struct {
	Kind  DeadlineKind  `json:"kind"`
	Ref   string        `json:"ref,omitempty"` // the stage or the irregularity
	Due   calendar.Date `json:"due"`           // its last day
	DueAt *time.Time    `json:"due_at,omitempty"`
	State DeadlineState `json:"state"`
}

// RaiseDeadlines raises an alert for each deadline that is near or missed at
// m.At and was not raised so yet: DeadlineNear and DeadlineMissed events, once
// per deadline and state (a deadline moved by a suspension is a new one). It
// gives no events when there is nothing new; run by several processes at
// once, the store's unique (dossier, seq) keeps one run's alerts.
func (d *Dossier) RaiseDeadlines(m Meta, near int) ([]Event, error) {
	if err := checkMeta(m); err != nil {
		return nil, err
	}
	b := &batch{d: d, m: m}
	for _, dl := range d.Deadlines(m.cal(), m.At, near) {
		if dl.State != Near && dl.State != Missed {
			continue
		}
		a := Alert{Kind: dl.Kind, Ref: dl.Ref, Due: dl.Due}
		if d.raised(a, dl.State) {
			continue
		}
		if dl.State == Near {
			b.add(&DeadlineNear{Alert: a})
		} else {
			b.add(&DeadlineMissed{Alert: a})
		}
	}
	return b.done()
}

// raised reports whether the alert was raised in state s already; a missed
// deadline is not announced as near afterwards.
func (d *Dossier) raised(a Alert, s DeadlineState) bool {
	for _, r := range d.Raised {
		if r.Alert == a && (r.State == s || r.State == Missed) {
			return true
		}
	}
	return false
}

// Deadlines lists the deadlines that still matter at now: the overall one
// until the result is issued, those of running stages, and the applicant's
// for an irregularity not yet answered. A deadline is near when it ends
// within near working days of now's date; the administration's deadlines
// are stopped while the dossier is suspended.
func (d *Dossier) Deadlines(cal *calendar.Calendar, now time.Time, near int) []Deadline {
	if d.Status == StatusClosed {
		return nil
	}
	today := Today(now)
	state := func(due calendar.Date, dueAt *time.Time) DeadlineState {
		switch {
		case dueAt != nil && now.After(*dueAt), dueAt == nil && today.After(due):
			return Missed
		case cal.Add(today, near, calendar.WorkingDays).Before(due):
			return Running
		}
		return Near
	}
	stopped := d.Status == StatusSuspended
	var out []Deadline
	add := func(kind DeadlineKind, ref string, due calendar.Date, dueAt *time.Time, adminTerm bool) {
		s := state(due, dueAt)
		if adminTerm && stopped {
			s = Stopped
		}
		out = append(out, Deadline{Kind: kind, Ref: ref, Due: due, DueAt: dueAt, State: s})
	}
	if d.Status != StatusOpen && d.Status != StatusSuspended {
		return out // the result is issued: the administration's deadlines are met
	}
	add(Overall, "", d.Deadline, d.DueAt, true)
	for _, st := range d.Stages {
		if st.Status == StageActive && st.Due != nil {
			add(StageTerm, st.ID, *st.Due, nil, true)
		}
	}
	for _, ir := range d.Irregularities {
		if ir.AnsweredAt == nil {
			add(IrregularityTerm, ir.ID, ir.Due, nil, false)
		}
	}
	return out
}
