package embedded

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/internal/sqlitedb"
	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/transport"
)

func init() {
	transport.Register(transport.Factory{
		Type: "embedded",
		Doc: "Durable transport inside the hub process, kept in an SQLite file in the data folder. " +
			"A publish returns once its messages are on disk, so a message a source has acknowledged " +
			"survives kill -9 and a power cut; unacknowledged messages are delivered again after a restart " +
			"(after a power cut, also those acknowledged in the last half second or so). " +
			"Needs no service to install; for many hub processes use a broker transport instead.",
		Config: &Config{},
		New: func(cfg any, env transport.Env) (transport.Transport, error) {
			switch c := cfg.(type) {
			case *Config:
				return New(*c, env)
			case Config:
				return New(c, env)
			default:
				return nil, fmt.Errorf("embedded: configuration of type %T, want *embedded.Config", cfg)
			}
		},
	})
}

// ErrClosed is returned by Publish and Subscribe once the transport or publisher is closed.
var ErrClosed = errors.New("embedded: transport closed")

// Transport is the embedded durable transport. Make it with New.
type Transport struct {
	cfg Config
	db  *sql.DB
	w   *sqlitedb.Writer // the writer goroutine's connection
	// counts is the feeds' connection for delivery counts, used under the write lock.
	counts *sqlitedb.Writer
	st     *stmts
	log    *slog.Logger

	publishes  chan *publishReq // to the writer
	ackMu      sync.Mutex
	acks       []ackRef      // acknowledged, not yet committed
	ackKick    chan struct{} // tells the writer that acks wait (capacity 1)
	stop       chan struct{} // closed once Close has closed the subscribers and drained publishes
	gate       sync.RWMutex  // admits publishes until Close
	gateClosed bool
	publishing sync.WaitGroup // admitted publishes not yet answered
	writerEnd  chan struct{}  // closed when the writer has flushed and returned

	mu      sync.Mutex
	feeds   map[int64]*feed    // by subscription id
	byTopic map[string][]*feed // for waking subscribers after a publish
	subs    map[*subscriber]struct{}
	closed  bool
	wg      sync.WaitGroup // dispatchers

	closeOnce sync.Once
	closeErr  error

	commits atomic.Int64 // transactions written by the writer, for tests and benchmarks
	reads   atomic.Int64 // messages read back from the file, for tests and benchmarks
}

var _ transport.Transport = (*Transport)(nil)

// New opens (creating when absent) the transport's tables in the SQLite file that cfg names and
// starts its writer. Zero fields of cfg take their defaults.
func New(cfg Config, env transport.Env) (*Transport, error) {
	cfg, err := spec.Options[Config](cfg)
	if err != nil {
		return nil, fmt.Errorf("embedded: configuration: %w", err)
	}
	path := cfg.File
	if path == "" {
		path = "aiskao.db"
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(env.DataDir, path)
	}
	log := env.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	db, err := sqlitedb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("embedded: %w", err)
	}
	if err := createSchema(db); err != nil {
		sqlitedb.Release(db)
		return nil, err
	}
	w, err := sqlitedb.NewWriter(db)
	if err != nil {
		sqlitedb.Release(db)
		return nil, fmt.Errorf("embedded: %w", err)
	}
	counts, err := sqlitedb.NewWriter(db)
	if err != nil {
		w.Close()
		sqlitedb.Release(db)
		return nil, fmt.Errorf("embedded: %w", err)
	}
	st, err := prepareStmts(db)
	if err != nil {
		w.Close()
		counts.Close()
		sqlitedb.Release(db)
		return nil, err
	}
	t := &Transport{
		cfg:       cfg,
		db:        db,
		w:         w,
		counts:    counts,
		st:        st,
		log:       log,
		publishes: make(chan *publishReq, 4*cfg.BatchMax),
		ackKick:   make(chan struct{}, 1),
		stop:      make(chan struct{}),
		writerEnd: make(chan struct{}),
		feeds:     map[int64]*feed{},
		byTopic:   map[string][]*feed{},
		subs:      map[*subscriber]struct{}{},
	}
	go t.writer()
	return t, nil
}

