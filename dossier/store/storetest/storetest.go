// Package storetest is the conformance suite every dossier store passes, and the benchmarks
// that measure them the same way.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aiskao/aiskao/dossier/calendar"
	"github.com/aiskao/aiskao/dossier/store"
)

// Run runs the suite; open returns a new, empty store, closed by the suite.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"AppendAndReplay", testAppendAndReplay},
		{"InvalidCommits", testInvalidCommits},
		{"ConflictUnderConcurrency", testConflict},
		{"InboxAppliedOnce", testInbox},
		{"Keys", testKeys},
		{"SequencesUnderConcurrency", func(t *testing.T, s store.Store) { testSequences(t, s, s) }},
		{"CommitNumberedWithoutGaps", func(t *testing.T, s store.Store) { testNumbered(t, s, s) }},
		{"Dashboard", testDashboard},
		{"RaiseOnceUnderConcurrency", func(t *testing.T, s store.Store) { testRaiseOnce(t, s, s) }},
		{"RelayPublishesInOrder", testRelayOrder},
		{"RelayAfterCrash", testRelayCrash},
		{"RelayFailureHoldsStream", testRelayFailure},
		{"RelaysSideBySide", func(t *testing.T, s store.Store) { testRelays(t, s, s) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			defer s.Close()
			tc.fn(t, s)
		})
	}
}

// RunShared runs the parts of the suite that concern several processes on one database; open
// returns two stores on the same, empty database, as two processes would hold.
func RunShared(t *testing.T, open func(t *testing.T) (store.Store, store.Store)) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Store, store.Store)
	}{
		{"Sequences", testSequences},
		{"RaiseOnce", testRaiseOnce},
		{"Relays", testRelays},
		{"Commits", testSharedCommits},
		{"CommitNumbered", testNumbered},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := open(t)
			defer a.Close()
			defer b.Close()
			tc.fn(t, a, b)
		})
	}
}

var ctx = context.Background()

// at is a fixed instant, so that round trips compare exactly.
var at = time.Date(2026, 3, 2, 9, 30, 0, 123456000, time.UTC)

