package postgres

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aiskao/aiskao/store/storetest"
)

// BenchmarkMark measures Mark with concurrent callers, each waiting for its own durable commit, as
// the idempotency middleware does once per processed message. marks/commit shows how well the
// writer groups them.
func BenchmarkMark(b *testing.B) {
	for _, callers := range []int{1, 64} {
		b.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) {
			s := open(b, testConfig(b))
			defer s.Close()
			var n atomic.Int64
			b.SetParallelism(max(1, callers/runtime.GOMAXPROCS(0)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				for pb.Next() {
					key := "msg-" + strconv.FormatInt(n.Add(1), 10)
					if err := s.Mark(ctx, "route:bench", key, time.Hour); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "marks/s")
			if c := s.marks.Commits(); c > 0 {
				b.ReportMetric(float64(s.marks.Items())/float64(c), "marks/commit")
			}
		})
	}
}

// BenchmarkMarkUngrouped is the baseline without grouping: each mark is its own statement and
// commit, from 64 callers as in BenchmarkMark/callers=64.
func BenchmarkMarkUngrouped(b *testing.B) {
	s := open(b, testConfig(b))
	defer s.Close()
	var n atomic.Int64
	b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			key := "msg-" + strconv.FormatInt(n.Add(1), 10)
			if err := s.writeMarks([]markReq{{scope: "route:bench", key: key, ttl: time.Hour.Microseconds()}}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "marks/s")
}

// BenchmarkAppendJournal measures AppendJournal with one caller and with many at once (see
// storetest.BenchAppendJournal); entries/commit shows how well the writer groups them.
func BenchmarkAppendJournal(b *testing.B) {
	for _, callers := range []int{1, 16} {
		b.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) {
			s := open(b, testConfig(b))
			defer s.Close()
			storetest.BenchAppendJournal(b, s, callers)
			if c := s.journal.Commits(); c > 0 {
				b.ReportMetric(float64(s.journal.Items())/float64(c), "entries/commit")
			}
		})
	}
}
