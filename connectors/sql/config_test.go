package sqlconn

import (
	"strings"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/connectors/connectortest"
	"github.com/aiskao/aiskao/spec"
)

func TestConfigDescribed(t *testing.T) {
	connectortest.CheckConfig(t, connectortest.ConfigCase{
		Zero:     &Config{},
		Defaults: func(cfg any) { _ = spec.FillDefaults(cfg) },
		Valid:    &Config{Driver: "postgres", DSN: "postgres://x@h/db", MaxOpen: 4, Table: "t", Cursor: "id", Mode: "poll", Done: "delete", BatchSize: 10, PollInterval: spec.Duration(1e9), Action: "insert", Batch: 1},
	})
}

func valid() Config {
	c := Config{Driver: "postgres", DSN: "postgres://x@h/db"}
	_ = spec.FillDefaults(&c)
	return c
}

// Each bad option is refused with an error naming its field.
func TestConfigRefusals(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*Config)
		field string
	}{
		{"unknown driver", func(c *Config) { c.Driver = "oracle" }, "driver"},
		{"empty dsn", func(c *Config) { c.DSN = " " }, "dsn"},
		{"table with a quote", func(c *Config) { c.Table = `t"; DROP TABLE x; --` }, "table"},
		{"table with three parts", func(c *Config) { c.Table = "a.b.c" }, "table"},
		{"column with a space", func(c *Config) { c.Cursor = "id desc" }, "cursor"},
		{"bad columns item", func(c *Config) { c.Columns = []string{"id", "a-b"} }, "columns[1]"},
		{"table and query", func(c *Config) { c.Table, c.Query = "t", "SELECT 1" }, "query"},
		{"outbox on a query", func(c *Config) { c.Mode, c.Query = "outbox", "SELECT 1" }, "query"},
		{"tie breaker alone", func(c *Config) { c.TieBreaker = "id" }, "tie_breaker"},
		{"columns without cursor", func(c *Config) { c.Table, c.Columns, c.Cursor = "t", []string{"a"}, "id" }, "columns"},
		{"mark without column", func(c *Config) { c.Mode, c.Done = "outbox", "mark" }, "done_column"},
		{"notify on mysql", func(c *Config) { c.Driver, c.DSN, c.Notify = "mysql", "root@tcp(h:3306)/db", "ch" }, "notify"},
		{"notify bad name", func(c *Config) { c.Notify = "a b" }, "notify"},
		{"bad fields column", func(c *Config) { c.Fields = map[string]string{"a;b": "x"} }, "fields"},
		{"bad fields path", func(c *Config) { c.Fields = map[string]string{"a": "x..y"} }, "fields.a"},
		{"bad special path", func(c *Config) { c.Fields = map[string]string{"a": "$uuid"} }, "fields.a"},
		{"upsert without keys", func(c *Config) { c.Action, c.Fields = "upsert", map[string]string{"a": "a"} }, "key_columns"},
		{"key not among fields", func(c *Config) {
			c.Action, c.Fields, c.KeyCols = "upsert", map[string]string{"a": "a"}, []string{"b"}
		}, "key_columns[0]"},
		{"statement with ?", func(c *Config) { c.Action, c.Statement = "statement", "DELETE FROM t WHERE id = ?" }, "statement"},
		{"statement with $1", func(c *Config) { c.Action, c.Statement = "statement", "DELETE FROM t WHERE id = $1" }, "statement"},
		{"statement param unmapped", func(c *Config) { c.Action, c.Statement = "statement", "DELETE FROM t WHERE id = :id" }, "params"},
		{"statement unclosed quote", func(c *Config) { c.Action, c.Statement = "statement", "SELECT 'x" }, "statement"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := valid()
			tc.edit(&c)
			err := c.Validate()
			found := false
			for _, e := range spec.Unjoin(err) {
				if fe, ok := e.(*spec.FieldError); ok && fe.Field == tc.field {
					found = true
				}
			}
			if !found {
				t.Errorf("Validate() = %v; want an error on %s", err, tc.field)
			}
		})
	}
}

