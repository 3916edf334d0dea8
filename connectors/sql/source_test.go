package sqlconn

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/spec"
)

// ddl returns a CREATE TABLE for each driver from a column list written for PostgreSQL, with
// the few types that differ replaced.
func ddl(driver, table, cols string) string {
	if driver == DriverMySQL {
		r := strings.NewReplacer("BYTEA", "BLOB", "TIMESTAMPTZ", "DATETIME(6)", "DOUBLE PRECISION", "DOUBLE", "JSONB", "JSON", "TEXT", "VARCHAR(200)", "BIGSERIAL", "BIGINT AUTO_INCREMENT")
		cols = r.Replace(cols)
	}
	if driver == DriverSQLite {
		r := strings.NewReplacer("TIMESTAMPTZ", "TIMESTAMP", "BIGSERIAL PRIMARY KEY", "INTEGER PRIMARY KEY AUTOINCREMENT", "BYTEA", "BLOB")
		cols = r.Replace(cols)
	}
	return "CREATE TABLE " + dialect{driver}.quote(table) + " (" + cols + ")"
}

func insertSQL(driver, table string, cols ...string) string {
	return dialect{driver}.insertSQL(table, cols, nil)
}

func TestPollTypedValues(t *testing.T) {
	each(t, func(t *testing.T, d testDB) {
		tbl := d.table(t, "typed")
		d.exec(t, ddl(d.driver, tbl, "id BIGINT PRIMARY KEY, amount NUMERIC(30,9), f DOUBLE PRECISION, name TEXT, born DATE, at TIMESTAMPTZ, data BYTEA, ok BOOLEAN"))
		at := time.Date(2024, 3, 1, 10, 20, 30, 123456000, time.UTC)
		amount := "12345678901234567890.123456789"
		if d.driver == DriverSQLite {
			amount = "12.5" // SQLite keeps NUMERIC as a float or an integer: no exact decimals to show
		}
		ins := insertSQL(d.driver, tbl, "id", "amount", "f", "name", "born", "at", "data", "ok")
		if _, err := d.db.Exec(ins, 1, amount, 1.5, "", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), at, []byte{0, 1, 2, 255}, true); err != nil {
			t.Fatal(err)
		}
		if _, err := d.db.Exec(ins, 2, nil, nil, nil, nil, nil, nil, nil); err != nil {
			t.Fatal(err)
		}
		c := &collector{}
		runUntil(t, mustSource(t, Config{Driver: d.driver, DSN: d.dsn, Table: tbl, Cursor: "id", MessageType: "test.Row"}, newStore(t)), c, 2)
		msgs := c.all()
		okJSON := "true"
		if d.driver == DriverMySQL {
			okJSON = "1" // BOOLEAN is TINYINT(1) there
		}
		want := []string{
			`{"id":1,"amount":` + amount + `,"f":1.5,"name":"","born":"2024-02-29","at":"2024-03-01T10:20:30.123456Z","data":"AAEC/w==","ok":` + okJSON + `}`,
			`{"id":2,"amount":null,"f":null,"name":null,"born":null,"at":null,"data":null,"ok":null}`,
		}
		for i, m := range msgs {
			if string(m.Payload) != want[i] {
				t.Errorf("row %d:\n got %s\nwant %s", i+1, m.Payload, want[i])
			}
			if m.Metadata.Get(envelope.ContentType) != "application/json" || m.Metadata.Get(envelope.Type) != "test.Row" || m.Metadata.Get(MetaCursor) != fmt.Sprint(i+1) {
				t.Errorf("row %d metadata: %v", i+1, m.Metadata)
			}
		}
	})
}

func TestPollResumesFromRememberedCursor(t *testing.T) {
	each(t, func(t *testing.T, d testDB) {
		tbl := d.table(t, "resume")
		d.exec(t, ddl(d.driver, tbl, "id BIGSERIAL PRIMARY KEY, name TEXT"))
		add := func(from, to int) {
			for i := from; i <= to; i++ {
				if _, err := d.db.Exec(insertSQL(d.driver, tbl, "name"), fmt.Sprintf("row %d", i)); err != nil {
					t.Fatal(err)
				}
			}
		}
		add(1, 7)
		st := newStore(t)
		cfg := Config{Driver: d.driver, DSN: d.dsn, Table: tbl, Cursor: "id", BatchSize: 3, PollInterval: spec.Duration(20 * time.Millisecond)}

		// A refused emit leaves the cursor where it was: the rows are offered again.
		refused := &collector{fail: true}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		if err := mustSource(t, cfg, st).Run(ctx, refused.emit); err != nil {
			t.Fatal(err)
		}
		cancel()

		first := &collector{}
		runUntil(t, mustSource(t, cfg, st), first, 7)
		add(8, 10)
		second := &collector{}
		runUntil(t, mustSource(t, cfg, st), second, 3) // a new source, as after a restart
		ids := map[string]bool{}
		for i, m := range append(first.all(), second.all()...) {
			want := fmt.Sprintf(`"name":"row %d"`, i+1)
			if !strings.Contains(string(m.Payload), want) {
				t.Errorf("message %d is %s; want %s", i+1, m.Payload, want)
			}
			if ids[m.UUID] {
				t.Errorf("id %s given twice", m.UUID)
			}
			ids[m.UUID] = true
		}
	})
}