func date(s string) calendar.Date {
	d, err := calendar.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// opened is the commit that opens stream with one event, a summary and a message.
func opened(stream string) store.Commit {
	return store.Commit{
		Stream: stream,
		Events: []store.Event{{Type: "dossier.opened", At: at, Actor: "clerk-1", Data: json.RawMessage(`{"service":"2079"}`)}},
		Summary: &store.Summary{Kind: store.KindDossier, Service: "2079", ServiceVersion: "1", State: "registered", Active: true, Unit: "ГРАО",
			Assignee: "pos:clerk", Applicant: "h:abc", Deadline: date("2026-03-16"), StageDeadline: date("2026-03-04"),
			NextDue: date("2026-03-04"), OpenedAt: at, Data: json.RawMessage(`{"title":"Удостоверение"}`)},
		Outbox: []store.Message{{Type: "dossier.opened", Subject: stream, Payload: []byte(`{"n":1}`), Metadata: map[string]string{"channel": "portal"}}},
	}
}

func mustCommit(t *testing.T, s store.Store, c store.Commit) {
	t.Helper()
	if err := s.Commit(ctx, c); err != nil {
		t.Fatalf("commit %s at %d: %v", c.Stream, c.Expect, err)
	}
}

func events(t *testing.T, s store.Store, stream string, from int64) []store.Event {
	t.Helper()
	ev, err := s.Events(ctx, stream, from)
	if err != nil {
		t.Fatalf("events of %s: %v", stream, err)
	}
	return ev
}

// outbox drains the whole outbox without publishing anywhere and returns it.
func outbox(t *testing.T, s store.Store) []store.OutboxRow {
	t.Helper()
	var all []store.OutboxRow
	for {
		rows, err := s.ClaimOutbox(ctx, 100, time.Minute)
		if err != nil {
			t.Fatalf("claim outbox: %v", err)
		}
		if len(rows) == 0 {
			return all
		}
		all = append(all, rows...)
		pos := make([]int64, len(rows))
		for i, r := range rows {
			pos[i] = r.Pos
		}
		if err := s.MarkPublished(ctx, pos); err != nil {
			t.Fatalf("mark published: %v", err)
		}
	}
}

func testAppendAndReplay(t *testing.T, s store.Store) {
	c := opened("ГРАО-1/2026")
	mustCommit(t, s, c)
	next := store.Commit{Stream: "ГРАО-1/2026", Expect: 1, Events: []store.Event{
		{Type: "stage.started", At: at.Add(time.Hour), Actor: "system", Data: json.RawMessage(`{"stage":2}`)},
		{Type: "task.assigned", At: at.Add(2 * time.Hour), Actor: "boss"},
	}}
	mustCommit(t, s, next)

	ev := events(t, s, "ГРАО-1/2026", 1)
	if len(ev) != 3 {
		t.Fatalf("got %d events, want 3", len(ev))
	}
	wantTypes := []string{"dossier.opened", "stage.started", "task.assigned"}
	for i, e := range ev {
		if e.Seq != int64(i+1) || e.Type != wantTypes[i] || e.Stream != "ГРАО-1/2026" {
			t.Errorf("event %d = seq %d type %q stream %q; want seq %d type %q", i, e.Seq, e.Type, e.Stream, i+1, wantTypes[i])
		}
	}
	if !ev[0].At.Equal(at) || ev[0].Actor != "clerk-1" || string(ev[0].Data) != `{"service":"2079"}` {
		t.Errorf("first event changed in the store: %+v", ev[0])
	}
	if !ev[1].At.Equal(at.Add(time.Hour)) || ev[1].At.Location() != time.UTC {
		t.Errorf("event time read back as %v, want %v in UTC", ev[1].At, at.Add(time.Hour))
	}
	if string(ev[2].Data) != "null" {
		t.Errorf("event without data reads back as %q, want null", ev[2].Data)
	}
	if ev := events(t, s, "ГРАО-1/2026", 3); len(ev) != 1 || ev[0].Seq != 3 {
		t.Errorf("events from 3: %+v", ev)
	}
	if ev := events(t, s, "unknown", 1); len(ev) != 0 {
		t.Errorf("events of an unknown stream: %+v", ev)
	}

	got, err := s.Summary(ctx, "ГРАО-1/2026")
	if err != nil {
		t.Fatal(err)
	}
	want := *c.Summary
	want.Stream, want.Version, want.UpdatedAt = "ГРАО-1/2026", 1, at // the summary was written at version 1
	if !summaryEqual(got, want) {
		t.Errorf("summary = %+v\nwant %+v", got, want)
	}
	if _, err := s.Summary(ctx, "unknown"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("summary of an unknown stream: %v, want ErrNotFound", err)
	}

	// A summary rewritten without an event, its times left zero: they read back zero.
	mustCommit(t, s, store.Commit{Stream: "ГРАО-1/2026", Expect: 3, Summary: &store.Summary{Kind: store.KindDossier, State: "reassigned",
		Deadline: date("2026-03-16")}})
	if m, err := s.Summary(ctx, "ГРАО-1/2026"); err != nil || !m.OpenedAt.IsZero() || !m.UpdatedAt.IsZero() || m.Version != 3 || m.State != "reassigned" {
		t.Errorf("summary without times = %+v, %v; want zero times at version 3", m, err)
	} else if m.NextDue != date("2026-03-16") {
		t.Errorf("summary without a next due date is due %v, want its deadline 2026-03-16", m.NextDue)
	}

	for _, expect := range []int64{0, 1, 2, 4} {
		err := s.Commit(ctx, store.Commit{Stream: "ГРАО-1/2026", Expect: expect, Events: []store.Event{{Type: "late", At: at}}})
		if !errors.Is(err, store.ErrConflict) {
			t.Errorf("commit expecting version %d of a stream at 3: %v, want ErrConflict", expect, err)
		}
	}
	if ev := events(t, s, "ГРАО-1/2026", 1); len(ev) != 3 {
		t.Errorf("refused commits left %d events, want 3", len(ev))
	}
	msgs := outbox(t, s)
	if len(msgs) != 1 || msgs[0].Message.ID == "" || msgs[0].Stream != "ГРАО-1/2026" || msgs[0].Message.Subject != "ГРАО-1/2026" ||
		string(msgs[0].Message.Payload) != `{"n":1}` || msgs[0].Message.Metadata["channel"] != "portal" {
		t.Errorf("outbox = %+v, want the opening message", msgs)
	}
}

func summaryEqual(a, b store.Summary) bool {
	return a.Stream == b.Stream && a.Kind == b.Kind && a.Service == b.Service && a.ServiceVersion == b.ServiceVersion &&
		a.State == b.State && a.Active == b.Active && a.Unit == b.Unit && a.Assignee == b.Assignee && a.Applicant == b.Applicant &&
		a.Deadline == b.Deadline && a.StageDeadline == b.StageDeadline && a.NextDue == b.NextDue && a.OpenedAt.Equal(b.OpenedAt) &&
		a.UpdatedAt.Equal(b.UpdatedAt) && a.Version == b.Version && string(a.Data) == string(b.Data)
}

func testInvalidCommits(t *testing.T, s store.Store) {
	cases := []struct {
		name string
		c    store.Commit
	}{
		{"empty", store.Commit{}},
		{"events without a stream", store.Commit{Events: []store.Event{{Type: "x"}}}},
		{"new stream without events", store.Commit{Stream: "a", Summary: &store.Summary{}}},
		{"event of another stream", store.Commit{Stream: "a", Events: []store.Event{{Stream: "b", Type: "x"}}}},
		{"wrong seq", store.Commit{Stream: "a", Events: []store.Event{{Seq: 2, Type: "x"}}}},
		{"event without a type", store.Commit{Stream: "a", Events: []store.Event{{}}}},
		{"empty key", store.Commit{Stream: "a", Events: []store.Event{{Type: "x"}}, Keys: []store.Key{{Kind: "access"}}}},
		{"data not JSON", store.Commit{Stream: "a", Events: []store.Event{{Type: "x", Data: json.RawMessage("{")}}}},
		{"summary data not JSON", store.Commit{Stream: "a", Events: []store.Event{{Type: "x"}}, Summary: &store.Summary{Data: json.RawMessage("x")}}},
		{"negative version", store.Commit{Stream: "a", Expect: -1, Events: []store.Event{{Type: "x"}}}},
	}
	for _, tc := range cases {
		if err := s.Commit(ctx, tc.c); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", tc.name, err)
		}
	}
	if ev := events(t, s, "a", 1); len(ev) != 0 {
		t.Errorf("invalid commits wrote %d events", len(ev))
	}
	if _, err := s.Dashboard(ctx, store.Query{Limit: store.MaxLimit + 1}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("dashboard with a limit too large: %v, want ErrInvalid", err)
	}
	if _, err := s.Dashboard(ctx, store.Query{By: "opened"}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("an unknown order: %v, want ErrInvalid", err)
	}
	deadlineCursor := store.EncodeCursor(store.Summary{Stream: "a", Deadline: date("2026-03-01")}, store.ByDeadline)
	if _, err := s.Dashboard(ctx, store.Query{By: store.ByNextDue, After: deadlineCursor}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("a deadline cursor in the next due order: %v, want ErrInvalid", err)
	}
	if _, err := s.Dashboard(ctx, store.Query{After: "!!"}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("dashboard with a bad cursor: %v, want ErrInvalid", err)
	}
}

