package ident

import (
	"errors"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/dossier/calendar"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		kind   Kind
		in     string
		reason Reason // "" when valid
		detail string // a part of the message
	}{
		{EGN, "8506258485", "", ""},
		{EGN, "7523169263", "", ""}, // month +20: born in 1875
		{EGN, "0241010000", "", ""}, // month +40: born in 2002
		{EGN, "0402294568", "", ""}, // 29 February of a leap year
		{EGN, "7501020018", "", ""}, // remainder 10 gives check digit 0
		{EGN, "8506258484", BadChecksum, "check digit is 4, want 5"},
		{EGN, "0002291230", BadDate, "no existing date"}, // 1900 was not a leap year
		{EGN, "8513258485", BadDate, "no existing date"}, // month 13
		{EGN, "8506008485", BadDate, "no existing date"}, // day 0
		{EGN, "8506318485", BadDate, "no existing date"}, // 31 June
		{EGN, "850625848", BadLength, "has 9 characters, want 10 digits"},
		{EGN, "85062584850", BadLength, "want 10 digits"},
		{EGN, "", BadLength, "has 0 characters"},
		{EGN, "85062584a5", NotDigits, `character 9 is 'a'`},
		{EGN, "850625848٥", BadLength, ""}, // a non-ASCII digit is more than one byte
		{LNC, "1000000001", "", ""},
		{LNC, "1234567893", "", ""},
		{LNC, "9876543217", "", ""},
		{LNC, "1234567890", BadChecksum, "check digit is 0, want 3"},
		{LNC, "12345 7893", NotDigits, "character 6"},
		{EIK, "000695089", "", ""},
		{EIK, "831641791", "", ""},
		{EIK, "175074752", "", ""},
		{EIK, "100000086", "", ""},     // first pass leaves 10: second pass
		{EIK, "100000550", "", ""},     // both passes leave 10: 0
		{EIK, "0006950890011", "", ""}, // a unit of 000695089
		{EIK, "0006950890055", "", ""}, // unit part: second pass
		{EIK, "0006950890940", "", ""}, // unit part: both leave 10
		{EIK, "000695088", BadChecksum, "digit 9 is 8, want 9"},
		{EIK, "100000080", BadChecksum, "digit 9 is 0, want 6"},
		{EIK, "0006950890017", BadChecksum, "digit 13 is 7, want 1"},
		{EIK, "0006950880011", BadChecksum, "digit 9 is 8"},
		{EIK, "0006950890", BadLength, "want 9 or 13 digits"},
		{EIK, "00069508X", NotDigits, "character 9"},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind)+"/"+tt.in, func(t *testing.T) {
			err := Validate(tt.kind, tt.in)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("Validate(%s, %q) = %v, want valid", tt.kind, tt.in, err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Validate(%s, %q) = %v, want an *Error", tt.kind, tt.in, err)
			}
			if e.Reason != tt.reason || e.Kind != tt.kind {
				t.Errorf("kind, reason = %s, %s, want %s, %s (%v)", e.Kind, e.Reason, tt.kind, tt.reason, err)
			}
			if !strings.Contains(err.Error(), tt.detail) {
				t.Errorf("error %q does not say %q", err, tt.detail)
			}
		})
	}
}

func TestErrorMasksPersonalNumbers(t *testing.T) {
	err := ValidateEGN("8506258484")
	if err == nil || strings.Contains(err.Error(), "850625") {
		t.Fatalf("error %v shows the ЕГН", err)
	}
	if !strings.Contains(err.Error(), "******8484") {
		t.Errorf("error %v does not keep the last four digits", err)
	}
}

func TestBirthDate(t *testing.T) {
	tests := map[string]calendar.Date{
		"8506258485": {Year: 1985, Month: 6, Day: 25},
		"7523169263": {Year: 1875, Month: 3, Day: 16},
		"0241010000": {Year: 2002, Month: 1, Day: 1},
	}
	for egn, want := range tests {
		got, err := BirthDate(egn)
		if err != nil || got != want {
			t.Errorf("BirthDate(%s) = %v, %v, want %v", egn, got, err, want)
		}
	}
}

func TestUnknownKind(t *testing.T) {
	if err := Validate("passport", "123"); err == nil {
		t.Fatal("an unknown kind was accepted")
	}
}

// FuzzValidate checks that no input panics, that a valid ЕГН has a date of
// birth, and that changing the check digit of a valid number breaks it.
func FuzzValidate(f *testing.F) {
	for _, s := range []string{"8506258485", "7523169263", "1234567893", "000695089", "0006950890011", "", "abc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, k := range []Kind{EGN, LNC, EIK} {
			err := Validate(k, s)
			if err != nil {
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("Validate(%s, %q) = %v, not an *Error", k, s, err)
				}
				if k != EIK && len(s) == 10 && strings.ContainsAny(s[:6], "0123456789") && strings.Contains(err.Error(), s) {
					t.Fatalf("error %v shows the number in clear", err)
				}
				continue
			}
			last := s[len(s)-1]
			other := s[:len(s)-1] + string('0'+(last-'0'+1)%10)
			if Validate(k, other) == nil {
				t.Fatalf("%s %q and %q both valid", k, s, other)
			}
			if k == EGN {
				if d, err := BirthDate(s); err != nil || d.IsZero() {
					t.Fatalf("BirthDate(%q) = %v, %v", s, d, err)
				}
			}
		}
	})
}
