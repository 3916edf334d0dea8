package main

// The demo's tax-register route through the real binary: a legacy export, fixed-width in
// windows-1251, dropped into the demo's folder becomes rows of an SQLite table with the names in
// UTF-8; an export with bad records becomes a dead letter naming them.

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

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

func TestDemoTaxRegisterDropToSQLite(t *testing.T) {
	data := t.TempDir()
	h := startHub(t, filepath.Join("..", "..", "configs", "demo.yaml"), data, "", "")
	inbox := filepath.Join(data, "inbox", "tax-register")
	testdata := filepath.Join("..", "..", "transforms", "records", "testdata")
	dropFile(t, filepath.Join(testdata, "tax-register.txt"), inbox, "export-2026-12.txt")

	db, err := sql.Open("sqlite", filepath.Join(data, "tax-register.db")+"?_pragma=busy_timeout(10000)&mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func() int {
		var n int
		if err := db.QueryRow("SELECT COUNT(*) FROM tax_register").Scan(&n); err != nil {
			return -1 // the table is not there yet
		}
		return n
	}
	waitFor(t, "the export's 24 rows in the table", 30*time.Second, func() bool { return count() == 24 })

	// Every record as the fixed_width step parses it (the golden file of the records package).
	raw, err := os.ReadFile(filepath.Join(testdata, "tax-register.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want []map[string]any
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&want); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(`SELECT partida, egn, name, birth_date, address, kind, tax_base, tax_due, paid,
		installments, note, source_file FROM tax_register ORDER BY partida`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string][]string{}
	for rows.Next() {
		var partida, egn, name, birth, address, kind, base, due, file string
		var paid, installments int
		var note sql.NullString
		if err := rows.Scan(&partida, &egn, &name, &birth, &address, &kind, &base, &due, &paid, &installments, &note, &file); err != nil {
			t.Fatal(err)
		}
		if file != "export-2026-12.txt" {
			t.Errorf("row %s: source_file %q", partida, file)
		}
		got[partida] = []string{egn, name, birth, address, kind, base, due, fmt.Sprint(paid == 1), fmt.Sprint(installments), fmt.Sprint(note.Valid), note.String}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, r := range want {
		str := func(k string) string { s, _ := r[k].(string); return s }
		note, hasNote := r["note"].(string)
		w := []string{str("egn"), str("name"), str("birth_date"), str("address"), str("kind"),
			r["tax_base"].(json.Number).String(), r["tax_due"].(json.Number).String(),
			fmt.Sprint(r["paid"]), r["installments"].(json.Number).String(), fmt.Sprint(hasNote), note}
		g, ok := got[str("partida")]
		if !ok {
			t.Errorf("record %s is not in the table", str("partida"))
			continue
		}
		if strings.Join(g, "|") != strings.Join(w, "|") {
			t.Errorf("record %s:\n got %q\nwant %q", str("partida"), g, w)
		}
	}
	if g := got["1001A23982"]; len(g) < 2 || g[1] != "НИКОЛОВА ЮЛИЯ ДИМИТЪРОВА" {
		t.Errorf("the first record's name is %q; want НИКОЛОВА ЮЛИЯ ДИМИТЪРОВА in UTF-8", g)
	}

	// An export with bad records is refused whole: a dead letter naming them, no rows added.
	dropFile(t, filepath.Join(testdata, "tax-register-bad.txt"), inbox, "export-bad.txt")
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
	if n := count(); n != 24 {
		t.Errorf("%d rows after the bad export; want the 24 of the good one", n)
	}
	h.signal(syscall.SIGTERM)
	h.wait(30 * time.Second)
}