// testConflict: writers that read the same version race; exactly one wins.
func testConflict(t *testing.T, s store.Store) {
	const writers = 8
	for round := range 5 {
		stream := fmt.Sprintf("S-%d", round)
		mustCommit(t, s, opened(stream))
		errs := make([]error, writers)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = s.Commit(ctx, store.Commit{Stream: stream, Expect: 1,
					Events:  []store.Event{{Type: "stage.started", At: at, Actor: fmt.Sprint(i)}},
					Summary: &store.Summary{Kind: store.KindDossier, State: fmt.Sprint("by-", i)},
					Outbox:  []store.Message{{Type: "stage.started", Subject: stream}}})
			}()
		}
		close(start)
		wg.Wait()
		won := -1
		for i, err := range errs {
			switch {
			case err == nil && won >= 0:
				t.Fatalf("round %d: writers %d and %d both committed at version 1", round, won, i)
			case err == nil:
				won = i
			case !errors.Is(err, store.ErrConflict):
				t.Fatalf("round %d: writer %d: %v, want ErrConflict", round, i, err)
			}
		}
		if won < 0 {
			t.Fatalf("round %d: no writer committed", round)
		}
		ev := events(t, s, stream, 1)
		if len(ev) != 2 || ev[1].Actor != fmt.Sprint(won) {
			t.Errorf("round %d: events %+v, want the opening and writer %d's", round, ev, won)
		}
		if m, err := s.Summary(ctx, stream); err != nil || m.State != fmt.Sprint("by-", won) || m.Version != 2 {
			t.Errorf("round %d: summary %+v, %v; want writer %d's at version 2", round, m, err, won)
		}
	}
	if n := len(outbox(t, s)); n != 5*2 {
		t.Errorf("outbox holds %d messages, want %d (the losers' must not be there)", n, 5*2)
	}
}

