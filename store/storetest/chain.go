package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aiskao/aiskao/store"
)

// Tamper changes a store's journal behind its back, as someone with write access to its database
// could. Each store's tests implement it in their own SQL.
type Tamper interface {
	// SetResult sets the result of the entry with sequence number seq.
	SetResult(t *testing.T, s store.Store, seq int64, result string)
	// Delete removes the entry with sequence number seq.
	Delete(t *testing.T, s store.Store, seq int64)
	// Swap exchanges the sequence numbers of two entries.
	Swap(t *testing.T, s store.Store, a, b int64)
	// Redact removes the content of the entry with sequence number seq as pruning would, now.
	Redact(t *testing.T, s store.Store, seq int64)
}

// RunChain runs the conformance tests of the journal's hash chain, its verification and pruning
// against stores made by newStore, which must also be store.ChainSource and store.Pruner.
func RunChain(t *testing.T, newStore func(t *testing.T) store.Store, tamper Tamper) {
	t.Helper()
	open := func(t *testing.T) store.Store {
		t.Helper()
		s := newStore(t)
		t.Cleanup(func() { _ = s.Close() })
		if _, ok := s.(store.ChainSource); !ok {
			t.Fatalf("%T is not a store.ChainSource", s)
		}
		if _, ok := s.(store.Pruner); !ok {
			t.Fatalf("%T is not a store.Pruner", s)
		}
		return s
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store, tamper Tamper)
	}{
		{"ChainAppends", testChainAppends},
		{"ChainConcurrentAppends", testChainConcurrent},
		{"ChainEmptyVerifies", testChainEmpty},
		{"ChainRepeatedIDFailsAlone", testChainRepeatedID},
		{"VerifyDetectsEditedEntry", testVerifyEdited},
		{"VerifyDetectsDeletedEntry", testVerifyDeleted},
		{"VerifyDetectsDeletedLastEntry", testVerifyDeletedLast},
		{"VerifyDetectsReorderedEntries", testVerifyReordered},
		{"VerifyDetectsEarlyRedaction", testVerifyRedactedEarly},
		{"PruneRedactsAndKeepsChain", testPruneRedacts},
		{"PruneDropsPrefixBehindAnchor", testPruneDrops},
		{"PruneNothingJournalsNothing", testPruneNothing},
		{"PruneDeadLetters", testPruneDeadLetters},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t), tamper) })
	}
}

func verify(t *testing.T, s store.Store, policy *store.JournalRetention) (store.Verified, error) {
	t.Helper()
	return store.Verify(ctx(t), s.(store.ChainSource), policy)
}

func mustVerify(t *testing.T, s store.Store, policy *store.JournalRetention) store.Verified {
	t.Helper()
	v, err := verify(t, s, policy)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return v
}

// appendN journals n entries a minute apart from start and returns their ids in order.
func appendN(t *testing.T, s store.Store, n int, kind string, start time.Time) []string {
	t.Helper()
	var ids []string
	for i := range n {
		e := journalSample(kind, fmt.Sprintf("D-%d", i))
		e.Time = start.Add(time.Duration(i) * time.Minute)
		ids = append(ids, appendJournal(t, s, e))
	}
	return ids
}

// wantBreak checks that err is a *store.Break at seq with problem and, when id is not empty,
// naming id.
func wantBreak(t *testing.T, err error, seq int64, id string, problem store.Problem) {
	t.Helper()
	var b *store.Break
	if !errors.As(err, &b) {
		t.Fatalf("Verify = %v, want a break at entry %d (%s)", err, seq, problem)
	}
	if b.Seq != seq || b.Problem != problem || (id != "" && b.ID != id) {
		t.Fatalf("Verify = %v; want entry %d (id %q): %s", err, seq, id, problem)
	}
}

