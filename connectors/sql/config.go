package sqlconn

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/aiskao/aiskao/spec"
)

// Config is the options of a sql connector. Driver and dsn are shared; the source and the sink
// each read their own options and ignore the others'.
type Config struct {
	Driver  string `yaml:"driver" doc:"Database: postgres (PostgreSQL), mysql (MariaDB or MySQL) or sqlite (a file)." enum:"postgres,mysql,sqlite" required:"true" example:"postgres"`
	DSN     string `yaml:"dsn" doc:"Connection string in the driver's own form: postgres://user@host:5432/db, user:password@tcp(host:3306)/db, or the SQLite file's path (relative: inside the hub's data folder). Write it as ${NAME} to keep passwords out of the file." required:"true" example:"${REGISTER_DSN}"`
	MaxOpen int    `yaml:"max_open" doc:"Most connections open to the database at once." default:"4" min:"1" max:"256"`
	Table   string `yaml:"table" doc:"Source: the table polled or the outbox table consumed. Sink: the table written by insert and upsert. A name, optionally with its schema (schema.table); it is quoted, never taken from messages." example:"tax.payments"`

	Mode         string        `yaml:"mode" doc:"Source: poll reads rows after the remembered cursor; outbox claims rows, and deletes or marks them once stored." enum:"poll,outbox" default:"poll"`
	Query        string        `yaml:"query" doc:"Source, poll: a SELECT read instead of table; it is wrapped as SELECT * FROM (query) q WHERE cursor > ... ORDER BY cursor, so it must return the cursor columns." example:"SELECT p.id, p.amount, c.egn FROM payments p JOIN clients c ON c.id = p.client"`
	Columns      []string      `yaml:"columns" doc:"Source: the columns read from table; empty reads all." example:"[id, amount, paid_at]"`
	Cursor       string        `yaml:"cursor" doc:"Source, poll: the column whose value only grows (an id or a timestamp); rows after the remembered value are read in its order." example:"id"`
	TieBreaker   string        `yaml:"tie_breaker" doc:"Source, poll: a unique column (an id) ordering rows with the same cursor value, for a timestamp cursor; the cursor is then the pair." example:"id"`
	Key          string        `yaml:"key" doc:"Source, outbox: the column that identifies a row (its primary key)." example:"id"`
	Done         string        `yaml:"done" doc:"Source, outbox: what happens to a row once its message is stored: delete it, or mark it by setting done_column to the current time." enum:"delete,mark" default:"delete"`
	DoneColumn   string        `yaml:"done_column" doc:"Source, outbox with done: mark: the timestamp column set when a row is stored; rows where it is NULL are claimed." example:"sent_at"`
	ClaimCol     string        `yaml:"claim_column" doc:"Source, outbox: a text column (VARCHAR(64) or longer, NULL in new rows) where a hub claims rows before handing them over; they are then deleted or marked by that claim. A transaction the database rolls back (a deadlock, a lost connection) thus never lets a second hub take a row already handed over." example:"claim"`
	ClaimTimeout spec.Duration `yaml:"claim_timeout" doc:"Source, outbox: how long a claim holds. Rows of a hub stopped between claiming and removing them wait this long, then any hub takes them (a second delivery if another hub does); longer than a message takes to be stored." default:"2m" example:"5m"`
	PayloadCol   string        `yaml:"payload_column" doc:"Source: a column whose value is the message payload as it is (JSON, XML or bytes); empty makes the whole row a JSON object." example:"payload"`
	BatchSize    int           `yaml:"batch_size" doc:"Source: most rows read at once; the next batch is read at once when a batch was full." default:"100" min:"1" max:"10000"`
	PollInterval spec.Duration `yaml:"poll_interval" doc:"Source: how long to wait after a batch that was not full before reading again." default:"1s" example:"200ms"`
	Settle       spec.Duration `yaml:"settle" doc:"Source, poll of a table (not a query) with an integer cursor: how long rows after a missing cursor value wait for it. Writers whose transactions commit out of id order make such gaps for a moment; a gap still there after settle is taken as a rolled-back value. 0 takes the rows at once." default:"2s" example:"5s"`
	Notify       string        `yaml:"notify" doc:"Source, postgres: a LISTEN channel; a NOTIFY on it wakes the source at once instead of at the next poll." example:"payments_changed"`
	MessageType  string        `yaml:"message_type" doc:"Source: value of the envelope's type; empty leaves it unset." example:"tax.Payment"`

	Action    string            `yaml:"action" doc:"Sink: insert a row per message, upsert it by key_columns, or run statement." enum:"insert,upsert,statement" default:"insert"`
	Fields    map[string]string `yaml:"fields" doc:"Sink, insert and upsert: column name to the message's field that fills it, as a JSON pointer (/a/b) or a dotted path (a.b); $id is the message id, $payload the whole payload, $meta.name a metadata value. A missing field is NULL." example:"{id: /id, amount: amount, source_id: $id}"`
	KeyCols   []string          `yaml:"key_columns" doc:"Sink, upsert: the columns of the unique key a row is matched by (ON CONFLICT, ON DUPLICATE KEY)." example:"[id]"`
	Statement string            `yaml:"statement" doc:"Sink, statement: SQL run for each message, with :name parameters filled from params." example:"INSERT INTO audit (id, who) VALUES (:id, :who) ON CONFLICT (id) DO NOTHING"`
	Params    map[string]string `yaml:"params" doc:"Sink, statement: parameter name to the message's field, written as in fields." example:"{id: $id, who: /actor/name}"`
	Batch     int               `yaml:"batch" doc:"Sink: most messages written in one transaction; messages sent at the same time share one, and when it fails each is written alone so that one bad message fails alone. 1 gives one transaction per message." default:"1" min:"1" max:"1000"`

	Init []string `yaml:"init" doc:"Statements run once, in order, before the connector first reads or writes (a sink also runs them at start): idempotent DDL such as CREATE TABLE IF NOT EXISTS, so that a new deployment finds its table. Until they succeed they are run again before each read or write, which fails with a retryable error meanwhile." max:"100" example:"[\"CREATE TABLE IF NOT EXISTS received (id BIGINT PRIMARY KEY, name TEXT)\"]"`
}