func testInbox(t *testing.T, s store.Store) {
	c := opened("ESOED-7")
	c.Inbox = "msg-1"
	c.Keys = []store.Key{{Kind: "esoed-doc", Value: "guid-1"}}
	mustCommit(t, s, c)

	for id, want := range map[string]bool{"msg-1": true, "msg-2": false} {
		if ok, err := s.Applied(ctx, id); err != nil || ok != want {
			t.Errorf("Applied(%s) = %v, %v; want %v", id, ok, err, want)
		}
	}
	// The same message delivered again, whatever the consumer makes of it, writes nothing.
	again := store.Commit{Stream: "ESOED-7", Expect: 1, Inbox: "msg-1",
		Events:  []store.Event{{Type: "document.filed", At: at}},
		Summary: &store.Summary{Kind: store.KindDossier, State: "changed"},
		Outbox:  []store.Message{{Type: "x"}},
		Keys:    []store.Key{{Kind: "esoed-doc", Value: "guid-2"}}}
	if err := s.Commit(ctx, again); !errors.Is(err, store.ErrAlreadyApplied) {
		t.Fatalf("second commit of msg-1: %v, want ErrAlreadyApplied", err)
	}
	// A redelivery of the message that opened the stream is refused as applied, not as a conflict.
	if err := s.Commit(ctx, c); !errors.Is(err, store.ErrAlreadyApplied) {
		t.Errorf("opening commit again: %v, want ErrAlreadyApplied", err)
	}
	// The message consumed and ignored: an inbox id alone.
	mustCommit(t, s, store.Commit{Inbox: "msg-ignored"})
	if err := s.Commit(ctx, store.Commit{Inbox: "msg-ignored"}); !errors.Is(err, store.ErrAlreadyApplied) {
		t.Errorf("ignored message again: %v, want ErrAlreadyApplied", err)
	}
	// A commit refused for another reason does not record its message: the retry applies it.
	stale := store.Commit{Stream: "ESOED-7", Expect: 5, Inbox: "msg-2", Events: []store.Event{{Type: "document.filed", At: at}}}
	if err := s.Commit(ctx, stale); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale commit: %v, want ErrConflict", err)
	}
	if ok, err := s.Applied(ctx, "msg-2"); err != nil || ok {
		t.Errorf("Applied(msg-2) after its refused commit = %v, %v; want false", ok, err)
	}
	stale.Expect = 1
	mustCommit(t, s, stale)

	if ev := events(t, s, "ESOED-7", 1); len(ev) != 2 || ev[1].Type != "document.filed" {
		t.Errorf("events %+v, want the opening and msg-2's", ev)
	}
	if m, _ := s.Summary(ctx, "ESOED-7"); m.State != "registered" {
		t.Errorf("summary state %q: the redelivered message changed it", m.State)
	}
	if _, err := s.FindByKey(ctx, "esoed-doc", "guid-2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("key of the redelivered message: %v, want ErrNotFound", err)
	}
	if n := len(outbox(t, s)); n != 1 {
		t.Errorf("outbox holds %d messages, want 1", n)
	}

	// Pruning keeps what was applied after its time and forgets what was applied before.
	if n, err := s.PruneInbox(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Errorf("PruneInbox an hour back = %d, %v; want 0", n, err)
	}
	if err := s.Commit(ctx, store.Commit{Inbox: "msg-ignored"}); !errors.Is(err, store.ErrAlreadyApplied) {
		t.Errorf("after pruning nothing: %v, want ErrAlreadyApplied", err)
	}
	if n, err := s.PruneInbox(ctx, time.Now().Add(time.Minute)); err != nil || n != 3 {
		t.Errorf("PruneInbox = %d, %v; want 3 (msg-1, msg-ignored, msg-2)", n, err)
	}
	mustCommit(t, s, store.Commit{Inbox: "msg-ignored"})
}

func testKeys(t *testing.T, s store.Store) {
	c := opened("A-1")
	c.Keys = []store.Key{{Kind: "esoed-doc", Value: "guid-1"}, {Kind: "access", Value: "h1"}}
	mustCommit(t, s, c)
	for _, k := range c.Keys {
		if got, err := s.FindByKey(ctx, k.Kind, k.Value); err != nil || got != "A-1" {
			t.Errorf("FindByKey(%s, %s) = %q, %v; want A-1", k.Kind, k.Value, got, err)
		}
	}
	// The same value under another kind is another key.
	b := opened("B-1")
	b.Keys = []store.Key{{Kind: "esoed-doc", Value: "h1"}}
	mustCommit(t, s, b)
	if got, _ := s.FindByKey(ctx, "esoed-doc", "h1"); got != "B-1" {
		t.Errorf("esoed-doc h1 is %q, want B-1", got)
	}
	// A stream may name its own keys again.
	mustCommit(t, s, store.Commit{Stream: "A-1", Expect: 1, Events: []store.Event{{Type: "x", At: at}}, Keys: []store.Key{{Kind: "access", Value: "h1"}}})

	taken := opened("C-1")
	taken.Keys = []store.Key{{Kind: "esoed-doc", Value: "guid-new"}, {Kind: "esoed-doc", Value: "guid-1"}}
	taken.Inbox = "m-c"
	if err := s.Commit(ctx, taken); !errors.Is(err, store.ErrKeyTaken) {
		t.Fatalf("commit with A-1's key: %v, want ErrKeyTaken", err)
	}
	if _, err := s.Summary(ctx, "C-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("refused commit left a summary: %v", err)
	}
	if ev := events(t, s, "C-1", 1); len(ev) != 0 {
		t.Errorf("refused commit left %d events", len(ev))
	}
	if _, err := s.FindByKey(ctx, "esoed-doc", "guid-new"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("refused commit left its first key: %v", err)
	}
	taken.Keys = taken.Keys[:1]
	mustCommit(t, s, taken) // its inbox id was not recorded either
	if _, err := s.FindByKey(ctx, "access", "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown key: %v, want ErrNotFound", err)
	}
	if n := len(outbox(t, s)); n != 3 {
		t.Errorf("outbox holds %d messages, want 3", n)
	}
}

