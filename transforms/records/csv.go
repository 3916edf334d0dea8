package records

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/transforms"
	"github.com/aiskao/aiskao/transforms/charset"
)

func init() {
	transforms.Register(transforms.Factory{
		Name: "csv",
		Doc: "Parses a CSV file into JSON records (mode: parse), or writes JSON records into one (mode: " +
			"write): RFC 4180 quoting with \", a delimiter of choice, comment lines, a header row or none. " +
			"With a header, fields are matched to its columns by name (column); without, they are the " +
			"columns in order. Without fields every column of the header is a string field. The file's " +
			"bytes are decoded from charset and the writer encodes them back. Parsing gives one message with " +
			"the JSON array of the records, or one message per record (output: messages), each with the " +
			"metadata record (its number). A record with another number of columns than the header or the " +
			"fields, a value not of its type, or a byte the character set does not define is a bad record, " +
			"named by number, line, field and value: it fails the file (bad_records: fail) or becomes a " +
			"message of its own (bad_records: reject; see record_reject). Broken quoting fails the file.",
		Config: &CSVOptions{},
		New:    newCSV,
	})
}

// CSVOptions configures csv.
type CSVOptions struct {
	Mode       string     `yaml:"mode" doc:"parse: file into JSON records; write: JSON records (an array, or one object) into a file." enum:"parse,write" default:"parse"`
	Fields     []CSVField `yaml:"fields" doc:"The fields of a record. Optional with a header: then every column is a string field named as in the header." max:"1000"`
	Header     bool       `yaml:"header" doc:"The first record is a header naming the columns (parse), and is written (write)." default:"true"`
	Delimiter  string     `yaml:"delimiter" doc:"Character between fields." default:"," example:";"`
	Comment    string     `yaml:"comment" doc:"parse: lines starting with this character are skipped; empty means none." example:"#"`
	LazyQuotes bool       `yaml:"lazy_quotes" doc:"parse: accept a quote inside an unquoted field and a lone quote inside a quoted one, as some exporters write them." default:"false"`
	Quote      string     `yaml:"quote" doc:"write: minimal quotes only fields that need it (the delimiter, a quote, a line end, a leading or trailing space, a leading comment character); all quotes every field." enum:"minimal,all" default:"minimal"`
	Charset    string     `yaml:"charset" doc:"Character set of the file: utf-8, windows-1251, cp866 or koi8-r. A UTF-8 byte order mark is removed when reading." default:"utf-8" example:"windows-1251"`
	BOM        bool       `yaml:"bom" doc:"write, with charset utf-8: start the file with a byte order mark." default:"false"`
	Newline    string     `yaml:"newline" doc:"write: the line end written after every record." enum:"crlf,lf" default:"crlf"`
	Output     string     `yaml:"output" doc:"parse: array, one message holding the JSON array of the records; messages, one message per record." enum:"array,messages" default:"array"`
	BadRecords string     `yaml:"bad_records" doc:"parse: fail, a bad record fails the whole file, naming every bad record; reject, each bad record becomes a message of its own (payload {\"rejected_record\": {record, line, field, value, error, raw}}, metadata record_error) and the good records go on." enum:"fail,reject" default:"fail"`
	MaxRecords int        `yaml:"max_records" doc:"parse: most records a file may hold; a larger file fails. Every record is held in memory while its file is processed (as a message of its own with output: messages), so raise it with care." default:"100000" min:"1"`
}