// The values of Config.Driver, Config.Mode, Config.Done and Config.Action.
const (
	DriverPostgres = "postgres"
	DriverMySQL    = "mysql"
	DriverSQLite   = "sqlite"

	ModePoll   = "poll"
	ModeOutbox = "outbox"

	DoneDelete = "delete"
	DoneMark   = "mark"

	ActionInsert    = "insert"
	ActionUpsert    = "upsert"
	ActionStatement = "statement"
)

// identPattern is what a configured table or column name may be: letters, digits and
// underscores, not starting with a digit. Anything else is refused rather than escaped.
var identPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// validIdent reports whether s is a column name; validTable also allows one schema prefix.
func validIdent(s string) bool { return identPattern.MatchString(s) }

func validTable(s string) bool {
	parts := strings.Split(s, ".")
	return len(parts) <= 2 && !slices.ContainsFunc(parts, func(p string) bool { return !validIdent(p) })
}

// Validate checks the options after defaults (spec.Options applies them from the tags). What
// only one side needs (cursor for a source, fields for a sink) is checked when that side is
// built, since one connector may serve as either.
func (c *Config) Validate() error {
	var errs []error
	add := func(field, format string, args ...any) { errs = append(errs, spec.FieldErrorf(field, format, args...)) }
	switch c.Driver {
	case DriverPostgres, DriverMySQL, DriverSQLite:
	default:
		add("driver", "%q is not one of postgres, mysql, sqlite", c.Driver)
	}
	if strings.TrimSpace(c.DSN) == "" {
		add("dsn", "required: the connection string, such as ${REGISTER_DSN}")
	}
	if c.MaxOpen < 1 {
		add("max_open", "must be at least 1")
	}
	for i, q := range c.Init {
		if strings.TrimSpace(q) == "" {
			add(fmt.Sprintf("init[%d]", i), "empty statement")
		}
	}
	if c.Table != "" && !validTable(c.Table) {
		add("table", "%q is not a table name: letters, digits and _, optionally schema.table", c.Table)
	}
	for i, col := range c.Columns {
		if !validIdent(col) {
			add(fmt.Sprintf("columns[%d]", i), "%q is not a column name: letters, digits and _", col)
		}
	}
	for _, f := range []struct{ key, val string }{{"cursor", c.Cursor}, {"tie_breaker", c.TieBreaker}, {"key", c.Key}, {"done_column", c.DoneColumn}, {"payload_column", c.PayloadCol}, {"claim_column", c.ClaimCol}} {
		if f.val != "" && !validIdent(f.val) {
			add(f.key, "%q is not a column name: letters, digits and _", f.val)
		}
	}
	if c.Mode != ModePoll && c.Mode != ModeOutbox {
		add("mode", "%q is not poll or outbox", c.Mode)
	}
	if c.Table != "" && c.Query != "" {
		add("query", "set table or query, not both")
	}
	if c.Query != "" && c.Mode == ModeOutbox {
		add("query", "an outbox is a table: set table instead")
	}
	if c.Query != "" && len(c.Columns) > 0 {
		add("columns", "only used with table; list the columns in the query")
	}
	if c.TieBreaker != "" && c.Cursor == "" {
		add("tie_breaker", "only used with cursor")
	}
	if c.TieBreaker != "" && c.TieBreaker == c.Cursor {
		add("tie_breaker", "must be another column than cursor")
	}
	if len(c.Columns) > 0 {
		for _, need := range []struct{ key, col string }{{"cursor", c.Cursor}, {"tie_breaker", c.TieBreaker}, {"key", c.Key}, {"payload_column", c.PayloadCol}} {
			if need.col != "" && !slices.Contains(c.Columns, need.col) {
				add("columns", "must list %s %q", need.key, need.col)
			}
		}
	}
	if c.Done != DoneDelete && c.Done != DoneMark {
		add("done", "%q is not delete or mark", c.Done)
	}
	if c.Done == DoneMark && c.Mode == ModeOutbox && c.DoneColumn == "" {
		add("done_column", "required with done: mark: the timestamp column set once a row is stored")
	}
	if c.ClaimCol != "" && (c.ClaimCol == c.Key || c.ClaimCol == c.DoneColumn || c.ClaimCol == c.PayloadCol) {
		add("claim_column", "must be a column of its own, not key, done_column or payload_column")
	}
	if c.Mode == ModeOutbox && c.ClaimTimeout <= 0 {
		add("claim_timeout", "must be more than 0, such as 2m")
	}
	if c.BatchSize < 1 {
		add("batch_size", "must be at least 1")
	}
	if c.PollInterval <= 0 {
		add("poll_interval", "must be more than 0, such as 1s")
	}
	if c.Notify != "" {
		if c.Driver != DriverPostgres {
			add("notify", "LISTEN/NOTIFY is PostgreSQL's: only with driver: postgres")
		} else if !validIdent(c.Notify) {
			add("notify", "%q is not a channel name: letters, digits and _", c.Notify)
		}
	}

	switch c.Action {
	case ActionInsert, ActionUpsert, ActionStatement:
	default:
		add("action", "%q is not one of insert, upsert, statement", c.Action)
	}
	for col, path := range c.Fields {
		if !validIdent(col) {
			add("fields", "%q is not a column name: letters, digits and _", col)
		}
		if _, err := parsePath(path); err != nil {
			add("fields."+col, "%v", err)
		}
	}
	for name, path := range c.Params {
		if !validIdent(name) {
			add("params", "%q is not a parameter name: letters, digits and _", name)
		}
		if _, err := parsePath(path); err != nil {
			add("params."+name, "%v", err)
		}
	}
	for i, col := range c.KeyCols {
		if !validIdent(col) {
			add(fmt.Sprintf("key_columns[%d]", i), "%q is not a column name: letters, digits and _", col)
		} else if _, ok := c.Fields[col]; !ok && len(c.Fields) > 0 {
			add(fmt.Sprintf("key_columns[%d]", i), "%q is not among the columns of fields", col)
		}
	}
	if c.Action == ActionUpsert && len(c.Fields) > 0 && len(c.KeyCols) == 0 {
		add("key_columns", "required with action: upsert: the columns of the unique key")
	}
	if c.Statement != "" {
		if st, err := parseStatement(c.Statement, c.Driver); err != nil {
			add("statement", "%v", err)
		} else {
			for _, n := range st.names {
				if _, ok := c.Params[n]; !ok {
					add("params", "the statement uses :%s; map it to a field of the message", n)
				}
			}
		}
	}
	if c.Action == ActionStatement && c.Statement == "" && (len(c.Params) > 0 || len(c.Fields) > 0) {
		add("statement", "required with action: statement")
	}
	if c.Batch < 1 {
		add("batch", "must be at least 1")
	}
	return errors.Join(errs...)
}

