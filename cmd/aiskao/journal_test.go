package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/aiskao/aiskao/store"
	"github.com/aiskao/aiskao/store/postgres"
	"github.com/aiskao/aiskao/store/sqlite"
)

// TestJournalVerifyFindsAnEditedRow runs the demo until register calls are journaled, verifies
// the journal with the real binary while the hub runs, stops the hub, edits one journal row in
// the SQLite file as someone with access to it could, and verifies again: the command fails and
// names the edited entry.
func TestJournalVerifyFindsAnEditedRow(t *testing.T) {
	sim := startSim(t)
	t.Setenv("AISKAO_REGIX_URL", "http://"+sim+"/RegiX/RegiXEntryPointV2.svc")
	data := t.TempDir()
	config := filepath.Join("..", "..", "configs", "demo.yaml")
	h := startHub(t, config, data, "", "")
	sample, err := os.ReadFile(filepath.Join("..", "..", "testdata", "applications", "trade-permit.json"))
	if err != nil {
		t.Fatal(err)
	}
	id := postApplication(t, h, sample)
	out := filepath.Join(data, "out", "applications", id+".json")
	waitFile(t, out, out, 15*time.Second)

	// While the hub runs: whole.
	got, code := cli(t, "journal", "verify", "-config", config, "-data", data, "-json")
	var ok struct {
		OK       bool   `json:"ok"`
		Entries  int64  `json:"entries_verified"`
		HeadSeq  int64  `json:"head_seq"`
		HeadHash string `json:"head_hash"`
	}
	if code != 0 || json.Unmarshal([]byte(got), &ok) != nil || !ok.OK || ok.Entries < 2 || ok.HeadSeq != ok.Entries || len(ok.HeadHash) != 64 {
		t.Fatalf("journal verify of the running hub: exit %d\n%s", code, got)
	}

	h.signal(syscall.SIGTERM)
	h.wait(30 * time.Second)
	got, code = cli(t, "journal", "verify", "-config", config, "-data", data)
	if code != 0 || !strings.Contains(got, "journal ok:") || !strings.Contains(got, ok.HeadHash) {
		t.Fatalf("journal verify of the stopped hub: exit %d\n%s", code, got)
	}
	head := fmt.Sprintf("%d:%s", ok.HeadSeq, ok.HeadHash)
	if got, code = cli(t, "journal", "verify", "-config", config, "-data", data, "-expect", head); code != 0 {
		t.Fatalf("journal verify -expect %s: exit %d\n%s", head, code, got)
	}
	if got, code = cli(t, "journal", "verify", "-config", config, "-data", data, "-expect", "1:abc"); code != 2 || !strings.Contains(got, "64 hex digits") {
		t.Fatalf("journal verify -expect 1:abc: exit %d, want 2 and what is wrong\n%s", code, got)
	}

	// Someone edits the result of the first register call in the file.
	db, err := sql.Open("sqlite", filepath.Join(data, "aiskao.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var victim string
	if err := db.QueryRow(`SELECT id FROM store_journal WHERE seq = 1`).Scan(&victim); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE store_journal SET result = 'error: not found' WHERE seq = 1`); err != nil {
		t.Fatal(err)
	}
	got, code = cli(t, "journal", "verify", "-config", config, "-data", data)
	if code != 1 || !strings.Contains(got, "journal entry 1 (id "+victim+"): "+string(store.ContentChanged)) {
		t.Fatalf("journal verify of an edited row: exit %d, want 1 naming entry 1 (id %s)\n%s", code, victim, got)
	}

	// And when the row is deleted instead, the entry is named missing.
	if _, err := db.Exec(`DELETE FROM store_journal WHERE seq = 1`); err != nil {
		t.Fatal(err)
	}
	got, code = cli(t, "journal", "verify", "-config", config, "-data", data)
	if code != 1 || !strings.Contains(got, "journal entry 1: "+string(store.EntryMissing)) {
		t.Fatalf("journal verify of a deleted row: exit %d, want 1 naming entry 1 missing\n%s", code, got)
	}
}

// TestJournalVerifyWithoutTheFile fails instead of verifying an empty journal.
func TestJournalVerifyWithoutTheFile(t *testing.T) {
	got, code := cli(t, "journal", "verify", "-config", filepath.Join("..", "..", "configs", "demo.yaml"), "-data", t.TempDir())
	if code != 1 || !strings.Contains(got, "aiskao.db") {
		t.Fatalf("journal verify without a database: exit %d\n%s", code, got)
	}
}

// TestJournalVerifyOnPostgres: the same verification reads a PostgreSQL schema.
func TestJournalVerifyOnPostgres(t *testing.T) {
	pgURL := envOr("AISKAO_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgURL)
	if err != nil {
		msg := fmt.Sprintf("PostgreSQL is not reachable at %s (set AISKAO_POSTGRES_URL): %v", redactURL(pgURL), err)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	defer conn.Close(ctx)
	schema := uniqueName("aiskao_verify_")
	t.Cleanup(func() { _, _ = conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+schema+` CASCADE`) })
	st, err := postgres.New(postgres.Config{URL: pgURL, Schema: schema, Retention: store.Retention{DeadLetters: "0"}}, store.Env{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 3 {
		id, err := st.AppendJournal(ctx, store.JournalEntry{Kind: "regix.call", Dossier: fmt.Sprint("D-", i), Result: "ok"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	st.Close()
	config := filepath.Join(t.TempDir(), "hub.yaml")
	yaml := fmt.Sprintf(`store: {type: postgres, url: %q, schema: %s}
connectors:
  in: {type: http, listen: "127.0.0.1:0", path: /in, auth: {type: none}}
  out: {type: file, dir: out}
routes:
  - {name: a, from: in, to: out}
`, pgURL, schema)
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	got, code := cli(t, "journal", "verify", "-config", config)
	if code != 0 || !strings.Contains(got, "journal ok: 3 entries verified") {
		t.Fatalf("journal verify on PostgreSQL: exit %d\n%s", code, got)
	}
	if _, err := conn.Exec(ctx, `UPDATE `+schema+`.journal SET dossier = 'D-9' WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	got, code = cli(t, "journal", "verify", "-config", config)
	if code != 1 || !strings.Contains(got, "journal entry 2 (id "+ids[1]+"): "+string(store.ContentChanged)) {
		t.Fatalf("journal verify of an edited row on PostgreSQL: exit %d, want 1 naming entry 2 (id %s)\n%s", code, ids[1], got)
	}
}

// TestServePrunesPastRetention: serve prunes by the store's retention on its own: an old dead
// letter is deleted, an old journal entry loses its content, the pruning is journaled, and the
// journal still verifies.
func TestServePrunesPastRetention(t *testing.T) {
	data := t.TempDir()
	config := filepath.Join(t.TempDir(), "hub.yaml")
	if err := os.WriteFile(config, []byte(`store:
  type: sqlite
  retention: {journal: {default: 1h}, dead_letters: 1h, interval: 1s}
ops:
  listen: ${AISKAO_OPS_ADDR:-127.0.0.1:0}
connectors:
  in: {type: http, listen: "${AISKAO_HTTP_ADDR:-127.0.0.1:0}", path: /in, auth: {type: none}}
  out: {type: file, dir: out}
routes:
  - {name: a, from: in, to: out}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := sqlite.New(sqlite.Config{Retention: store.Retention{DeadLetters: "0"}}, store.Env{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * time.Hour)
	dl, err := st.AddDeadLetter(ctx, store.DeadLetter{Route: "a", Error: "ЕГН 8001010000 refused", Time: old})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.AppendJournal(ctx, store.JournalEntry{Kind: "regix.call", Actor: "служител 1", Subject: "ГРАО", Result: "ok", Time: old}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AppendJournal(ctx, store.JournalEntry{Kind: "regix.call", Actor: "служител 2", Result: "ok"}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	h := startHub(t, config, data, "", "")
	db, err := sql.Open("sqlite", filepath.Join(data, "aiskao.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var detail []byte
	waitFor(t, "the pruning in the journal", 15*time.Second, func() bool {
		return db.QueryRow(`SELECT detail FROM store_journal WHERE kind = ?`, store.KindPruned).Scan(&detail) == nil
	})
	if d, err := store.DecodeMetadata(detail); err != nil || d[store.DetailRedacted] != "1" || d[store.DetailDeadLetters] != "1" {
		t.Errorf("journal.pruned detail = %v (%v), want 1 entry redacted and 1 dead letter deleted", d, err)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM store_dead_letters WHERE id = ?`, dl).Scan(&n); err != nil || n != 0 {
		t.Errorf("the old dead letter is still there (%d, %v)", n, err)
	}
	var actors []string
	rows, err := db.Query(`SELECT actor FROM store_journal WHERE kind = 'regix.call' ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var a string
		_ = rows.Scan(&a)
		actors = append(actors, a)
	}
	rows.Close()
	if strings.Join(actors, ",") != ",служител 2" {
		t.Errorf("actors after pruning = %q, want the old one removed and the new one kept", actors)
	}
	h.signal(syscall.SIGTERM)
	h.wait(30 * time.Second)
	got, code := cli(t, "journal", "verify", "-config", config, "-data", data)
	if code != 0 || !strings.Contains(got, "3 entries verified (1 redacted by retention)") {
		t.Fatalf("journal verify after pruning: exit %d\n%s", code, got)
	}
}
