package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/aiskao/aiskao/store"
)

// SQLStore is a store built on the common SQL store logic: it groups marks and appends, and
// sweeps expired keys on demand.
type SQLStore interface {
	Grouping
	// Sweep deletes the expired idempotency keys, at most chunk in one delete, and returns how
	// many it deleted.
	Sweep(chunk int) (int64, error)
}

// Options are the settings RunSQL's tests give a store; zero fields take the store's defaults.
type Options struct {
	MarkBatch     int           // most marks in one commit
	SweepInterval time.Duration // how often the sweeper runs
}

// SQLKit is what RunSQL needs to open a SQL store and look into its database.
type SQLKit struct {
	// Place returns a new, empty place for the stores of one test: a folder, a schema. It is
	// removed when the test ends.
	Place func(t testing.TB) string
	// Open opens a store on place with opts, failing the test when it cannot.
	Open func(t testing.TB, place string, opts Options) SQLStore
	// Keys returns how many idempotency keys, expired or not, the database at place holds, read
	// beside the store.
	Keys func(t testing.TB, place string) int
}

// RunSQL runs the tests of what the SQL stores do alike beyond the contract (Run): durability,
// stores sharing a database, the grouping of marks and the sweeping of expired keys.
func RunSQL(t *testing.T, kit SQLKit) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, kit SQLKit)
	}{
		{"SurvivesReopen", testSurvivesReopen},
		{"SharedBetweenStores", testSharedBetweenStores},
		{"SweepDeletesOnlyExpired", testSweepDeletesOnlyExpired},
		{"SweeperRunsInBackground", testSweeperRunsInBackground},
		{"MarksAreGrouped", testMarksAreGrouped},
		{"MarkBatchBoundsGroup", testMarkBatchBoundsGroup},
		{"MarkContextCancelled", testMarkContextCancelled},
		{"CloseCommitsQueuedMarks", testCloseCommitsQueuedMarks},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, kit) })
	}
}

