package postgres

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/aiskao/aiskao/internal/testpg"

	"github.com/jackc/pgx/v5"

	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/store"
)

// serverURL returns the test server's URL, skipping the test without one (failing under CI).
func serverURL(t testing.TB) string { return testpg.URL(t) }

// uniqueName returns prefix followed by random hex, a name no other test uses.
func uniqueName(prefix string) string { return testpg.Name(prefix) }

// admin opens a connection of the test's own, for inspecting and disturbing the store's.
func admin(t testing.TB) *pgx.Conn {
	t.Helper()
	conn := dial(t)
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// dial connects to the test server; the caller closes the connection.
func dial(t testing.TB) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, serverURL(t))
	if err != nil {
		t.Fatalf("connect to the test server: %v", err)
	}
	return conn
}

// exec runs sql on conn.
func exec(t testing.TB, conn *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// queryInt runs a query that returns one number on conn.
func queryInt(t testing.TB, conn *pgx.Conn, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := conn.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// queryIntOnce runs a query that returns one number on a connection of its own.
func queryIntOnce(t testing.TB, sql string) int {
	t.Helper()
	conn := dial(t)
	defer conn.Close(context.Background())
	return queryInt(t, conn, sql)
}

// testConfig returns a configuration on a new schema of the test server, dropped when the test
// ends (after the stores of the test are closed: cleanups run last first).
func testConfig(t testing.TB) Config {
	t.Helper()
	schema := testpg.Schema(t, "aiskao_test_")
	return schemaConfig(t, schema)
}

// schemaConfig returns a configuration on schema of the test server.
func schemaConfig(t testing.TB, schema string) Config {
	// No pruning: the conformance suite keeps dead letters of 2024.
	return Config{URL: serverURL(t), Schema: schema, ConnectTimeout: spec.Duration(3 * time.Second), Retention: store.Retention{DeadLetters: "0"}}
}

// withParam returns raw with a query parameter set.
func withParam(t testing.TB, raw, name, value string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set(name, value)
	u.RawQuery = q.Encode()
	return u.String()
}

func open(t testing.TB, cfg Config) *Store {
	t.Helper()
	s, err := New(cfg, store.Env{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// poll calls ok until it returns true or the deadline passes.
func poll(t testing.TB, within time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(25 * time.Millisecond)
	}
}
