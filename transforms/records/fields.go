package records

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/transforms/charset"
)

// Field types.
const (
	typeString  = "string"
	typeInteger = "integer"
	typeDecimal = "decimal"
	typeDate    = "date"
	typeBoolean = "boolean"
)

// Empty policies.
const (
	emptyNull  = "null"
	emptyEmpty = "empty"
	emptyOmit  = "omit"
)

// dateOut is how dates are written in JSON.
const dateOut = "2006-01-02"

// CSVField describes one column of a CSV record.
type CSVField struct {
	Name       string `yaml:"name" doc:"Key of the field in the JSON record." required:"true" example:"egn"`
	Column     string `yaml:"column" doc:"With a header: name of the column in the header; empty means the field's name." example:"ЕГН"`
	Type       string `yaml:"type" doc:"Type of the value: string; integer and decimal (JSON numbers, decimals kept exactly as written); date (written in JSON as YYYY-MM-DD); boolean." enum:"string,integer,decimal,date,boolean" default:"string"`
	Layout     string `yaml:"layout" doc:"date: layout of the date in the file, in Go's notation (2006 year, 01 month, 02 day)." default:"2006-01-02" example:"02.01.2006"`
	DecimalSep string `yaml:"decimal_separator" doc:"decimal: separator of the fraction in the file; in JSON it is always a point." default:"." example:","`
	TrueValue  string `yaml:"true" doc:"boolean: text of true in the file." default:"true" example:"да"`
	FalseValue string `yaml:"false" doc:"boolean: text of false in the file." default:"false" example:"не"`
	Empty      string `yaml:"empty" doc:"What an empty value (after trimming) becomes: null; empty, the string \"\"; or omit, no key at all. Empty means null for every type but string, which keeps \"\"." enum:"null,empty,omit" example:"null"`
	Trim       *bool  `yaml:"trim" doc:"Remove spaces around the value." default:"true"`
	Personal   bool   `yaml:"personal" doc:"The field holds personal data (ЕГН, a name): the error about a bad value states its length instead of the value, since errors are logged; the value stays in the rejected record's payload." default:"false"`
}

// field returns the column as a Field, for the conversions both formats share.
func (c *CSVField) field() Field {
	return Field{Name: c.Name, Type: c.Type, Layout: c.Layout, DecimalSep: c.DecimalSep, TrueValue: c.TrueValue,
		FalseValue: c.FalseValue, Empty: c.Empty, Trim: c.Trim, Personal: c.Personal, Pad: " "}
}

// Validate checks the options that depend on each other.
func (c *CSVField) Validate() error {
	f := c.field()
	return f.Validate()
}

// validate checks a step's options o and each of its fields, whose checks of the options that
// depend on each other spec.Validate does not run.
func validate[F any, PF interface {
	*F
	Validate() error
}](o any, fields []F) error {
	if err := spec.Validate(o); err != nil {
		return err
	}
	for i := range fields {
		if err := PF(&fields[i]).Validate(); err != nil {
			return fmt.Errorf("fields[%d]: %w", i, err)
		}
	}
	return nil
}

// checkCharset checks the charset and bom options that both formats have.
func checkCharset(name string, bom bool) error {
	c, err := charset.Find(name)
	if err != nil {
		return spec.FieldErrorf("charset", "%v", err)
	}
	if bom && !c.IsUTF8() {
		return spec.FieldErrorf("bom", "only with charset utf-8")
	}
	return nil
}

