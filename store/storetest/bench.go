package storetest

import (
	"context"
	"runtime"
	"testing"

	"github.com/aiskao/aiskao/store"
)

// BenchAppendJournal measures AppendJournal on s with callers appending at once, each waiting for
// its entry to be committed, as connectors journal register calls and documents. It reports
// entries/s.
func BenchAppendJournal(b *testing.B, s store.Store, callers int) {
	e := store.JournalEntry{Kind: "regix.call", Route: "bench", Dossier: "ОбА-94-00-123", Actor: "служител 1",
		Subject: "ГРАО НБД / PersonDataSearch", LegalBasis: "чл. 13 от НАО", Result: "ok",
		Detail: map[string]string{"egn": "******1234"}}
	b.SetParallelism(max(1, callers/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if _, err := s.AppendJournal(ctx, e); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}
