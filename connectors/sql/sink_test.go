package sqlconn

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/connectors/connectortest"
	"github.com/aiskao/aiskao/fault"
)

func TestSinkConformance(t *testing.T) {
	each(t, func(t *testing.T, d testDB) {
		connectortest.RunSink(t, connectortest.SinkCase{New: func(t *testing.T) connectortest.SinkFixture {
			tbl := d.table(t, "conf")
			d.exec(t, ddl(d.driver, tbl, "id VARCHAR(64) PRIMARY KEY, body "+d.blob()))
			s := mustSink(t, Config{Driver: d.driver, DSN: d.dsn, Table: tbl, Fields: map[string]string{"id": "$id", "body": "$payload"}, Batch: 4})
			return connectortest.SinkFixture{Sink: s, Delivered: func(t *testing.T) map[string][]byte {
				rows, err := d.db.Query("SELECT id, body FROM " + dialect{d.driver}.quote(tbl))
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				out := map[string][]byte{}
				for rows.Next() {
					var id string
					var body []byte
					if err := rows.Scan(&id, &body); err != nil {
						t.Fatal(err)
					}
					out[id] = body
				}
				return out
			}}
		}})
	})
}

func send(t *testing.T, s *sink, payload string) error {
	t.Helper()
	return s.Send(context.Background(), message.NewMessage(fmt.Sprintf("m-%d", len(payload)), []byte(payload)))
}

// query returns the rows of q, each as its columns' text joined by "|", NULL as "<nil>".
func (d testDB) query(t *testing.T, q string) []string {
	t.Helper()
	rows, err := d.db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals, err := scan(rows, len(cols))
		if err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			parts[i] = fmt.Sprint(v)
		}
		out = append(out, strings.Join(parts, "|"))
	}
	return out
}

