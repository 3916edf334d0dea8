package sqlconn_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/aiskao/aiskao/connectors/all"
	"github.com/aiskao/aiskao/hub"
	_ "github.com/aiskao/aiskao/hub/transport/embedded"
	"github.com/aiskao/aiskao/routes"
	"github.com/aiskao/aiskao/store"
	_ "github.com/aiskao/aiskao/store/sqlite"
	_ "github.com/aiskao/aiskao/transforms/all"
)

const exampleConfig = "../../configs/examples/sql-register.yaml"

// examplePG prepares the example's two tables, under names of the test's own, in the PostgreSQL
// database, and points the example's variables at them.
func examplePG(tb testing.TB) (db *sql.DB, src, dst string) {
	tb.Helper()
	db, dsn, src, dst := exampleTables(tb, "pgx", "AISKAO_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test", "PostgreSQL",
		"(id BIGSERIAL PRIMARY KEY, payer_egn CHAR(10) NOT NULL, payer_name TEXT NOT NULL, amount NUMERIC(14,2) NOT NULL, paid_at TIMESTAMPTZ NOT NULL, note TEXT)",
		"(payment_id BIGINT PRIMARY KEY, payer TEXT NOT NULL, amount NUMERIC(14,2) NOT NULL CHECK (amount > 0), paid_at TIMESTAMPTZ NOT NULL, note TEXT, message_id TEXT NOT NULL)")
	tb.Setenv("TAX_DSN", dsn)
	tb.Setenv("OFFICE_DSN", dsn)
	tb.Setenv("TAX_PAYMENTS_TABLE", src)
	tb.Setenv("OFFICE_PAYMENTS_TABLE", dst)
	return db, src, dst
}

func startExample(tb testing.TB) *hub.Engine {
	tb.Helper()
	cfg, err := routes.Load(routes.DefaultCatalog(), exampleConfig)
	if err != nil {
		tb.Fatal(err)
	}
	eng, err := hub.Build(cfg, hub.Options{DataDir: tb.TempDir(), Logger: slog.New(slog.DiscardHandler), Catalog: routes.DefaultCatalog()})
	if err != nil {
		tb.Fatal(err)
	}
	if err := eng.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = eng.Stop(context.Background()) })
	return eng
}

func countRows(tb testing.TB, db *sql.DB, table string) int {
	tb.Helper()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

// The example configuration, run by the engine: payments are copied with their exact amounts,
// a NULL note stays NULL and an empty one empty, and a row the sink's constraint refuses becomes
// a dead letter carrying PostgreSQL's message.
func TestExampleCopiesPayments(t *testing.T) {
	db, src, dst := examplePG(t)
	ins := "INSERT INTO " + src + " (payer_egn, payer_name, amount, paid_at, note) VALUES ($1, $2, $3, $4, $5)"
	at := time.Date(2026, 3, 14, 9, 26, 53, 589793000, time.UTC)
	for _, r := range [][]any{
		{"8001010000", "Иван Петров", "123456789012.34", at, nil},
		{"8502020000", "Мария Иванова", "0.01", at, ""},
		{"9003030000", "Георги Димитров", "-5.00", at, "сторно"}, // refused by CHECK (amount > 0)
	} {
		if _, err := db.Exec(ins, r...); err != nil {
			t.Fatal(err)
		}
	}
	eng := startExample(t)
	var dls []store.DeadLetter
	deadline := time.Now().Add(20 * time.Second)
	for {
		var err error
		if dls, err = eng.Store().ListDeadLetters(context.Background(), store.Filter{}); err != nil {
			t.Fatal(err)
		}
		if countRows(t, db, dst) >= 2 && len(dls) >= 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	rows, err := db.Query("SELECT payment_id, payer, amount::text, paid_at, COALESCE(note, '<NULL>') FROM " + dst + " ORDER BY payment_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id int
		var payer, amount, note string
		var paid time.Time
		if err := rows.Scan(&id, &payer, &amount, &paid, &note); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%d|%s|%s|%s|%s", id, payer, amount, paid.UTC().Format(time.RFC3339Nano), note))
	}
	want := []string{
		"1|Иван Петров|123456789012.34|2026-03-14T09:26:53.589793Z|<NULL>",
		"2|Мария Иванова|0.01|2026-03-14T09:26:53.589793Z|",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("copied:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(dls) != 1 || !strings.Contains(dls[0].Error, "violates check constraint") || dls[0].Attempts != 1 {
		t.Errorf("dead letters %+v; want one, not retried, with PostgreSQL's check constraint message", dls)
	}
}

// BenchmarkPostgresToPostgres measures rows per second from a PostgreSQL table through the
// example's mapping route into another PostgreSQL table:
//
//	go test ./connectors/sql -run '^$' -bench PostgresToPostgres -benchtime 20000x
func BenchmarkPostgresToPostgres(b *testing.B) {
	db, src, dst := examplePG(b)
	// The rows are there before the hub starts: the benchmark measures reading, mapping and
	// writing, not the insert.
	if _, err := db.Exec("INSERT INTO "+src+" (payer_egn, payer_name, amount, paid_at, note) SELECT '8001010000', 'Иван Петров ' || i, (i || '.25')::numeric, now(), NULL FROM generate_series(1, $1) AS i", b.N); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	startExample(b)
	for countRows(b, db, dst) < b.N {
		time.Sleep(20 * time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "rows/s")
}

// exampleTables opens the database of driver at the DSN in env (def when unset), skipping the
// test without it (failing under CI), and creates the example's source and sink tables with the
// columns given, under names of the test's own, dropped when the test ends.
func exampleTables(tb testing.TB, driver, env, def, what, srcColumns, dstColumns string) (db *sql.DB, dsn, src, dst string) {
	tb.Helper()
	dsn = os.Getenv(env)
	if dsn == "" {
		dsn = def
	}
	db, err := sql.Open(driver, dsn)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		err = db.PingContext(ctx)
		cancel()
	}
	if err != nil {
		msg := fmt.Sprintf("the example needs %s (set %s): %v", what, env, err)
		if os.Getenv("CI") != "" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	src, dst = "payments_"+hex.EncodeToString(b), "received_"+hex.EncodeToString(b)
	tb.Cleanup(func() {
		_, _ = db.Exec("DROP TABLE IF EXISTS " + src)
		_, _ = db.Exec("DROP TABLE IF EXISTS " + dst)
		db.Close()
	})
	for _, q := range []string{"CREATE TABLE " + src + " " + srcColumns, "CREATE TABLE " + dst + " " + dstColumns} {
		if _, err := db.Exec(q); err != nil {
			tb.Fatal(err)
		}
	}
	return db, dsn, src, dst
}
