package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aiskao/aiskao/dossier/calendar"
	"github.com/aiskao/aiskao/dossier/store"
)

// BenchN returns the number of dossiers the benchmarks load: DOSSIER_BENCH_N, or 20000.
func BenchN(b *testing.B) int {
	if v := os.Getenv("DOSSIER_BENCH_N"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("DOSSIER_BENCH_N=%q: want a positive number", v)
		}
		return n
	}
	return 20000
}

// The loaded data's shape: a municipality's year or three of dossiers, most of them closed.
const (
	benchUnits     = 40
	benchAssignees = 400
	benchServices  = 30
)

// openStates are the states of active dossiers, by share in percent.
var openStates = []struct {
	name  string
	share int
}{{"registered", 25}, {"in-progress", 60}, {"suspended", 15}}

// The data spans three years up to benchToday: dossiers opened in the last benchRecent days are
// active, nearly all older ones closed, as in a register in use.
var (
	benchStart = calendar.Date{Year: 2024, Month: time.January, Day: 1}
	benchToday = benchStart.AddDays(3 * 365)
)

const benchRecent = 45

// BenchDossier returns the commit that opens dossier i of the benchmark data: one event, its
// summary and one outbox message. The same i gives the same dossier.
func BenchDossier(i int) store.Commit {
	r := rand.New(rand.NewPCG(uint64(i), 7))
	svc := r.IntN(benchServices)
	stream := fmt.Sprintf("%02d-94-%07d", svc, i)
	day := r.IntN(3 * 365)
	opened := benchStart.AddDays(day)
	state, active := "closed", day >= 3*365-benchRecent || r.IntN(100) < 2
	if active {
		p := r.IntN(100)
		for _, s := range openStates {
			if p < s.share {
				state = s.name
				break
			}
			p -= s.share
		}
	}
	at := opened.Time(time.UTC).Add(time.Duration(r.IntN(8*3600)) * time.Second)
	deadline, stage := opened.AddDays(14+r.IntN(17)), opened.AddDays(3+r.IntN(5))
	data, _ := json.Marshal(map[string]any{"service": "svc", "channel": "portal", "applicant": "Иван И.", "term": "обикновена"})
	return store.Commit{
		Stream: stream,
		Events: []store.Event{{Type: "dossier.opened", At: at, Actor: "portal", Data: data}},
		Summary: &store.Summary{Kind: store.KindDossier, Service: fmt.Sprintf("svc-%02d", svc), ServiceVersion: "1",
			State: state, Active: active, Unit: fmt.Sprintf("unit-%02d", r.IntN(benchUnits)), Assignee: fmt.Sprintf("user-%03d", r.IntN(benchAssignees)),
			Applicant: fmt.Sprintf("h:%016x", r.Uint64()), Deadline: deadline, StageDeadline: stage, NextDue: stage,
			OpenedAt: at, Data: json.RawMessage(`{"title":"Удостоверение за наследници"}`)},
		Outbox: []store.Message{{Type: "dossier.opened", Subject: stream, Payload: data, Metadata: map[string]string{"source": "portal"}}},
	}
}

// Load commits dossiers from..to-1 with workers goroutines and returns how long it took.
func Load(tb testing.TB, s store.Store, from, to, workers int) time.Duration {
	tb.Helper()
	start := time.Now()
	var next atomic.Int64
	next.Store(int64(from))
	var wg sync.WaitGroup
	var failed sync.Once
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= to {
					return
				}
				if err := s.Commit(context.Background(), BenchDossier(i)); err != nil {
					failed.Do(func() { tb.Errorf("load dossier %d: %v", i, err) })
					return
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start)
}

// BenchLoad loads BenchN dossiers into a new store from open, with workers committers, and
// reports dossiers/s.
func BenchLoad(b *testing.B, open func(b *testing.B) store.Store, workers int) {
	n := BenchN(b)
	var total time.Duration
	for range b.N {
		b.StopTimer()
		s := open(b)
		b.StartTimer()
		total += Load(b, s, 0, n, workers)
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n*b.N)/total.Seconds(), "dossiers/s")
	b.ReportMetric(0, "ns/op")
}

