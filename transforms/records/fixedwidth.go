package records

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/transforms"
	"github.com/aiskao/aiskao/transforms/charset"
)

func init() {
	transforms.Register(transforms.Factory{
		Name: "fixed_width",
		Doc: "Parses a file of fixed-width records into JSON records (mode: parse), or writes JSON " +
			"records into one (mode: write). Each field has a name, a start (from 1) and a length in " +
			"characters, a type, padding and alignment; records are lines (LF or CRLF) or, with " +
			"record_length, runs of that many bytes. The file's bytes are decoded from charset, record by " +
			"record, and the writer encodes them back, so that a file read and written again is the same " +
			"byte for byte. Parsing gives one message with the JSON array of the records, or one message " +
			"per record (output: messages), each with the metadata record (its number). A record too " +
			"short or too long for the layout, a value not of its type, or a byte the character set does " +
			"not define is a bad record, named by number, line, field and value: it fails the file " +
			"(bad_records: fail) or becomes a message of its own (bad_records: reject; see record_reject).",
		Config: &FixedWidthOptions{},
		New:    newFixedWidth,
	})
}

// FixedWidthOptions configures fixed_width.
type FixedWidthOptions struct {
	Mode         string  `yaml:"mode" doc:"parse: file into JSON records; write: JSON records (an array, or one object) into a file." enum:"parse,write" default:"parse"`
	Fields       []Field `yaml:"fields" doc:"The fields of a record, each with name, start and length." required:"true" min:"1" max:"1000"`
	Charset      string  `yaml:"charset" doc:"Character set of the file: utf-8, windows-1251, cp866 or koi8-r. A UTF-8 byte order mark is removed when reading." default:"utf-8" example:"windows-1251"`
	BOM          bool    `yaml:"bom" doc:"write, with charset utf-8: start the file with a byte order mark." default:"false"`
	RecordLength int     `yaml:"record_length" doc:"Length of a record in bytes when records follow each other without line ends; 0 means one record per line." default:"0" min:"0" max:"1000000"`
	Newline      string  `yaml:"newline" doc:"write, one record per line: the line end written after every record." enum:"crlf,lf" default:"crlf"`
	Output       string  `yaml:"output" doc:"parse: array, one message holding the JSON array of the records; messages, one message per record." enum:"array,messages" default:"array"`
	BadRecords   string  `yaml:"bad_records" doc:"parse: fail, a bad record fails the whole file, naming every bad record; reject, each bad record becomes a message of its own (payload {\"rejected_record\": {record, line, field, value, error, raw}}, metadata record_error) and the good records go on." enum:"fail,reject" default:"fail"`
	MaxRecords   int     `yaml:"max_records" doc:"parse: most records a file may hold; a larger file fails. Every record is held in memory while its file is processed (as a message of its own with output: messages), so raise it with care." default:"100000" min:"1"`
}

// Validate checks the charset and that the fields are named once and do not overlap.
func (o *FixedWidthOptions) Validate() error {
	var errs []error
	if err := checkCharset(o.Charset, o.BOM); err != nil {
		errs = append(errs, err)
	}
	seen := map[string]int{}
	end := 0
	for i, f := range o.Fields {
		at := fmt.Sprintf("fields[%d]", i)
		if j, dup := seen[f.Name]; dup {
			errs = append(errs, spec.FieldErrorf(at+".name", "%q is also the name of fields[%d]", f.Name, j))
		}
		seen[f.Name] = i
		for j, g := range o.Fields[:i] {
			if f.Start < g.Start+g.Length && g.Start < f.Start+f.Length {
				errs = append(errs, spec.FieldErrorf(at+".start", "overlaps fields[%d] (%s, characters %d–%d)", j, g.Name, g.Start, g.Start+g.Length-1))
			}
		}
		end = max(end, f.Start+f.Length-1)
	}
	if o.RecordLength > 0 && o.RecordLength < end {
		errs = append(errs, spec.FieldErrorf("record_length", "%d is shorter than the fields, which end at %d", o.RecordLength, end))
	}
	return errors.Join(errs...)
}

type fixedWidth struct {
	o     FixedWidthOptions
	codec *charset.Codec
	fs    []field
	width int // characters the fields cover
}

func newFixedWidth(cfg any, _ transforms.Env) (transforms.Step, error) {
	o := cfg.(*FixedWidthOptions)
	if err := validate(o, o.Fields); err != nil {
		return nil, err
	}
	s, err := buildFixedWidth(*o)
	if err != nil {
		return nil, err
	}
	return s.step(), nil
}

// step is the fixed_width step of the layout.
func (s *fixedWidth) step() *recordStep {
	return &recordStep{name: "fixed_width", mediaType: "text/plain", mode: s.o.Mode, output: s.o.Output, bad: s.o.BadRecords,
		codec: s.codec, format: fixedWidthFormat{s}}
}

