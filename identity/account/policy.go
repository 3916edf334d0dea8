package account

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MinPasswordLen is the least number of characters of a password: length is what makes a
// password hard to guess, so there is no rule on character classes (NIST SP 800-63B).
const MinPasswordLen = 12

// maxPasswordLen bounds what is hashed.
const maxPasswordLen = 256

// ErrWeakPassword: the password does not meet the policy. The wrapping error says why.
var ErrWeakPassword = errors.New("password refused")

// denied are passwords long enough for the policy that are among the first tried by anyone
// guessing, in Bulgarian and in English, compared without case.
var denied = []string{
	"123456789012", "1234567890123", "12345678901234", "password1234", "password12345", "passwordpassword",
	"qwertyuiopas", "qwerty123456", "1q2w3e4r5t6y", "administrator", "administrator1", "letmeinletmein",
	"aiskaoaiskao", "parolaparola", "паролапарола", "парола123456", "йцукенгшщзхъ", "obshtina1234",
	"sofia1234567", "bulgaria1234", "българия1234", "welcome12345", "changeme1234", "iloveyou1234",
}

// CheckPassword reports whether password may be the password of the account name: at least
// MinPasswordLen characters, not containing the name, not one character repeated, not on the
// deny list.
func CheckPassword(name, password string) error {
	n := utf8.RuneCountInString(password)
	lower := strings.ToLower(password)
	switch {
	case n < MinPasswordLen:
		return weak("it has %d characters; it needs at least %d", n, MinPasswordLen)
	case len(password) > maxPasswordLen:
		return weak("it is longer than %d bytes", maxPasswordLen)
	case !utf8.ValidString(password):
		return weak("it is not valid UTF-8")
	case name != "" && strings.Contains(lower, strings.ToLower(name)):
		return weak("it contains the user name")
	case strings.Count(lower, lower[:1]) == len(lower):
		return weak("it is one character repeated")
	}
	for _, d := range denied {
		if lower == d {
			return weak("it is among the most guessed passwords")
		}
	}
	return nil
}

func weak(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrWeakPassword}, args...)...)
}