// Validate checks the characters, the charset and the fields.
func (o *CSVOptions) Validate() error {
	var errs []error
	d, _ := utf8.DecodeRuneInString(o.Delimiter)
	if utf8.RuneCountInString(o.Delimiter) != 1 || strings.ContainsRune("\"\r\n", d) || d == utf8.RuneError {
		errs = append(errs, spec.FieldErrorf("delimiter", "must be one character other than a quote or a line end, got %q", o.Delimiter))
	}
	if o.Comment != "" {
		c, _ := utf8.DecodeRuneInString(o.Comment)
		if utf8.RuneCountInString(o.Comment) != 1 || strings.ContainsRune("\"\r\n", c) || o.Comment == o.Delimiter || c == utf8.RuneError {
			errs = append(errs, spec.FieldErrorf("comment", "must be one character other than a quote, a line end or the delimiter, got %q", o.Comment))
		}
	}
	if err := checkCharset(o.Charset, o.BOM); err != nil {
		errs = append(errs, err)
	}
	if len(o.Fields) == 0 && !o.Header {
		errs = append(errs, spec.FieldErrorf("fields", "required without a header: the columns in order"))
	}
	seen := map[string]int{}
	cols := map[string]int{}
	for i, f := range o.Fields {
		at := fmt.Sprintf("fields[%d]", i)
		if j, dup := seen[f.Name]; dup {
			errs = append(errs, spec.FieldErrorf(at+".name", "%q is also the name of fields[%d]", f.Name, j))
		}
		seen[f.Name] = i
		col := f.Column
		if col == "" {
			col = f.Name
		}
		if j, dup := cols[col]; dup && o.Header {
			errs = append(errs, spec.FieldErrorf(at+".column", "column %q is also read by fields[%d]", col, j))
		}
		cols[col] = i
	}
	return errors.Join(errs...)
}

type csvStep struct {
	o       CSVOptions
	columns []string // header name of each field
	codec   *charset.Codec
	fs      []field
	delim   rune
	comment rune
}

func newCSV(cfg any, _ transforms.Env) (transforms.Step, error) {
	o := cfg.(*CSVOptions)
	if err := validate(o, o.Fields); err != nil {
		return nil, err
	}
	s, err := buildCSV(*o)
	if err != nil {
		return nil, err
	}
	return &recordStep{name: "csv", mediaType: "text/csv", mode: s.o.Mode, output: s.o.Output, bad: s.o.BadRecords,
		codec: s.codec, format: s}, nil
}

// buildCSV returns the step for validated options with defaults applied.
func buildCSV(o CSVOptions) (*csvStep, error) {
	c, err := charset.Find(o.Charset)
	if err != nil {
		return nil, err
	}
	decl := make([]Field, len(o.Fields))
	cols := make([]string, len(o.Fields))
	for i := range o.Fields {
		decl[i] = o.Fields[i].field()
		cols[i] = o.Fields[i].Column
		if cols[i] == "" {
			cols[i] = o.Fields[i].Name
		}
	}
	s := &csvStep{o: o, codec: c, fs: prepare(decl), columns: cols, delim: ','}
	if o.Delimiter != "" {
		s.delim, _ = utf8.DecodeRuneInString(o.Delimiter)
	}
	if o.Comment != "" {
		s.comment, _ = utf8.DecodeRuneInString(o.Comment)
	}
	if s.o.MaxRecords == 0 {
		s.o.MaxRecords = 1 << 30
	}
	return s, nil
}

// badLine is a line of the file with a byte its character set does not define.
type badLine struct {
	err *charset.ByteError
	raw string // the line decoded with the bad bytes replaced
}

// decode decodes data line by line, so that a bad byte spoils only the record it is in: such a line
// is decoded with replacement characters and reported with the record.
func (s *csvStep) decode(data []byte) ([]byte, map[int]badLine) {
	if s.codec.IsUTF8() {
		data = charset.StripBOM(data)
	}
	out := make([]byte, 0, len(data)+len(data)/2)
	var bad map[int]badLine
	for line := 1; len(data) > 0; line++ {
		i := bytes.IndexByte(data, '\n')
		raw := data
		if i >= 0 {
			raw = data[:i+1]
		}
		data = data[len(raw):]
		before := len(out)
		var err error
		if out, err = s.codec.Decode(out, raw); err != nil {
			var be *charset.ByteError
			errors.As(err, &be)
			if bad == nil {
				bad = map[int]badLine{}
			}
			text := lossy(s.codec, raw)
			bad[line] = badLine{err: be, raw: strings.TrimRight(text, "\r\n")}
			out = append(out[:before], text...)
		}
	}
	return out, bad
}

