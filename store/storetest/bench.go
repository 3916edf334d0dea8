package storetest

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aiskao/aiskao/store"
)

// Grouping is a store that tells how well it groups the marks and the journal entries made at
// the same time into commits.
type Grouping interface {
	store.Store
	MarkStats() (commits, marks int64)
	JournalStats() (commits, entries int64)
}

// BenchMark measures Mark with each number of concurrent callers, each waiting for its own
// durable commit, as the idempotency middleware does once per processed message, on stores that
// open makes. marks/commit shows how well the writer groups them.
func BenchMark(b *testing.B, open func(testing.TB) Grouping, callers ...int) {
	for _, n := range callers {
		b.Run(fmt.Sprintf("callers=%d", n), func(b *testing.B) {
			s := open(b)
			defer s.Close()
			parallel(b, n, "marks/s", func(ctx context.Context, key string) error {
				return s.Mark(ctx, "route:bench", key, time.Hour)
			})
			if c, marks := s.MarkStats(); c > 0 {
				b.ReportMetric(float64(marks)/float64(c), "marks/commit")
			}
		})
	}
}

// BenchMarkUngrouped is the baseline without grouping: write commits one mark on its own, from
// 64 callers as in BenchMark's callers=64.
func BenchMarkUngrouped(b *testing.B, write func(key string) error) {
	parallel(b, 64, "marks/s", func(_ context.Context, key string) error { return write(key) })
}

// BenchJournal measures AppendJournal with each number of callers appending at once (see
// BenchAppendJournal); entries/commit shows how well the writer groups them.
func BenchJournal(b *testing.B, open func(testing.TB) Grouping, callers ...int) {
	for _, n := range callers {
		b.Run(fmt.Sprintf("callers=%d", n), func(b *testing.B) {
			s := open(b)
			defer s.Close()
			BenchAppendJournal(b, s, n)
			if c, entries := s.JournalStats(); c > 0 {
				b.ReportMetric(float64(entries)/float64(c), "entries/commit")
			}
		})
	}
}

// parallel runs do from callers goroutines, each call with a key of its own, and reports the
// calls per second as unit.
func parallel(b *testing.B, callers int, unit string, do func(ctx context.Context, key string) error) {
	var n atomic.Int64
	b.SetParallelism(max(1, callers/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if err := do(ctx, "msg-"+strconv.FormatInt(n.Add(1), 10)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), unit)
}

// BenchAppendJournal measures AppendJournal on s with callers appending at once, each waiting for
// its entry to be committed, as connectors journal register calls and documents. It reports
// entries/s.
func BenchAppendJournal(b *testing.B, s store.Store, callers int) {
	e := store.JournalEntry{Kind: "regix.call", Route: "bench", Dossier: "ОбА-94-00-123", Actor: "служител 1",
		Subject: "ГРАО НБД / PersonDataSearch", LegalBasis: "чл. 13 от НАО", Result: "ok",
		Detail: map[string]string{"egn": "******1234"}}
	parallel(b, callers, "entries/s", func(ctx context.Context, _ string) error {
		_, err := s.AppendJournal(ctx, e)
		return err
	})
}