const schema = `
CREATE TABLE IF NOT EXISTS transport_messages (
	seq      INTEGER PRIMARY KEY AUTOINCREMENT,
	topic    TEXT NOT NULL,
	uuid     TEXT NOT NULL,
	metadata BLOB NOT NULL,
	payload  BLOB NOT NULL,
	parts    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS transport_messages_topic ON transport_messages (topic, seq);
CREATE TABLE IF NOT EXISTS transport_parts (
	seq  INTEGER NOT NULL,
	n    INTEGER NOT NULL,
	data BLOB NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS transport_parts_seq ON transport_parts (seq, n);
CREATE TABLE IF NOT EXISTS transport_subscriptions (
	id    INTEGER PRIMARY KEY,
	grp   TEXT NOT NULL,
	topic TEXT NOT NULL,
	UNIQUE (grp, topic)
);
CREATE INDEX IF NOT EXISTS transport_subscriptions_topic ON transport_subscriptions (topic);
CREATE TABLE IF NOT EXISTS transport_pending (
	sub        INTEGER NOT NULL,
	seq        INTEGER NOT NULL,
	deliveries INTEGER NOT NULL DEFAULT 0,
	not_before INTEGER NOT NULL DEFAULT 0,
	attempts   INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (sub, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS transport_pending_seq ON transport_pending (seq);
`

func createSchema(db *sql.DB) error {
	if _, err := db.Exec(schema); err != nil {
		return fmt.Errorf("embedded: create tables: %w", err)
	}
	// Files made before deliveries were counted or redeliveries delayed, or before payloads were
	// kept in parts, get the columns; their messages count from 0, are due at once and are whole.
	for _, c := range []struct{ table, col string }{
		{"transport_pending", "deliveries"}, {"transport_pending", "not_before"}, {"transport_pending", "attempts"},
		{"transport_messages", "parts"},
	} {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM pragma_table_info(?) WHERE name = ?`, c.table, c.col).Scan(&n); err != nil {
			return fmt.Errorf("embedded: read tables: %w", err)
		}
		if n == 0 {
			if _, err := db.Exec(`ALTER TABLE ` + c.table + ` ADD COLUMN ` + c.col + ` INTEGER NOT NULL DEFAULT 0`); err != nil {
				return fmt.Errorf("embedded: add column %s.%s: %w", c.table, c.col, err)
			}
		}
	}
	return nil
}

// Publisher returns a publisher of the transport. Each call returns a new handle; closing one
// handle refuses its later publishes but leaves the transport and other handles working.
func (t *Transport) Publisher() message.Publisher { return &publisher{t: t} }

// Subscriber returns a subscriber for group; see the package documentation for how groups work.
// A prefetch option overrides the configured prefetch for its consumers; with
// transport.WithSettledCalls the consumers keep no goroutine waiting for each message in flight.
func (t *Transport) Subscriber(group string, opts ...transport.SubscriberOption) (message.Subscriber, error) {
	o := transport.Options(opts...)
	prefetch := t.cfg.Prefetch
	if o.Prefetch > 0 {
		prefetch = o.Prefetch
	}
	if group == "" {
		return nil, errors.New("embedded: subscriber: empty consumer group")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, ErrClosed
	}
	s := &subscriber{t: t, group: group, prefetch: prefetch, settledCalls: o.SettledCalls, closing: make(chan struct{})}
	t.subs[s] = struct{}{}
	return s, nil
}

// Backlog returns how many messages of topic group has not acknowledged. Acknowledgements are
// counted once committed, which is within ack_interval of the acknowledgement.
func (t *Transport) Backlog(ctx context.Context, topic, group string) (int64, error) {
	var n int64
	err := t.db.QueryRowContext(ctx, `
		SELECT count(*) FROM transport_pending
		WHERE sub = (SELECT id FROM transport_subscriptions WHERE grp = ? AND topic = ?)`,
		group, topic).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("embedded: backlog of %s for %s: %w", topic, group, err)
	}
	return n, nil
}

// Ready reports whether the database answers.
func (t *Transport) Ready(ctx context.Context) error {
	select {
	case <-t.stop:
		return ErrClosed
	default:
	}
	if err := t.db.PingContext(ctx); err != nil {
		return fmt.Errorf("embedded: not ready: %w", err)
	}
	return nil
}

// Close closes the subscribers still open (waiting up to close_timeout for the messages being
// handled), commits what is queued, and releases the database. Calling it again returns the
// first result.
func (t *Transport) Close() error {
	t.closeOnce.Do(func() {
		t.mu.Lock()
		t.closed = true
		subs := make([]*subscriber, 0, len(t.subs))
		for s := range t.subs {
			subs = append(subs, s)
		}
		t.mu.Unlock()
		var errs []error
		for _, s := range subs {
			errs = append(errs, s.Close())
		}
		t.gate.Lock()
		t.gateClosed = true
		t.gate.Unlock()
		t.publishing.Wait()
		close(t.stop) // stops the dispatchers; the writer commits the last acks and ends
		<-t.writerEnd
		t.wg.Wait()
		if err := t.w.Close(); err != nil {
			errs = append(errs, fmt.Errorf("embedded: %w", err))
		}
		if err := t.counts.Close(); err != nil {
			errs = append(errs, fmt.Errorf("embedded: %w", err))
		}
		if err := t.st.close(); err != nil {
			errs = append(errs, fmt.Errorf("embedded: close statements: %w", err))
		}
		if err := sqlitedb.Release(t.db); err != nil {
			errs = append(errs, fmt.Errorf("embedded: close database: %w", err))
		}
		t.closeErr = errors.Join(errs...)
	})
	return t.closeErr
}

// register makes sure group is subscribed to topic and returns the subscription's id. The first
// group of a topic takes over the messages published before any group subscribed; a later group
// starts with the messages published after it.
func (t *Transport) register(ctx context.Context, group, topic string) (int64, error) {
	id, err := t.registerOnce(ctx, group, topic)
	for try := 1; busy(err) && try < 3; try++ {
		id, err = t.registerOnce(ctx, group, topic)
	}
	return id, err
}

func (t *Transport) registerOnce(ctx context.Context, group, topic string) (int64, error) {
	tx, err := t.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("embedded: subscribe %s to %s: %w", group, topic, err)
	}
	defer tx.Rollback()
	var id int64
	err = tx.QueryRowContext(ctx, `SELECT id FROM transport_subscriptions WHERE grp = ? AND topic = ?`, group, topic).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("embedded: subscribe %s to %s: %w", group, topic, err)
	}
	var others int64
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM transport_subscriptions WHERE topic = ?`, topic).Scan(&others); err != nil {
		return 0, fmt.Errorf("embedded: subscribe %s to %s: %w", group, topic, err)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO transport_subscriptions (grp, topic) VALUES (?, ?)`, group, topic)
	if err != nil {
		return 0, fmt.Errorf("embedded: subscribe %s to %s: %w", group, topic, err)
	}
	if id, err = res.LastInsertId(); err != nil {
		return 0, fmt.Errorf("embedded: subscribe %s to %s: %w", group, topic, err)
	}
	if others == 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO transport_pending (sub, seq) SELECT ?, seq FROM transport_messages WHERE topic = ?`, id, topic); err != nil {
			return 0, fmt.Errorf("embedded: subscribe %s to %s: take earlier messages: %w", group, topic, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("embedded: subscribe %s to %s: %w", group, topic, err)
	}
	return id, nil
}

// feedFor returns the dispatcher of a subscription, starting it on first use.
func (t *Transport) feedFor(sub int64, topic string) (*feed, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, ErrClosed
	}
	if f, ok := t.feeds[sub]; ok {
		return f, nil
	}
	f := newFeed(t, sub, topic)
	t.feeds[sub] = f
	t.byTopic[topic] = append(t.byTopic[topic], f)
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		f.run()
	}()
	return f, nil
}