// Parse reads every record of data; it returns the fields (from the header when none are declared).
func (s *csvStep) Parse(data []byte) ([]field, []parsed, error) {
	text, badLines := s.decode(data)
	r := csv.NewReader(bytes.NewReader(text))
	r.Comma = s.delim
	r.Comment = s.comment
	r.LazyQuotes = s.o.LazyQuotes
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	fs := s.fs
	cols := make([]int, len(fs)) // column of each field
	for i := range cols {
		cols[i] = i
	}
	width := len(fs) // columns a record must have
	needHeader := s.o.Header
	var recs []parsed
	num := 0
	for {
		row, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("csv: %w", err)
		}
		line, _ := r.FieldPos(0)
		last, _ := r.FieldPos(len(row) - 1)
		end := last + strings.Count(row[len(row)-1], "\n")
		if needHeader {
			needHeader = false
			if fs, cols, err = s.header(row, line, end, badLines); err != nil {
				return nil, nil, err
			}
			width = len(row)
			continue
		}
		num++
		if num > s.o.MaxRecords {
			return nil, nil, fmt.Errorf("csv: the file holds more than %d records (max_records)", s.o.MaxRecords)
		}
		recs = append(recs, s.record(num, line, end, row, fs, cols, width, badLines))
	}
	return fs, recs, nil
}

// header matches the declared fields to the header's columns, or makes a string field of each
// column when none are declared.
func (s *csvStep) header(row []string, line, end int, badLines map[int]badLine) ([]field, []int, error) {
	for l := line; l <= end; l++ {
		if b, ok := badLines[l]; ok {
			return nil, nil, fmt.Errorf("csv: header (line %d): %v", l, b.err)
		}
	}
	index := make(map[string]int, len(row))
	dups := map[string]string{}
	for i, name := range row {
		name = strings.TrimSpace(name)
		if j, dup := index[name]; dup {
			dups[name] = fmt.Sprintf("csv: header (line %d): columns %d and %d are both named %q", line, j+1, i+1, name)
			continue
		}
		index[name] = i
	}
	if len(s.fs) == 0 {
		for _, msg := range dups {
			return nil, nil, errors.New(msg) // every column is a field: the names must differ
		}
		decl := make([]Field, len(row))
		cols := make([]int, len(row))
		for i, name := range row {
			decl[i] = Field{Name: strings.TrimSpace(name), Type: typeString, Pad: " "}
			cols[i] = i
		}
		return prepare(decl), cols, nil
	}
	cols := make([]int, len(s.fs))
	for i, f := range s.fs {
		col := s.columns[i]
		if msg, dup := dups[col]; dup {
			return nil, nil, fmt.Errorf("%s, and field %s reads it", msg, f.Name)
		}
		j, ok := index[col]
		if !ok {
			return nil, nil, fmt.Errorf("csv: header (line %d) has no column %q (field %s); it has %s", line, col, f.Name, strings.Join(row, ", "))
		}
		cols[i] = j
	}
	return s.fs, cols, nil
}