func TestSinkInsertUpsertStatement(t *testing.T) {
	each(t, func(t *testing.T, d testDB) {
		tbl := d.table(t, "people")
		amountType := "NUMERIC(30,9)"
		if d.driver == DriverSQLite {
			amountType = "TEXT" // SQLite would keep a decimal as a float
		}
		d.exec(t, ddl(d.driver, tbl, "id BIGINT PRIMARY KEY, name VARCHAR(100) NOT NULL, note VARCHAR(100), amount "+amountType))
		q := dialect{d.driver}.quote(tbl)
		fields := map[string]string{"id": "/id", "name": "person.name", "note": "/note", "amount": "amount"}

		ins := mustSink(t, Config{Driver: d.driver, DSN: d.dsn, Table: tbl, Fields: fields})
		if err := send(t, ins, `{"id":1,"person":{"name":"Иван"},"note":"","amount":12345678901234567890.123456789}`); err != nil {
			t.Fatal(err)
		}
		if err := send(t, ins, `[{"id":2,"person":{"name":"Мария"}},{"id":3,"person":{"name":"Петър"},"note":"x; DROP TABLE `+tbl+`"}]`); err != nil {
			t.Fatal(err)
		}
		// A duplicate key is permanent, with the database's message.
		err := send(t, ins, `{"id":1,"person":{"name":"again"}}`)
		if !fault.IsPermanent(err) {
			t.Errorf("duplicate key: %v; want a permanent error", err)
		}
		// A NOT NULL violation too; a list is one transaction, so its first row is not kept.
		err = send(t, ins, `[{"id":4,"person":{"name":"ok"}},{"id":5}]`)
		if !fault.IsPermanent(err) || !strings.Contains(strings.ToLower(err.Error()), "name") {
			t.Errorf("NULL into NOT NULL: %v; want a permanent error naming the column", err)
		}
		for _, bad := range []string{`not json`, `"text"`, `[]`, `[1]`, strings.Repeat("[", 100)} {
			if err := send(t, ins, bad); !fault.IsPermanent(err) {
				t.Errorf("payload %.20q: %v; want a permanent error", bad, err)
			}
		}

		up := mustSink(t, Config{Driver: d.driver, DSN: d.dsn, Table: tbl, Action: ActionUpsert, KeyCols: []string{"id"}, Fields: fields})
		if err := send(t, up, `{"id":2,"person":{"name":"Мария Иванова"},"note":"upd"}`); err != nil {
			t.Fatal(err)
		}
		if err := send(t, up, `{"id":6,"person":{"name":"Нов"}}`); err != nil {
			t.Fatal(err)
		}

		st := mustSink(t, Config{Driver: d.driver, DSN: d.dsn, Action: ActionStatement,
			Statement: "UPDATE " + q + " SET note = :note WHERE id = :id AND note IS NULL -- :ignored\n",
			Params:    map[string]string{"id": "/id", "note": "$meta.who"}})
		m := message.NewMessage("s1", []byte(`{"id":3}`))
		m.Metadata.Set("who", "служител")
		if err := st.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		m = message.NewMessage("s2", []byte(`{"id":6}`))
		m.Metadata.Set("who", "служител")
		if err := st.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}

		amount := "12345678901234567890.123456789"
		got := d.query(t, "SELECT id, name, note, amount FROM "+q+" ORDER BY id")
		want := []string{
			"1|Иван||" + amount,
			"2|Мария Иванова|upd|<nil>",
			"3|Петър|x; DROP TABLE " + tbl + "|<nil>",
			"6|Нов|служител|<nil>",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("table:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}

// A database that cannot be reached is a retryable error, not a permanent one.
func TestSinkLostConnectionRetryable(t *testing.T) {
	for _, c := range []Config{
		{Driver: DriverPostgres, DSN: "postgres://postgres@127.0.0.1:1/test?connect_timeout=2"},
		{Driver: DriverMySQL, DSN: "root@tcp(127.0.0.1:1)/test?timeout=2s"},
	} {
		c.Table, c.Fields = "t", map[string]string{"id": "id"}
		s := mustSink(t, c)
		err := send(t, s, `{"id":1}`)
		if err == nil || fault.IsPermanent(err) {
			t.Errorf("%s: %v; want a retryable error", c.Driver, err)
		}
		if strings.Contains(err.Error(), "postgres://") || strings.Contains(err.Error(), "root@") {
			t.Errorf("%s: the error shows the connection string: %v", c.Driver, err)
		}
	}
}

// One bad message in a shared transaction fails alone; the others are written.
func TestSinkBatchIsolatesBadMessage(t *testing.T) {
	each(t, func(t *testing.T, d testDB) {
		tbl := d.table(t, "batch")
		d.exec(t, ddl(d.driver, tbl, "id BIGINT PRIMARY KEY"))
		s := mustSink(t, Config{Driver: d.driver, DSN: d.dsn, Table: tbl, Fields: map[string]string{"id": "id"}, Batch: 50, MaxOpen: 1})
		d.exec(t, "INSERT INTO "+dialect{d.driver}.quote(tbl)+" (id) VALUES (13)")
		errs := make(chan error, 40)
		for i := range 40 {
			go func() {
				errs <- s.Send(context.Background(), message.NewMessage(fmt.Sprint(i), fmt.Appendf(nil, `{"id":%d}`, i)))
			}()
		}
		var failed int
		for range 40 {
			if err := <-errs; err != nil {
				failed++
				if !fault.IsPermanent(err) {
					t.Errorf("duplicate key in a batch: %v; want permanent", err)
				}
			}
		}
		var n int
		if err := d.db.QueryRow("SELECT COUNT(*) FROM " + dialect{d.driver}.quote(tbl)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if failed != 1 || n != 40 {
			t.Errorf("%d failed, %d rows; want 1 failed (id 13) and 40 rows", failed, n)
		}
	})
}

// A timestamp the source wrote (RFC 3339) goes into a timestamp column of each database, MariaDB
// included, which refuses a zone in text, and reads back as the same instant.
func TestSinkTimestampRoundTrip(t *testing.T) {
	each(t, func(t *testing.T, d testDB) {
		tbl := d.table(t, "times")
		d.exec(t, ddl(d.driver, tbl, "id BIGINT PRIMARY KEY, at TIMESTAMPTZ, label VARCHAR(40)"))
		s := mustSink(t, Config{Driver: d.driver, DSN: d.dsn, Table: tbl, Fields: map[string]string{"id": "id", "at": "at", "label": "label"}})
		if err := send(t, s, `{"id":1,"at":"2026-03-14T11:26:53.589793+02:00","label":"not a time"}`); err != nil {
			t.Fatal(err)
		}
		c := &collector{}
		runUntil(t, mustSource(t, Config{Driver: d.driver, DSN: d.dsn, Table: tbl, Cursor: "id"}, newStore(t)), c, 1)
		if got, want := string(c.all()[0].Payload), `{"id":1,"at":"2026-03-14T09:26:53.589793Z","label":"not a time"}`; got != want {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	})
}
