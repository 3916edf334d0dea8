// Package sqlitedb opens the embedded SQLite database that the embedded transport and the
// embedded store share: one file in the data folder, in WAL mode.
package sqlitedb

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	_ "modernc.org/sqlite" // registers the "sqlite" driver (pure Go, no cgo)
)

var (
	mu   sync.Mutex
	open = map[string]*shared{}
)

type shared struct {
	db   *sql.DB
	refs int
}

// Open returns the database at path, creating the file and its folder when absent. Callers that
// open the same path share one *sql.DB; each must call Release once when done.
//
// The connection is set up for durability first: WAL journal, synchronous=FULL (a committed
// transaction survives a power cut, not only a crash), a busy timeout, and foreign keys on.
// Writers group their work into few transactions so that the cost of a sync is shared.
func Open(path string) (*sql.DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlitedb: %w", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if s, ok := open[abs]; ok {
		s.refs++
		return s.db, nil
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return nil, fmt.Errorf("sqlitedb: create folder: %w", err)
	}
	dsn := "file:" + abs + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlitedb: open %s: %w", abs, err)
	}
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlitedb: open %s: %w", abs, err)
	}
	open[abs] = &shared{db: db, refs: 1}
	return db, nil
}

// Release gives back a database obtained from Open; the last release closes it.
func Release(db *sql.DB) error {
	mu.Lock()
	defer mu.Unlock()
	for path, s := range open {
		if s.db == db {
			s.refs--
			if s.refs == 0 {
				delete(open, path)
				return db.Close()
			}
			return nil
		}
	}
	return nil
}
