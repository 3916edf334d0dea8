package account

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// cheap are costs for tests: the format and the checks are what is tested, not the cost.
var cheap = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashAndVerify(t *testing.T) {
	h, err := HashPassword("вярна-парола-2026", cheap)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("hash %q is not the PHC string of the parameters", h)
	}
	if h2, _ := HashPassword("вярна-парола-2026", cheap); h2 == h {
		t.Error("two hashes of one password are equal: no salt")
	}
	stronger := cheap
	stronger.Time = 2
	cases := []struct {
		name, password, hash string
		want                 Params
		ok, rehash, err      bool
	}{
		{"right", "вярна-парола-2026", h, cheap, true, false, false},
		{"wrong", "грешна-парола-2026", h, cheap, false, false, false},
		{"parameters raised", "вярна-парола-2026", h, stronger, true, true, false},
		{"argon2i", "x", strings.Replace(h, "argon2id", "argon2i", 1), cheap, false, false, true},
		{"other version", "x", strings.Replace(h, "v=19", "v=16", 1), cheap, false, false, true},
		{"huge memory", "x", strings.Replace(h, "m=64", "m=99999999", 1), cheap, false, false, true},
		{"bad salt", "x", strings.Replace(h, "$", "$!", 4), cheap, false, false, true},
		{"empty", "x", "", cheap, false, false, true},
	}
	for _, c := range cases {
		ok, rehash, err := VerifyPassword(c.password, c.hash, c.want)
		if ok != c.ok || rehash != c.rehash || (err != nil) != c.err {
			t.Errorf("%s: VerifyPassword = %v, %v, %v; want %v, %v, error %v", c.name, ok, rehash, err, c.ok, c.rehash, c.err)
		}
	}
}

func TestPasswordPolicy(t *testing.T) {
	cases := []struct {
		password string
		why      string // "" when accepted
	}{
		{"кон-маса-лампа-7", ""},
		{"correct horse battery", ""},
		{"short1", "at least 12"},
		{"ivanova-2026-parola", "user name"},
		{"IVANOVA-2026-parola", "user name"},
		{"aaaaaaaaaaaaaa", "repeated"},
		{"Password1234", "most guessed"},
		{"паролапарола", "most guessed"},
		{"x\xffxxxxxxxxxxxx", "UTF-8"},
	}
	for _, c := range cases {
		err := CheckPassword("ivanova", c.password)
		if c.why == "" && err != nil || c.why != "" && (err == nil || !strings.Contains(err.Error(), c.why) || !errors.Is(err, ErrWeakPassword)) {
			t.Errorf("CheckPassword(%q) = %v, want %q", c.password, err, c.why)
		}
	}
}

func TestTOTPMatch(t *testing.T) {
	secret, uri, err := NewTOTP("АИСКАО", "ivanova")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(uri, "otpauth://totp/") || !strings.Contains(uri, "secret="+secret) || !strings.Contains(uri, "ivanova") {
		t.Errorf("otpauth URI %q", uri)
	}
	now := time.Date(2026, 12, 5, 10, 0, 15, 0, time.UTC)
	for _, c := range []struct {
		at time.Time
		ok bool
	}{{now, true}, {now.Add(-30 * time.Second), true}, {now.Add(30 * time.Second), true}, {now.Add(-90 * time.Second), false}, {now.Add(90 * time.Second), false}} {
		code, err := TOTPCode(secret, c.at)
		if err != nil {
			t.Fatal(err)
		}
		step, ok := matchTOTP(secret, code, now)
		if ok != c.ok || ok && step != c.at.Unix()/30 {
			t.Errorf("code of %v at %v: step %d, %v; want %v", c.at, now, step, ok, c.ok)
		}
	}
	if _, ok := matchTOTP(secret, "12345", now); ok {
		t.Error("a 5-digit code matched")
	}
}

// BenchmarkVerifyDefault measures a sign-in's password check at the default costs.
func BenchmarkVerifyDefault(b *testing.B) {
	h, err := HashPassword("кон-маса-лампа-7", DefaultParams)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, _, _ := VerifyPassword("кон-маса-лампа-7", h, DefaultParams); !ok {
			b.Fatal("no match")
		}
	}
}

// The hash an unknown account is verified against has the configured costs, so that its
// verification takes as long as a real one's, and no password matches it.
func TestUnmatchableHashHasTheCosts(t *testing.T) {
	p := Params{Memory: 64, Time: 3, Threads: 1, SaltLen: 16, KeyLen: 32}
	h, err := unmatchableHash(p)
	if err != nil {
		t.Fatal(err)
	}
	got, _, _, err := decodePHC(h)
	if err != nil || got != p {
		t.Fatalf("decoded %+v, %v; want %+v", got, err, p)
	}
	ok, rehash, err := VerifyPassword("", h, p)
	if ok || rehash || err != nil {
		t.Errorf("VerifyPassword = %v, %v, %v; want false, false, nil", ok, rehash, err)
	}
	if h2, _ := unmatchableHash(p); h2 == h {
		t.Error("two hashes alike: want random salt and key")
	}
}