// Rows sharing a timestamp across a batch boundary are neither repeated nor skipped when the
// cursor is the pair (timestamp, id).
func TestPollTimestampTies(t *testing.T) {
	each(t, func(t *testing.T, d testDB) {
		tbl := d.table(t, "ties")
		d.exec(t, ddl(d.driver, tbl, "id BIGINT PRIMARY KEY, at TIMESTAMPTZ NOT NULL"))
		base := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
		// ids out of time order, five rows on one timestamp
		rows := []struct {
			id int
			at time.Time
		}{{9, base}, {3, base}, {5, base}, {1, base}, {7, base}, {2, base.Add(time.Second)}, {8, base.Add(-time.Second)}}
		for _, r := range rows {
			if _, err := d.db.Exec(insertSQL(d.driver, tbl, "id", "at"), r.id, r.at); err != nil {
				t.Fatal(err)
			}
		}
		st := newStore(t)
		cfg := Config{Driver: d.driver, DSN: d.dsn, Table: tbl, Cursor: "at", TieBreaker: "id", BatchSize: 2, PollInterval: spec.Duration(20 * time.Millisecond)}
		c := &collector{}
		runUntil(t, mustSource(t, cfg, st), c, 7)
		var got []string
		for _, m := range c.all() {
			got = append(got, m.Metadata.Get(MetaCursor))
		}
		want := []string{"2025-01-02T03:04:04Z,8", "2025-01-02T03:04:05Z,1", "2025-01-02T03:04:05Z,3", "2025-01-02T03:04:05Z,5",
			"2025-01-02T03:04:05Z,7", "2025-01-02T03:04:05Z,9", "2025-01-02T03:04:06Z,2"}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("order read:\n got %v\nwant %v", got, want)
		}
		// A restart goes on after the last pair, and only a row past it comes.
		if _, err := d.db.Exec(insertSQL(d.driver, tbl, "id", "at"), 10, base.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		c2 := &collector{}
		runUntil(t, mustSource(t, cfg, st), c2, 1)
		if got := c2.all()[0].Metadata.Get(MetaCursor); got != "2025-01-02T03:04:06Z,10" {
			t.Errorf("after a restart read %s; want the new row 10", got)
		}
	})
}

// Two sources claiming from one outbox at once deliver every row once and leave it empty.
func TestOutboxTwoConsumers(t *testing.T) {
	each(t, func(t *testing.T, d testDB) {
		for _, done := range []string{DoneDelete, DoneMark} {
			t.Run(done, func(t *testing.T) {
				tbl := d.table(t, "outbox")
				d.exec(t, ddl(d.driver, tbl, "id BIGINT PRIMARY KEY, payload TEXT NOT NULL, sent_at TIMESTAMPTZ, claim VARCHAR(64)"))
				const n = 300
				tx, _ := d.db.Begin()
				for i := 1; i <= n; i++ {
					if _, err := tx.Exec(insertSQL(d.driver, tbl, "id", "payload"), i, fmt.Sprintf(`{"n":%d}`, i)); err != nil {
						t.Fatal(err)
					}
				}
				if err := tx.Commit(); err != nil {
					t.Fatal(err)
				}
				cfg := Config{Driver: d.driver, DSN: d.dsn, Table: tbl, Mode: ModeOutbox, Key: "id", ClaimCol: "claim", PayloadCol: "payload", BatchSize: 7,
					Done: done, DoneColumn: "sent_at", PollInterval: spec.Duration(20 * time.Millisecond)}
				c := &collector{}
				ctx, cancel := context.WithCancel(context.Background())
				var wg sync.WaitGroup
				for range 2 {
					src := mustSource(t, cfg, nil)
					wg.Go(func() {
						if err := src.Run(ctx, c.emit); err != nil {
							t.Error(err)
						}
					})
				}
				deadline := time.Now().Add(20 * time.Second)
				for c.count() < n && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
				}
				time.Sleep(100 * time.Millisecond)
				cancel()
				wg.Wait()
				seen := map[string]int{}
				ids := map[string]string{}
				for _, m := range c.all() {
					p := string(m.Payload)
					seen[p]++
					if prev, ok := ids[p]; ok && prev != m.UUID {
						t.Errorf("row %s delivered under two ids, %s and %s", p, prev, m.UUID)
					}
					ids[p] = m.UUID
					if m.Metadata.Get(envelope.ContentType) != "application/json" {
						t.Fatalf("content type %q", m.Metadata.Get(envelope.ContentType))
					}
				}
				for i := 1; i <= n; i++ {
					k := seen[fmt.Sprintf(`{"n":%d}`, i)]
					if k != 1 {
						t.Errorf("row %d delivered %d times; want once", i, k)
					}
				}
				left := "SELECT COUNT(*) FROM " + dialect{d.driver}.quote(tbl)
				if done == DoneMark {
					left += " WHERE sent_at IS NULL"
				}
				var k int
				if err := d.db.QueryRow(left).Scan(&k); err != nil || k != 0 {
					t.Errorf("%d rows left to send (%v); want 0", k, err)
				}
			})
		}
	})
}

