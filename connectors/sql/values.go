package sqlconn

import (
	"bytes"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ThreeDotsLabs/watermill/message"
)

// path is where a sink takes a value from a message.
type path struct {
	special string   // "$id", "$payload", "$meta" or "" for a field of the JSON payload
	meta    string   // with $meta: the metadata name
	steps   []string // the keys (or list indexes) into the payload
}

// parsePath parses a JSON pointer (/a/b/0), a dotted path (a.b.0), $id, $payload or $meta.name.
func parsePath(s string) (path, error) {
	switch {
	case s == "$id" || s == "$payload":
		return path{special: s}, nil
	case strings.HasPrefix(s, "$meta."):
		name := strings.TrimPrefix(s, "$meta.")
		if name == "" {
			return path{}, errors.New("$meta. needs a metadata name, such as $meta.subject")
		}
		return path{special: "$meta", meta: name}, nil
	case strings.HasPrefix(s, "$"):
		return path{}, fmt.Errorf("%q: the names starting with $ are $id, $payload and $meta.name", s)
	case s == "":
		return path{}, errors.New("empty: write a JSON pointer such as /amount or a dotted path such as amount")
	case strings.HasPrefix(s, "/"):
		parts := strings.Split(s[1:], "/")
		for i, p := range parts {
			parts[i] = strings.ReplaceAll(strings.ReplaceAll(p, "~1", "/"), "~0", "~")
		}
		return path{steps: parts}, nil
	}
	parts := strings.Split(s, ".")
	for _, p := range parts {
		if p == "" {
			return path{}, fmt.Errorf("%q has an empty step; write a.b, or a JSON pointer such as /a/b", s)
		}
	}
	return path{steps: parts}, nil
}

// maxPayloadDepth bounds the nesting of a message's JSON read by a sink.
const maxPayloadDepth = 64

// decodePayload reads a message's JSON, numbers kept exact.
func decodePayload(p []byte) (any, error) {
	if err := checkDepth(p, maxPayloadDepth); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(p))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("the payload is not JSON: %v", err)
	}
	if dec.More() {
		return nil, errors.New("the payload holds more than one JSON value")
	}
	return v, nil
}

// checkDepth refuses JSON nested deeper than max, before the decoder recurses into it.
func checkDepth(p []byte, max int) error {
	depth := 0
	inString, escaped := false, false
	for _, c := range p {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			depth++
			if depth > max {
				return fmt.Errorf("the payload's JSON is nested deeper than %d levels", max)
			}
		case c == ']' || c == '}':
			depth--
		}
	}
	return nil
}

