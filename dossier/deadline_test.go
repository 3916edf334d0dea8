package dossier

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/aiskao/aiskao/dossier/calendar"
	"github.com/aiskao/aiskao/dossier/service"
)

func day(t testing.TB, s string) calendar.Date {
	t.Helper()
	d, err := calendar.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// noon is midday in Sofia on d.
func noon(d calendar.Date) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, sofia)
}

// calendars are the calendars the tables count by: the law alone, the shipped moved days (31
// December 2025 and 2 January 2026 off), and the test file's (2 March 2026 off, Saturday 14
// March 2026 working).
func calendars(t *testing.T) (law, shipped, moved *calendar.Calendar) {
	t.Helper()
	shipped, err := calendar.Default()
	if err != nil {
		t.Fatal(err)
	}
	moved, err = calendar.Load(filepath.Join("calendar", "testdata", "moved.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return calendar.Bulgaria(), shipped, moved
}

// TestDeadlineStateAt: when a deadline is near. It is near within near working days of its
// end, but never on the day it starts: a deadline shorter than the warning is near on its
// last days only, not the moment it begins.
func TestDeadlineStateAt(t *testing.T) {
	law, shipped, _ := calendars(t)
	for _, tc := range []struct {
		name      string
		cal       *calendar.Calendar
		from, due string
		dueAt     *time.Time
		near      int
		now       time.Time
		want      DeadlineState
	}{
		{"one working day, on its first day", law, "2026-12-04", "2026-12-07", nil, 2, noon(day(t, "2026-12-04")), Running},
		{"one working day, over the weekend", law, "2026-12-04", "2026-12-07", nil, 2, noon(day(t, "2026-12-06")), Running},
		{"one working day, on its last day", law, "2026-12-04", "2026-12-07", nil, 2, noon(day(t, "2026-12-07")), Near},
		{"one working day, the day after", law, "2026-12-04", "2026-12-07", nil, 2, noon(day(t, "2026-12-08")), Missed},
		{"missed at midnight in Sofia", law, "2026-12-04", "2026-12-07", nil, 2, time.Date(2026, 12, 7, 22, 0, 0, 0, time.UTC), Missed},
		{"two working days, on the first", law, "2026-12-07", "2026-12-09", nil, 2, noon(day(t, "2026-12-07")), Running},
		{"two working days, on the second", law, "2026-12-07", "2026-12-09", nil, 2, noon(day(t, "2026-12-08")), Near},
		{"ten working days, three left", law, "2026-11-30", "2026-12-14", nil, 2, noon(day(t, "2026-12-09")), Running},
		{"ten working days, two left", law, "2026-11-30", "2026-12-14", nil, 2, noon(day(t, "2026-12-10")), Near},
		{"ten working days, two left counted over the weekend", law, "2026-11-30", "2026-12-14", nil, 2, noon(day(t, "2026-12-12")), Near},
		{"no warning: near on the last day", law, "2026-11-30", "2026-12-14", nil, 0, noon(day(t, "2026-12-14")), Near},
		{"no warning: running the day before", law, "2026-11-30", "2026-12-14", nil, 0, noon(day(t, "2026-12-11")), Running},
		{"Christmas: three working days left before it", law, "2026-12-17", "2026-12-29", nil, 2, noon(day(t, "2026-12-21")), Running},
		{"Christmas: two working days left across five days off", law, "2026-12-17", "2026-12-29", nil, 2, noon(day(t, "2026-12-22")), Near},
		{"Easter: three working days left", law, "2026-04-03", "2026-04-14", nil, 2, noon(day(t, "2026-04-07")), Running},
		{"Easter: two working days left across Good Friday to Easter Monday", law, "2026-04-03", "2026-04-14", nil, 2, noon(day(t, "2026-04-08")), Near},
		{"6 September on a Sunday: three left", law, "2026-08-24", "2026-09-08", nil, 2, noon(day(t, "2026-09-02")), Running},
		{"6 September on a Sunday: Monday 7th is off", law, "2026-08-24", "2026-09-08", nil, 2, noon(day(t, "2026-09-03")), Near},
		{"euro days off: by the law, three left", law, "2025-12-22", "2026-01-05", nil, 2, noon(day(t, "2025-12-30")), Running},
		{"euro days off: moved by decision, one left", shipped, "2025-12-22", "2026-01-05", nil, 2, noon(day(t, "2025-12-30")), Near},
		{"hours: before the moment, on the first day", law, "2026-12-04", "2026-12-07", ptr(time.Date(2026, 12, 5, 9, 30, 0, 0, sofia)), 2,
			noon(day(t, "2026-12-04")), Running},
		{"hours: after the moment", law, "2026-12-04", "2026-12-07", ptr(time.Date(2026, 12, 5, 9, 30, 0, 0, sofia)), 2,
			time.Date(2026, 12, 5, 9, 31, 0, 0, sofia), Missed},
		{"hours within a day: never near", law, "2026-12-07", "2026-12-07", ptr(time.Date(2026, 12, 7, 17, 0, 0, 0, sofia)), 2,
			time.Date(2026, 12, 7, 16, 59, 0, 0, sofia), Running},
		{"hours within a day: missed after", law, "2026-12-07", "2026-12-07", ptr(time.Date(2026, 12, 7, 17, 0, 0, 0, sofia)), 2,
			time.Date(2026, 12, 7, 17, 1, 0, 0, sofia), Missed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := DeadlineStateAt(tc.cal, day(t, tc.from), day(t, tc.due), tc.dueAt, tc.now, tc.near); got != tc.want {
				t.Errorf("DeadlineStateAt(%s to %s, at %s, near %d) = %s, want %s", tc.from, tc.due, tc.now, tc.near, got, tc.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestDeadlineKinds: every kind of deadline the Наредба knows, counted over the calendar from a
// start, with the first day it is near (warning of 2 working days) and the first it is missed:
// the service's terms in working days, in calendar days and in hours, a stage's term, the
// irregularity notice's, the applicant's to remove an irregularity, the 7 and 14 day answers to
// feedback; across weekends, fixed holidays, Easter, holidays on a weekend and moved days.
func TestDeadlineKinds(t *testing.T) {
	law, shipped, moved := calendars(t)
	const near = 2
	// opened opens the heirs dossier under term at reg and returns its overall deadline.
	opened := func(cal *calendar.Calendar, term service.TermKind, reg time.Time) func(t *testing.T) (calendar.Date, calendar.Date, *time.Time) {
		return func(t *testing.T) (calendar.Date, calendar.Date, *time.Time) {
			a := goodApplication()
			a.Term = term
			d, _, err := Open(Meta{By: clerk, At: reg, Calendar: cal}, OpenRequest{Service: heirs(t), Application: a, Seq: 1, AccessCode: code})
			if err != nil {
				t.Fatal(err)
			}
			return Today(reg), d.Deadline, d.DueAt
		}
	}
	// stage opens the heirs dossier at reg and returns its first stage's deadline (1 working day).
	stage := func(cal *calendar.Calendar, reg time.Time) func(t *testing.T) (calendar.Date, calendar.Date, *time.Time) {
		return func(t *testing.T) (calendar.Date, calendar.Date, *time.Time) {
			d, _, err := Open(Meta{By: clerk, At: reg, Calendar: cal}, OpenRequest{Service: heirs(t), Application: goodApplication(), Seq: 1, AccessCode: code})
			if err != nil {
				t.Fatal(err)
			}
			for _, dl := range d.Deadlines(cal, reg, near) {
				if dl.Kind == StageTerm {
					return dl.From, dl.Due, nil
				}
			}
			t.Fatal("no stage deadline")
			return calendar.Date{}, calendar.Date{}, nil
		}
	}
	// suspended opens the heirs dossier at reg under the normal term, suspends it for another
	// authority at from and resumes it at to, and returns its moved overall deadline.
	suspended := func(cal *calendar.Calendar, reg, from, to time.Time) func(t *testing.T) (calendar.Date, calendar.Date, *time.Time) {
		return func(t *testing.T) (calendar.Date, calendar.Date, *time.Time) {
			d, _, err := Open(Meta{By: clerk, At: reg, Calendar: cal}, OpenRequest{Service: heirs(t), Application: goodApplication(), Seq: 1, AccessCode: code})
			if err != nil {
				t.Fatal(err)
			}
			must(t)(d.SuspendForAuthority(Meta{By: clerk, At: from, Calendar: cal}, "000695089", ""))
			must(t)(d.Resume(Meta{By: clerk, At: to, Calendar: cal}))
			return Today(reg), d.Deadline, d.DueAt
		}
	}
	// term counts a term of the law from from.
	term := func(cal *calendar.Calendar, tm calendar.Term, from string) func(t *testing.T) (calendar.Date, calendar.Date, *time.Time) {
		return func(t *testing.T) (calendar.Date, calendar.Date, *time.Time) {
			return day(t, from), cal.Due(day(t, from), tm, nil), nil
		}
	}
	at := func(s string, hour, min int) time.Time {
		d := day(t, s)
		return time.Date(d.Year, d.Month, d.Day, hour, min, 0, 0, sofia)
	}
	for _, tc := range []struct {
		name     string
		cal      *calendar.Calendar
		deadline func(t *testing.T) (from, due calendar.Date, dueAt *time.Time)
		due      string // its last day
		nearFrom string // the first day it is near
	}{
		// The service's terms: normal 7 and fast 3 working days, express 24 hours.
		{"7 working days from a Friday", law, opened(law, service.Normal, at("2026-12-04", 9, 30)), "2026-12-15", "2026-12-11"},
		{"7 working days over Christmas", law, opened(law, service.Normal, at("2026-12-17", 9, 30)), "2026-12-31", "2026-12-29"},
		{"3 working days over Easter", law, opened(law, service.Fast, at("2026-04-09", 9, 30)), "2026-04-16", "2026-04-14"},
		{"3 working days over 6 September on a Sunday", law, opened(law, service.Fast, at("2026-09-03", 9, 30)), "2026-09-09", "2026-09-04"},
		{"7 working days over the euro days off", shipped, opened(shipped, service.Normal, at("2025-12-29", 9, 30)), "2026-01-12", "2026-01-08"},
		{"7 working days by the law alone", law, opened(law, service.Normal, at("2025-12-29", 9, 30)), "2026-01-08", "2026-01-06"},
		{"3 working days over a moved day off and 3 March", moved, opened(moved, service.Fast, at("2026-02-27", 9, 30)), "2026-03-06", "2026-03-04"},
		{"3 working days over a decreed working Saturday", moved, opened(moved, service.Fast, at("2026-03-12", 9, 30)), "2026-03-16", "2026-03-13"},
		{"24 hours ending on a Saturday: counted on Monday, missed at the hour", law, opened(law, service.Express, at("2026-12-04", 9, 30)), "2026-12-07", "2026-12-07"},
		{"24 hours ending on Christmas Eve", law, opened(law, service.Express, at("2026-12-23", 10, 0)), "2026-12-29", "2026-12-29"},
		// Suspensions: the days after the suspension up to the resumption do not count.
		{"7 working days suspended from the 7th to the 11th", law, suspended(law, at("2026-12-04", 9, 30), at("2026-12-07", 11, 0), at("2026-12-11", 10, 0)),
			"2026-12-21", "2026-12-17"},
		{"7 working days suspended over Christmas", law, suspended(law, at("2026-12-11", 9, 30), at("2026-12-21", 11, 0), at("2026-12-30", 10, 0)),
			"2026-12-31", "2026-12-29"},
		// A stage's term: registering, 1 working day.
		{"a stage of 1 working day from a Friday", law, stage(law, at("2026-12-04", 9, 30)), "2026-12-07", "2026-12-07"},
		{"a stage of 1 working day before Easter", law, stage(law, at("2026-04-09", 9, 30)), "2026-04-14", "2026-04-14"},
		// The irregularity notice (3 days) and the applicant's term to remove it (7 days).
		{"notice in 3 days ending on a Saturday", law, term(law, calendar.IrregularityNoticeTerm(), "2026-12-02"), "2026-12-07", "2026-12-03"},
		{"notice in 3 days over 3 March and a moved day off", moved, term(moved, calendar.IrregularityNoticeTerm(), "2026-02-27"), "2026-03-04", "2026-03-04"},
		{"removal in 7 days ending on Easter Monday", law, term(law, calendar.IrregularityTerm(), "2026-04-06"), "2026-04-14", "2026-04-08"},
		{"removal in 7 days ending on a decreed working Saturday", moved, term(moved, calendar.IrregularityTerm(), "2026-03-07"), "2026-03-14", "2026-03-12"},
		// Feedback: 7 days, 14 with a check on the spot or another authority's opinion.
		{"answer in 7 days over the euro days off", shipped, term(shipped, calendar.AnswerTerm(false), "2025-12-26"), "2026-01-05", "2025-12-29"},
		{"answer in 14 days ending on the day off for 6 September", law, term(law, calendar.AnswerTerm(true), "2026-08-24"), "2026-09-08", "2026-09-03"},
		{"answer in 14 days ending on a Sunday before 3 March", law, term(law, calendar.AnswerTerm(true), "2026-02-15"), "2026-03-02", "2026-02-26"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			from, due, dueAt := tc.deadline(t)
			if due.String() != tc.due {
				t.Fatalf("due %s %s, want %s", due, due.Weekday(), tc.due)
			}
			nearFrom := day(t, tc.nearFrom)
			for d := from; !d.After(due.AddDays(1)); d = d.AddDays(1) {
				want := Running
				switch {
				case d.After(due):
					want = Missed
				case !d.Before(nearFrom):
					want = Near
				}
				now := time.Date(d.Year, d.Month, d.Day, 0, 0, 1, 0, sofia) // hour terms are due later in the day
				if got := DeadlineStateAt(tc.cal, from, due, dueAt, now, near); got != want && !(dueAt != nil && d.After(Today(*dueAt))) {
					t.Errorf("%s %s: %s, want %s", d, d.Weekday(), got, want)
				}
			}
			if dueAt != nil {
				if got := DeadlineStateAt(tc.cal, from, due, dueAt, dueAt.Add(time.Minute), near); got != Missed {
					t.Errorf("a minute after %s: %s, want missed", dueAt, got)
				}
			}
		})
	}
}

// TestNextDue: the nearest deadline that runs, which the deadline watch finds a dossier by.
func TestNextDue(t *testing.T) {
	for _, tc := range []struct {
		name  string
		state func(t *testing.T) *Dossier
		want  calendar.Date
	}{
		{"a stage's deadline before the overall one", func(t *testing.T) *Dossier { d, _ := open(t); return d }, date(7)},
		{"the overall one when no stage has a term", func(t *testing.T) *Dossier {
			d, _ := open(t)
			must(t)(d.CompleteTask(meta(clerk, at(4, 10, 0)), "T1", "accepted"))
			return d
		}, date(15)},
		{"suspended for an irregularity: the applicant's deadline only", func(t *testing.T) *Dossier { return states["irregularity"](t) }, date(11)},
		{"suspended for another authority: none runs", func(t *testing.T) *Dossier {
			d, _ := open(t)
			must(t)(d.SuspendForAuthority(meta(clerk, at(4, 11, 0)), "000695089", ""))
			return d
		}, calendar.Date{}},
		{"resumed: the moved stage's deadline", func(t *testing.T) *Dossier {
			d, _ := open(t)
			must(t)(d.SuspendForAuthority(meta(clerk, at(4, 11, 0)), "000695089", ""))
			must(t)(d.Resume(meta(clerk, at(9, 16, 0))))
			return d
		}, date(10)},
		{"a term in hours: the day of its moment", func(t *testing.T) *Dossier {
			a := goodApplication()
			a.Term = service.Express
			d, _, err := Open(meta(clerk, at(4, 9, 30)), OpenRequest{Service: heirs(t), Application: a, Seq: 2, AccessCode: code})
			if err != nil {
				t.Fatal(err)
			}
			return d
		}, date(5)},
		{"the result issued: none", func(t *testing.T) *Dossier { return states["issued"](t) }, calendar.Date{}},
		{"closed: none", func(t *testing.T) *Dossier { return states["closed"](t) }, calendar.Date{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.state(t).NextDue(); got != tc.want {
				t.Errorf("NextDue = %v, want %v", got, tc.want)
			}
		})
	}
}
