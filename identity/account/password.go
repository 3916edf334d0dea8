package account

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's costs. A hash keeps the parameters it was made with (PHC string), so
// that they can be raised later: a password verified against a hash of other parameters is hashed
// again at that sign-in.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultParams are OWASP's recommendation for argon2id (19 MiB, 2 passes, 1 thread): about
// 30 ms on one core of a small server, which bounds guessing and keeps sign-in quick.
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// maxMemory bounds what a stored hash may ask for, so that a damaged row cannot exhaust memory.
const maxMemory = 1 << 20 // 1 GiB

// errMalformed: a stored hash that is not an argon2id PHC string of this package.
var errMalformed = errors.New("account: password hash is not an argon2id PHC string")

// HashPassword returns the argon2id hash of password with p, as a PHC string:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>, salt and hash in unpadded base64.
func HashPassword(password string, p Params) (string, error) {
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("account: salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return encodePHC(p, salt, key), nil
}

// encodePHC writes argon2id's parameters p, salt and key as a PHC string.
func encodePHC(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// unmatchableHash returns a PHC string of parameters p with a random salt and a random key, for
// a sign-in to an account that does not exist to verify against: verifying costs what verifying
// a real hash costs, and making it costs no hashing (argon2id's memory, 19 MiB at the default,
// was taken at every start for each service).
func unmatchableHash(p Params) (string, error) {
	b := make([]byte, p.SaltLen+p.KeyLen)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("account: random: %w", err)
	}
	return encodePHC(p, b[:p.SaltLen], b[p.SaltLen:]), nil
}

// VerifyPassword reports whether password matches the PHC string phc, comparing in constant
// time, and whether the hash should be made again because its parameters are not want.
func VerifyPassword(password, phc string, want Params) (ok, rehash bool, err error) {
	p, salt, key, err := decodePHC(phc)
	if err != nil {
		return false, false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	ok = subtle.ConstantTimeCompare(got, key) == 1
	rehash = p.Memory != want.Memory || p.Time != want.Time || p.Threads != want.Threads ||
		uint32(len(key)) != want.KeyLen || uint32(len(salt)) != want.SaltLen
	return ok, rehash, nil
}

// decodePHC reads the parameters, salt and key of an argon2id PHC string.
func decodePHC(phc string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return p, nil, nil, errMalformed
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return p, nil, nil, errMalformed
	}
	if p.Memory == 0 || p.Memory > maxMemory || p.Time == 0 || p.Time > 100 || p.Threads == 0 {
		return p, nil, nil, errMalformed
	}
	if salt, err = base64.RawStdEncoding.Strict().DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return p, nil, nil, errMalformed
	}
	if key, err = base64.RawStdEncoding.Strict().DecodeString(parts[5]); err != nil || len(key) < 16 || len(key) > 128 {
		return p, nil, nil, errMalformed
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}