// testSequences takes numbers from a and b at once: each sequence gives 1..n, no gaps, no
// duplicates.
func testSequences(t *testing.T, a, b store.Store) {
	const workers, each = 8, 200
	got := make([][]int64, workers)
	var wg sync.WaitGroup
	var failed sync.Once
	for w := range workers {
		s := a
		if w%2 == 1 {
			s = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				n, err := s.NextSequence(ctx, "94-00", 2026)
				if err != nil {
					failed.Do(func() { t.Errorf("NextSequence: %v", err) })
					return
				}
				got[w] = append(got[w], n)
			}
		}()
	}
	wg.Wait()
	var all []int64
	for _, g := range got {
		if !slices.IsSorted(g) {
			t.Errorf("one caller's numbers go down: %v", g)
		}
		all = append(all, g...)
	}
	slices.Sort(all)
	for i, n := range all {
		if n != int64(i+1) {
			t.Fatalf("numbers sorted: position %d holds %d; want 1..%d without gaps or duplicates", i, n, workers*each)
		}
	}
	for _, c := range []struct {
		name string
		year int
	}{{"94-00", 2027}, {"94-01", 2026}} {
		if n, err := b.NextSequence(ctx, c.name, c.year); err != nil || n != 1 {
			t.Errorf("first number of %s/%d = %d, %v; want 1", c.name, c.year, n, err)
		}
	}
}