// A refused emit rolls the claim back: the rows stay in the outbox and come again under the
// same ids.
func TestOutboxEmitFailureKeepsRows(t *testing.T) {
	each(t, func(t *testing.T, d testDB) {
		tbl := d.table(t, "outboxfail")
		d.exec(t, ddl(d.driver, tbl, "id BIGINT PRIMARY KEY, body TEXT, claim VARCHAR(64)"))
		d.exec(t, "INSERT INTO "+dialect{d.driver}.quote(tbl)+" (id, body) VALUES (1, 'a'), (2, 'b')")
		// The refused rows are released at once; should the release itself fail (a loaded
		// machine: it has 5 s), their claim lapses after 2 s rather than the default 2 m.
		cfg := Config{Driver: d.driver, DSN: d.dsn, Table: tbl, Mode: ModeOutbox, Key: "id", ClaimCol: "claim", ClaimTimeout: spec.Duration(2 * time.Second), PollInterval: spec.Duration(20 * time.Millisecond)}
		refused := &collector{fail: true}
		ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
		if err := mustSource(t, cfg, nil).Run(ctx, refused.emit); err != nil {
			t.Fatal(err)
		}
		cancel()
		c := &collector{}
		runUntil(t, mustSource(t, cfg, nil), c, 2)
		c2 := &collector{}
		runUntil(t, mustSource(t, cfg, nil), c2, 0) // nothing is left
		m := c.all()
		if string(m[0].Payload) != `{"id":1,"body":"a"}` || string(m[1].Payload) != `{"id":2,"body":"b"}` {
			t.Errorf("payloads %s %s", m[0].Payload, m[1].Payload)
		}
	})
}

// A NOTIFY wakes a PostgreSQL source long before its next poll.
func TestNotifyWakesSource(t *testing.T) {
	var pg *testDB
	for _, d := range databases(t) {
		if d.driver == DriverPostgres {
			pg = &d
		}
	}
	if pg == nil {
		t.Skip("needs PostgreSQL")
	}
	tbl := pg.table(t, "notify")
	pg.exec(t, ddl(DriverPostgres, tbl, "id BIGINT PRIMARY KEY"))
	channel := tbl + "_ch"
	cfg := Config{Driver: DriverPostgres, DSN: pg.dsn, Table: tbl, Cursor: "id", Notify: channel, PollInterval: spec.Duration(time.Hour)}
	src := mustSource(t, cfg, newStore(t))
	c := &collector{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, c.emit) }()
	// The first NOTIFY may come before LISTEN: notify until the row arrives.
	pg.exec(t, "INSERT INTO "+dialect{DriverPostgres}.quote(tbl)+" VALUES (1)")
	deadline := time.Now().Add(10 * time.Second)
	for c.count() == 0 && time.Now().Before(deadline) {
		pg.exec(t, "NOTIFY "+dialect{DriverPostgres}.quote(channel))
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if c.count() != 1 {
		t.Fatalf("a NOTIFY did not wake the source (poll interval 1h): %d messages", c.count())
	}
}

// The ids of rows depend on the connector, the table and the row's cursor only.
func TestMessageIDs(t *testing.T) {
	s := &source{name: "a", what: "t"}
	cols := []column{{name: "id", dbType: "INT8"}}
	m1, _ := s.message(cols, []any{int64(1)}, "1")
	m2, _ := s.message(cols, []any{int64(1)}, "1")
	m3, _ := s.message(cols, []any{int64(2)}, "2")
	other := &source{name: "b", what: "t"}
	m4, _ := other.message(cols, []any{int64(1)}, "1")
	if m1.UUID != m2.UUID || m1.UUID == m3.UUID || m1.UUID == m4.UUID {
		t.Errorf("ids %s %s %s %s: want the first two equal, the others different", m1.UUID, m2.UUID, m3.UUID, m4.UUID)
	}
}

