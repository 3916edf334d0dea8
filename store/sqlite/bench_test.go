package sqlite

import (
	"testing"
	"time"

	"github.com/aiskao/aiskao/internal/storesql"
	"github.com/aiskao/aiskao/store/storetest"
)

func benchStore(t testing.TB) storetest.Grouping { return open(t, Config{}, t.TempDir()) }

func BenchmarkMark(b *testing.B) { storetest.BenchMark(b, benchStore, 1, 8, 64, 256) }

func BenchmarkMarkUngrouped(b *testing.B) {
	s := open(b, Config{}, b.TempDir())
	defer s.Close()
	storetest.BenchMarkUngrouped(b, func(key string) error {
		return s.writeMarks([]storesql.Mark{{Scope: "route:bench", Key: key, TTL: time.Hour, At: time.Now()}})
	})
}

func BenchmarkAppendJournal(b *testing.B) { storetest.BenchJournal(b, benchStore, 1, 16) }
