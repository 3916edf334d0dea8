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
	Running DeadlineState = "running" // not yet near
	Near    DeadlineState = "near"    // it ends soon: see DeadlineStateAt
	Missed  DeadlineState = "missed"  // it has passed
	Stopped DeadlineState = "stopped" // the dossier is suspended; it does not run
)

// Deadline is one deadline of a dossier and how it stands.
type Deadline struct {
	Kind  DeadlineKind  `json:"kind"`
	Ref   string        `json:"ref,omitempty"` // the stage or the irregularity
	From  calendar.Date `json:"from"`          // the day it started: registered, started, notified
	Due   calendar.Date `json:"due"`           // its last day
	DueAt *time.Time    `json:"due_at,omitempty"`
	State DeadlineState `json:"state"`
}

// DeadlineStateAt is how a deadline that started on from and ends on due (at dueAt, for a term
// in hours) stands at now. It is missed once due has passed (dueAt, when given). It is near
// when the working days left after today up to due are at most near and fewer than the
// deadline's own length, the working days after from up to due: so a deadline is never near on
// the day it starts, and one of a single working day is near on its last day only, instead of
// being announced as near the moment it begins. A deadline that ends on the working day it
// starts (a term in hours) is never near, only missed.
func DeadlineStateAt(cal *calendar.Calendar, from, due calendar.Date, dueAt *time.Time, now time.Time, near int) DeadlineState {
	today := Today(now)
	switch {
	case dueAt != nil && now.After(*dueAt), dueAt == nil && today.After(due):
		return Missed
	case cal.Add(today, near, calendar.WorkingDays).Before(due):
		return Running // more than near working days left; the common case, counted cheaply
	}
	if left, length := cal.WorkingDaysBetween(today, due), cal.WorkingDaysBetween(from, due); left >= length {
		return Running
	}
	return Near
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
// for an irregularity not yet answered, each in the state DeadlineStateAt
// gives; the administration's deadlines are stopped while the dossier is
// suspended.
func (d *Dossier) Deadlines(cal *calendar.Calendar, now time.Time, near int) []Deadline {
	out := d.terms()
	for i := range out {
		if out[i].State != Stopped {
			out[i].State = DeadlineStateAt(cal, out[i].From, out[i].Due, out[i].DueAt, now, near)
		}
	}
	return out
}

// NextDue is the last day of the nearest deadline that runs: the day to watch
// the dossier from, whatever the day and the warning. A term in hours counts
// by the day of its moment when that comes first. It is zero when none runs:
// the dossier is closed, its result issued, or it is suspended with no
// irregularity for the applicant to answer.
func (d *Dossier) NextDue() calendar.Date {
	var next calendar.Date
	for _, dl := range d.terms() {
		if dl.State == Stopped {
			continue
		}
		due := dl.Due
		if dl.DueAt != nil && Today(*dl.DueAt).Before(due) {
			due = Today(*dl.DueAt)
		}
		if next.IsZero() || due.Before(next) {
			next = due
		}
	}
	return next
}

// terms lists the deadlines that matter, the administration's Stopped while
// the dossier is suspended and the others' state left empty.
func (d *Dossier) terms() []Deadline {
	if d.Status != StatusOpen && d.Status != StatusSuspended {
		return nil // closed, or the result is issued: the administration's deadlines are met
	}
	var admin DeadlineState
	if d.Status == StatusSuspended {
		admin = Stopped
	}
	out := []Deadline{{Kind: Overall, From: Today(d.RegisteredAt), Due: d.Deadline, DueAt: d.DueAt, State: admin}}
	for _, st := range d.Stages {
		if st.Status == StageActive && st.Due != nil {
			from := Today(d.RegisteredAt)
			if st.StartedAt != nil {
				from = Today(*st.StartedAt)
			}
			out = append(out, Deadline{Kind: StageTerm, Ref: st.ID, From: from, Due: *st.Due, State: admin})
		}
	}
	for _, ir := range d.Irregularities {
		if ir.AnsweredAt == nil {
			out = append(out, Deadline{Kind: IrregularityTerm, Ref: ir.ID, From: Today(ir.NotifiedAt), Due: ir.Due})
		}
	}
	return out
}
