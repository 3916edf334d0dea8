package records

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/internal/jsonenc"
	"github.com/aiskao/aiskao/transforms"
)

// Metadata names set on the messages the parsers make.
const (
	// MetaRecord is the number of the record in its file, from 1.
	MetaRecord = "record"
	// MetaRecordError is set on the message of a rejected record: what is wrong with it.
	MetaRecordError = "record_error"
)

// Output modes and what happens to bad records.
const (
	outputArray    = "array"
	outputMessages = "messages"
	badFail        = "fail"
	badReject      = "reject"
)

// rejectedKey is the only key of the payload of a rejected record's message, so that the
// rejection is recognised also where the metadata did not travel (through a file spool).
const rejectedKey = "rejected_record"

// maxListed bounds how many bad records the error of a failed file names.
const maxListed = 20

// RecordError is a bad record: its number (from 1), the line it starts on (0 for records
// without line ends), the field and the value
// that are wrong (empty when the record as a whole is, such as a short line), and why.
type RecordError struct {
	Record int    `json:"record"`
	Line   int    `json:"line,omitempty"`
	Field  string `json:"field,omitempty"`
	Value  string `json:"value,omitempty"`
	Reason string `json:"error"`
	Raw    string `json:"raw"` // the record as read, decoded where it could be
	// Personal is set when the field holds personal data: Error does not show the value.
	Personal bool `json:"personal,omitempty"`
	// Missing is set when the field is not in the record at all, so there is no value to show.
	Missing bool `json:"missing,omitempty"`
}

func (e *RecordError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "record %d", e.Record)
	if e.Line > 0 {
		fmt.Fprintf(&b, " (line %d)", e.Line)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ", field %s", e.Field)
	}
	switch {
	case e.Personal:
		fmt.Fprintf(&b, ", value of %d characters (personal data, not shown)", utf8.RuneCountInString(e.Value))
	case (e.Field != "" && !e.Missing) || e.Value != "":
		fmt.Fprintf(&b, ", value %q", clip(e.Value))
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	return b.String()
}

// maxShown bounds the characters of a value an error shows; the payload keeps it whole.
const maxShown = 80

// clip shortens s to maxShown characters.
func clip(s string) string {
	n := 0
	for i := range s {
		if n == maxShown {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// parsed is one record of a file: its values, or what is wrong with it.
type parsed struct {
	num  int
	vals map[string]any
	err  *RecordError
}

// emit turns the records of m's payload into messages as output and badRecords say.
func emit(m *transforms.Message, step string, fs []field, recs []parsed, output, bad string) ([]*transforms.Message, error) {
	if bad == badFail {
		var errs []string
		total := 0
		for _, r := range recs {
			if r.err != nil {
				if total++; total <= maxListed {
					errs = append(errs, r.err.Error())
				}
			}
		}
		if total > 0 {
			more := ""
			if total > maxListed {
				more = fmt.Sprintf("; and %d more", total-maxListed)
			}
			return nil, fmt.Errorf("%s: %d bad record(s): %s%s", step, total, strings.Join(errs, "; "), more)
		}
	}
	// Messages made from one record are numbered by it: "<file message id>.<record>".
	var out []*transforms.Message
	var good []any
	for _, r := range recs {
		switch {
		case r.err != nil:
			c := m.Child(r.num, nil)
			b, err := json.Marshal(map[string]*RecordError{rejectedKey: r.err})
			if err != nil {
				return nil, fmt.Errorf("%s: record %d: %w", step, r.num, err)
			}
			c.SetPayload(b)
			c.Metadata[envelope.ContentType] = "application/json"
			c.Metadata[MetaRecord] = strconv.Itoa(r.num)
			c.Metadata[MetaRecordError] = r.err.Error()
			out = append(out, c)
		case output == outputMessages:
			c := m.Child(r.num, nil)
			c.Metadata[MetaRecord] = strconv.Itoa(r.num)
			vals := r.vals
			c.SetJSONEncoded(vals, func() ([]byte, error) { return appendRecord(nil, fs, vals) })
			out = append(out, c)
		default:
			good = append(good, r.vals)
		}
	}
	if output == outputArray {
		// The file's message itself carries the array, under its own id.
		if good == nil {
			good = []any{}
		}
		m.SetJSONEncoded(good, func() ([]byte, error) {
			b := append(make([]byte, 0, 128*len(good)), '[')
			for i, g := range good {
				if i > 0 {
					b = append(b, ',')
				}
				var err error
				if b, err = appendRecord(b, fs, g.(map[string]any)); err != nil {
					return nil, err
				}
			}
			return append(b, ']'), nil
		})
		out = append([]*transforms.Message{m}, out...)
	}
	return out, nil
}

// appendRecord writes a record's values as a JSON object with the keys in the declared order.
func appendRecord(b []byte, fs []field, vals map[string]any) ([]byte, error) {
	b = append(b, '{')
	first := true
	for i := range fs {
		v, ok := vals[fs[i].Name]
		if !ok {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, fs[i].key...)
		b = append(b, ':')
		var err error
		if b, err = jsonenc.Append(b, v); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// inputRecords returns the records a writer writes: the JSON array payload, or the one object.
func inputRecords(m *transforms.Message) ([]map[string]any, error) {
	v, err := m.JSON()
	if err != nil {
		return nil, err
	}
	switch v := v.(type) {
	case map[string]any:
		if _, ok := v[rejectedKey]; ok {
			return nil, errors.New("the payload is a rejected record, not a record")
		}
		return []map[string]any{v}, nil
	case []any:
		out := make([]map[string]any, len(v))
		for i, item := range v {
			o, ok := item.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("item %d of the array is not a JSON object", i)
			}
			out[i] = o
		}
		return out, nil
	}
	return nil, errors.New("the payload is neither a JSON object nor an array of objects")
}

// rejection returns what is wrong with a rejected record's message, or "" for any other message.
func rejection(m *transforms.Message) (string, error) {
	if e := m.Metadata[MetaRecordError]; e != "" {
		return e, nil
	}
	p, err := m.Payload()
	if err != nil {
		return "", err
	}
	if !bytes.HasPrefix(bytes.TrimLeft(p, " \t\r\n"), []byte(`{"`+rejectedKey+`"`)) {
		return "", nil
	}
	var r map[string]*RecordError
	if err := json.Unmarshal(p, &r); err != nil || r[rejectedKey] == nil || len(r) != 1 {
		return "", nil
	}
	return r[rejectedKey].Error(), nil
}