func testChainAppends(t *testing.T, s store.Store, _ Tamper) {
	ids := appendN(t, s, 3, "regix.call", time.Now().Add(-time.Hour))
	got := listJournal(t, s, store.JournalFilter{})
	if len(got) != 3 {
		t.Fatalf("ListJournal gave %d entries, want 3", len(got))
	}
	for i, e := range got { // newest first
		if e.ID != ids[2-i] || e.Seq != int64(3-i) {
			t.Errorf("entry %d: id %s seq %d, want id %s seq %d", i, e.ID, e.Seq, ids[2-i], 3-i)
		}
	}
	v := mustVerify(t, s, nil)
	if v.Entries != 3 || v.Head.Seq != 3 || v.Head.Hash.String() != got[0].Hash || v.Anchor.Seq != 0 {
		t.Errorf("Verify = %+v, want 3 entries, head 3 with hash %s, no anchor", v, got[0].Hash)
	}
}

func testChainEmpty(t *testing.T, s store.Store, _ Tamper) {
	if v := mustVerify(t, s, nil); v.Entries != 0 || v.Head.Seq != 0 {
		t.Errorf("Verify of an empty journal = %+v, want nothing", v)
	}
}

func testChainRepeatedID(t *testing.T, s store.Store, _ Tamper) {
	e := journalSample("regix.call", "D-1")
	e.ID = "once"
	appendJournal(t, s, e)
	// Appended at the same time as others: only the repeated one fails.
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := journalSample("regix.call", "D-2")
			if i == 0 {
				e.ID = "once"
			}
			_, errs[i] = s.AppendJournal(ctx(t), e)
		}()
	}
	wg.Wait()
	if errs[0] == nil {
		t.Error("a second entry with the id of the first was journaled")
	}
	for i, err := range errs[1:] {
		if err != nil {
			t.Errorf("entry %d appended beside a repeated id: %v", i+1, err)
		}
	}
	appendJournal(t, s, journalSample("regix.call", "D-3"))
	if v := mustVerify(t, s, nil); v.Entries != 7 {
		t.Errorf("Verify = %+v, want 7 entries", v)
	}
}

func testChainConcurrent(t *testing.T, s store.Store, _ Tamper) {
	const writers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				e := journalSample("esoed.received", fmt.Sprintf("W%d-%d", w, i))
				if _, err := s.AppendJournal(ctx(t), e); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("AppendJournal: %v", err)
	}
	v := mustVerify(t, s, nil)
	if v.Entries != writers*each || v.Head.Seq != writers*each {
		t.Errorf("Verify = %+v, want %d entries", v, writers*each)
	}
}

func testVerifyEdited(t *testing.T, s store.Store, tamper Tamper) {
	ids := appendN(t, s, 5, "regix.call", time.Now().Add(-time.Hour))
	mustVerify(t, s, nil)
	tamper.SetResult(t, s, 3, "ok, nothing found")
	_, err := verify(t, s, nil)
	wantBreak(t, err, 3, ids[2], store.ContentChanged)
}

func testVerifyDeleted(t *testing.T, s store.Store, tamper Tamper) {
	appendN(t, s, 5, "regix.call", time.Now().Add(-time.Hour))
	tamper.Delete(t, s, 3)
	_, err := verify(t, s, nil)
	wantBreak(t, err, 3, "", store.EntryMissing)
}

func testVerifyDeletedLast(t *testing.T, s store.Store, tamper Tamper) {
	appendN(t, s, 5, "regix.call", time.Now().Add(-time.Hour))
	tamper.Delete(t, s, 5)
	_, err := verify(t, s, nil)
	wantBreak(t, err, 5, "", store.EntryMissing)
}

func testVerifyReordered(t *testing.T, s store.Store, tamper Tamper) {
	ids := appendN(t, s, 5, "regix.call", time.Now().Add(-time.Hour))
	tamper.Swap(t, s, 2, 4)
	_, err := verify(t, s, nil)
	wantBreak(t, err, 2, ids[3], store.OrderBroken)
}

