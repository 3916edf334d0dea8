package core_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aiskao/aiskao/dossier"
	"github.com/aiskao/aiskao/dossier/calendar"
	"github.com/aiskao/aiskao/dossier/core"
	"github.com/aiskao/aiskao/dossier/store"
)

// reads is a store that counts the streams whose events are read, each replay of a dossier.
type reads struct {
	store.Store
	mu sync.Mutex
	n  map[string]int
}

func (r *reads) Events(ctx context.Context, stream string, from int64) ([]store.Event, error) {
	r.mu.Lock()
	r.n[stream]++
	r.mu.Unlock()
	return r.Store.Events(ctx, stream, from)
}

func (r *reads) reset() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.n
	r.n = map[string]int{}
	return n
}

func day(t *testing.T, s string) calendar.Date {
	t.Helper()
	d, err := calendar.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// nextDue reads the next due date the core stored for number.
func nextDue(t *testing.T, s store.Store, number string) calendar.Date {
	t.Helper()
	m, err := s.Summary(context.Background(), number)
	must(t, err)
	return m.NextDue
}

// alerts returns the deadline alerts in number's history, as "type kind ref due".
func alerts(t *testing.T, c *core.Core, number string) []string {
	t.Helper()
	hist, err := c.History(context.Background(), number)
	must(t, err)
	var out []string
	for _, e := range hist {
		switch p := e.Data.(type) {
		case *dossier.DeadlineNear:
			out = append(out, "near "+string(p.Kind)+" "+p.Ref+" "+p.Due.String())
		case *dossier.DeadlineMissed:
			out = append(out, "missed "+string(p.Kind)+" "+p.Ref+" "+p.Due.String())
		}
	}
	return out
}

// TestWatchReadsOnlyTheDossiersDue: the watch replays the dossiers whose nearest deadline lies
// within its window, found by the next due date each commit stores, and no others.
func TestWatchReadsOnlyTheDossiersDue(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			r := &reads{Store: b.open(t), n: map[string]int{}}
			clk := newClock(time.Date(2026, 12, 4, 9, 30, 0, 0, sofia))
			c := newCore(t, r, clk)
			soon, err := c.Register(ctx, core.Input{Application: application()}, core.Cause{})
			must(t, err)
			later, err := c.Register(ctx, core.Input{Application: application()}, core.Cause{})
			must(t, err)
			must(t, c.Do(ctx, later.Number, core.Cause{}, func(d *dossier.Dossier) ([]dossier.Event, error) {
				return d.CompleteTask(c.Meta(clerk), "T1", "") // its one-day stage is done: the overall deadline is next
			}))
			// Suspended with a month for the applicant: nothing of it runs out soon.
			waiting, err := c.Register(ctx, core.Input{Application: application()}, core.Cause{})
			must(t, err)
			must(t, c.Do(ctx, waiting.Number, core.Cause{}, func(d *dossier.Dossier) ([]dossier.Event, error) {
				return d.NotifyIrregularity(c.Meta(clerk), dossier.IrregularityNotice{LegalGrounds: "чл. 30 АПК", FactualGrounds: "Липсва подпис.",
					Due: day(t, "2027-01-04")})
			}))
			if got := nextDue(t, r, soon.Number); got != day(t, "2026-12-07") {
				t.Errorf("next due with the stage running: %s, want its deadline 2026-12-07", got)
			}
			if got := nextDue(t, r, later.Number); got != day(t, "2026-12-15") {
				t.Errorf("next due after the stage: %s, want the overall deadline 2026-12-15", got)
			}
			// Friday 4th: the window ends on Tuesday 8th.
			r.reset()
			_, err = c.RaiseDeadlines(ctx)
			must(t, err)
			if n := r.reset(); n[soon.Number] == 0 || n[later.Number] != 0 || n[waiting.Number] != 0 {
				t.Errorf("dossiers read on the 4th: %v; want %s only", n, soon.Number)
			}
			// Friday 11th: both are due within it (the overall deadline on Tuesday 15th).
			clk.set(time.Date(2026, 12, 11, 8, 0, 0, 0, sofia))
			_, err = c.RaiseDeadlines(ctx)
			must(t, err)
			if n := r.reset(); n[soon.Number] == 0 || n[later.Number] == 0 || n[waiting.Number] != 0 {
				t.Errorf("dossiers read on the 11th: %v; want %s and %s", n, soon.Number, later.Number)
			}
		})
	}
}

