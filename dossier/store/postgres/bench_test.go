package postgres

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/aiskao/aiskao/dossier/store"
	"github.com/aiskao/aiskao/dossier/store/storetest"
)

// Run with, for example:
//
//	DOSSIER_BENCH_N=1000000 DOSSIER_BENCH_SCHEMA=dossier_bench go test -run '^$' -bench . -benchtime 1x ./dossier/store/postgres/
//
// BenchmarkDashboard wants more than one query: use -benchtime 2000x there. With
// DOSSIER_BENCH_SCHEMA the loaded dossiers stay in that schema for the next run, which loads
// only those missing; without it they go into a schema of their own, dropped afterwards.

// benchLoaders are the committers loading at once: about what a pool of 16 connections serves.
const benchLoaders = 16

func BenchmarkLoad(b *testing.B) {
	storetest.BenchLoad(b, func(b *testing.B) store.Store { return open(b, testConfig(b)) }, benchLoaders)
}

// benchSchemas are the schemas the benchmarks made, dropped by TestMain.
var benchSchemas []string

func TestMain(m *testing.M) {
	code := m.Run()
	for _, schema := range benchSchemas {
		dropSchema(schema)
	}
	os.Exit(code)
}

var (
	loadedMu sync.Mutex
	loaded   *Store
)

// loadedStore returns a store holding storetest.BenchN dossiers, shared by the query
// benchmarks of the run.
func loadedStore(b *testing.B) *Store {
	loadedMu.Lock()
	defer loadedMu.Unlock()
	if loaded != nil {
		return loaded
	}
	var cfg Config
	if schema := os.Getenv("DOSSIER_BENCH_SCHEMA"); schema != "" {
		cfg = Config{URL: serverURL(b), Schema: schema, MaxConns: benchLoaders}
	} else {
		cfg = Config{URL: serverURL(b), Schema: uniqueSchema(), MaxConns: benchLoaders}
		benchSchemas = append(benchSchemas, cfg.Schema) // dropped by TestMain
	}
	s := open(b, cfg)
	var have int
	ctx := context.Background()
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{cfg.Schema, "dossier_summaries"}.Sanitize()+
		` WHERE length(stream) = 13`).Scan(&have); err != nil {
		b.Fatal(err)
	}
	if n := storetest.BenchN(b); have < n {
		d := storetest.Load(b, s, have, n, benchLoaders)
		b.Logf("loaded dossiers %d to %d in %v (%.0f/s)", have, n, d, float64(n-have)/d.Seconds())
		if _, err := s.pool.Exec(ctx, `ANALYZE `+pgx.Identifier{cfg.Schema, "dossier_summaries"}.Sanitize()); err != nil {
			b.Fatal(err)
		}
	}
	loaded = s
	return s
}

func BenchmarkDashboard(b *testing.B) { storetest.BenchDashboard(b, loadedStore(b)) }

func BenchmarkCommit(b *testing.B) { storetest.BenchCommit(b, loadedStore(b), 0) }

func BenchmarkCommitParallel(b *testing.B) { storetest.BenchCommit(b, loadedStore(b), 8) }

func BenchmarkRelay(b *testing.B) { storetest.BenchRelay(b, loadedStore(b)) }

// BenchmarkNumbered registers dossiers in one register from 16 goroutines through one store, and
// through two stores on the same schema, as two processes would.
func BenchmarkNumbered(b *testing.B) {
	for _, n := range []int{1, 2} {
		b.Run(fmt.Sprintf("processes=%d", n), func(b *testing.B) {
			cfg := testConfig(b)
			var ss []store.Store
			for range n {
				s := open(b, cfg)
				b.Cleanup(func() { s.Close() })
				ss = append(ss, s)
			}
			storetest.BenchNumbered(b, 8, ss...)
		})
	}
}
