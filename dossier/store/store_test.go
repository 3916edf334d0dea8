package store

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aiskao/aiskao/dossier/calendar"
)

func TestCursorRoundTrip(t *testing.T) {
	for _, m := range []Summary{
		{Stream: "ГРАО-94-00-1/2026", Deadline: calendar.Date{Year: 2026, Month: 3, Day: 16}, NextDue: calendar.Date{Year: 2026, Month: 3, Day: 2}},
		{Stream: "a|b", Deadline: calendar.Date{}},
		{Stream: "n|x", NextDue: calendar.Date{Year: 2026, Month: 1, Day: 5}},
		{Stream: ""},
	} {
		for _, by := range []Order{ByDeadline, ByNextDue} {
			c, err := DecodeCursor(EncodeCursor(m, by), by)
			if err != nil {
				t.Fatalf("cursor of %+v by %q: %v", m, by, err)
			}
			if c.Stream != m.Stream || c.Deadline != DateColumn(by.date(m)) {
				t.Errorf("cursor of %+v by %q read back as %+v", m, by, c)
			}
		}
	}
	for _, bad := range []string{"!", "eA", EncodeCursor(Summary{}, ByDeadline)[:3]} {
		if _, err := DecodeCursor(bad, ByDeadline); !errors.Is(err, ErrInvalid) {
			t.Errorf("DecodeCursor(%q) = %v, want ErrInvalid", bad, err)
		}
	}
	// A cursor of one order is refused by the other: it would page from the wrong place.
	m := Summary{Stream: "S", Deadline: calendar.Date{Year: 2026, Month: 3, Day: 16}}
	if _, err := DecodeCursor(EncodeCursor(m, ByDeadline), ByNextDue); !errors.Is(err, ErrInvalid) {
		t.Errorf("a deadline cursor paged the next due order: %v", err)
	}
	if _, err := DecodeCursor(EncodeCursor(m, ByNextDue), ByDeadline); !errors.Is(err, ErrInvalid) {
		t.Errorf("a next due cursor paged the deadline order: %v", err)
	}
}

func TestNormalizeRefusesAnUnknownOrder(t *testing.T) {
	q := Query{By: "stage_deadline"}
	if err := q.Normalize(); !errors.Is(err, ErrInvalid) {
		t.Errorf("Normalize = %v, want ErrInvalid", err)
	}
}

// TestPrepareNextDue: a summary without a next due date is due at its deadline.
func TestPrepareNextDue(t *testing.T) {
	dl, near := calendar.Date{Year: 2026, Month: 3, Day: 16}, calendar.Date{Year: 2026, Month: 3, Day: 2}
	for _, tc := range []struct{ next, want calendar.Date }{{calendar.Date{}, dl}, {near, near}} {
		c := Commit{Stream: "A", Events: []Event{{Type: "x"}}, Summary: &Summary{Deadline: dl, NextDue: tc.next}}
		if err := Prepare(&c); err != nil {
			t.Fatal(err)
		}
		if c.Summary.NextDue != tc.want {
			t.Errorf("next due %v prepared as %v, want %v", tc.next, c.Summary.NextDue, tc.want)
		}
	}
}

func TestDateColumn(t *testing.T) {
	for _, d := range []calendar.Date{{}, {Year: 2026, Month: 12, Day: 31}, {Year: 999, Month: 1, Day: 2}} {
		got, err := ParseDateColumn(DateColumn(d))
		if err != nil || got != d {
			t.Errorf("%v read back as %v, %v", d, got, err)
		}
	}
	if DateColumn(calendar.Date{}) <= DateColumn(calendar.Date{Year: 9999, Month: 12, Day: 30}) {
		t.Error("no deadline does not sort after every deadline")
	}
}

// TestPrepareLeavesTheCallersCommit: a caller may retry a refused commit as it was.
func TestPrepareLeavesTheCallersCommit(t *testing.T) {
	c := Commit{Stream: "A", Expect: 2, Events: []Event{{Type: "x"}}, Summary: &Summary{}, Outbox: []Message{{Type: "m"}}}
	p := c
	if err := Prepare(&p); err != nil {
		t.Fatal(err)
	}
	if p.Events[0].Seq != 3 || p.Summary.Version != 3 || p.Summary.Stream != "A" || p.Outbox[0].ID == "" || string(p.Events[0].Data) != "null" {
		t.Errorf("prepared commit: %+v, summary %+v", p, *p.Summary)
	}
	if c.Events[0].Seq != 0 || c.Summary.Version != 0 || c.Outbox[0].ID != "" || c.Events[0].Data != nil {
		t.Errorf("the caller's commit changed: %+v, summary %+v", c, *c.Summary)
	}
	if err := Prepare(&Commit{Stream: "A", Events: []Event{{Type: "x", Data: json.RawMessage(`{"a":`)}}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("event data not JSON: %v", err)
	}
}

// fakeOutbox hands out its messages once each.
type fakeOutbox struct {
	mu   sync.Mutex
	rows []OutboxRow
	done []int64
}

func (f *fakeOutbox) ClaimOutbox(_ context.Context, n int, _ time.Duration) ([]OutboxRow, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n = min(n, len(f.rows))
	out := f.rows[:n]
	f.rows = f.rows[n:]
	return out, nil
}

func (f *fakeOutbox) MarkPublished(_ context.Context, pos []int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.done = append(f.done, pos...)
	return nil
}

func (f *fakeOutbox) ReleaseOutbox(context.Context, []int64) error { return nil }

// TestNotifyWakesTheRelay: a relay polling once an hour publishes at once when notified.
func TestNotifyWakesTheRelay(t *testing.T) {
	out := &fakeOutbox{}
	published := make(chan Message, 10)
	r := NewRelay(out, func(_ context.Context, m Message) error { published <- m; return nil }, RelayOptions{Interval: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	for i := range 3 {
		out.mu.Lock()
		out.rows = append(out.rows, OutboxRow{Pos: int64(i + 1), Stream: "A", Message: Message{ID: string(rune('a' + i))}})
		out.mu.Unlock()
		r.Notify()
		select {
		case m := <-published:
			if m.ID != string(rune('a'+i)) {
				t.Errorf("published %q, want %q", m.ID, string(rune('a'+i)))
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("message %d not published within 5s of Notify", i)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if len(out.done) != 3 {
		t.Errorf("marked %v, want 3 positions", out.done)
	}
}
