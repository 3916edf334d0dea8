package sqlite

import (
	"context"
	"path/filepath"
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