// BenchDashboard runs dashboard queries a clerk's and a manager's pages and the deadline watch make over s, which
// holds BenchN dossiers, and reports their latency's p50 and p99 in milliseconds.
func BenchDashboard(b *testing.B, s store.Store) {
	queries := []store.Query{
		// the deadline dashboard: a unit's, a clerk's, a service's active dossiers, the missed
		{Active: true, Unit: "unit-07"},
		{Active: true, Assignee: "user-123"},
		{Active: true, Service: "svc-05", DeadlineBefore: benchToday.AddDays(3)},
		{Active: true, DeadlineBefore: benchToday},
		{Active: true, Unit: "unit-12", States: []string{"suspended"}},
		// the deadline watch's: every kind's active streams due within its window; a clerk's by
		// the nearest deadline
		{By: store.ByNextDue, Kind: store.KindDossier, Active: true, DeadlineBefore: benchToday.AddDays(3)},
		{By: store.ByNextDue, Active: true, Assignee: "user-123"},
		// lists: by state, an applicant's, a unit's and service's of all time, all by deadline
		{States: []string{"suspended"}},
		{Applicant: BenchDossier(BenchN(b) / 2).Summary.Applicant},
		{Unit: "unit-33", Service: "svc-11"},
		{},
	}
	lat := make([]time.Duration, 0, b.N)
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		q := queries[i%len(queries)]
		if i/len(queries)%2 == 1 {
			// every other round asks for the second page, through the cursor
			p, err := s.Dashboard(ctx, q)
			if err != nil {
				b.Fatal(err)
			}
			q.After = p.Next
			if q.After == "" {
				continue
			}
		}
		t := time.Now()
		p, err := s.Dashboard(ctx, q)
		lat = append(lat, time.Since(t))
		if err != nil {
			b.Fatal(err)
		}
		if len(p.Items) == 0 && q.After == "" {
			b.Fatalf("query %+v found nothing: is the store loaded?", q)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	if len(lat) > 0 {
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
		b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
	}
}

// benchSeq numbers the streams BenchCommit opens across runs in one process.
var benchSeq atomic.Int64

// BenchCommit opens one dossier per operation, with parallel goroutines per CPU at once (0:
// one at a time), and reports commits/s.
func BenchCommit(b *testing.B, s store.Store, parallel int) {
	base := 100_000_000 + int(benchSeq.Add(1_000_000_000))
	var next atomic.Int64
	start := time.Now()
	b.ResetTimer()
	if parallel == 0 {
		for i := range b.N {
			if err := s.Commit(context.Background(), BenchDossier(base+i)); err != nil {
				b.Fatal(err)
			}
		}
	} else {
		b.SetParallelism(parallel)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := s.Commit(context.Background(), BenchDossier(base+int(next.Add(1)))); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "commits/s")
}

// BenchRelay publishes b.N messages of s's outbox, which the loading left there, to a
// publisher that does nothing, and reports messages/s: the relay's own cost per message.
func BenchRelay(b *testing.B, s store.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var n atomic.Int64
	relay := store.NewRelay(s, func(context.Context, store.Message) error {
		if n.Add(1) >= int64(b.N) {
			cancel()
		}
		return nil
	}, store.RelayOptions{Batch: 100})
	start := time.Now()
	b.ResetTimer()
	for n.Load() < int64(b.N) {
		published, err := relay.Drain(ctx)
		if err != nil && ctx.Err() == nil {
			b.Fatal(err)
		}
		if published == 0 && ctx.Err() == nil {
			b.Fatalf("the outbox ran dry after %d messages: load more dossiers", n.Load())
		}
	}
	b.ReportMetric(float64(n.Load())/time.Since(start).Seconds(), "messages/s")
}

// BenchNumbered registers b.N dossiers with CommitNumbered from parallel goroutines spread over
// the stores (as many processes sharing one database would), all in one register, and reports
// registrations/s: what the register's gap-free numbers cost when many register at once.
func BenchNumbered(b *testing.B, parallel int, stores ...store.Store) {
	base := 100_000_000 + int(benchSeq.Add(1_000_000_000))
	register := fmt.Sprintf("bench-%d", base)
	var next atomic.Int64
	start := time.Now()
	b.ResetTimer()
	b.SetParallelism(parallel)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			s := stores[int(i)%len(stores)]
			if _, err := s.CommitNumbered(context.Background(), register, 2026, func(int64) (store.Commit, error) {
				return BenchDossier(base + int(i)), nil
			}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "registrations/s")
}
