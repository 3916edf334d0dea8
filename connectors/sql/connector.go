package sqlconn

import (
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/spec"
)

func init() {
	connectors.Register(connectors.Factory{
		Type: "sql",
		Doc: "Reads rows of a PostgreSQL, MariaDB/MySQL or SQLite table (or query) as JSON messages, after a cursor " +
			"remembered in the hub's store or from an outbox table it empties; writes messages as rows: insert, upsert " +
			"by key, or a statement with named parameters.",
		Config:    &Config{},
		NewSource: connectors.SourceOf(newSource),
		NewSink:   connectors.SinkOf(newSink),
	})
}

// options returns the options given to a factory, with the defaults of their tags applied and
// validated.
func options(cfg any) (Config, error) { return spec.Options[Config](cfg) }

// open connects to the configured database. The connection string never appears in an error:
// it may hold a password.
func open(c Config, env connectors.Env) (*sql.DB, error) {
	var db *sql.DB
	var err error
	switch c.Driver {
	case DriverPostgres:
		db, err = sql.Open("pgx", c.DSN)
	case DriverMySQL:
		var mc *mysql.Config
		mc, err = mysql.ParseDSN(c.DSN)
		if err != nil {
			return nil, errors.New("dsn is not a MySQL connection string such as user:password@tcp(host:3306)/db")
		}
		mc.ParseTime = true // DATETIME as time.Time, in UTC unless the DSN says otherwise
		if mc.Loc == nil {
			mc.Loc = time.UTC
		}
		db, err = sql.Open("mysql", mc.FormatDSN())
	case DriverSQLite:
		db, err = sql.Open("sqlite", sqliteDSN(c.DSN, env.DataDir))
	default:
		return nil, fmt.Errorf("driver %q is not one of postgres, mysql, sqlite", c.Driver)
	}
	if err != nil {
		return nil, fmt.Errorf("open the %s database: %w", c.Driver, err)
	}
	db.SetMaxOpenConns(c.MaxOpen)
	db.SetMaxIdleConns(c.MaxOpen)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return db, nil
}

// sqliteDSN makes a file name into a modernc.org/sqlite connection string that waits for the
// lock instead of failing at once and writes times as SQLite's own text; a string that already
// has options is taken as it is.
func sqliteDSN(dsn, dataDir string) string {
	if strings.Contains(dsn, "?") {
		return dsn
	}
	name := strings.TrimPrefix(dsn, "file:")
	if !filepath.IsAbs(name) && dataDir != "" && name != ":memory:" {
		name = filepath.Join(dataDir, name)
	}
	return "file:" + name + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_time_format=sqlite&_txlock=immediate"
}