func testVerifyRedactedEarly(t *testing.T, s store.Store, tamper Tamper) {
	ids := appendN(t, s, 3, "regix.call", time.Now().Add(-time.Hour))
	tamper.Redact(t, s, 2)
	// Redaction keeps the chain whole, so without a policy the chain verifies...
	if v := mustVerify(t, s, nil); v.Redacted != 1 {
		t.Errorf("Verify = %+v, want 1 redacted entry", v)
	}
	// ...but an entry redacted within its retention is reported.
	_, err := verify(t, s, &store.JournalRetention{Default: 5 * store.Year})
	wantBreak(t, err, 2, ids[1], store.RedactedEarly)
}

func prune(t *testing.T, s store.Store, p store.RetentionPolicy, now time.Time) store.Pruned {
	t.Helper()
	got, err := s.(store.Pruner).Prune(ctx(t), p, now)
	if err != nil {
		t.Fatalf("Prune: %v", err)
	}
	return got
}

func testPruneRedacts(t *testing.T, s store.Store, _ Tamper) {
	now := time.Now()
	old := now.Add(-3 * store.Year)
	regix := appendN(t, s, 3, "regix.call", old)
	esoed := appendN(t, s, 2, "esoed.received", old)
	recent := appendN(t, s, 2, "regix.call", now.Add(-time.Hour))
	policy := store.RetentionPolicy{Journal: store.JournalRetention{Kinds: map[string]time.Duration{"regix.call": 2 * store.Year}}}
	p := prune(t, s, policy, now)
	if p.Redacted != 3 || p.Dropped != 0 || p.DeadLetters != 0 {
		t.Fatalf("Prune = %+v, want 3 redacted", p)
	}
	byID := map[string]store.JournalEntry{}
	for _, e := range listJournal(t, s, store.JournalFilter{Limit: 100}) {
		byID[e.ID] = e
	}
	for _, id := range regix {
		e := byID[id]
		if !e.Redacted || e.Dossier != "" || e.Actor != "" || e.Subject != "" || e.Detail != nil || e.Kind != "regix.call" || e.Seq == 0 {
			t.Errorf("old regix.call entry after pruning = %+v, want kind, time and place kept, content gone", e)
		}
	}
	for _, id := range append(esoed, recent...) {
		if e := byID[id]; e.Redacted || e.Actor == "" {
			t.Errorf("entry kept whole = %+v, want it unchanged", e)
		}
	}
	pruned := listJournal(t, s, store.JournalFilter{Kind: store.KindPruned})
	if len(pruned) != 1 || pruned[0].Detail[store.DetailRedacted] != "3" || pruned[0].Seq != 8 {
		t.Fatalf("journal.pruned entries = %+v, want one at seq 8 recording 3 redacted", pruned)
	}
	v := mustVerify(t, s, &policy.Journal)
	if v.Entries != 8 || v.Redacted != 3 || p.Head != v.Head {
		t.Errorf("Verify after pruning = %+v, want 8 entries, 3 redacted, head %+v", v, p.Head)
	}
	// A second pruning finds nothing more to do.
	if p := prune(t, s, policy, now); p.Any() {
		t.Errorf("second Prune = %+v, want nothing", p)
	}
	// The retention lengthened since: the entries were redacted as the retention of that day
	// allowed, which the journal.pruned entry records, so the chain still verifies.
	if pruned[0].Detail[store.DetailRetention+".regix.call"] != "2y" {
		t.Errorf("journal.pruned detail = %v, want the retention it applied (regix.call 2y)", pruned[0].Detail)
	}
	longer := store.JournalRetention{Kinds: map[string]time.Duration{"regix.call": 10 * store.Year}}
	if v := mustVerify(t, s, &longer); v.Redacted != 3 {
		t.Errorf("Verify with a retention lengthened since = %+v, want 3 redacted entries accepted", v)
	}
}