// Field describes one field of a fixed-width record.
type Field struct {
	Name   string `yaml:"name" doc:"Key of the field in the JSON record." required:"true" example:"egn"`
	Start  int    `yaml:"start" doc:"Position of the field's first character in the record, from 1." required:"true" min:"1" example:"11"`
	Length int    `yaml:"length" doc:"Width of the field in characters." required:"true" min:"1" max:"100000" example:"10"`
	Type   string `yaml:"type" doc:"Type of the value: string; integer and decimal (JSON numbers, decimals kept exactly as written); date (written in JSON as YYYY-MM-DD); boolean." enum:"string,integer,decimal,date,boolean" default:"string"`
	Layout string `yaml:"layout" doc:"date: layout of the date in the file, in Go's notation (2006 year, 01 month, 02 day)." default:"2006-01-02" example:"02.01.2006"`
	// DecimalSep is the decimal separator of decimal fields in the file.
	DecimalSep string `yaml:"decimal_separator" doc:"decimal: separator of the fraction in the file; in JSON it is always a point." default:"." example:","`
	TrueValue  string `yaml:"true" doc:"boolean: text of true in the file." default:"true" example:"Д"`
	FalseValue string `yaml:"false" doc:"boolean: text of false in the file." default:"false" example:"Н"`
	Empty      string `yaml:"empty" doc:"What an empty field (after trimming) becomes: null; empty, the string \"\"; or omit, no key at all. Empty means null for every type but string, which keeps \"\"." enum:"null,empty,omit" example:"null"`
	Trim       *bool  `yaml:"trim" doc:"Remove the pad characters on the side opposite the alignment from the value; the writer pads it back. With trim, a field of spaces only is empty whatever its pad." default:"true"`
	Pad        string `yaml:"pad" doc:"Character that fills the field beyond its value." default:" " example:"0"`
	Personal   bool   `yaml:"personal" doc:"The field holds personal data (ЕГН, a name): the error about a bad value states its length instead of the value, since errors are logged; the value stays in the rejected record's payload." default:"false"`
	Align      string `yaml:"align" doc:"Side the value keeps to when written (and padding is removed from the other when read); empty means right for integer and decimal, left for the rest." enum:"left,right" example:"right"`
}

// Validate checks the options that depend on each other.
func (f *Field) Validate() error {
	var errs []error
	if f.Type == typeDate {
		// A layout must give the day back: one without year, month or day would read every date as another.
		day := time.Date(2024, 11, 28, 0, 0, 0, 0, time.UTC)
		if back, err := time.Parse(f.Layout, day.Format(f.Layout)); err != nil || !back.Equal(day) {
			errs = append(errs, spec.FieldErrorf("layout", "%q is not a date layout such as 02.01.2006", f.Layout))
		}
	}
	if f.Type == typeBoolean && (f.TrueValue == f.FalseValue) {
		errs = append(errs, spec.FieldErrorf("false", "must differ from true (%q)", f.TrueValue))
	}
	if f.DecimalSep != "." && f.DecimalSep != "," {
		errs = append(errs, spec.FieldErrorf("decimal_separator", "must be . or , got %q", f.DecimalSep))
	}
	if utf8.RuneCountInString(f.Pad) != 1 {
		errs = append(errs, spec.FieldErrorf("pad", "must be exactly one character, got %q", f.Pad))
	}
	return errors.Join(errs...)
}

// field is a Field ready to convert values.
type field struct {
	Field
	pad      rune
	right    bool // aligned right: padding on the left
	trim     bool
	empty    string
	key      []byte // the JSON-encoded name
	from, to int    // fixed_width: rune range in the record
}

func prepare(fs []Field) []field {
	out := make([]field, len(fs))
	for i, f := range fs {
		p := field{Field: f, trim: f.Trim == nil || *f.Trim, empty: f.Empty}
		p.pad, _ = utf8.DecodeRuneInString(f.Pad)
		if f.Pad == "" {
			p.pad = ' '
		}
		switch f.Align {
		case "right":
			p.right = true
		case "":
			p.right = f.Type == typeInteger || f.Type == typeDecimal
		}
		if p.empty == "" {
			p.empty = emptyNull
			if f.Type == typeString || f.Type == "" {
				p.empty = emptyEmpty
			}
		}
		p.key, _ = json.Marshal(f.Name)
		p.from, p.to = f.Start-1, f.Start-1+f.Length
		out[i] = p
	}
	return out
}

// errOmit is returned by parse for an empty value whose policy is omit.
var errOmit = errors.New("omit")

