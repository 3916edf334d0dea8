package postgres

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aiskao/aiskao/internal/testpg"

	"github.com/jackc/pgx/v5"

	"github.com/aiskao/aiskao/dossier/calendar"
	"github.com/aiskao/aiskao/dossier/store"
	"github.com/aiskao/aiskao/dossier/store/storetest"
	"github.com/aiskao/aiskao/internal/migration"
)

// serverURL returns the test server's URL, skipping the test without one (failing under CI).
func serverURL(t testing.TB) string { return testpg.URL(t) }

// testConfig returns the configuration of a new schema of its own, dropped after the test.
func testConfig(t testing.TB) Config {
	t.Helper()
	return Config{URL: serverURL(t), Schema: testpg.Schema(t, "dossier_test_"), MaxConns: 16}
}

// uniqueSchema returns a new schema name: tests of several packages and runs share the server.
func uniqueSchema() string { return testpg.Name("dossier_test_") }

// dropSchema drops schema and what it holds.
func dropSchema(schema string) error {
	u, _ := testpg.Reach()
	if err := testpg.Drop(u, schema); err != nil {
		return fmt.Errorf("drop schema %s: %w", schema, err)
	}
	return nil
}

func open(t testing.TB, cfg Config) *Store {
	t.Helper()
	s, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, testConfig(t)) })
}

// TestShared: two stores on one schema, as two processes.
func TestShared(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T) (store.Store, store.Store) {
		cfg := testConfig(t)
		return open(t, cfg), open(t, cfg)
	})
}

// TestMigrations: stores starting at once on a new schema apply each step once, and a schema
// newer than the program is refused.
func TestMigrations(t *testing.T) {
	cfg := testConfig(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := New(context.Background(), cfg)
			if err != nil {
				t.Errorf("New: %v", err)
				return
			}
			s.Close()
		}()
	}
	wg.Wait()
	steps, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	s := open(t, cfg)
	defer s.Close()
	ctx := context.Background()
	tbl := pgx.Identifier{cfg.Schema, "dossier_migrations"}.Sanitize()
	var n, top int
	if err := s.pool.QueryRow(ctx, `SELECT count(*), max(version) FROM `+tbl).Scan(&n, &top); err != nil {
		t.Fatal(err)
	}
	if n != len(steps) || top != migration.Latest(steps) {
		t.Fatalf("dossier_migrations: %d rows up to %d, want %d up to %d", n, top, len(steps), migration.Latest(steps))
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO `+tbl+` (version, name) VALUES (999, '0999_future.sql')`); err != nil {
		t.Fatal(err)
	}
	if _, err := New(ctx, cfg); err == nil || !strings.Contains(err.Error(), "version 999, newer than this program knows") {
		t.Errorf("New on a newer schema: %v", err)
	}
}

func TestConfigRefused(t *testing.T) {
	for _, cfg := range []Config{
		{URL: testpg.DefaultURL, Schema: "Bad-Name"},
		{URL: testpg.DefaultURL, Schema: "pg_catalog"},
		{URL: "postgres://user:secret-word@127.0.0.1:5432/db?sslmode=nonsense"},
	} {
		_, err := New(context.Background(), cfg)
		if err == nil {
			t.Errorf("New(%+v) accepted", cfg.Schema)
		} else if strings.Contains(err.Error(), "secret-word") {
			t.Errorf("error shows the password: %v", err)
		}
	}
}

// TestMigrationNextDue: summaries written before the next due column are due at the nearer of
// their deadline and their stage's, and found by it.
func TestMigrationNextDue(t *testing.T) {
	cfg := testConfig(t)
	ctx := context.Background()
	steps, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, cfg.URL)
	if err != nil {
		t.Fatal(err)
	}
	ident := pgx.Identifier{cfg.Schema}.Sanitize()
	for _, q := range []string{
		`CREATE SCHEMA ` + ident,
		`SET search_path TO ` + ident,
		`CREATE TABLE dossier_migrations (version integer NOT NULL PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
		steps[0].SQL,
		`INSERT INTO dossier_migrations (version, name) VALUES (` + fmt.Sprint(steps[0].Version) + `, '` + steps[0].Name + `')`,
		`INSERT INTO dossier_summaries VALUES ('A-1', 'dossier', 's', '1', 'open', true, 'u', '', '', '2026-03-16', '9999-12-31', now(), now(), 1, 'null'),
			('A-2', 'dossier', 's', '1', 'open', true, 'u', '', '', '9999-12-31', '9999-12-31', now(), now(), 1, 'null'),
			('A-3', 'dossier', 's', '1', 'open', true, 'u', '', '', '2026-03-20', '2026-03-10', now(), now(), 1, 'null')`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%.60s: %v", q, err)
		}
	}
	conn.Close(ctx)
	s := open(t, cfg)
	defer s.Close()
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
