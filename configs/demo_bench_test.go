package configs_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/aiskao/aiskao/hub"
	"github.com/aiskao/aiskao/internal/freeport"
	"github.com/aiskao/aiskao/routes"
)

// BenchmarkDemoTaxRegister measures rows per second through the demo's tax-register route: a
// 10,000-record windows-1251 export dropped into the demo's folder, parsed and upserted into the
// SQLite table, timed from the drop to the last row: rows/s includes the file source's wait for
// the file to stay unchanged over a poll (one to two seconds); route-rows/s counts from the
// moment the file left the folder (stored, parsing under way) to the last row. Run with
//
//	go test ./configs -run '^$' -bench DemoTaxRegister -benchtime 5x
func BenchmarkDemoTaxRegister(b *testing.B) {
	const records = 10000
	sample, err := os.ReadFile(filepath.Join("..", "transforms", "records", "testdata", "tax-register.txt"))
	if err != nil {
		b.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimRight(sample, "\r\n"), []byte("\r\n"))
	for _, name := range []string{"AISKAO_HTTP_ADDR", "AISKAO_ESOED_ADDR", "AISKAO_OPS_ADDR"} {
		b.Setenv(name, freeLoopback(b))
	}
	cfg, err := routes.Load(routes.DefaultCatalog(), "demo.yaml")
	if err != nil {
		b.Fatal(err)
	}
	data := b.TempDir()
	eng, err := hub.Build(cfg, hub.Options{DataDir: data, Logger: slog.New(slog.DiscardHandler), Catalog: routes.DefaultCatalog()})
	if err != nil {
		b.Fatal(err)
	}
	if err := eng.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = eng.Stop(context.Background()) })
	db, err := sql.Open("sqlite", filepath.Join(data, "tax-register.db")+"?_pragma=busy_timeout(10000)&mode=ro")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	count := func() int {
		var n int
		if err := db.QueryRow("SELECT COUNT(*) FROM tax_register").Scan(&n); err != nil {
			return -1
		}
		return n
	}
	inbox := filepath.Join(data, "inbox", "tax-register")
	var took, route time.Duration
	b.ResetTimer()
	for i := range b.N {
		// Each export's partidas are new, so that every record adds a row.
		b.StopTimer()
		var file bytes.Buffer
		for r := range records {
			line := lines[r%len(lines)]
			fmt.Fprintf(&file, "%010d", i*records+r)
			file.Write(line[10:])
			file.WriteString("\r\n")
		}
		tmp := filepath.Join(inbox, fmt.Sprintf(".export-%d.part", i))
		if err := os.WriteFile(tmp, file.Bytes(), 0o600); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		if err := os.Rename(tmp, filepath.Join(inbox, fmt.Sprintf("export-%d.txt", i))); err != nil {
			b.Fatal(err)
		}
		dropped := filepath.Join(inbox, fmt.Sprintf("export-%d.txt", i))
		var taken time.Time // when the file left the folder: stored, and the route under way
		deadline := start.Add(2 * time.Minute)
		for count() < (i+1)*records {
			if _, err := os.Stat(dropped); taken.IsZero() && os.IsNotExist(err) {
				taken = time.Now()
			}
			if time.Now().After(deadline) {
				b.Fatalf("%d rows after 2 minutes; want %d", count(), (i+1)*records)
			}
			time.Sleep(5 * time.Millisecond)
		}
		took += time.Since(start)
		if !taken.IsZero() {
			route += time.Since(taken)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*records)/took.Seconds(), "rows/s")
	if route > 0 {
		b.ReportMetric(float64(b.N*records)/route.Seconds(), "route-rows/s")
	}
}

// freeLoopback returns a free port of the loopback.
func freeLoopback(tb testing.TB) string {
	tb.Helper()
	addr, err := freeport.Loopback()
	if err != nil {
		tb.Fatal(err)
	}
	return addr
}
