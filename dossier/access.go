package dossier

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
)

// accessAlphabet has no 0, 1, I or O, which people mistake for each other;
// its 32 letters make each random byte's low five bits one letter, without bias.
const accessAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// AccessCodeLength is the number of letters in an access code (50 bits).
const AccessCodeLength = 10

// NewAccessCode makes an access code from r (crypto/rand.Reader in
// production), with which the applicant follows the dossier online together
// with its number. It is given to the applicant once; the dossier keeps only
// its hash.
func NewAccessCode(r io.Reader) (string, error) {
	b := make([]byte, AccessCodeLength)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("dossier: access code: %w", err)
	}
	for i := range b {
		b[i] = accessAlphabet[b[i]&31]
	}
	return string(b), nil
}

// normalizeAccessCode forgives what people type: lowercase letters, spaces
// and hyphens.
func normalizeAccessCode(code string) string {
	code = strings.ToUpper(code)
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, code)
}

// HashAccessCode is the hash of an access code that the dossier keeps.
func HashAccessCode(code string) string {
	h := sha256.Sum256([]byte(normalizeAccessCode(code)))
	return hex.EncodeToString(h[:])
}

// CheckAccessCode reports whether code is the dossier's access code; it takes
// the same time whatever the code.
func (d *Dossier) CheckAccessCode(code string) bool {
	want, err := hex.DecodeString(d.AccessCodeHash)
	if err != nil || len(want) != sha256.Size {
		return false
	}
	got := sha256.Sum256([]byte(normalizeAccessCode(code)))
	return subtle.ConstantTimeCompare(got[:], want) == 1
}
