package postgres

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/aiskao/aiskao/store"
)

// TestChainAcrossProcesses: stores of several processes sharing one schema append at once, and
// the chain is one line without gaps.
func TestChainAcrossProcesses(t *testing.T) {
	cfg := testConfig(t)
	const procs, each = 3, 40
	stores := make([]*Store, procs)
	for i := range stores {
		stores[i] = open(t, cfg)
		defer stores[i].Close()
	}
	var wg sync.WaitGroup
	for i, s := range stores {
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range each / 4 {
					e := store.JournalEntry{Kind: "regix.call", Dossier: fmt.Sprintf("P%d-W%d-%d", i, w, j), Result: "ok"}
					if _, err := s.AppendJournal(context.Background(), e); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	v, err := store.Verify(context.Background(), stores[0], nil)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if v.Entries != procs*each {
		t.Errorf("Verify = %+v, want %d entries", v, procs*each)
	}
	// The auditor's way in reads the same chain.
	src, err := OpenChain(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if v2, err := store.Verify(context.Background(), src, nil); err != nil || v2.Head != v.Head {
		t.Errorf("Verify through OpenChain = %+v, %v; want head %+v", v2, err, v.Head)
	}
}

// TestMigrationChainsExistingEntries: entries journaled before the chain are chained in time
// order by the migration.
func TestMigrationChainsExistingEntries(t *testing.T) {
	cfg := testConfig(t)
	conn := admin(t)
	ctx := context.Background()
	ident := pgx.Identifier{cfg.Schema}.Sanitize()
	steps, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`CREATE SCHEMA ` + ident)
	exec(`SET LOCAL search_path TO ` + ident)
	exec(`CREATE TABLE schema_migrations (version integer NOT NULL PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`)
	for _, m := range steps[:2] {
		exec(m.SQL)
		exec(`INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name)
	}
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 4 {
		exec(`INSERT INTO journal (id, at, kind, route, message_id, dossier, actor, subject, legal_basis, result, detail)
			VALUES ($1, $2, 'regix.call', 'r', 'm', 'D', 'a', 's', 'l', 'ok', $3)`,
			fmt.Sprint(9-i), base.Add(time.Duration(i)*time.Minute), store.EncodeMetadata(map[string]string{"i": "x"}))
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	src, err := OpenChain(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Verify(ctx, src, nil); err == nil {
		t.Error("Verify of an unmigrated schema succeeded")
	}
	src.Close()
	s := open(t, cfg)
	defer s.Close()
	if _, err := s.AppendJournal(ctx, store.JournalEntry{Kind: "esoed.received", Result: "ok"}); err != nil {
		t.Fatal(err)
	}
	v, err := store.Verify(ctx, s, nil)
	if err != nil || v.Entries != 5 {
		t.Fatalf("Verify after migration = %+v, %v; want 5 entries", v, err)
	}
	var first string
	if err := conn.QueryRow(ctx, `SELECT id FROM `+ident+`.journal WHERE seq = 1`).Scan(&first); err != nil || first != "9" {
		t.Errorf("entry 1 is %q (%v), want the oldest, 9", first, err)
	}
}

// TestMigrationFillsAGap: a step numbered below the highest one applied (written side by side
// with it) is still applied.
func TestMigrationFillsAGap(t *testing.T) {
	cfg := testConfig(t)
	open(t, cfg).Close()
	conn := admin(t)
	ident := pgx.Identifier{cfg.Schema}.Sanitize()
	if _, err := conn.Exec(context.Background(), `DELETE FROM `+ident+`.schema_migrations WHERE version = 1;
		DROP TABLE `+ident+`.dead_letters, `+ident+`.keys, `+ident+`.state`); err != nil {
		t.Fatal(err)
	}
	s := open(t, cfg)
	defer s.Close()
	if _, err := s.AddDeadLetter(context.Background(), store.DeadLetter{Route: "r"}); err != nil {
		t.Fatalf("the step filling the gap was not applied: %v", err)
	}
}