// A query is polled like a table: its cursor column is compared outside it.
func TestPollQuery(t *testing.T) {
	each(t, func(t *testing.T, d testDB) {
		a, b := d.table(t, "qa"), d.table(t, "qb")
		d.exec(t, ddl(d.driver, a, "id BIGINT PRIMARY KEY, owner BIGINT NOT NULL, amount NUMERIC(10,2)"),
			ddl(d.driver, b, "id BIGINT PRIMARY KEY, name TEXT"))
		q := dialect{d.driver}.quote
		d.exec(t, "INSERT INTO "+q(b)+" (id, name) VALUES (1, 'Иван'), (2, 'Мария')",
			"INSERT INTO "+q(a)+" (id, owner, amount) VALUES (10, 1, 1.50), (11, 2, 0), (12, 1, 3.25), (13, 2, 7.00)")
		cfg := Config{Driver: d.driver, DSN: d.dsn, Cursor: "id", BatchSize: 2, PollInterval: spec.Duration(20 * time.Millisecond),
			Query: "SELECT p.id, n.name FROM " + q(a) + " p JOIN " + q(b) + " n ON n.id = p.owner WHERE p.amount > 0;"}
		c := &collector{}
		runUntil(t, mustSource(t, cfg, newStore(t)), c, 3)
		var got []string
		for _, m := range c.all() {
			got = append(got, string(m.Payload))
			if m.Metadata.Get(MetaTable) != "query" {
				t.Errorf("sql_table %q; want query", m.Metadata.Get(MetaTable))
			}
		}
		want := `{"id":10,"name":"Иван"} {"id":12,"name":"Иван"} {"id":13,"name":"Мария"}`
		if strings.Join(got, " ") != want {
			t.Errorf("got %v\nwant %s", got, want)
		}
	})
}

// A row whose transaction commits after a later row's is not skipped: the rows after the gap
// wait for it (settle); a gap that stays (a rolled-back id) is passed once settle is over.
func TestPollWaitsForOutOfOrderCommit(t *testing.T) {
	each(t, func(t *testing.T, d testDB) {
		if d.driver == DriverSQLite {
			t.Skip("SQLite has one writer at a time: commits come in order")
		}
		tbl := d.table(t, "order")
		d.exec(t, ddl(d.driver, tbl, "id BIGINT PRIMARY KEY, name TEXT"))
		ins := insertSQL(d.driver, tbl, "id", "name")
		d.exec(t, "INSERT INTO "+dialect{d.driver}.quote(tbl)+" (id, name) VALUES (1, 'first')")
		cfg := Config{Driver: d.driver, DSN: d.dsn, Table: tbl, Cursor: "id", Settle: spec.Duration(time.Hour), PollInterval: spec.Duration(10 * time.Millisecond)}
		st := newStore(t)
		c := &collector{}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- mustSource(t, cfg, st).Run(ctx, c.emit) }()
		waitCount := func(n int) {
			deadline := time.Now().Add(10 * time.Second)
			for c.count() < n && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
		}
		waitCount(1)
		slow, err := d.db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := slow.Exec(ins, 2, "slow"); err != nil {
			t.Fatal(err)
		}
		if _, err := d.db.Exec(ins, 3, "fast"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		if n := c.count(); n != 1 {
			t.Fatalf("%d rows taken while row 2 was uncommitted; want row 3 to wait", n)
		}
		if err := slow.Commit(); err != nil {
			t.Fatal(err)
		}
		waitCount(3)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range c.all() {
			got = append(got, m.Metadata.Get(MetaCursor))
		}
		if strings.Join(got, ",") != "1,2,3" {
			t.Errorf("rows taken: %v; want 1,2,3", got)
		}

		// A gap that never fills (id 4 rolled back) holds the rows after it for settle only.
		d.exec(t, "INSERT INTO "+dialect{d.driver}.quote(tbl)+" (id, name) VALUES (5, 'after a rollback')")
		cfg.Settle = spec.Duration(200 * time.Millisecond)
		c2 := &collector{}
		start := time.Now()
		runUntil(t, mustSource(t, cfg, st), c2, 1)
		if waited := time.Since(start); waited < 200*time.Millisecond {
			t.Errorf("row 5 taken after %v; want it to wait settle for row 4", waited)
		}
	})
}

