package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/dossier/calendar"
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
		by           store.Order
	}{
		{"active = 1 AND unit = 'u'", "dossier_summaries_a_unit", store.ByDeadline},
		{"active = 1 AND assignee = 'u'", "dossier_summaries_a_assignee", store.ByDeadline},
		{"active = 1 AND service = 'u' AND deadline < '2026-01-01'", "dossier_summaries_a_service", store.ByDeadline},
		{"active = 1", "dossier_summaries_a_deadline", store.ByDeadline},
		{"kind = 'dossier' AND active = 1 AND next_due < '2026-01-01'", "dossier_summaries_a_next_due", store.ByNextDue},
		{"active = 1 AND unit = 'u'", "dossier_summaries_a_unit_next", store.ByNextDue},
		{"active = 1 AND assignee = 'u'", "dossier_summaries_a_assignee_next", store.ByNextDue},
	} {
		rows, err := s.db.Query(`EXPLAIN QUERY PLAN SELECT ` + summaryColumns + ` FROM dossier_summaries WHERE ` + c.where + ` ORDER BY ` + c.by.Column() + `, stream LIMIT 51`)
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
		if p := strings.Join(plan, "; ") + " "; !strings.Contains(p, "USING INDEX "+c.index+" ") || strings.Contains(p, "TEMP B-TREE") {
			t.Errorf("WHERE %s: plan %q, want %s without a sort", c.where, p, c.index)
		}
	}
}

// TestMigrationNextDue: summaries written before the next due column are due at the nearer of
// their deadline and their stage's, and found by it.
func TestMigrationNextDue(t *testing.T) {
	path := filepath.Join(t.TempDir(), "aiskao.db")
	db, err := sqlitedb.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	steps, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE dossier_migrations (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(steps[0].SQL); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO dossier_migrations VALUES (?, ?, 0)`, steps[0].Version, steps[0].Name); err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct{ stream, deadline, stage string }{
		{"A-1", "2026-03-16", "9999-12-31"}, {"A-2", "9999-12-31", "9999-12-31"}, {"A-3", "2026-03-20", "2026-03-10"},
	} {
		if _, err := db.Exec(`INSERT INTO dossier_summaries VALUES (?, 'dossier', 's', '1', 'open', 1, 'u', '', '', ?, ?, 0, 0, 1, 'null')`,
			r.stream, r.deadline, r.stage); err != nil {
			t.Fatal(err)
		}
	}
	if err := sqlitedb.Release(db); err != nil {
		t.Fatal(err)
	}
	s := open(t, path)
	defer s.Close()
	ctx := context.Background()
	m, err := s.Summary(ctx, "A-1")
	if err != nil || m.NextDue != m.Deadline || m.NextDue.String() != "2026-03-16" {
		t.Errorf("migrated summary: next due %v, deadline %v, %v", m.NextDue, m.Deadline, err)
	}
	if m, err := s.Summary(ctx, "A-2"); err != nil || !m.NextDue.IsZero() {
		t.Errorf("migrated summary without a deadline: next due %v, %v", m.NextDue, err)
	}
	if m, err := s.Summary(ctx, "A-3"); err != nil || m.NextDue.String() != "2026-03-10" {
		t.Errorf("migrated summary with an earlier stage deadline: next due %v, %v", m.NextDue, err)
	}
	p, err := s.Dashboard(ctx, store.Query{By: store.ByNextDue, Active: true, DeadlineBefore: calendar.Date{Year: 2026, Month: 3, Day: 17}})
	if err != nil || len(p.Items) != 2 || p.Items[0].Stream != "A-3" || p.Items[1].Stream != "A-1" {
		t.Errorf("by next due after migration: %+v, %v", p.Items, err)
	}
}