// TestSuspensionMovesTheWatchedDeadlines: while an irregularity suspends the dossier, the
// applicant's deadline is watched and the overall one is not; the answer moves the overall
// deadline by the days suspended, and it is alerted on the days it was moved to.
func TestSuspensionMovesTheWatchedDeadlines(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			clk := newClock(time.Date(2026, 12, 4, 9, 30, 0, 0, sofia))
			c := newCore(t, s, clk)
			reg, err := c.Register(ctx, core.Input{Application: application()}, core.Cause{})
			must(t, err)
			must(t, c.Do(ctx, reg.Number, core.Cause{}, func(d *dossier.Dossier) ([]dossier.Event, error) {
				return d.CompleteTask(c.Meta(clerk), "T1", "")
			}))
			// Monday 7th: a notice; the applicant has until Monday 14th.
			clk.set(time.Date(2026, 12, 7, 11, 0, 0, 0, sofia))
			must(t, c.Do(ctx, reg.Number, core.Cause{}, func(d *dossier.Dossier) ([]dossier.Event, error) {
				return d.NotifyIrregularity(c.Meta(clerk), dossier.IrregularityNotice{LegalGrounds: "чл. 30 АПК", FactualGrounds: "Липсва подпис.",
					Due: day(t, "2026-12-14")})
			}))
			if got := nextDue(t, s, reg.Number); got != day(t, "2026-12-14") {
				t.Errorf("next due while suspended: %s, want the applicant's 2026-12-14", got)
			}
			// Friday 11th: the overall deadline (15th) would be near, but it stands still; the
			// applicant's is near.
			clk.set(time.Date(2026, 12, 11, 8, 0, 0, 0, sofia))
			_, err = c.RaiseDeadlines(ctx)
			must(t, err)
			if got, want := alerts(t, c, reg.Number), []string{"near irregularity N1 2026-12-14"}; !slices.Equal(got, want) {
				t.Errorf("alerts while suspended: %v, want %v", got, want)
			}
			// The answer on the 11th: the 8th to the 11th, four working days, are left out.
			clk.set(time.Date(2026, 12, 11, 10, 0, 0, 0, sofia))
			must(t, c.Do(ctx, reg.Number, core.Cause{}, func(d *dossier.Dossier) ([]dossier.Event, error) {
				return d.AnswerIrregularity(c.Meta(clerk), "N1", []dossier.Document{doc("signed", "application")})
			}))
			if got := nextDue(t, s, reg.Number); got != day(t, "2026-12-21") {
				t.Errorf("next due after the answer: %s, want the moved overall deadline 2026-12-21", got)
			}
			// Tuesday 15th, the old deadline: three working days are left, nothing is near.
			clk.set(time.Date(2026, 12, 15, 8, 0, 0, 0, sofia))
			n, err := c.RaiseDeadlines(ctx)
			must(t, err)
			if n != 0 {
				t.Errorf("%d alerts on the old deadline's day", n)
			}
			// Thursday 17th: near; Tuesday 22nd: missed.
			for _, at := range []time.Time{time.Date(2026, 12, 17, 8, 0, 0, 0, sofia), time.Date(2026, 12, 22, 8, 0, 0, 0, sofia)} {
				clk.set(at)
				_, err = c.RaiseDeadlines(ctx)
				must(t, err)
			}
			want := []string{"near irregularity N1 2026-12-14", "near overall  2026-12-21", "missed overall  2026-12-21"}
			if got := alerts(t, c, reg.Number); !slices.Equal(got, want) {
				t.Errorf("alerts: %v, want %v", got, want)
			}
		})
	}
}