// Rows stored but not removed (the removal rolled back or the connection lost after the emit)
// stay claimed by the source, which removes them before it claims again: every row is handed
// over once, whatever the database did after the emit.
func TestOutboxRemovalFailureDeliversOnce(t *testing.T) {
	each(t, func(t *testing.T, d testDB) {
		tbl := d.table(t, "outboxrm")
		away := d.table(t, "outboxaway")
		q := dialect{d.driver}.quote
		d.exec(t, ddl(d.driver, tbl, "id BIGINT PRIMARY KEY, body TEXT, claim VARCHAR(64)"))
		d.exec(t, "INSERT INTO "+q(tbl)+" (id, body) VALUES (1, 'a'), (2, 'b'), (3, 'c')")
		cfg := Config{Driver: d.driver, DSN: d.dsn, Table: tbl, Mode: ModeOutbox, Key: "id", ClaimCol: "claim", PollInterval: spec.Duration(20 * time.Millisecond)}
		c := &collector{}
		var once sync.Once
		emit := func(ctx context.Context, msgs ...*message.Message) error {
			// The table is away when the source comes to remove the rows.
			once.Do(func() { d.exec(t, "ALTER TABLE "+q(tbl)+" RENAME TO "+q(away)) })
			return c.emit(ctx, msgs...)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- mustSource(t, cfg, nil).Run(ctx, emit) }()
		time.Sleep(300 * time.Millisecond) // several polls fail to remove the rows
		d.exec(t, "ALTER TABLE "+q(away)+" RENAME TO "+q(tbl))
		deadline := time.Now().Add(10 * time.Second)
		left := func() int { return len(d.query(t, "SELECT id FROM "+q(tbl))) }
		for left() > 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond) // time for a row handed over twice to show
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if n := left(); n != 0 {
			t.Errorf("%d rows left in the outbox", n)
		}
		if n := c.count(); n != 3 {
			t.Errorf("%d messages handed over; want the 3 rows once each", n)
		}
	})
}

// A row claimed by a hub that stopped is taken again once its claim lapses, and not before.
func TestOutboxClaimLapses(t *testing.T) {
	each(t, func(t *testing.T, d testDB) {
		tbl := d.table(t, "outboxlapse")
		q := dialect{d.driver}.quote(tbl)
		d.exec(t, ddl(d.driver, tbl, "id BIGINT PRIMARY KEY, body TEXT, claim VARCHAR(64)"))
		lapsed := newClaim(time.Now().Add(-time.Second))
		live := newClaim(time.Now().Add(time.Hour))
		d.exec(t, "INSERT INTO "+q+" (id, body, claim) VALUES (1, 'lapsed', '"+lapsed+"'), (2, 'live', '"+live+"'), (3, 'new', NULL)")
		cfg := Config{Driver: d.driver, DSN: d.dsn, Table: tbl, Mode: ModeOutbox, Key: "id", ClaimCol: "claim", PollInterval: spec.Duration(20 * time.Millisecond)}
		c := &collector{}
		runUntil(t, mustSource(t, cfg, nil), c, 2)
		var got []string
		for _, m := range c.all() {
			got = append(got, string(m.Payload))
		}
		if want := `{"id":1,"body":"lapsed"} {"id":3,"body":"new"}`; strings.Join(got, " ") != want {
			t.Errorf("handed over %s; want %s", got, want)
		}
		if rows := d.query(t, "SELECT id, claim FROM "+q); len(rows) != 1 || rows[0] != "2|"+live {
			t.Errorf("left in the outbox: %q; want row 2 under its live claim", rows)
		}
	})
}

// Claims compare as text in the order of their times, whatever the collation: fixed-width digits.
func TestClaimOrder(t *testing.T) {
	base := time.Date(2026, 12, 31, 23, 59, 59, 999999000, time.UTC)
	a, b := newClaim(base), newClaim(base.Add(time.Microsecond))
	if !(a < b) || len(a) != len(b) || len(a) > 64 {
		t.Errorf("claims %q and %q: want fixed width under 64, in time order", a, b)
	}
	if now := strings.Replace(base.Format(claimTime), ".", "", 1); !(now < a) || !(a < b) {
		t.Errorf("a claim lapsing at %q does not compare after that time", now)
	}
	c := Config{Driver: DriverSQLite, DSN: "x.db", Table: "outbox", Mode: ModeOutbox, Key: "id"}
	if err := c.sourceCheck(); err == nil || !strings.Contains(err.Error(), "claim_column") {
		t.Errorf("outbox without claim_column: %v", err)
	}
}
