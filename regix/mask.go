package regix

import (
	"regexp"
	"strings"
)

// personalNumber matches a run of exactly ten digits: an ЕГН or an ЛНЧ.
var personalNumber = regexp.MustCompile(`(^|[^0-9])([0-9]{6})([0-9]{4})($|[^0-9])`)

// MaskPersonalNumbers hides, in logs and journals, the first six digits
// (the date of birth) of every ЕГН or ЛНЧ in s: "8506258485" becomes
// "******8485". Shorter and longer runs of digits (ЕИК, phone numbers) are
// left alone.
func MaskPersonalNumbers(s string) string {
	// A match consumes the character after the number, so two numbers
	// separated by one character need a second pass.
	for i := 0; i < 2; i++ {
		s = personalNumber.ReplaceAllString(s, "${1}******${3}${4}")
	}
	return s
}

// HidePersonalNumbers hides every ЕГН or ЛНЧ in s whole: "8506258485"
// becomes "**********".
func HidePersonalNumbers(s string) string {
	for i := 0; i < 2; i++ {
		s = personalNumber.ReplaceAllString(s, "${1}**********${4}")
	}
	return s
}

// Personal reports whether the parameter's values are personal data: all
// but a company's ЕИК, dates and lists of fields.
func (p Param) Personal() bool {
	switch {
	case p.Name == "UIC", p.Name == "FieldList", strings.HasPrefix(p.Type, "Date"):
		return false
	}
	return true
}
