package sqlconn

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/fault"
	"github.com/aiskao/aiskao/spec"
)

// tableExists reports whether SELECT from table works.
func (d testDB) tableExists(table string) bool {
	rows, err := d.db.Query("SELECT 1 FROM " + dialect{d.driver}.quote(table) + " WHERE 1 = 0")
	if err != nil {
		return false
	}
	rows.Close()
	return true
}

// The sink's init statements create its table at start, run again harmlessly by a second sink,
// and are not run when the configuration is only checked.
func TestSinkInitCreatesTable(t *testing.T) {
	each(t, func(t *testing.T, d testDB) {
		tbl := d.table(t, "init")
		create := "CREATE TABLE IF NOT EXISTS " + dialect{d.driver}.quote(tbl) + " (id VARCHAR(64) PRIMARY KEY, name VARCHAR(200))"
		cfg := Config{Driver: d.driver, DSN: d.dsn, Table: tbl, Fields: map[string]string{"id": "$id", "name": "/name"}, Init: []string{create}}

		checked, err := newSink(&cfg, connectors.Env{Name: "checked", Check: true})
		if err != nil {
			t.Fatal(err)
		}
		checked.Close()
		if d.tableExists(tbl) {
			t.Fatal("a sink built only to check the configuration created its table")
		}

		mustSink(t, cfg)
		deadline := time.Now().Add(10 * time.Second)
		for !d.tableExists(tbl) {
			if time.Now().After(deadline) {
				t.Fatal("the table was not created at start")
			}
			time.Sleep(20 * time.Millisecond)
		}
		for i, s := range []*sink{mustSink(t, cfg), mustSink(t, cfg)} { // the second runs the DDL again
			msg := message.NewMessage([]string{"a", "b"}[i], []byte(`{"name":"Иван"}`))
			if err := s.Send(context.Background(), msg); err != nil {
				t.Fatalf("send %d: %v", i, err)
			}
		}
		if got := d.query(t, "SELECT id, name FROM "+dialect{d.driver}.quote(tbl)+" ORDER BY id"); strings.Join(got, ",") != "a|Иван,b|Иван" {
			t.Errorf("rows %q", got)
		}
	})
}

// A failing init statement fails the write with a retryable error naming the statement, and
// nothing is written; the message is not refused as if it were bad.
func TestSinkInitFailureIsRetryable(t *testing.T) {
	each(t, func(t *testing.T, d testDB) {
		tbl := d.table(t, "initbad")
		d.exec(t, ddl(d.driver, tbl, "id VARCHAR(64) PRIMARY KEY"))
		cfg := Config{Driver: d.driver, DSN: d.dsn, Table: tbl, Fields: map[string]string{"id": "$id"}, Init: []string{"CREATE TABLE IF NOT EXISTS " + tbl + " (id", "SELECT 1"}}
		s := mustSink(t, cfg)
		err := s.Send(context.Background(), message.NewMessage("x", []byte(`{}`)))
		if err == nil || !strings.Contains(err.Error(), "init statement 1") {
			t.Fatalf("err = %v; want one naming init statement 1", err)
		}
		if fault.IsPermanent(err) {
			t.Errorf("an init failure is permanent: %v", err)
		}
		if got := d.query(t, "SELECT id FROM "+dialect{d.driver}.quote(tbl)); len(got) != 0 {
			t.Errorf("rows written despite the failed init: %q", got)
		}
	})
}

// A source runs its init statements before its first read: the outbox it consumes may be
// created by them.
func TestSourceInitCreatesTable(t *testing.T) {
	each(t, func(t *testing.T, d testDB) {
		tbl := d.table(t, "initout")
		create := "CREATE TABLE IF NOT EXISTS " + dialect{d.driver}.quote(tbl) + " (id BIGINT PRIMARY KEY, body VARCHAR(200), claim VARCHAR(64))"
		cfg := Config{Driver: d.driver, DSN: d.dsn, Table: tbl, Mode: ModeOutbox, Key: "id", ClaimCol: "claim", PollInterval: spec.Duration(20 * time.Millisecond), Init: []string{create}}
		src := mustSource(t, cfg, nil)
		c := &collector{}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- src.Run(ctx, c.emit) }()
		deadline := time.Now().Add(10 * time.Second)
		for !d.tableExists(tbl) {
			if time.Now().After(deadline) {
				t.Fatal("the outbox was not created")
			}
			time.Sleep(20 * time.Millisecond)
		}
		d.exec(t, "INSERT INTO "+dialect{d.driver}.quote(tbl)+" (id, body) VALUES (1, 'a')")
		for c.count() < 1 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if c.count() != 1 {
			t.Fatalf("collected %d messages; want 1", c.count())
		}
	})
}

func TestInitValidate(t *testing.T) {
	c := Config{Driver: DriverSQLite, DSN: "x.db", Init: []string{"CREATE TABLE IF NOT EXISTS t (id INT)", "  "}}
	_, err := options(&c)
	if err == nil || !strings.Contains(err.Error(), "init[1]") {
		t.Fatalf("err = %v; want one naming init[1]", err)
	}
}