func TestSideChecks(t *testing.T) {
	c := valid()
	if err := c.sourceCheck(); err == nil || !strings.Contains(err.Error(), "table") {
		t.Errorf("source without table: %v", err)
	}
	c.Table = "t"
	if err := c.sourceCheck(); err == nil || !strings.Contains(err.Error(), "cursor") {
		t.Errorf("poll source without cursor: %v", err)
	}
	c.Mode = ModeOutbox
	if err := c.sourceCheck(); err == nil || !strings.Contains(err.Error(), "key") {
		t.Errorf("outbox without key: %v", err)
	}
	if err := c.sinkCheck(); err == nil || !strings.Contains(err.Error(), "fields") {
		t.Errorf("insert sink without fields: %v", err)
	}
}

func TestParseStatement(t *testing.T) {
	cases := []struct {
		driver, in, sql string
		args            []string
	}{
		{"postgres", "UPDATE t SET a = :a, b = :b WHERE id = :id AND a <> :a", "UPDATE t SET a = $1, b = $2 WHERE id = $3 AND a <> $1", []string{"a", "b", "id"}},
		{"mysql", "UPDATE t SET a = :a WHERE id = :id OR a = :a", "UPDATE t SET a = ? WHERE id = ? OR a = ?", []string{"a", "id", "a"}},
		{"postgres", "SELECT ':no', \":no\", x::text, $$ :no $$, $q$ :no $q$ -- :no\n/* :no */ FROM t WHERE y = :yes",
			"SELECT ':no', \":no\", x::text, $$ :no $$, $q$ :no $q$ -- :no\n/* :no */ FROM t WHERE y = $1", []string{"yes"}},
		{"mysql", "SELECT 'it\\'s :no', `:no` # :no\nFROM t WHERE a = :yes", "SELECT 'it\\'s :no', `:no` # :no\nFROM t WHERE a = ?", []string{"yes"}},
		{"sqlite", "INSERT INTO t VALUES (:a, 'don''t :b')", "INSERT INTO t VALUES (?, 'don''t :b')", []string{"a"}},
	}
	for _, tc := range cases {
		st, err := parseStatement(tc.in, tc.driver)
		if err != nil {
			t.Errorf("%s %q: %v", tc.driver, tc.in, err)
			continue
		}
		if st.sql != tc.sql || strings.Join(st.args, ",") != strings.Join(tc.args, ",") {
			t.Errorf("%s %q:\n got %q %v\nwant %q %v", tc.driver, tc.in, st.sql, st.args, tc.sql, tc.args)
		}
	}
}

func TestQuoteAndUpsertSQL(t *testing.T) {
	cases := []struct{ driver, want string }{
		{"postgres", `INSERT INTO "s"."t" ("a", "id") VALUES ($1, $2) ON CONFLICT ("id") DO UPDATE SET "a" = EXCLUDED."a"`},
		{"sqlite", `INSERT INTO "s"."t" ("a", "id") VALUES (?, ?) ON CONFLICT ("id") DO UPDATE SET "a" = EXCLUDED."a"`},
		{"mysql", "INSERT INTO `s`.`t` (`a`, `id`) VALUES (?, ?) ON DUPLICATE KEY UPDATE `a` = VALUES(`a`)"},
	}
	for _, tc := range cases {
		if got := (dialect{tc.driver}).insertSQL("s.t", []string{"a", "id"}, []string{"id"}); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.driver, got, tc.want)
		}
	}
}

func FuzzParseStatement(f *testing.F) {
	for _, s := range []string{"SELECT :a", "'", "$$", "$a$ x $a$", "/* ", "::x :y", "-- :a\n:b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, d := range []string{"postgres", "mysql", "sqlite"} {
			st, err := parseStatement(s, d)
			if err == nil && len(st.sql) > len(s)+8*len(st.args) {
				t.Errorf("statement grew from %d to %d bytes", len(s), len(st.sql))
			}
		}
	})
}

// A sink reads any message: no payload or path makes it panic, and nesting is bounded.
func FuzzSinkRows(f *testing.F) {
	for _, s := range []string{`{"a":{"b":[1,2.5,"x"]}}`, `[{"a":1},{"a":null}]`, `[]`, `"x"`, `{"a":` + strings.Repeat("[", 70) + `1` + strings.Repeat("]", 70) + `}`} {
		f.Add(s, "/a/b/1")
	}
	f.Fuzz(func(t *testing.T, payload, p string) {
		s := &sink{}
		if pp, err := parsePath(p); err == nil {
			s.args = []path{pp}
		}
		s.args = append(s.args, path{steps: []string{"a"}})
		rows, err := s.rowsOf(message.NewMessage("id", []byte(payload)))
		if err == nil && len(rows) == 0 {
			t.Error("no rows and no error")
		}
	})
}
