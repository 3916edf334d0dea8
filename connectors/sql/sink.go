package sqlconn

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/fault"
)

type sink struct {
	name  string
	db    *sql.DB
	query string
	args  []path // what fills each parameter, in order
	what  string // the table or "statement", for errors
	batch int
	// timeText sends RFC 3339 text as a time (MariaDB, MySQL); see param.
	timeText bool
	prep     *preparer // the init statements
	stopInit func()    // cancels the init statements run at start

	queue  chan *pending // with batch > 1: messages waiting for a transaction
	quit   chan struct{}
	wg     sync.WaitGroup
	closed atomic.Bool
	once   sync.Once
}

// pending is one message waiting in a shared transaction.
type pending struct {
	ctx  context.Context
	rows [][]any
	done chan error
}

func newSink(cfg any, env connectors.Env) (*sink, error) {
	c, err := options(cfg)
	if err == nil {
		err = c.sinkCheck()
	}
	if err != nil {
		return nil, fmt.Errorf("sql sink %s: %w", env.Name, err)
	}
	d := dialect{c.Driver}
	s := &sink{name: env.Name, batch: c.Batch, quit: make(chan struct{}), timeText: c.Driver == DriverMySQL, prep: &preparer{stmts: c.Init}}
	switch c.Action {
	case ActionStatement:
		st, err := parseStatement(c.Statement, c.Driver)
		if err != nil {
			return nil, fmt.Errorf("sql sink %s: statement: %w", env.Name, err)
		}
		s.query, s.what = st.sql, "statement"
		for _, name := range st.args {
			p, _ := parsePath(c.Params[name]) // checked by Validate
			s.args = append(s.args, p)
		}
	default:
		cols := make([]string, 0, len(c.Fields))
		for col := range c.Fields {
			cols = append(cols, col)
		}
		slices.Sort(cols)
		var keys []string
		if c.Action == ActionUpsert {
			keys = c.KeyCols
		}
		s.query, s.what = d.insertSQL(c.Table, cols, keys), c.Table
		for _, col := range cols {
			p, _ := parsePath(c.Fields[col]) // checked by Validate
			s.args = append(s.args, p)
		}
	}
	if s.db, err = open(c, env); err != nil {
		return nil, fmt.Errorf("sql sink %s: %w", env.Name, err)
	}
	if len(c.Init) > 0 && !env.Check {
		// At start, so that the table is there before the first message; a database that is
		// down now is prepared before the first write instead.
		log := env.Log()
		ctx, cancel := context.WithCancel(context.Background())
		s.stopInit = cancel
		s.wg.Go(func() {
			if err := s.prep.ensure(ctx, s.db); err != nil && ctx.Err() == nil {
				log.Warn("init statements failed; run again before the first write", "error", err)
			}
		})
	}
	if s.batch > 1 {
		s.queue = make(chan *pending, s.batch)
		for range c.MaxOpen {
			s.wg.Go(s.committer)
		}
	}
	return s, nil
}