// parse converts the text of a field (already trimmed) into its JSON value.
func (f *field) parse(s string) (any, error) {
	if s == "" {
		switch f.empty {
		case emptyOmit:
			return nil, errOmit
		case emptyEmpty:
			return "", nil
		}
		return nil, nil
	}
	switch f.Type {
	case typeInteger:
		n, ok := normInteger(s)
		if !ok {
			return nil, errors.New("not an integer")
		}
		return json.Number(n), nil
	case typeDecimal:
		n, ok := normDecimal(s, f.DecimalSep)
		if !ok {
			return nil, fmt.Errorf("not a decimal number (separator %q)", f.sep())
		}
		return json.Number(n), nil
	case typeDate:
		t, err := time.Parse(f.Layout, s)
		if err != nil {
			return nil, fmt.Errorf("not a date in the layout %s", f.Layout)
		}
		return t.Format(dateOut), nil
	case typeBoolean:
		switch s {
		case f.TrueValue:
			return true, nil
		case f.FalseValue:
			return false, nil
		}
		return nil, fmt.Errorf("neither %q nor %q", f.TrueValue, f.FalseValue)
	}
	return s, nil
}

func (f *field) sep() string {
	if f.DecimalSep == "" {
		return "."
	}
	return f.DecimalSep
}

// format converts a JSON value into the text of the field in the file; absent and null are "".
func (f *field) format(v any, present bool) (string, error) {
	if !present || v == nil {
		return "", nil
	}
	if s, ok := v.(string); ok && s == "" {
		return "", nil
	}
	switch f.Type {
	case typeInteger:
		s, ok := numberText(v)
		if n, good := normInteger(s); ok && good {
			return n, nil
		}
		return "", errors.New("not an integer")
	case typeDecimal:
		s, ok := numberText(v)
		n, good := normDecimal(s, ".")
		if !ok || !good {
			return "", errors.New("not a decimal number")
		}
		return strings.Replace(n, ".", f.sep(), 1), nil
	case typeDate:
		s, ok := v.(string)
		t, err := time.Parse(dateOut, s)
		if !ok || err != nil {
			return "", errors.New("not a date YYYY-MM-DD")
		}
		return t.Format(f.Layout), nil
	case typeBoolean:
		b, ok := v.(bool)
		if !ok {
			return "", errors.New("not a boolean")
		}
		if b {
			return f.TrueValue, nil
		}
		return f.FalseValue, nil
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case json.Number:
		return v.String(), nil
	case bool:
		return strconv.FormatBool(v), nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	}
	return "", fmt.Errorf("a JSON %T cannot be a string field", v)
}

// numberText returns the text of a JSON number or of a string holding one.
func numberText(v any) (string, bool) {
	switch v := v.(type) {
	case json.Number:
		return v.String(), true
	case string:
		return v, true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case int:
		return strconv.Itoa(v), true
	case int64:
		return strconv.FormatInt(v, 10), true
	}
	return "", false
}

// maxDigits bounds the digits of a number, so that a value is a JSON number any reader can hold
// exactly as text; integers must also fit in 64 bits.
const maxDigits = 38

// normInteger returns s as a JSON integer (sign, digits without leading zeros), or false.
func normInteger(s string) (string, bool) {
	sign, digits := splitSign(s)
	if digits == "" || !allDigits(digits) {
		return "", false
	}
	digits = strings.TrimLeft(digits, "0")
	if digits == "" {
		return "0", true
	}
	if _, err := strconv.ParseInt(sign+digits, 10, 64); err != nil {
		return "", false
	}
	return sign + digits, true
}

// normDecimal returns s, whose fraction is separated by sep, as an exact JSON number: the
// integer part without leading zeros, the fraction kept as written.
func normDecimal(s, sep string) (string, bool) {
	if sep == "" {
		sep = "."
	}
	sign, rest := splitSign(s)
	whole, frac, hasFrac := strings.Cut(rest, sep)
	if whole == "" || !allDigits(whole) || (hasFrac && (frac == "" || !allDigits(frac))) || len(whole)+len(frac) > maxDigits*2 {
		return "", false
	}
	whole = strings.TrimLeft(whole, "0")
	if whole == "" {
		whole = "0"
	}
	if len(whole) > maxDigits {
		return "", false
	}
	if hasFrac {
		return sign + whole + "." + frac, true
	}
	return sign + whole, true
}

func splitSign(s string) (string, string) {
	switch {
	case strings.HasPrefix(s, "-"):
		return "-", s[1:]
	case strings.HasPrefix(s, "+"):
		return "", s[1:]
	}
	return "", s
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