func testPruneDrops(t *testing.T, s store.Store, _ Tamper) {
	now := time.Now()
	old := appendN(t, s, 4, "regix.call", now.Add(-3*store.Year))
	kept := appendN(t, s, 1, "esoed.received", now.Add(-2*store.Year)) // kept forever: stops the drop
	appendN(t, s, 2, "regix.call", now.Add(-3*store.Year+time.Hour))   // past retention, but after a kept entry
	policy := store.RetentionPolicy{Journal: store.JournalRetention{
		Kinds: map[string]time.Duration{"regix.call": store.Year, "esoed.received": 0}, Drop: true}}
	p := prune(t, s, policy, now)
	if p.Redacted != 6 || p.Dropped != 4 || p.Anchor.Seq != 4 {
		t.Fatalf("Prune = %+v, want 6 redacted, 4 dropped, anchor at 4", p)
	}
	for _, e := range listJournal(t, s, store.JournalFilter{Limit: 100}) {
		for _, id := range old {
			if e.ID == id {
				t.Errorf("entry %s (seq %d) was not dropped", id, e.Seq)
			}
		}
	}
	v := mustVerify(t, s, &policy.Journal)
	if v.Anchor.Seq != 4 || v.Entries != 4 || v.Head.Seq != 8 {
		t.Errorf("Verify after dropping = %+v, want anchor 4, entries 5 to 8", v)
	}
	// More entries chain on after the anchor, and a later drop moves it again.
	appendN(t, s, 1, "regix.call", now)
	later := now.Add(3 * store.Year)
	policy.Journal.Kinds["esoed.received"] = store.Year
	p = prune(t, s, policy, later)
	if p.Dropped == 0 || p.Anchor.Seq <= 4 {
		t.Fatalf("second Prune = %+v, want the anchor moved on", p)
	}
	v = mustVerify(t, s, nil)
	if v.Anchor != p.Anchor {
		t.Errorf("Verify starts at %+v, want %+v", v.Anchor, p.Anchor)
	}
	_ = kept
}

func testPruneNothing(t *testing.T, s store.Store, _ Tamper) {
	appendN(t, s, 2, "regix.call", time.Now().Add(-time.Hour))
	p := prune(t, s, store.RetentionPolicy{DeadLetters: time.Hour, Journal: store.JournalRetention{Default: store.Year, Drop: true}}, time.Now())
	if p.Any() {
		t.Errorf("Prune = %+v, want nothing", p)
	}
	if got := listJournal(t, s, store.JournalFilter{Kind: store.KindPruned}); len(got) != 0 {
		t.Errorf("a pruning that removed nothing was journaled: %+v", got)
	}
}

func testPruneDeadLetters(t *testing.T, s store.Store, _ Tamper) {
	now := time.Now().Truncate(time.Millisecond)
	d := sample("r")
	d.Time = now.Add(-100 * store.Day)
	old := mustAdd(t, s, d)
	d.Time = now.Add(-10 * store.Day)
	young := mustAdd(t, s, d)
	p := prune(t, s, store.RetentionPolicy{DeadLetters: 90 * store.Day}, now)
	if p.DeadLetters != 1 {
		t.Fatalf("Prune = %+v, want 1 dead letter deleted", p)
	}
	if _, err := s.GetDeadLetter(ctx(t), old); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("dead letter past its retention: GetDeadLetter = %v, want not found", err)
	}
	if _, err := s.GetDeadLetter(ctx(t), young); err != nil {
		t.Errorf("dead letter within its retention: %v", err)
	}
	pruned := listJournal(t, s, store.JournalFilter{Kind: store.KindPruned})
	if len(pruned) != 1 || pruned[0].Detail[store.DetailDeadLetters] != "1" {
		t.Errorf("journal.pruned entries = %+v, want one recording 1 dead letter", pruned)
	}
	mustVerify(t, s, nil)
}