// handOff gives the messages of a committed batch to the dispatchers of their topics in this
// process, which deliver them without reading them back from the file, and wakes them. The
// payload is the publisher's slice, shared by every subscription: publishers and handlers only
// read payloads. The metadata is the copy taken at publish, read-only from here on.
func (t *Transport) handOff(batch []*publishReq) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, r := range batch {
		for _, f := range t.byTopic[r.topic] {
			ms := make([]*stored, len(r.rows))
			for i, m := range r.rows {
				ms[i] = &stored{seq: m.seq, uuid: m.uuid, metadata: m.meta, payload: m.payload}
			}
			f.handoff.offer(ms)
			f.poke()
		}
	}
}

// ack queues an acknowledgement for the writer.
func (t *Transport) ack(sub, seq int64) {
	t.ackMu.Lock()
	t.acks = append(t.acks, ackRef{sub: sub, seq: seq})
	t.ackMu.Unlock()
	select {
	case t.ackKick <- struct{}{}:
	default:
	}
}

type ackRef struct{ sub, seq int64 }

// publisher is one handle on the transport's publishing side.
type publisher struct {
	t      *Transport
	closed atomic.Bool
}

// Publish stores msgs under topic and returns once they are committed to disk.
func (p *publisher) Publish(topic string, msgs ...*message.Message) error {
	if p.closed.Load() {
		return fmt.Errorf("embedded: publish to %s: publisher closed", topic)
	}
	if topic == "" {
		return errors.New("embedded: publish: empty topic")
	}
	if len(msgs) == 0 {
		return nil
	}
	return p.t.publish(topic, msgs)
}

// Close refuses later publishes through this handle.
func (p *publisher) Close() error {
	p.closed.Store(true)
	return nil
}