// sourceCheck reports what a source needs beyond Validate.
func (c *Config) sourceCheck() error {
	var errs []error
	add := func(field, format string, args ...any) { errs = append(errs, spec.FieldErrorf(field, format, args...)) }
	if c.Table == "" && c.Query == "" {
		add("table", "required for a source: the table to read (or query)")
	}
	switch c.Mode {
	case ModePoll:
		if c.Cursor == "" {
			add("cursor", "required with mode: poll: the column whose value only grows, such as id")
		}
	case ModeOutbox:
		if c.Key == "" {
			add("key", "required with mode: outbox: the column that identifies a row")
		}
		if c.ClaimCol == "" {
			add("claim_column", "required with mode: outbox: a text column, NULL in new rows, where a hub claims rows")
		}
	}
	return errors.Join(errs...)
}

// sinkCheck reports what a sink needs beyond Validate.
func (c *Config) sinkCheck() error {
	var errs []error
	add := func(field, format string, args ...any) { errs = append(errs, spec.FieldErrorf(field, format, args...)) }
	switch c.Action {
	case ActionInsert, ActionUpsert:
		if c.Table == "" {
			add("table", "required for a sink with action: %s: the table written", c.Action)
		}
		if len(c.Fields) == 0 {
			add("fields", "required for a sink with action: %s: column name to the message's field", c.Action)
		}
		if c.Action == ActionUpsert && len(c.KeyCols) == 0 {
			add("key_columns", "required with action: upsert: the columns of the unique key")
		}
	case ActionStatement:
		if c.Statement == "" {
			add("statement", "required with action: statement")
		}
	}
	return errors.Join(errs...)
}
