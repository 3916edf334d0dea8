package main

// The demo's tax-register route through the real binary: a legacy export, fixed-width in
// windows-1251, dropped into the demo's folder becomes rows of an SQLite table (PostgreSQL in the
// scale-out configuration) with the names in UTF-8; an export with bad records becomes a dead
// letter naming them.

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"
)

// taxRegisterData is the records package's test data: the export and its records as parsed.
var taxRegisterData = filepath.Join("..", "..", "transforms", "records", "testdata")

// dropFile puts src into dir under name as a file drop does: written under another name, then
// renamed, so that the hub never reads half a file.
func dropFile(t *testing.T, src, dir, name string) {
	t.Helper()
	raw, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "."+name+".part")
	if err := os.WriteFile(tmp, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

// rowCount returns the rows of table, or -1 while it cannot be read (not created yet).
func rowCount(db *sql.DB, table string) int {
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		return -1
	}
	return n
}

// checkTaxRegisterRows compares the rows that query returns with the records of the golden file
// of the records package, every field, the Cyrillic names in UTF-8. query returns partida, egn,
// name, birth_date, address, kind, tax_base, tax_due (the three as text), paid, installments,
// note and source_file.
func checkTaxRegisterRows(t *testing.T, db *sql.DB, query, file string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(taxRegisterData, "tax-register.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want []map[string]any
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&want); err != nil {
		t.Fatal(err)
	}
	// Decimals compare by value: NUMERIC(14,2) gives 612.30 for 612.3.
	decimal := func(s string) string {
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			return "not a number: " + s
		}
		return r.RatString()
	}
	rows, err := db.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]string{}
	for rows.Next() {
		var partida, egn, name, birth, address, kind, base, due, source string
		var paid bool
		var installments int
		var note sql.NullString
		if err := rows.Scan(&partida, &egn, &name, &birth, &address, &kind, &base, &due, &paid, &installments, &note, &source); err != nil {
			t.Fatal(err)
		}
		if source != file {
			t.Errorf("row %s: source_file %q, want %q", partida, source, file)
		}
		got[partida] = strings.Join([]string{egn, name, birth, address, kind, decimal(base), decimal(due),
			fmt.Sprint(paid), fmt.Sprint(installments), fmt.Sprint(note.Valid), note.String}, "|")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("%d rows; want %d", len(got), len(want))
	}
	for _, r := range want {
		str := func(k string) string { s, _ := r[k].(string); return s }
		note, hasNote := r["note"].(string)
		w := strings.Join([]string{str("egn"), str("name"), str("birth_date"), str("address"), str("kind"),
			decimal(r["tax_base"].(json.Number).String()), decimal(r["tax_due"].(json.Number).String()),
			fmt.Sprint(r["paid"]), r["installments"].(json.Number).String(), fmt.Sprint(hasNote), note}, "|")
		if g, ok := got[str("partida")]; !ok {
			t.Errorf("record %s is not in the table", str("partida"))
		} else if g != w {
			t.Errorf("record %s:\n got %s\nwant %s", str("partida"), g, w)
		}
	}
	if !strings.Contains(got["1001A23982"], "|НИКОЛОВА ЮЛИЯ ДИМИТЪРОВА|") {
		t.Errorf("the first record is %q; want the name НИКОЛОВА ЮЛИЯ ДИМИТЪРОВА in UTF-8", got["1001A23982"])
	}
}

func TestDemoTaxRegisterDropToSQLite(t *testing.T) {
	data := t.TempDir()
	h := startHub(t, filepath.Join("..", "..", "configs", "demo.yaml"), data, "", "")
	inbox := filepath.Join(data, "inbox", "tax-register")
	dropFile(t, filepath.Join(taxRegisterData, "tax-register.txt"), inbox, "export-2026-12.txt")

	db, err := sql.Open("sqlite", filepath.Join(data, "tax-register.db")+"?_pragma=busy_timeout(10000)&mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	waitFor(t, "the export's 24 rows in the table", 30*time.Second, func() bool { return rowCount(db, "tax_register") == 24 })
	checkTaxRegisterRows(t, db, `SELECT partida, egn, name, birth_date, address, kind, CAST(tax_base AS TEXT),
		CAST(tax_due AS TEXT), paid, installments, note, source_file FROM tax_register`, "export-2026-12.txt")

	// An export with bad records is refused whole: a dead letter naming them, no rows added.
	dropFile(t, filepath.Join(taxRegisterData, "tax-register-bad.txt"), inbox, "export-bad.txt")
	var list string
	waitFor(t, "the bad export's dead letter", 30*time.Second, func() bool {
		list, _ = cli(t, "dead-letters", "-ops", "http://"+h.opsAddr, "-json", "list")
		return strings.Contains(list, "tax-register")
	})
	for _, s := range []string{"record 3 (line 3)", "record 12 (line 12)"} {
		if !strings.Contains(list, s) {
			t.Errorf("the dead letter does not name %s:\n%s", s, list)
		}
	}
	if n := rowCount(db, "tax_register"); n != 24 {
		t.Errorf("%d rows after the bad export; want the 24 of the good one", n)
	}
	h.signal(syscall.SIGTERM)
	h.wait(30 * time.Second)
}

// TestScaleOutTaxRegisterToPostgres: the same export, dropped into a process of the scale-out
// configuration, arrives in PostgreSQL as correct UTF-8.
func TestScaleOutTaxRegisterToPostgres(t *testing.T) {
	d := newDeployment(t, scaleConfig, scaleRoutes)
	p := d.start("hub-1")
	dropFile(t, filepath.Join(taxRegisterData, "tax-register.txt"), filepath.Join(p.data, "inbox", "tax-register"), "export-2026-12.txt")
	db, err := sql.Open("pgx", d.pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	table := d.name + ".tax_register"
	waitFor(t, "the export's 24 rows in PostgreSQL", 60*time.Second, func() bool { return rowCount(db, table) == 24 })
	checkTaxRegisterRows(t, db, `SELECT partida, egn, name, birth_date::text, address, kind, tax_base::text,
		tax_due::text, paid, installments, note, source_file FROM `+table, "export-2026-12.txt")
}