// Send writes msg: one row for a JSON object, one per item for a list of objects, in one
// transaction. A message that is not JSON, a constraint it violates and data the database
// refuses are permanent errors with the database's message; anything else, a lost connection
// above all, is retried.
func (s *sink) Send(ctx context.Context, msg *message.Message) error {
	if s.closed.Load() {
		return fmt.Errorf("sql sink %s: send after close", s.name)
	}
	rows, err := s.rowsOf(msg)
	if err != nil {
		return fault.Permanent(fmt.Errorf("sql sink %s: message %s: %w", s.name, msg.UUID, err))
	}
	if s.queue == nil {
		if err := s.write(ctx, rows); err != nil {
			return fmt.Errorf("sql sink %s: message %s into %s: %w", s.name, msg.UUID, s.what, err)
		}
		return nil
	}
	p := &pending{ctx: ctx, rows: rows, done: make(chan error, 1)}
	select {
	case s.queue <- p:
	case <-ctx.Done():
		return fmt.Errorf("sql sink %s: %w", s.name, ctx.Err())
	case <-s.quit:
		return fmt.Errorf("sql sink %s: send after close", s.name)
	}
	select {
	case err := <-p.done:
		if err != nil {
			return fmt.Errorf("sql sink %s: message %s into %s: %w", s.name, msg.UUID, s.what, err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("sql sink %s: %w", s.name, ctx.Err())
	}
}

// rowsOf maps a message to the parameters of its rows.
func (s *sink) rowsOf(msg *message.Message) ([][]any, error) {
	var doc any
	needJSON := slices.ContainsFunc(s.args, func(p path) bool { return p.special == "" })
	if needJSON {
		var err error
		if doc, err = decodePayload(msg.Payload); err != nil {
			return nil, err
		}
	}
	items := []any{doc}
	if list, ok := doc.([]any); ok && needJSON {
		if len(list) == 0 {
			return nil, errors.New("the payload is an empty list: no rows to write")
		}
		items = list
	}
	rows := make([][]any, 0, len(items))
	for i, item := range items {
		if _, ok := item.(map[string]any); needJSON && !ok {
			if len(items) > 1 {
				return nil, fmt.Errorf("item %d of the payload is not a JSON object", i)
			}
			return nil, errors.New("the payload is not a JSON object or a list of objects")
		}
		row := make([]any, len(s.args))
		for j, p := range s.args {
			v, _ := p.lookup(msg, item) // missing: NULL
			var err error
			if row[j], err = param(v, s.timeText); err != nil {
				return nil, err
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// write runs the statement for rows in one transaction (none for a single row).
func (s *sink) write(ctx context.Context, rows [][]any) error {
	if err := s.prep.ensure(ctx, s.db); err != nil {
		return err
	}
	if len(rows) == 1 {
		_, err := s.db.ExecContext(ctx, s.query, rows[0]...)
		return classify(err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it does nothing
	// Prepared once for all the rows: SQLite parses a statement at every Exec otherwise, and
	// MariaDB's driver prepares and closes one per Exec.
	st, err := tx.PrepareContext(ctx, s.query)
	if err != nil {
		return classify(err)
	}
	defer st.Close()
	for i, r := range rows {
		if _, err := st.ExecContext(ctx, r...); err != nil {
			return fmt.Errorf("row %d: %w", i, classify(err))
		}
	}
	return classify(tx.Commit())
}

// committer writes the messages waiting at the same time in one transaction; when it fails each
// is written alone, so that one bad message fails alone and the others go through.
func (s *sink) committer() {
	for {
		var group []*pending
		select {
		case p := <-s.queue:
			group = append(group, p)
		case <-s.quit:
			return
		}
	fill:
		for len(group) < s.batch {
			select {
			case p := <-s.queue:
				group = append(group, p)
			default:
				break fill
			}
		}
		live := group[:0]
		for _, p := range group {
			if p.ctx.Err() != nil {
				p.done <- p.ctx.Err()
				continue
			}
			live = append(live, p)
		}
		if len(live) == 0 {
			continue
		}
		if len(live) == 1 {
			live[0].done <- s.write(live[0].ctx, live[0].rows)
			continue
		}
		var all [][]any
		for _, p := range live {
			all = append(all, p.rows...)
		}
		if err := s.write(context.WithoutCancel(live[0].ctx), all); err == nil {
			for _, p := range live {
				p.done <- nil
			}
			continue
		}
		for _, p := range live {
			p.done <- s.write(p.ctx, p.rows)
		}
	}
}

// Close stops the sink and closes its connections; Sends after it fail. It can be called more
// than once.
func (s *sink) Close() error {
	var err error
	s.once.Do(func() {
		s.closed.Store(true)
		close(s.quit)
		if s.stopInit != nil {
			s.stopInit()
		}
		s.wg.Wait()
		if s.queue != nil {
			for {
				select {
				case p := <-s.queue:
					p.done <- errors.New("the sink was closed")
					continue
				default:
				}
				break
			}
		}
		err = s.db.Close()
	})
	return err
}
