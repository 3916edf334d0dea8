package postgres

import (
	"testing"
	"time"

	"github.com/aiskao/aiskao/internal/storesql"
	"github.com/aiskao/aiskao/store/storetest"
)

func benchStore(t testing.TB) storetest.Grouping { return open(t, testConfig(t)) }

func BenchmarkMark(b *testing.B) { storetest.BenchMark(b, benchStore, 1, 64) }

func BenchmarkMarkUngrouped(b *testing.B) {
	s := open(b, testConfig(b))
	defer s.Close()
	storetest.BenchMarkUngrouped(b, func(key string) error {
		return s.writeMarks([]storesql.Mark{{Scope: "route:bench", Key: key, TTL: time.Hour}})
	})
}

func BenchmarkAppendJournal(b *testing.B) { storetest.BenchJournal(b, benchStore, 1, 16) }