// fixedWidthFormat gives a fixed-width layout the format's parse: its fields are the layout's.
type fixedWidthFormat struct{ *fixedWidth }

func (f fixedWidthFormat) parse(data []byte) ([]field, []parsed, error) {
	recs, err := f.Parse(data)
	return f.fs, recs, err
}

// buildFixedWidth returns the step for validated options with defaults applied.
func buildFixedWidth(o FixedWidthOptions) (*fixedWidth, error) {
	c, err := charset.Find(o.Charset)
	if err != nil {
		return nil, err
	}
	s := &fixedWidth{o: o, codec: c, fs: prepare(o.Fields)}
	for _, f := range s.fs {
		s.width = max(s.width, f.to)
	}
	if o.MaxRecords == 0 {
		s.o.MaxRecords = 1 << 30
	}
	return s, nil
}

// Parse reads every record of data.
func (s *fixedWidth) Parse(data []byte) ([]parsed, error) {
	if s.codec.IsUTF8() {
		data = charset.StripBOM(data)
	}
	var recs []parsed
	var buf []byte
	var offs []int
	num := 0
	for len(data) > 0 {
		var raw []byte
		if s.o.RecordLength > 0 {
			raw = data[:min(s.o.RecordLength, len(data))]
			data = data[len(raw):]
		} else {
			i := indexByte(data, '\n')
			if i < 0 {
				raw, data = data, nil
			} else {
				raw, data = data[:i], data[i+1:]
			}
			if len(raw) > 0 && raw[len(raw)-1] == '\r' {
				raw = raw[:len(raw)-1]
			}
			if len(data) == 0 && (len(raw) == 0 || string(raw) == "\x1a") {
				break // the end of the last line, or a DOS end-of-file mark
			}
		}
		num++
		if num > s.o.MaxRecords {
			return nil, fmt.Errorf("fixed_width: the file holds more than %d records (max_records)", s.o.MaxRecords)
		}
		var r parsed
		r, buf, offs = s.record(num, raw, buf, offs)
		recs = append(recs, r)
	}
	return recs, nil
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// record parses one record; buf and offs are scratch space handed from record to record.
func (s *fixedWidth) record(num int, raw, buf []byte, offs []int) (parsed, []byte, []int) {
	line := num
	if s.o.RecordLength > 0 {
		line = 0 // records without line ends: the number says where
	}
	r := parsed{num: num}
	bad := func(f *field, value, reason string) {
		r.err = &RecordError{Record: num, Line: line, Value: value, Reason: reason, Raw: lossy(s.codec, raw)}
		if f != nil {
			r.err.Field, r.err.Personal = f.Name, f.Personal
		}
	}
	text, err := s.codec.Decode(buf[:0], raw)
	buf = text
	if err != nil {
		var be *charset.ByteError
		errors.As(err, &be)
		at := utf8.RuneCount(raw[:be.Offset]) // characters before the bad byte; single-byte sets: the offset
		f := s.fieldAt(at)
		value := ""
		if f != nil {
			value = sliceRunes(lossy(s.codec, raw), f.from, f.to)
		}
		bad(f, value, fmt.Sprintf("byte 0x%02X at byte %d of the record is not valid in %s", be.Byte, be.Offset+1, s.codec.Name()))
		return r, buf, offs
	}
	// Character offsets of the text, needed only when some character takes more than a byte.
	ascii := true
	for _, b := range text {
		if b >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	n := len(text)
	if !ascii {
		offs = offs[:0]
		for i := range string(text) {
			offs = append(offs, i)
		}
		n = len(offs)
		offs = append(offs, len(text))
	}
	whole := string(text) // one string per record; the values are its substrings
	at := func(from, to int) string {
		if ascii {
			return whole[from:to]
		}
		return whole[offs[from]:offs[to]]
	}
	if n < s.width {
		for i := range s.fs {
			if f := &s.fs[i]; f.to > n {
				bad(f, at(min(f.from, n), n), fmt.Sprintf("short record: %d characters, the fields need %d", n, s.width))
				return r, buf, offs
			}
		}
	}
	limit := s.width
	if s.o.RecordLength > 0 {
		limit = s.o.RecordLength
	}
	if s.o.RecordLength == 0 && n > limit {
		bad(nil, at(limit, n), fmt.Sprintf("long record: %d characters, the fields cover %d", n, limit))
		return r, buf, offs
	}
	r.vals = make(map[string]any, len(s.fs))
	for i := range s.fs {
		f := &s.fs[i]
		text := at(f.from, f.to)
		v, err := f.parse(f.cut(text))
		if err == errOmit {
			continue
		}
		if err != nil {
			bad(f, text, err.Error())
			r.vals = nil
			return r, buf, offs
		}
		r.vals[f.Name] = v
	}
	return r, buf, offs
}

// fieldAt returns the field holding the character at, or nil.
func (s *fixedWidth) fieldAt(at int) *field {
	for i := range s.fs {
		if f := &s.fs[i]; at >= f.from && at < f.to {
			return f
		}
	}
	return nil
}

// lossy decodes raw replacing what cannot be decoded, for messages about a bad record.
func lossy(c *charset.Codec, raw []byte) string { return string(c.DecodeLossy(nil, raw)) }

func sliceRunes(s string, from, to int) string {
	i := 0
	start, end := len(s), len(s)
	for off := range s {
		if i == from {
			start = off
		}
		if i == to {
			end = off
			break
		}
		i++
	}
	if start > end {
		return ""
	}
	return s[start:end]
}

// cut removes the field's padding from its text. A field of spaces only is empty whatever its
// pad; numbers padded with zeros keep one zero before the fraction.
func (f *field) cut(s string) string {
	if !f.trim {
		return s
	}
	if strings.TrimLeft(s, " ") == "" {
		return ""
	}
	if !f.right {
		return strings.TrimRight(s, string(f.pad))
	}
	if f.pad == '0' && (f.Type == typeInteger || f.Type == typeDecimal) {
		sign, rest := splitSign(s)
		rest = strings.TrimLeft(rest, "0")
		if rest == "" || strings.HasPrefix(rest, f.sep()) {
			rest = "0" + rest
		}
		return sign + rest
	}
	return strings.TrimLeft(s, string(f.pad))
}

// Write writes records into the bytes of a file.
func (s *fixedWidth) Write(recs []map[string]any) ([]byte, error) {
	out := make([]byte, 0, len(recs)*(s.width+2))
	if s.o.BOM {
		out = append(out, 0xEF, 0xBB, 0xBF)
	}
	line := make([]rune, 0, s.width)
	var text []byte
	for n, rec := range recs {
		num := n + 1
		line = line[:0]
		for range max(s.width, s.o.RecordLength) {
			line = append(line, ' ')
		}
		for i := range s.fs {
			f := &s.fs[i]
			v, present := rec[f.Name]
			txt, err := f.format(v, present)
			if err != nil {
				return nil, fmt.Errorf("fixed_width: write: record %d, field %s, value %s: %v", num, f.Name, show(v), err)
			}
			if err := f.place(line, txt); err != nil {
				return nil, fmt.Errorf("fixed_width: write: record %d, field %s, value %q: %v", num, f.Name, txt, err)
			}
		}
		text = text[:0]
		for _, r := range line {
			text = utf8.AppendRune(text, r)
		}
		before := len(out)
		var err error
		if out, err = s.codec.Encode(out, text); err != nil {
			var be *charset.ByteError
			errors.As(err, &be)
			field := ""
			if f := s.fieldAt(utf8.RuneCount(text[:be.Offset])); f != nil {
				field = ", field " + f.Name
			}
			return nil, fmt.Errorf("fixed_width: write: record %d%s: %s cannot hold %q (U+%04X)", num, field, s.codec.Name(), be.Rune, be.Rune)
		}
		if s.o.RecordLength > 0 && len(out)-before != s.o.RecordLength {
			return nil, fmt.Errorf("fixed_width: write: record %d is %d bytes in %s, record_length is %d", num, len(out)-before, s.codec.Name(), s.o.RecordLength)
		}
		if s.o.RecordLength == 0 {
			if s.o.Newline == "lf" {
				out = append(out, '\n')
			} else {
				out = append(out, '\r', '\n')
			}
		}
	}
	return out, nil
}

// place writes the text of a field into line, padded and aligned.
func (f *field) place(line []rune, txt string) error {
	n := utf8.RuneCountInString(txt)
	if n > f.Length {
		return fmt.Errorf("longer than the field's %d characters", f.Length)
	}
	if strings.ContainsAny(txt, "\r\n") && f.Length > 0 {
		return errors.New("holds a line end")
	}
	pad := f.pad
	if txt == "" && f.pad == '0' {
		pad = ' ' // an empty number written as zeros would read back as 0
	}
	cells := line[f.from:f.to]
	for i := range cells {
		cells[i] = pad
	}
	start := 0
	if f.right {
		start = f.Length - n
	}
	if f.right && pad == '0' && strings.HasPrefix(txt, "-") {
		cells[0] = '-'
		txt = txt[1:]
		start++
	}
	for _, r := range txt {
		cells[start] = r
		start++
	}
	return nil
}

func show(v any) string {
	s := fmt.Sprintf("%v", v)
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return fmt.Sprintf("%q", s)
}
