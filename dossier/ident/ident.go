// Package ident checks the Bulgarian identifiers of applicants: the personal
// number of a citizen (ЕГН), the personal number of a foreigner (ЛНЧ) and the
// identifier of a company or an administration (ЕИК, БУЛСТАТ), each by its
// length, digits, check digit and, for the ЕГН, the date of birth it encodes.
//
// Errors are *Error values that say which check failed; they never hold a
// personal number in clear (internal/mask hides all but its last four digits).
package ident

import (
	"fmt"
	"time"

	"github.com/aiskao/aiskao/dossier/calendar"
	"github.com/aiskao/aiskao/internal/mask"
)

// Kind names a kind of identifier.
type Kind string

const (
	// EGN is the unified civil number (единен граждански номер) of a Bulgarian citizen.
	EGN Kind = "egn"
	// LNC is the personal number of a foreigner (личен номер на чужденец, ЛНЧ).
	LNC Kind = "lnch"
	// EIK is the unified identification code (ЕИК) of a company, or the БУЛСТАТ code of an
	// administration or another entity: 9 digits, or 13 for a branch or unit.
	EIK Kind = "eik"
)

// label is the name people know the kind by, for messages.
func (k Kind) label() string {
	switch k {
	case EGN:
		return "ЕГН"
	case LNC:
		return "ЛНЧ"
	case EIK:
		return "ЕИК"
	}
	return string(k)
}

// Reason names the check an identifier failed; it is stable, for codes in API answers.
type Reason string

const (
	// BadLength: the identifier does not have the digits its kind has.
	BadLength Reason = "length"
	// NotDigits: the identifier has a character other than 0-9.
	NotDigits Reason = "digits"
	// BadChecksum: the last digit is not the check digit of the others.
	BadChecksum Reason = "checksum"
	// BadDate: the ЕГН encodes a date of birth that does not exist.
	BadDate Reason = "date"
)

// Error says why an identifier is not valid.
type Error struct {
	Kind   Kind
	Reason Reason
	Value  string // the identifier as given, personal numbers masked
	Detail string // what exactly is wrong, in English
}

// Error says which identifier (masked) failed and why.
func (e *Error) Error() string {
	return fmt.Sprintf("ident: %s %q: %s", e.Kind.label(), e.Value, e.Detail)
}

func fail(k Kind, s string, r Reason, format string, args ...any) *Error {
	v := s
	if k != EIK {
		v = hide(s)
	}
	return &Error{Kind: k, Reason: r, Value: v, Detail: fmt.Sprintf(format, args...)}
}

// hide masks a personal number as the journal does (internal/mask); what is
// not quite one (a digit short, a letter inside) keeps only its last four
// characters too.
func hide(s string) string {
	if m := mask.PersonalNumbers(s); m != s {
		return m
	}
	r := []rune(s)
	for i := 0; i < len(r)-4; i++ {
		r[i] = '*'
	}
	return string(r)
}

// digits checks that s has one of the lengths and only ASCII digits, and returns them.
func digits(k Kind, s string, lengths ...int) ([]int, error) {
	ok := false
	for _, n := range lengths {
		ok = ok || len(s) == n
	}
	if !ok {
		want := fmt.Sprint(lengths[0])
		if len(lengths) == 2 {
			want = fmt.Sprintf("%d or %d", lengths[0], lengths[1])
		}
		return nil, fail(k, s, BadLength, "has %d characters, want %s digits", len(s), want)
	}
	d := make([]int, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return nil, fail(k, s, NotDigits, "character %d is %q, want a digit", i+1, rune(c))
		}
		d[i] = int(c - '0')
	}
	return d, nil
}

func weighted(d []int, w []int) int {
	sum := 0
	for i, x := range w {
		sum += d[i] * x
	}
	return sum
}

var egnWeights = []int{2, 4, 8, 5, 10, 9, 7, 3, 6}

// ValidateEGN checks an ЕГН: ten digits, an existing date of birth (month
// plus 20 for the 1800s, plus 40 for the 2000s) and the check digit.
func ValidateEGN(s string) error {
	_, err := BirthDate(s)
	return err
}

// BirthDate is the date of birth an ЕГН encodes; the ЕГН is checked whole.
func BirthDate(egn string) (calendar.Date, error) {
	d, err := digits(EGN, egn, 10)
	if err != nil {
		return calendar.Date{}, err
	}
	year, month, day := 1900+d[0]*10+d[1], d[2]*10+d[3], d[4]*10+d[5]
	switch {
	case month > 40:
		year, month = year+100, month-40
	case month > 20:
		year, month = year-100, month-20
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(year, time.Month(month)) {
		return calendar.Date{}, fail(EGN, egn, BadDate, "digits 1-6 give no existing date of birth")
	}
	if want := weighted(d, egnWeights) % 11 % 10; d[9] != want {
		return calendar.Date{}, fail(EGN, egn, BadChecksum, "check digit is %d, want %d", d[9], want)
	}
	return calendar.Date{Year: year, Month: time.Month(month), Day: day}, nil
}

func daysIn(year int, m time.Month) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

var lncWeights = []int{21, 19, 17, 13, 11, 9, 7, 3, 1}

// ValidateLNC checks an ЛНЧ: ten digits and the check digit.
func ValidateLNC(s string) error {
	d, err := digits(LNC, s, 10)
	if err != nil {
		return err
	}
	if want := weighted(d, lncWeights) % 10; d[9] != want {
		return fail(LNC, s, BadChecksum, "check digit is %d, want %d", d[9], want)
	}
	return nil
}

// ValidateEIK checks an ЕИК or БУЛСТАТ code of 9 digits, or of 13 digits
// (the first nine a valid code, the last four its unit), by the two-pass
// modulo 11 check of each part.
func ValidateEIK(s string) error {
	d, err := digits(EIK, s, 9, 13)
	if err != nil {
		return err
	}
	if want := mod11(d, 0, []int{1, 2, 3, 4, 5, 6, 7, 8}, []int{3, 4, 5, 6, 7, 8, 9, 10}); d[8] != want {
		return fail(EIK, s, BadChecksum, "digit 9 is %d, want %d", d[8], want)
	}
	if len(d) == 13 {
		if want := mod11(d, 8, []int{2, 7, 3, 5}, []int{4, 9, 5, 7}); d[12] != want {
			return fail(EIK, s, BadChecksum, "digit 13 is %d, want %d", d[12], want)
		}
	}
	return nil
}

// mod11 is the check digit of the digits from off weighted by first; when that
// leaves 10, by second; when that leaves 10 too, 0.
func mod11(d []int, off int, first, second []int) int {
	if r := weighted(d[off:], first) % 11; r != 10 {
		return r
	}
	if r := weighted(d[off:], second) % 11; r != 10 {
		return r
	}
	return 0
}

// Validate checks s as an identifier of kind k.
func Validate(k Kind, s string) error {
	switch k {
	case EGN:
		return ValidateEGN(s)
	case LNC:
		return ValidateLNC(s)
	case EIK:
		return ValidateEIK(s)
	}
	return fmt.Errorf("ident: unknown kind %q", k)
}
