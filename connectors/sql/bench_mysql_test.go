package sqlconn_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"github.com/aiskao/aiskao/hub"
	"github.com/aiskao/aiskao/routes"
)

// BenchmarkMariaDBToMariaDB is BenchmarkPostgresToPostgres on MariaDB: the example's route and
// options, with driver: mysql and no NOTIFY. Run with
//
//	go test ./connectors/sql -run '^$' -bench MariaDBToMariaDB -benchtime 20000x
func BenchmarkMariaDBToMariaDB(b *testing.B) {
	db, dsn, src, dst := exampleTables(b, "mysql", "AISKAO_MYSQL_DSN", "root@tcp(127.0.0.1:3306)/test", "MariaDB",
		"(id BIGINT AUTO_INCREMENT PRIMARY KEY, payer_egn CHAR(10) NOT NULL, payer_name VARCHAR(200) NOT NULL, amount DECIMAL(14,2) NOT NULL, paid_at DATETIME(6) NOT NULL, note TEXT)",
		"(payment_id BIGINT PRIMARY KEY, payer VARCHAR(200) NOT NULL, amount DECIMAL(14,2) NOT NULL, paid_at DATETIME(6) NOT NULL, note TEXT, message_id VARCHAR(64) NOT NULL)")
	// The rows are there before the hub starts, as in the PostgreSQL benchmark.
	for done := 0; done < b.N; {
		n := min(1000, b.N-done)
		vals := make([]string, n)
		for i := range vals {
			vals[i] = fmt.Sprintf("('8001010000', 'Иван Петров %d', %d.25, NOW(6), NULL)", done+i+1, done+i+1)
		}
		if _, err := db.Exec("INSERT INTO " + src + " (payer_egn, payer_name, amount, paid_at, note) VALUES " + strings.Join(vals, ", ")); err != nil {
			b.Fatal(err)
		}
		done += n
	}
	example, err := os.ReadFile(exampleConfig)
	if err != nil {
		b.Fatal(err)
	}
	cfgText := strings.ReplaceAll(string(example), "driver: postgres", "driver: mysql")
	cfgText = strings.ReplaceAll(cfgText, "    notify: payments_changed\n", "")
	path := filepath.Join(b.TempDir(), "sql-register-mariadb.yaml")
	if err := os.WriteFile(path, []byte(cfgText), 0o600); err != nil {
		b.Fatal(err)
	}
	b.Setenv("TAX_DSN", dsn)
	b.Setenv("OFFICE_DSN", dsn)
	b.Setenv("TAX_PAYMENTS_TABLE", src)
	b.Setenv("OFFICE_PAYMENTS_TABLE", dst)
	cfg, err := routes.Load(routes.DefaultCatalog(), path)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	eng, err := hub.Build(cfg, hub.Options{DataDir: b.TempDir(), Logger: slog.New(slog.DiscardHandler), Catalog: routes.DefaultCatalog()})
	if err != nil {
		b.Fatal(err)
	}
	if err := eng.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = eng.Stop(context.Background()) }()
	for countRows(b, db, dst) < b.N {
		time.Sleep(20 * time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "rows/s")
	if got := countRows(b, db, "(SELECT 1 FROM "+src+" s JOIN "+dst+" d ON d.payment_id = s.id AND d.amount = s.amount AND d.payer = s.payer_name) AS j"); got != b.N {
		b.Errorf("%d rows copied exactly; want %d", got, b.N)
	}
}