// open opens a store on place that is closed when the test ends.
func (kit SQLKit) open(t *testing.T, place string, opts Options) SQLStore {
	t.Helper()
	s := kit.Open(t, place, opts)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func testSurvivesReopen(t *testing.T, kit SQLKit) {
	place := kit.Place(t)
	s := kit.Open(t, place, Options{})
	d := store.DeadLetter{MessageID: "m1", Route: "входящи", Error: "грешка", Attempts: 3,
		Metadata: map[string]string{"subject": "ОбА-1/2024", "bin": "\xff\x00"}, Payload: []byte("\x00\xffданни")}
	id := mustAdd(t, s, d)
	mark(t, s, "route:a", "m1", time.Hour)
	putState(t, s, "route-a", "cursor", []byte("42"))
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = kit.open(t, place, Options{})
	got, err := s.GetDeadLetter(ctx(t), id)
	if err != nil {
		t.Fatalf("dead letter lost on reopen: %v", err)
	}
	if got.Route != d.Route || string(got.Payload) != string(d.Payload) || !maps.Equal(got.Metadata, d.Metadata) {
		t.Errorf("dead letter changed on reopen: %+v", got)
	}
	if !seen(t, s, "route:a", "m1") {
		t.Error("mark lost on reopen")
	}
	if v := getState(t, s, "route-a", "cursor"); string(v) != "42" {
		t.Errorf("state lost on reopen: %q", v)
	}
}

// testSharedBetweenStores: two stores on one database, as two hub processes, see each other's
// dead letters, marks and state.
func testSharedBetweenStores(t *testing.T, kit SQLKit) {
	place := kit.Place(t)
	a, b := kit.open(t, place, Options{}), kit.open(t, place, Options{})
	id := mustAdd(t, a, store.DeadLetter{Route: "r", Error: "e", Payload: []byte("p")})
	mark(t, a, "route:r", "k", time.Hour)
	putState(t, a, "route-r", "cursor", []byte("7"))
	if d, err := b.GetDeadLetter(ctx(t), id); err != nil || string(d.Payload) != "p" {
		t.Errorf("dead letter added by one store, read by the other: %+v, %v", d, err)
	}
	if !seen(t, b, "route:r", "k") {
		t.Error("key marked by one store, not seen by the other")
	}
	if v := getState(t, b, "route-r", "cursor"); string(v) != "7" {
		t.Errorf("state put by one store, read by the other: %q", v)
	}
	if err := b.DeleteDeadLetter(ctx(t), id); err != nil {
		t.Errorf("delete from the other store: %v", err)
	}
}

func testSweepDeletesOnlyExpired(t *testing.T, kit SQLKit) {
	place := kit.Place(t)
	const chunk = 7
	s := kit.open(t, place, Options{})
	const expired = chunk*3 + 2 // more than one chunk
	var wg sync.WaitGroup
	for i := range expired {
		wg.Go(func() {
			if err := s.Mark(context.Background(), "route:a", fmt.Sprint("old-", i), -time.Second); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	mark(t, s, "route:a", "fresh", time.Hour)
	n, err := s.Sweep(chunk)
	if err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	if n != expired {
		t.Errorf("Sweep deleted %d keys, want %d", n, expired)
	}
	if left := kit.Keys(t, place); left != 1 {
		t.Errorf("%d keys left after Sweep, want only the fresh one", left)
	}
	if !seen(t, s, "route:a", "fresh") {
		t.Error("Sweep deleted a key that has not expired")
	}
}

func testSweeperRunsInBackground(t *testing.T, kit SQLKit) {
	place := kit.Place(t)
	s := kit.open(t, place, Options{SweepInterval: time.Second}) // the least allowed
	mark(t, s, "route:a", "old", -time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for kit.Keys(t, place) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("expired key not swept within 10s with a 1s sweep interval")
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// testMarksAreGrouped checks that concurrent marks share commits, and that every caller is
// released only after its commit. Grouping needs the callers to arrive while a commit is under
// way; on a machine so loaded that they come one at a time, every mark may commit alone, so the
// round is tried three times, each with a store of its own, before grouping is taken as missing.
func testMarksAreGrouped(t *testing.T, kit SQLKit) {
	const callers, rounds = 200, 3
	for round := 1; ; round++ {
		s := kit.open(t, kit.Place(t), Options{})
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range callers {
			wg.Go(func() {
				<-start
				key := fmt.Sprint("k", i)
				if err := s.Mark(context.Background(), "route:a", key, time.Hour); err != nil {
					t.Error(err)
					return
				}
				// Released only after the commit: any connection sees the key.
				if ok, err := s.Seen(context.Background(), "route:a", key); err != nil || !ok {
					t.Errorf("key %s not committed when Mark returned: seen %v, %v", key, ok, err)
				}
			})
		}
		close(start)
		wg.Wait()
		commits, marked := s.MarkStats()
		if marked != callers {
			t.Fatalf("%d marks committed, want %d", marked, callers)
		}
		t.Logf("round %d: %d concurrent marks in %d commits", round, callers, commits)
		if commits < callers {
			return
		}
		if round == rounds {
			t.Errorf("%d concurrent marks took %d commits in each of %d rounds: not grouped", callers, commits, rounds)
			return
		}
	}
}

func testMarkBatchBoundsGroup(t *testing.T, kit SQLKit) {
	s := kit.open(t, kit.Place(t), Options{MarkBatch: 3})
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Go(func() {
			if err := s.Mark(context.Background(), "s", fmt.Sprint(i), time.Hour); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if c, _ := s.MarkStats(); c < 10 {
		t.Errorf("30 marks with mark_batch 3 took %d commits, want at least 10", c)
	}
}

func testMarkContextCancelled(t *testing.T, kit SQLKit) {
	s := kit.open(t, kit.Place(t), Options{})
	c, cancel := context.WithCancel(context.Background())
	cancel()
	// Either outcome is allowed for the mark itself, but an ended context must be reported
	// unless the mark was already committed.
	if err := s.Mark(c, "s", "k", time.Hour); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("Mark with a cancelled context: %v, want context.Canceled or nil", err)
	}
}

// testCloseCommitsQueuedMarks: a Mark that Close overtakes either fails as closed or is durable.
func testCloseCommitsQueuedMarks(t *testing.T, kit SQLKit) {
	place := kit.Place(t)
	s := kit.Open(t, place, Options{})
	const callers = 50
	errs := make(chan error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() { errs <- s.Mark(context.Background(), "s", fmt.Sprint(i), time.Hour) })
	}
	go s.Close()
	wg.Wait()
	close(errs)
	s.Close()
	// The error of a Mark after Close, whatever the store calls it.
	closedErr := s.Mark(context.Background(), "s", "after", time.Hour)
	if closedErr == nil {
		t.Fatal("Mark after Close succeeded")
	}
	ok := 0
	for err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, closedErr):
		default:
			t.Errorf("Mark during Close: %v", err)
		}
	}
	if n := kit.Keys(t, place); n != ok {
		t.Errorf("%d marks reported durable, %d in the database", ok, n)
	}
}
