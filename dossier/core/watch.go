package core

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aiskao/aiskao/dossier"
	"github.com/aiskao/aiskao/dossier/calendar"
	"github.com/aiskao/aiskao/dossier/store"
)

// watcher is the actor of deadline alerts.
var watcher = dossier.Actor{Kind: dossier.System, ID: "deadlines"}

// RaiseDeadlines raises the deadline alerts not yet raised (dossier.deadline_near,
// dossier.deadline_missed) on the active dossiers with a deadline near (within the Near working
// days) or past, with their messages, and returns how many it raised. Run by several processes
// at once, each alert is raised once: a dossier's alerts are written with optimistic
// concurrency, so of two processes raising the same alert one commits and the other, reloading
// on the conflict, finds it raised; RaiseOnce then lets one process log it.
//
// It reads only the dossiers whose next due date (store.Summary.NextDue: the nearest of the
// overall deadline, the running stages' and the applicant's for an irregularity, which every
// commit stores) is at most Near working days away, through the store's index on active
// streams by that date: a deadline further away is neither near nor missed. Those whose
// deadline has passed stay in the window until their result is issued; their alerts were
// raised once, and replaying them raises nothing again.
func (c *Core) RaiseDeadlines(ctx context.Context) (int, error) {
	today := dossier.Today(c.opt.Clock())
	until := c.opt.Calendar.Add(today, c.opt.Near, calendar.WorkingDays)
	q := store.Query{Kind: store.KindDossier, Active: true, By: store.ByNextDue, DeadlineBefore: until.AddDays(1), Limit: store.MaxLimit}
	raised := 0
	var errs []error
	for {
		page, err := c.opt.Store.Dashboard(ctx, q)
		if err != nil {
			return raised, fmt.Errorf("dossier core: deadlines: %w", err)
		}
		for _, s := range page.Items {
			n, err := c.raise(ctx, s.Stream)
			raised += n
			if err != nil {
				errs = append(errs, err)
			}
		}
		if page.Next == "" {
			return raised, errors.Join(errs...)
		}
		q.After = page.Next
	}
}

// raise raises the alerts due on one dossier and returns how many it raised.
func (c *Core) raise(ctx context.Context, number string) (int, error) {
	var alerts []dossier.Event
	err := c.Do(ctx, number, Cause{}, func(d *dossier.Dossier) ([]dossier.Event, error) {
		evs, err := d.RaiseDeadlines(c.Meta(watcher), c.opt.Near)
		alerts = evs
		return evs, err
	})
	if err != nil {
		return 0, fmt.Errorf("dossier core: deadlines of %s: %w", number, err)
	}
	for _, e := range alerts {
		var a dossier.Alert
		switch p := e.Data.(type) {
		case *dossier.DeadlineNear:
			a = p.Alert
		case *dossier.DeadlineMissed:
			a = p.Alert
		}
		first, err := c.opt.Store.RaiseOnce(ctx, number, e.Type+"/"+string(a.Kind)+"/"+a.Ref, a.Due)
		if err != nil {
			return len(alerts), fmt.Errorf("dossier core: deadlines of %s: %w", number, err)
		}
		if first {
			c.opt.Log.Info("dossier deadline alert", "dossier", number, "alert", e.Type, "deadline", string(a.Kind), "ref", a.Ref, "due", a.Due.String())
		}
	}
	return len(alerts), nil
}

// Watch raises deadline alerts every interval until ctx ends, then returns nil.
func (c *Core) Watch(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := c.RaiseDeadlines(ctx); err != nil && ctx.Err() == nil {
			c.opt.Log.Warn("dossier deadline watch", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
