package sqlconn

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
)

// preparer runs a connector's init statements once, before it first reads or writes. Until they
// have all succeeded every use runs them again, so that a database that was down at start is
// prepared when it comes back.
type preparer struct {
	stmts []string
	mu    sync.Mutex // one run at a time
	done  atomic.Bool
}

// ensure runs the statements unless an earlier call ran them all. Its errors are never
// permanent: they concern the table, not the message being written, and a second hub creating
// the same table at the same moment may make PostgreSQL refuse one CREATE ... IF NOT EXISTS.
func (p *preparer) ensure(ctx context.Context, db *sql.DB) error {
	if len(p.stmts) == 0 || p.done.Load() {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done.Load() {
		return nil
	}
	for i, q := range p.stmts {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("init statement %d: %w", i+1, masked{err})
		}
	}
	p.done.Store(true)
	return nil
}
