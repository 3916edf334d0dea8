package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/dossier/store"
	"github.com/aiskao/aiskao/dossier/store/storetest"
	"github.com/aiskao/aiskao/internal/sqlitedb"
)

func open(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, filepath.Join(t.TempDir(), "aiskao.db")) })
}

// TestShared: two stores on one file, as the hub's parts of one process hold it.
func TestShared(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T) (store.Store, store.Store) {
		path := filepath.Join(t.TempDir(), "aiskao.db")
		return open(t, path), open(t, path)
	})
}

// TestReopen: what was committed is there after the store is closed and opened again, and
// the migrations are not applied twice.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "aiskao.db")
	ctx := context.Background()
	s := open(t, path)
	if err := s.Commit(ctx, store.Commit{Stream: "A-1", Events: []store.Event{{Type: "opened"}}, Keys: []store.Key{{Kind: "access", Value: "h"}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	s = open(t, path)
	defer s.Close()
	if got, err := s.FindByKey(ctx, "access", "h"); err != nil || got != "A-1" {
		t.Errorf("after reopening: FindByKey = %q, %v", got, err)
	}
	db, err := sqlitedb.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer sqlitedb.Release(db)
	steps, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM dossier_migrations`).Scan(&n); err != nil || n != len(steps) {
		t.Errorf("dossier_migrations has %d rows, %v; want %d", n, err, len(steps))
	}
}

// TestDashboardUsesTheActiveIndexes: the dashboard's queries for active streams are planned on
// the partial indexes, which hold the active streams only.
func TestDashboardUsesTheActiveIndexes(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "aiskao.db"))
	defer s.Close()
	for _, c := range []struct {
		where, index string
	}{
		{"active = 1 AND unit = 'u'", "dossier_summaries_a_unit"},
		{"active = 1 AND assignee = 'u'", "dossier_summaries_a_assignee"},
		{"active = 1 AND service = 'u' AND deadline < '2026-01-01'", "dossier_summaries_a_service"},
		{"active = 1", "dossier_summaries_a_deadline"},
	} {
		rows, err := s.db.Query(`EXPLAIN QUERY PLAN SELECT ` + summaryColumns + ` FROM dossier_summaries WHERE ` + c.where + ` ORDER BY deadline, stream LIMIT 51`)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if p := strings.Join(plan, "; "); !strings.Contains(p, "USING INDEX "+c.index) || strings.Contains(p, "TEMP B-TREE") {
			t.Errorf("WHERE %s: plan %q, want %s without a sort", c.where, p, c.index)
		}
	}
}
