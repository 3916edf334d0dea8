package sqlite

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/aiskao/aiskao/dossier/store"
	"github.com/aiskao/aiskao/dossier/store/storetest"
)

// Run with, for example:
//
//	DOSSIER_BENCH_N=100000 go test -run '^$' -bench . -benchtime 1x ./dossier/store/sqlite/
//
// BenchmarkDashboard wants more than one query: use -benchtime 2000x there.

// benchDir holds the benchmarks' files; TestMain removes it.
var benchDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// benchFile returns a new database file for a benchmark.
func benchFile(b *testing.B) string {
	if benchDir == "" {
		d, err := os.MkdirTemp("", "dossier-bench-")
		if err != nil {
			b.Fatal(err)
		}
		benchDir = d
	}
	f, err := os.CreateTemp(benchDir, "*.db")
	if err != nil {
		b.Fatal(err)
	}
	f.Close()
	return f.Name()
}

func BenchmarkLoad(b *testing.B) {
	storetest.BenchLoad(b, func(b *testing.B) store.Store { return open(b, benchFile(b)) }, 16)
}

// loaded is a store holding storetest.BenchN dossiers, shared by the query benchmarks.
var loaded = sync.OnceValues(func() (*Store, error) {
	return Open(filepath.Join(benchDir, "loaded.db"))
})

func loadedStore(b *testing.B) *Store {
	benchFile(b)
	s, err := loaded()
	if err != nil {
		b.Fatal(err)
	}
	if p, err := s.Dashboard(b.Context(), store.Query{Limit: 1}); err != nil || len(p.Items) == 0 {
		d := storetest.Load(b, s, 0, storetest.BenchN(b), 16)
		b.Logf("loaded %d dossiers in %v", storetest.BenchN(b), d)
	}
	return s
}

func BenchmarkDashboard(b *testing.B) { storetest.BenchDashboard(b, loadedStore(b)) }

func BenchmarkCommit(b *testing.B) { storetest.BenchCommit(b, loadedStore(b), 0) }

func BenchmarkCommitParallel(b *testing.B) { storetest.BenchCommit(b, loadedStore(b), 8) }

func BenchmarkRelay(b *testing.B) { storetest.BenchRelay(b, loadedStore(b)) }
