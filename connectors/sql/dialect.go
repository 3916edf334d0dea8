package sqlconn

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/aiskao/aiskao/fault"
)

// dialect is what differs between the databases: quoting, placeholders, upserts, locking.
type dialect struct {
	driver string
}

// quote quotes a validated identifier, schema.table included.
func (d dialect) quote(ident string) string {
	q := `"`
	if d.driver == DriverMySQL {
		q = "`"
	}
	parts := strings.Split(ident, ".")
	for i, p := range parts {
		parts[i] = q + p + q // validIdent allows no quote characters
	}
	return strings.Join(parts, ".")
}

// placeholder returns the n-th (1-based) parameter marker.
func (d dialect) placeholder(n int) string {
	if d.driver == DriverPostgres {
		return "$" + strconv.Itoa(n)
	}
	return "?"
}

// statement is a configured statement with its :name parameters replaced by the driver's markers.
type statement struct {
	sql   string
	args  []string // parameter names in the order of the markers
	names []string // distinct names, in order of first use
}

// parseStatement replaces the :name parameters of s outside quotes and comments with the
// driver's markers. A PostgreSQL cast (::type) is left alone; ? and $1 markers are refused, so
// that every value is named.
func parseStatement(s, driver string) (statement, error) {
	d := dialect{driver}
	var out strings.Builder
	var st statement
	index := map[string]int{}
	n := len(s)
	for i := 0; i < n; {
		c := s[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			j := i + 1
			for ; j < n; j++ {
				if driver == DriverMySQL && s[j] == '\\' && c != '`' {
					j++
					continue
				}
				if s[j] == c {
					if j+1 < n && s[j+1] == c { // doubled quote
						j++
						continue
					}
					break
				}
			}
			if j >= n {
				return st, fmt.Errorf("unclosed %c starting at byte %d", c, i+1)
			}
			out.WriteString(s[i : j+1])
			i = j + 1
		case c == '-' && i+1 < n && s[i+1] == '-', c == '#' && driver == DriverMySQL:
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				j = n - i
			}
			out.WriteString(s[i : i+j])
			i += j
		case c == '/' && i+1 < n && s[i+1] == '*':
			j := strings.Index(s[i+2:], "*/")
			if j < 0 {
				return st, fmt.Errorf("unclosed /* comment starting at byte %d", i+1)
			}
			out.WriteString(s[i : i+2+j+2])
			i += j + 4
		case c == '$' && driver == DriverPostgres:
			// A dollar-quoted string ($$...$$ or $tag$...$tag$), or a $1 marker.
			j := i + 1
			for j < n && (s[j] == '_' || isAlnum(s[j])) {
				j++
			}
			if j < n && s[j] == '$' && (j == i+1 || !isDigit(s[i+1])) {
				tag := s[i : j+1]
				k := strings.Index(s[j+1:], tag)
				if k < 0 {
					return st, fmt.Errorf("unclosed dollar-quoted string %s starting at byte %d", tag, i+1)
				}
				end := j + 1 + k + len(tag)
				out.WriteString(s[i:end])
				i = end
				continue
			}
			if j > i+1 && isDigit(s[i+1]) {
				return st, fmt.Errorf("write parameters as :name, not %s (byte %d)", s[i:j], i+1)
			}
			out.WriteByte(c)
			i++
		case c == '?':
			return st, fmt.Errorf("write parameters as :name, not ? (byte %d)", i+1)
		case c == ':' && i+1 < n && s[i+1] == ':':
			out.WriteString("::")
			i += 2
		case c == ':' && i+1 < n && (s[i+1] == '_' || isLetter(s[i+1])):
			j := i + 1
			for j < n && (s[j] == '_' || isAlnum(s[j])) {
				j++
			}
			name := s[i+1 : j]
			k, seen := index[name]
			if !seen {
				st.names = append(st.names, name)
			}
			if driver == DriverPostgres {
				if !seen {
					st.args = append(st.args, name)
					k = len(st.args)
					index[name] = k
				}
				out.WriteString(d.placeholder(k))
			} else {
				index[name] = 0
				st.args = append(st.args, name)
				out.WriteString("?")
			}
			i = j
		default:
			out.WriteByte(c)
			i++
		}
	}
	st.sql = out.String()
	if strings.TrimSpace(st.sql) == "" {
		return st, errors.New("the statement is empty")
	}
	return st, nil
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isAlnum(c byte) bool  { return isDigit(c) || isLetter(c) }

// insertSQL builds INSERT (or upsert, with keys) of cols into table.
func (d dialect) insertSQL(table string, cols, keys []string) string {
	var b strings.Builder
	b.WriteString("INSERT INTO ")
	b.WriteString(d.quote(table))
	b.WriteString(" (")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.quote(c))
	}
	b.WriteString(") VALUES (")
	for i := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.placeholder(i + 1))
	}
	b.WriteString(")")
	if len(keys) == 0 {
		return b.String()
	}
	var rest []string
	for _, c := range cols {
		if !contains(keys, c) {
			rest = append(rest, c)
		}
	}
	if d.driver == DriverMySQL {
		b.WriteString(" ON DUPLICATE KEY UPDATE ")
		if len(rest) == 0 {
			rest = keys[:1] // nothing to change: a no-op assignment keeps the row
		}
		for i, c := range rest {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s = VALUES(%s)", d.quote(c), d.quote(c))
		}
		return b.String()
	}
	b.WriteString(" ON CONFLICT (")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.quote(k))
	}
	b.WriteString(")")
	if len(rest) == 0 {
		b.WriteString(" DO NOTHING")
		return b.String()
	}
	b.WriteString(" DO UPDATE SET ")
	for i, c := range rest {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s = EXCLUDED.%s", d.quote(c), d.quote(c))
	}
	return b.String()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// classify marks the errors a retry cannot cure as permanent: constraint violations, bad data,
// statements the database cannot run. Anything else, a lost connection above all, stays
// retryable.
func classify(err error) error {
	if err == nil {
		return nil
	}
	err = masked{err}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code[:min(2, len(pe.Code))] {
		case "22", // data exception
			"23", // integrity constraint violation
			"42": // syntax error or access rule violation
			return fault.Permanent(err)
		}
		return err
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		state := string(me.SQLState[:])
		if strings.HasPrefix(state, "22") || strings.HasPrefix(state, "23") || strings.HasPrefix(state, "42") {
			return fault.Permanent(err)
		}
		switch me.Number {
		case 1048, 1062, 1136, 1146, 1264, 1292, 1364, 1366, 1406, 1451, 1452, 1054, 1064, 3819, 4025:
			return fault.Permanent(err)
		}
		return err
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_CONSTRAINT, sqlite3.SQLITE_MISMATCH, sqlite3.SQLITE_TOOBIG, sqlite3.SQLITE_RANGE:
			return fault.Permanent(err)
		case sqlite3.SQLITE_ERROR: // no such table or column, syntax error
			return fault.Permanent(err)
		}
	}
	return err
}

// personalNumber is a run of exactly ten digits: an ЕГН or an ЛНЧ.
var personalNumber = regexp.MustCompile(`(^|[^0-9])[0-9]{6}([0-9]{4})([^0-9]|$)`)

// masked shows a database's error with the first six digits of every ЕГН or ЛНЧ in it hidden:
// MariaDB quotes the offending value ("Duplicate entry '8001010000'"), and the error goes to logs
// and dead letters.
type masked struct{ err error }

func (m masked) Error() string {
	return personalNumber.ReplaceAllString(m.err.Error(), "${1}******${2}${3}")
}

func (m masked) Unwrap() error { return m.err }