// lookup returns the value at p in doc, for the message msg, and whether it is there.
func (p path) lookup(msg *message.Message, doc any) (any, bool) {
	switch p.special {
	case "$id":
		return msg.UUID, true
	case "$payload":
		return []byte(msg.Payload), true
	case "$meta":
		v := msg.Metadata.Get(p.meta)
		return v, v != ""
	}
	v := doc
	for _, s := range p.steps {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[s]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(s)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// rfc3339Zoned is a timestamp in RFC 3339 form with its zone, as the source writes them.
var rfc3339Zoned = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})$`)

// intPattern is a JSON number that is an integer.
var intPattern = regexp.MustCompile(`^-?[0-9]+$`)

// param turns a JSON value into a statement parameter: text stays text, an integer becomes an
// int64 when it fits, another number stays its exact decimal text (the database converts it, so
// no float rounds it), objects and lists become their JSON text.
//
// MariaDB and MySQL refuse a time with a zone ("2026-03-14T09:26:53Z") for a DATETIME, so for
// them (timeText) text in that exact form goes as a time, which the driver writes in the
// connection's zone, UTC unless the dsn says otherwise.
func param(v any, timeText bool) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		if timeText && rfc3339Zoned.MatchString(x) {
			if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
				return t, nil
			}
		}
		return x, nil
	case bool, []byte:
		return x, nil
	case json.Number:
		if intPattern.MatchString(string(x)) {
			if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
				return i, nil
			}
		}
		return string(x), nil
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return nil, err
		}
		return string(b), nil
	}
}

// column is how one column of a result becomes a JSON value.
type column struct {
	name   string
	dbType string // upper case, as the driver names it: INT8, NUMERIC, VARCHAR, BYTEA, ...
}

func columnsOf(rows *sql.Rows) ([]column, error) {
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	cols := make([]column, len(types))
	seen := map[string]bool{}
	for i, t := range types {
		if seen[t.Name()] {
			return nil, fmt.Errorf("the result has two columns named %q; give them distinct names (AS)", t.Name())
		}
		seen[t.Name()] = true
		cols[i] = column{name: t.Name(), dbType: strings.ToUpper(t.DatabaseTypeName())}
	}
	return cols, nil
}

// kind sorts the database's type names into the JSON a value becomes.
func (c column) kind() string {
	t := c.dbType
	switch {
	case strings.Contains(t, "BLOB") || t == "BYTEA" || strings.Contains(t, "BINARY"):
		return "bytes"
	case t == "NUMERIC" || t == "DECIMAL" || strings.HasPrefix(t, "DECIMAL") || strings.HasPrefix(t, "NUMERIC"):
		return "decimal"
	case strings.Contains(t, "INT") || t == "YEAR" || t == "BIT" || strings.HasPrefix(t, "UNSIGNED"):
		return "integer"
	case t == "FLOAT4" || t == "FLOAT8" || t == "FLOAT" || t == "DOUBLE" || t == "REAL" || t == "DOUBLE PRECISION":
		return "float"
	case t == "BOOL" || t == "BOOLEAN":
		return "bool"
	case t == "JSON" || t == "JSONB":
		return "json"
	case t == "DATE":
		return "date"
	case strings.Contains(t, "TIMESTAMP") || t == "DATETIME" || t == "TIMESTAMPTZ":
		return "timestamp"
	}
	return "text"
}

// jsonValue turns one scanned value into JSON: NULL is null, numbers stay numbers (decimals
// exactly as the database wrote them), timestamps are RFC 3339, dates YYYY-MM-DD, bytes base64,
// JSON columns are embedded as they are, and text is text — an empty string stays "".
func (c column) jsonValue(v any) (json.RawMessage, error) {
	if v == nil {
		return json.RawMessage("null"), nil
	}
	kind := c.kind()
	switch x := v.(type) {
	case time.Time:
		if kind == "date" {
			return json.Marshal(x.Format(time.DateOnly))
		}
		return json.Marshal(x.UTC().Format(time.RFC3339Nano))
	case int64:
		if kind == "bool" {
			return json.Marshal(x != 0)
		}
		return strconv.AppendInt(nil, x, 10), nil
	case uint64:
		return strconv.AppendUint(nil, x, 10), nil
	case int32:
		return strconv.AppendInt(nil, int64(x), 10), nil
	case float64:
		return floatJSON(x)
	case float32:
		return floatJSON(float64(x))
	case bool:
		return json.Marshal(x)
	case []byte:
		return c.textJSON(x, kind)
	case string:
		return c.textJSON([]byte(x), kind)
	}
	return json.Marshal(fmt.Sprint(v))
}

// textJSON turns a value the driver gave as text or bytes into JSON by the column's kind.
func (c column) textJSON(b []byte, kind string) (json.RawMessage, error) {
	switch kind {
	case "bytes":
		return json.Marshal(base64.StdEncoding.EncodeToString(b))
	case "decimal", "integer", "float":
		if isJSONNumber(b) {
			return json.RawMessage(bytes.Clone(b)), nil
		}
		return json.Marshal(string(b)) // NaN, Infinity: kept as text
	case "bool":
		switch string(b) {
		case "1", "t", "true", "TRUE":
			return json.RawMessage("true"), nil
		case "0", "f", "false", "FALSE":
			return json.RawMessage("false"), nil
		}
	case "json":
		if json.Valid(b) {
			var out bytes.Buffer
			if err := json.Compact(&out, b); err == nil {
				return out.Bytes(), nil
			}
		}
	case "timestamp", "date":
		// MariaDB and SQLite give some times as text; keep their text when not parsable.
		if t, err := parseTime(string(b)); err == nil {
			if kind == "date" {
				return json.Marshal(t.Format(time.DateOnly))
			}
			return json.Marshal(t.UTC().Format(time.RFC3339Nano))
		}
	}
	if !utf8.Valid(b) {
		return nil, fmt.Errorf("column %s: text is not UTF-8", c.name)
	}
	return json.Marshal(string(b))
}

func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999", time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time", s)
}

func floatJSON(f float64) (json.RawMessage, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return json.Marshal(strconv.FormatFloat(f, 'g', -1, 64))
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

// numberPattern is the grammar of a JSON number.
var numberPattern = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

func isJSONNumber(b []byte) bool { return numberPattern.Match(b) }

// rowJSON writes one row as a JSON object, its keys in the columns' order.
func rowJSON(cols []column, vals []any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, c := range cols {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(c.name)
		b.Write(k)
		b.WriteByte(':')
		v, err := c.jsonValue(vals[i])
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// rawPayload returns a column's value as a message payload, as it is.
func rawPayload(v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return nil, errors.New("payload column is NULL")
	case []byte:
		return bytes.Clone(x), nil
	case string:
		return []byte(x), nil
	}
	return nil, fmt.Errorf("payload column holds %T; want text or bytes", v)
}