// testNumbered registers dossiers from a and b at once, some of them refused: the numbers of
// the dossiers committed are 1..n without gaps, each the stream's own.
func testNumbered(t *testing.T, a, b store.Store) {
	const workers, each = 6, 30
	holder := opened("holder")
	holder.Keys = []store.Key{{Kind: "access", Value: "taken"}}
	mustCommit(t, a, holder)
	var mu sync.Mutex
	var used []int64
	var wg sync.WaitGroup
	for w := range workers {
		s := a
		if w%2 == 1 {
			s = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				refuse := i%5 == 4
				n, err := s.CommitNumbered(ctx, "94-00", 2026, func(n int64) (store.Commit, error) {
					c := opened(fmt.Sprintf("94-00-%d/2026", n))
					switch {
					case refuse && w%2 == 0:
						return c, errors.New("the service is closed")
					case refuse:
						c.Keys = []store.Key{{Kind: "access", Value: "taken"}} // ErrKeyTaken
					}
					return c, nil
				})
				switch {
				case refuse && err == nil:
					t.Errorf("worker %d: refused registration %d was committed as %d", w, i, n)
				case !refuse && err != nil:
					t.Errorf("worker %d: registration %d: %v", w, i, err)
				case err == nil:
					mu.Lock()
					used = append(used, n)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	slices.Sort(used)
	for i, n := range used {
		if n != int64(i+1) {
			t.Fatalf("numbers used, sorted: position %d holds %d; want 1..%d without gaps", i, n, len(used))
		}
		if m, err := b.Summary(ctx, fmt.Sprintf("94-00-%d/2026", n)); err != nil || m.Version != 1 {
			t.Errorf("dossier %d: %+v, %v", n, m, err)
		}
	}
	if want := workers * each * 4 / 5; len(used) != want {
		t.Errorf("%d registrations committed, want %d", len(used), want)
	}
	if n, err := a.NextSequence(ctx, "94-00", 2026); err != nil || n != int64(len(used)+1) {
		t.Errorf("next number after the registrations = %d, %v; want %d", n, err, len(used)+1)
	}
}

func testRaiseOnce(t *testing.T, a, b store.Store) {
	const callers = 8
	due := date("2026-03-16")
	var wg sync.WaitGroup
	raised := make([]bool, callers)
	for i := range callers {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.RaiseOnce(ctx, "ГРАО-1/2026", "deadline-near", due)
			if err != nil {
				t.Errorf("RaiseOnce: %v", err)
			}
			raised[i] = ok
		}()
	}
	wg.Wait()
	if n := len(slices.DeleteFunc(slices.Clone(raised), func(b bool) bool { return !b })); n != 1 {
		t.Fatalf("%d of %d callers raised deadline-near, want 1", n, callers)
	}
	for _, c := range []struct {
		stream, kind string
		due          calendar.Date
		want         bool
	}{
		{"ГРАО-1/2026", "deadline-near", due, false},
		{"ГРАО-1/2026", "deadline-missed", due, true},
		{"ГРАО-1/2026", "deadline-near", date("2026-03-20"), true}, // the deadline moved
		{"ГРАО-2/2026", "deadline-near", due, true},
		{"ГРАО-2/2026", "deadline-near", due, false},
	} {
		if ok, err := b.RaiseOnce(ctx, c.stream, c.kind, c.due); err != nil || ok != c.want {
			t.Errorf("RaiseOnce(%s, %s, %s) = %v, %v; want %v", c.stream, c.kind, c.due, ok, err, c.want)
		}
	}
}

// testSharedCommits: a stream written through one store is read and continued through the other.
func testSharedCommits(t *testing.T, a, b store.Store) {
	c := opened("X-1")
	c.Keys = []store.Key{{Kind: "access", Value: "k"}}
	c.Inbox = "m1"
	mustCommit(t, a, c)
	if got, err := b.FindByKey(ctx, "access", "k"); err != nil || got != "X-1" {
		t.Errorf("other store: FindByKey = %q, %v", got, err)
	}
	if err := b.Commit(ctx, c); !errors.Is(err, store.ErrAlreadyApplied) {
		t.Errorf("other store: same message again: %v, want ErrAlreadyApplied", err)
	}
	mustCommit(t, b, store.Commit{Stream: "X-1", Expect: 1, Events: []store.Event{{Type: "x", At: at}}})
	if err := a.Commit(ctx, store.Commit{Stream: "X-1", Expect: 1, Events: []store.Event{{Type: "y", At: at}}}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("first store after the other moved the stream: %v, want ErrConflict", err)
	}
	if ev := events(t, a, "X-1", 1); len(ev) != 2 {
		t.Errorf("first store reads %d events, want 2", len(ev))
	}
}

// dashboardFixture commits summaries covering every filter; it returns them.
func dashboardFixture(t *testing.T, s store.Store) []store.Summary {
	units := []string{"ГРАО", "МДТ", "ТСУ"}
	states := []string{"registered", "in-progress", "suspended", "closed"}
	var all []store.Summary
	for i := range 60 {
		c := opened(fmt.Sprintf("D-%03d", i))
		m := c.Summary
		m.Unit = units[i%3]
		m.Assignee = fmt.Sprintf("user-%d", i%5)
		m.Applicant = fmt.Sprintf("h:%d", i%7)
		m.Service = fmt.Sprintf("svc-%d", i%4)
		m.State = states[i%len(states)]
		m.Active = m.State != "closed"
		m.Kind = store.KindDossier
		if i%6 == 5 {
			m.Kind = store.KindFeedback
		}
		m.Deadline = date("2026-03-01").AddDays(i % 17) // ties, so the stream breaks them
		if i%10 == 9 {
			m.Deadline = calendar.Date{}
		}
		// A nearer deadline (a stage's, an irregularity's) on some, before and after others'
		// deadlines; one without an overall deadline; the rest leave it to the store, which
		// stores the deadline.
		if i%3 == 1 {
			m.NextDue = date("2026-02-26").AddDays(i % 11)
		}
		mustCommit(t, s, c)
		m.Stream, m.Version, m.UpdatedAt = c.Stream, 1, at
		if m.NextDue.IsZero() {
			m.NextDue = m.Deadline
		}
		all = append(all, *m)
	}
	return all
}

func testDashboard(t *testing.T, s store.Store) {
	all := dashboardFixture(t, s)
	ordered := func(by store.Order) []store.Summary {
		date := func(m store.Summary) string {
			if by == store.ByNextDue {
				return store.DateColumn(m.NextDue)
			}
			return store.DateColumn(m.Deadline)
		}
		out := slices.Clone(all)
		sort.Slice(out, func(i, j int) bool {
			a, b := date(out[i]), date(out[j])
			return a < b || a == b && out[i].Stream < out[j].Stream
		})
		return out
	}
	cases := []struct {
		name string
		q    store.Query
		keep func(store.Summary) bool
	}{
		{"all", store.Query{}, func(store.Summary) bool { return true }},
		{"unit", store.Query{Unit: "МДТ"}, func(m store.Summary) bool { return m.Unit == "МДТ" }},
		{"assignee", store.Query{Assignee: "user-2"}, func(m store.Summary) bool { return m.Assignee == "user-2" }},
		{"service", store.Query{Service: "svc-1"}, func(m store.Summary) bool { return m.Service == "svc-1" }},
		{"applicant", store.Query{Applicant: "h:3"}, func(m store.Summary) bool { return m.Applicant == "h:3" }},
		{"kind", store.Query{Kind: store.KindFeedback}, func(m store.Summary) bool { return m.Kind == store.KindFeedback }},
		{"states", store.Query{States: []string{"registered", "suspended"}}, func(m store.Summary) bool {
			return m.State == "registered" || m.State == "suspended"
		}},
		{"deadline before", store.Query{DeadlineBefore: date("2026-03-05")}, func(m store.Summary) bool {
			return !m.Deadline.IsZero() && m.Deadline.Before(date("2026-03-05"))
		}},
		{"deadline range", store.Query{DeadlineFrom: date("2026-03-05"), DeadlineBefore: date("2026-03-10")}, func(m store.Summary) bool {
			return !m.Deadline.IsZero() && !m.Deadline.Before(date("2026-03-05")) && m.Deadline.Before(date("2026-03-10"))
		}},
		{"unit, state and deadline", store.Query{Unit: "ГРАО", States: []string{"in-progress", "registered"}, DeadlineFrom: date("2026-03-03")},
			func(m store.Summary) bool {
				return m.Unit == "ГРАО" && (m.State == "in-progress" || m.State == "registered") && (m.Deadline.IsZero() || !m.Deadline.Before(date("2026-03-03")))
			}},
		{"active", store.Query{Active: true}, func(m store.Summary) bool { return m.Active }},
		{"active of a unit and assignee", store.Query{Active: true, Unit: "ТСУ", Assignee: "user-1"}, func(m store.Summary) bool {
			return m.Active && m.Unit == "ТСУ" && m.Assignee == "user-1"
		}},
		{"active of a service, missed", store.Query{Active: true, Service: "svc-2", DeadlineBefore: date("2026-03-12")}, func(m store.Summary) bool {
			return m.Active && m.Service == "svc-2" && !m.Deadline.IsZero() && m.Deadline.Before(date("2026-03-12"))
		}},
		{"nothing", store.Query{Unit: "none"}, func(store.Summary) bool { return false }},
		// By the next due date: the deadline watch's query, a clerk's "due soonest".
		{"by next due", store.Query{By: store.ByNextDue}, func(store.Summary) bool { return true }},
		{"active, next due before", store.Query{By: store.ByNextDue, Kind: store.KindDossier, Active: true, DeadlineBefore: date("2026-03-04")},
			func(m store.Summary) bool {
				return m.Kind == store.KindDossier && m.Active && !m.NextDue.IsZero() && m.NextDue.Before(date("2026-03-04"))
			}},
		{"active of an assignee, next due in a range", store.Query{By: store.ByNextDue, Active: true, Assignee: "user-3",
			DeadlineFrom: date("2026-02-28"), DeadlineBefore: date("2026-03-09")}, func(m store.Summary) bool {
			return m.Active && m.Assignee == "user-3" && !m.NextDue.IsZero() && !m.NextDue.Before(date("2026-02-28")) && m.NextDue.Before(date("2026-03-09"))
		}},
		{"active of a unit by next due", store.Query{By: store.ByNextDue, Active: true, Unit: "ГРАО"}, func(m store.Summary) bool {
			return m.Active && m.Unit == "ГРАО"
		}},
	}
	// The fixture must tell the orders apart, or the cases above could pass on the wrong column.
	if byDeadline, byNext := ordered(store.ByDeadline), ordered(store.ByNextDue); slices.EqualFunc(byDeadline, byNext, summaryEqual) {
		t.Fatal("the fixture orders alike by deadline and by next due")
	}
	for _, tc := range cases {
		sorted := ordered(tc.q.By)
		for _, limit := range []int{0, 1, 7} {
			t.Run(fmt.Sprintf("%s/limit %d", tc.name, limit), func(t *testing.T) {
				var want []store.Summary
				for _, m := range sorted {
					if tc.keep(m) {
						want = append(want, m)
					}
				}
				q := tc.q
				q.Limit = limit
				var got []store.Summary
				for pages := 0; ; pages++ {
					if pages > len(all)+1 {
						t.Fatal("the cursor never ends")
					}
					p, err := s.Dashboard(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					if max := max(limit, 1); limit > 0 && len(p.Items) > max {
						t.Fatalf("page of %d, limit %d", len(p.Items), limit)
					}
					got = append(got, p.Items...)
					if p.Next == "" {
						break
					}
					q.After = p.Next
				}
				if len(got) != len(want) {
					t.Fatalf("got %d summaries, want %d", len(got), len(want))
				}
				for i := range got {
					if !summaryEqual(got[i], want[i]) {
						t.Fatalf("summary %d = %+v\nwant %+v", i, got[i], want[i])
					}
				}
			})
		}
	}
}

// recorder is a publisher that records what it was given.
type recorder struct {
	mu   sync.Mutex
	got  []store.Message
	fail func(store.Message) error
	// slow makes each publication take up to a millisecond, as a transport's does, so that
	// relays running side by side overtake each other unless their claims prevent it.
	slow bool
}

func (r *recorder) publish(_ context.Context, m store.Message) error {
	if r.slow {
		time.Sleep(time.Duration(rand.IntN(1000)) * time.Microsecond)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		if err := r.fail(m); err != nil {
			return err
		}
	}
	r.got = append(r.got, m)
	return nil
}

// interleaved commits streams × each messages, one commit per message, alternating streams.
// Message i of stream s has ID "<s>#<i>".
func interleaved(t *testing.T, s store.Store, streams, each int) {
	t.Helper()
	for i := range each {
		for st := range streams {
			stream := fmt.Sprintf("R-%d", st)
			c := store.Commit{Stream: stream, Expect: int64(i), Events: []store.Event{{Type: "x", At: at}},
				Outbox: []store.Message{{ID: fmt.Sprintf("%s#%03d", stream, i), Type: "x", Subject: stream}}}
			mustCommit(t, s, c)
		}
	}
}

// checkOrder checks that got holds each of streams × each messages once, each stream's in order.
func checkOrder(t *testing.T, got []store.Message, streams, each int) {
	t.Helper()
	seen := map[string]bool{}
	last := map[string]string{}
	for _, m := range got {
		if seen[m.ID] {
			t.Errorf("message %s published twice", m.ID)
		}
		seen[m.ID] = true
		if m.ID < last[m.Subject] {
			t.Errorf("stream %s: %s published after %s", m.Subject, m.ID, last[m.Subject])
		}
		last[m.Subject] = m.ID
	}
	if len(seen) != streams*each {
		t.Errorf("%d messages published, want %d", len(seen), streams*each)
	}
}

func testRelayOrder(t *testing.T, s store.Store) {
	interleaved(t, s, 3, 20)
	var r recorder
	relay := store.NewRelay(s, r.publish, store.RelayOptions{Batch: 7})
	n, err := relay.Drain(ctx)
	if err != nil || n != 60 {
		t.Fatalf("Drain = %d, %v; want 60", n, err)
	}
	checkOrder(t, r.got, 3, 20)
	if n, err := relay.Drain(ctx); err != nil || n != 0 {
		t.Errorf("second Drain = %d, %v; want nothing left", n, err)
	}
}

// testRelayCrash: a relay claims and publishes, then dies before marking; once its lease ends
// another relay publishes the message again, with the same ID.
func testRelayCrash(t *testing.T, s store.Store) {
	mustCommit(t, s, opened("K-1"))
	const lease = time.Second // long enough that the Drain below always runs within it
	claimed, err := s.ClaimOutbox(ctx, 10, lease)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim = %d rows, %v", len(claimed), err)
	}
	var r recorder
	relay := store.NewRelay(s, r.publish, store.RelayOptions{})
	if n, err := relay.Drain(ctx); err != nil || n != 0 {
		t.Fatalf("Drain during the dead relay's lease = %d, %v; want 0", n, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(r.got) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the message was not published again after the lease ended")
		}
		time.Sleep(lease / 4)
		if _, err := relay.Drain(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if len(r.got) != 1 || r.got[0].ID != claimed[0].Message.ID {
		t.Errorf("published again: %+v, want message %s", r.got, claimed[0].Message.ID)
	}
	if n, _ := relay.Drain(ctx); n != 0 {
		t.Errorf("published %d more after marking", n)
	}
}

// testRelayFailure: a failed publication holds its stream's later messages back, not the others'.
func testRelayFailure(t *testing.T, s store.Store) {
	interleaved(t, s, 2, 3)
	broken := true
	r := recorder{fail: func(m store.Message) error {
		if broken && m.ID == "R-0#001" {
			return errors.New("transport down")
		}
		return nil
	}}
	relay := store.NewRelay(s, r.publish, store.RelayOptions{})
	if _, err := relay.Drain(ctx); err == nil {
		t.Error("Drain with a failed publication returned no error")
	}
	var ids []string
	for _, m := range r.got {
		ids = append(ids, m.ID)
	}
	if want := []string{"R-0#000", "R-1#000", "R-1#001", "R-1#002"}; !slices.Equal(ids, want) {
		t.Errorf("published %v, want %v", ids, want)
	}
	broken = false
	if n, err := relay.Drain(ctx); err != nil || n != 2 {
		t.Errorf("Drain after the repair = %d, %v; want 2", n, err)
	}
	checkOrder(t, r.got, 2, 3)
}

// testRelays runs relays on a and b at once while messages are committed: each is published
// once, each stream's in order.
func testRelays(t *testing.T, a, b store.Store) {
	const streams, each = 4, 25
	r := recorder{slow: true}
	cctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	relays := []*store.Relay{}
	for i, s := range []store.Store{a, b, a, b} {
		relay := store.NewRelay(s, r.publish, store.RelayOptions{Batch: 3 + i, Interval: 5 * time.Millisecond})
		relays = append(relays, relay)
		wg.Add(1)
		go func() { defer wg.Done(); _ = relay.Run(cctx) }()
	}
	interleaved(t, a, streams, each)
	deadline := time.Now().Add(20 * time.Second)
	for {
		r.mu.Lock()
		n := len(r.got)
		r.mu.Unlock()
		if n >= streams*each || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	checkOrder(t, r.got, streams, each)
	if rows, err := b.ClaimOutbox(ctx, 10, time.Minute); err != nil || len(rows) != 0 {
		t.Errorf("outbox after the relays: %d rows, %v", len(rows), err)
	}
}