// record converts one row; line and end are the lines it spans.
func (s *csvStep) record(num, line, end int, row []string, fs []field, cols []int, width int, badLines map[int]badLine) parsed {
	r := parsed{num: num}
	raw := func() string {
		var b strings.Builder
		_ = s.writeRow(&b, row)
		return strings.TrimRight(b.String(), "\r\n")
	}
	for l := line; l <= end; l++ {
		if b, ok := badLines[l]; ok {
			e := &RecordError{Record: num, Line: line, Reason: fmt.Sprintf("line %d: byte 0x%02X at byte %d of the line is not valid in %s", l, b.err.Byte, b.err.Offset+1, s.codec.Name()), Raw: raw()}
			// Name the field whose value holds the replacement character.
			for i, f := range fs {
				if cols[i] < len(row) && strings.ContainsRune(row[cols[i]], utf8.RuneError) {
					e.Field, e.Value, e.Personal = f.Name, row[cols[i]], f.Personal
					break
				}
			}
			r.err = e
			return r
		}
	}
	if len(row) != width {
		e := &RecordError{Record: num, Line: line, Reason: fmt.Sprintf("%d columns, want %d", len(row), width), Raw: raw()}
		for i, f := range fs {
			if cols[i] >= len(row) {
				e.Field, e.Missing, e.Reason = f.Name, true, e.Reason+": the field is missing"
				break
			}
		}
		r.err = e
		return r
	}
	r.vals = make(map[string]any, len(fs))
	for i := range fs {
		f := &fs[i]
		text := row[cols[i]]
		v := text
		if f.trim {
			v = strings.TrimSpace(v)
		}
		val, err := f.parse(v)
		if err == errOmit {
			continue
		}
		if err != nil {
			r.vals = nil
			r.err = &RecordError{Record: num, Line: line, Field: f.Name, Value: text, Reason: err.Error(), Raw: raw(), Personal: f.Personal}
			return r
		}
		r.vals[f.Name] = val
	}
	return r
}

// Write writes records into the bytes of a file.
func (s *csvStep) Write(recs []map[string]any) ([]byte, error) {
	fs := s.fs
	if len(fs) == 0 {
		return nil, errors.New("csv: write: declare the fields to write")
	}
	var b strings.Builder
	row := make([]string, len(fs))
	if s.o.Header {
		copy(row, s.columns)
		_ = s.writeRow(&b, row)
	}
	for n, rec := range recs {
		for i := range fs {
			f := &fs[i]
			v, present := rec[f.Name]
			txt, err := f.format(v, present)
			if err != nil {
				return nil, fmt.Errorf("csv: write: record %d, field %s, value %s: %v", n+1, f.Name, show(v), err)
			}
			row[i] = txt
		}
		_ = s.writeRow(&b, row)
	}
	text := []byte(b.String())
	var out []byte
	if s.o.BOM {
		out = append(out, 0xEF, 0xBB, 0xBF)
	}
	out, err := s.codec.Encode(out, text)
	if err != nil {
		var be *charset.ByteError
		errors.As(err, &be)
		return nil, fmt.Errorf("csv: write: line %d: %s cannot hold %q (U+%04X)", be.Line, s.codec.Name(), be.Rune, be.Rune)
	}
	return out, nil
}

// writeRow writes one record with its line end, quoting as configured.
func (s *csvStep) writeRow(b *strings.Builder, row []string) error {
	for i, v := range row {
		if i > 0 {
			b.WriteRune(s.delim)
		}
		if s.o.Quote == "all" || s.needsQuotes(v, i, len(row)) {
			b.WriteByte('"')
			b.WriteString(strings.ReplaceAll(v, `"`, `""`))
			b.WriteByte('"')
			continue
		}
		b.WriteString(v)
	}
	if s.o.Newline == "lf" {
		b.WriteByte('\n')
	} else {
		b.WriteString("\r\n")
	}
	return nil
}

func (s *csvStep) needsQuotes(v string, col, cols int) bool {
	if v == "" {
		return cols == 1 // an empty line would be skipped
	}
	if strings.ContainsRune(v, s.delim) || strings.ContainsAny(v, "\"\r\n") {
		return true
	}
	first, _ := utf8.DecodeRuneInString(v)
	lastR, _ := utf8.DecodeLastRuneInString(v)
	if first == ' ' || first == '\t' || lastR == ' ' || lastR == '\t' {
		return true
	}
	return col == 0 && s.comment != 0 && first == s.comment
}

// parse is Parse, as the format of a record step.
func (s *csvStep) parse(data []byte) ([]field, []parsed, error) { return s.Parse(data) }
