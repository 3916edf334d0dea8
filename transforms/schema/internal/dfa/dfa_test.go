package dfa

import (
	"encoding/base64"
	"errors"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// patterns are the schemas' own (configs/schemas, testdata), the shapes integrators and the national
// schemas write (base64, identifiers, GUIDs, dates), and cases where a matcher could go wrong:
// anchors inside the pattern, empty matches, case folding beyond ASCII, U+FFFD, counted repeats.
var patterns = []string{
	// The project's schemas.
	`^[A-Za-z0-9+/\s]*(=\s*){0,2}$`,
	`^[0-9]{9}([0-9]{4})?$`,
	`^\{[a-fA-F0-9]{8}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{12}\}$`,
	`^-?[0-9]{4,}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})?$`,
	`^-?[0-9]{4,}-[0-9]{2}-[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})?$`,
	`\S`,
	`^MSG_[A-Za-z]+$`,
	`^\{[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}\}$`,
	`^[0-9]{9,13}$`,
	`^\{[0-9a-fA-F-]{36}\}$`,
	`^@`, `^a`, `b$`,
	// Common shapes.
	`^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$`,
	`^[0-9]{10}$`,
	`^([0-9]{9}|[0-9]{13})$`,
	`^BG[0-9]{9,10}$`,
	`^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$`,
	`^\d{4}-\d{2}-\d{2}$`,
	`^[А-Яа-яЁё\s-]+$`,
	`^\p{Cyrillic}+$`,
	`\pL`,
	`^[^<>]*$`,
	`[a-z]+@[a-z]+\.[a-z]{2,}`,
	// Anchors and empty matches.
	`^`, `$`, `^$`, `$^`, `^$^$`, `\A`, `\z`, `\Aa\z`, `a|^b`, `a$|b`, `a^b`, `a$b`, `(^|x)y`, `y($|x)`,
	`x*`, `^x*$`, `(?:)`, `()`, `^()$`, `[^\x00-\x{10FFFF}]`, `a[^\x00-\x{10FFFF}]|b`,
	// Dots, classes, U+FFFD.
	`.`, `^.$`, `^..$`, `(?s)^.$`, `^.*$`, `^[^a]$`, `\x{FFFD}`, `^\x{FFFD}+$`, `^[\x{FFFD}-\x{FFFF}]$`,
	`^[\x80-\x{10FFFF}]+$`, `é`, `^é+$`, `[^\n]`, `\n`, `^\s*$`,
	// Case folding.
	`(?i)k`, `(?i)\x{212A}`, `(?i)^s$`, `(?i)ſ`, `(?i)straße`, `(?i)^[a-z]+$`, `(?i)^ǅ$`, `(?i)σ`,
	// Repeats and alternation.
	`a{3,5}`, `^a{3,5}$`, `^a{2,}$`, `^a{0,2}$`, `^(ab){2}$`, `^(a|ab)(c|bcd)(d*)$`, `^(a+)+$`,
	`^(a|aa)*b$`, `(a|b)*abb`, `a+?b`, `(?U)a+b`, `^(?:a?){5}a{5}$`, `x{0}y`, `^[0-9]{1,3}(\.[0-9]{1,3}){3}$`,
}

// inputs are tried on every pattern, beside strings made from the pattern's own characters.
var inputs = []string{
	"", " ", "\n", "a", "b", "ab", "aaa", "aaaaa", "aaaaaa", "aab", "abb", "abcd", "xy", "y", "x",
	"@x", "x@", "k", "K", "\u212a", "s", "S", "ſ", "STRASSE", "straße", "STRAẞE", "ǅ", "ǆ", "Ǆ", "σ", "ς", "Σ",
	"\xff", "\xff\xff", "a\xff", "\xffa", "\xef\xbf\xbd", "\xe2\x82", "\xed\xa0\x80", "\xf4\x90\x80\x80",
	"é", "éé", "e\u0301", "Иван", "Иван Петров-Иванов", "\u0000", "\U0010ffff",
	"000696327", "0006963271234", "00069632712", "000696327123", "00069632", "0123456789", "012345678a",
	"BG000696327", "BG0006963271", "BG00069632712",
	"MSG_DocumentRegistrationRequest", "MSG_", "msg_x",
	"{6f0e8a9c-3b5d-4a1e-9c2f-7d8e9f0a1b2c}", "6f0e8a9c-3b5d-4a1e-9c2f-7d8e9f0a1b2c",
	"{6F0E8A9C-3B5D-4A1E-9C2F-7D8E9F0A1B2C}", "{6f0e8a9c-3b5d-4a1e-9c2f-7d8e9f0a1b2}",
	"{6f0e8a9c-3b5d-4a1e-9c2f-7d8e9f0a1b2c", "{6f0e8a9c-3b5d-4a1e-9c2f-7d8e9f0a1b2c}\n",
	"2024-03-19", "2024-03-19Z", "2024-03-19+02:00", "-12024-03-19", "2024-3-19", "2024-03-19T10:11:12",
	"2024-03-19T10:11:12.345+02:00", "2024-03-19T10:11:12.Z", "2024-03-19T10:11:12Z\n",
	"QUJD", "QUI=", "QQ==", "QQ=", "Q===", "QUJDRA==", "QUJD\nRA==", "QUJD RA== ", "QUJD=RA==", "QUJD-",
	"a@b.bg", "a@b.c", "192.168.0.1", "1920.168.0.1", "<a>", "ab\nc",
}

// strings of a pattern: every string of up to three characters over the pattern's own characters
// and a few others, then random longer ones.
func stringsFor(pattern string, rng *rand.Rand) []string {
	alphabet := []string{"", "a", "\xff", "\n", "é"}
	seen := map[rune]bool{}
	for _, r := range pattern {
		if !seen[r] && len(alphabet) < 14 {
			seen[r] = true
			alphabet = append(alphabet, string(r))
		}
	}
	var out []string
	var grow func(prefix string, n int)
	grow = func(prefix string, n int) {
		out = append(out, prefix)
		if n == 0 {
			return
		}
		for _, a := range alphabet[1:] {
			grow(prefix+a, n-1)
		}
	}
	grow("", 3)
	for range 200 {
		var sb strings.Builder
		for range rng.IntN(40) {
			sb.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		out = append(out, sb.String())
	}
	return out
}

func TestMatchAgreesWithRegexp(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	long := []string{
		base64.StdEncoding.EncodeToString(make([]byte, 300<<10)),
		base64.StdEncoding.EncodeToString(make([]byte, 300<<10)) + "\xff",
		strings.Repeat("a", 100_000) + "b",
		strings.Repeat("a", 100_000),
		strings.Repeat("é\xff", 50_000),
		strings.Repeat("0", 70_000) + "-01-02",
	}
	for _, p := range patterns {
		re := regexp.MustCompile(p)
		d, err := Compile(p)
		if err != nil {
			t.Errorf("%q: %v", p, err)
			continue
		}
		for _, set := range [][]string{inputs, long, stringsFor(p, rng)} {
			for _, s := range set {
				if got, want := d.MatchString(s), re.MatchString(s); got != want {
					t.Errorf("%q on %q: %v, the regexp says %v", p, abbrev(s), got, want)
				}
			}
		}
	}
}

func abbrev(s string) string {
	if len(s) > 40 {
		return s[:20] + "…" + s[len(s)-20:]
	}
	return s
}

func TestCompileRefuses(t *testing.T) {
	for _, p := range []string{
		`(?m)^a`, `(?m)a$`, `\bword\b`, `a\B`, // assertions this package does not decide
		`(a|b)*a(a|b){12}`,                    // 2^13 states
		`a{1000}b{1000}c{1000}d{1000}e{1000}`, // too many instructions
	} {
		_, err := Compile(p)
		if !errors.Is(err, ErrUnsupported) {
			t.Errorf("%q: %v, want ErrUnsupported", p, err)
		}
	}
	if _, err := Compile(`a(`); err == nil || errors.Is(err, ErrUnsupported) {
		t.Errorf("an invalid pattern: %v, want the parser's error", err)
	}
}

func TestMatchStates(t *testing.T) {
	for _, c := range []struct {
		pattern string
		states  int // the two sinks included
	}{
		{`^[A-Za-z0-9+/\s]*(=\s*){0,2}$`, 5},
		{`^[0-9]{10}$`, 13},
		{`\S`, 3},
	} {
		d, err := Compile(c.pattern)
		if err != nil {
			t.Fatal(err)
		}
		if d.States() != c.states {
			t.Errorf("%q: %d states, want %d", c.pattern, d.States(), c.states)
		}
	}
}

// The base64 patterns over an attachment of 300 KB: the schema's own and the strict one.
func BenchmarkMatch(b *testing.B) {
	raw := make([]byte, 225<<10)
	for i := range raw {
		raw[i] = byte(i*131 + i>>8)
	}
	text := base64.StdEncoding.EncodeToString(raw)
	for _, c := range []struct{ name, pattern string }{
		{"schema", `^[A-Za-z0-9+/\s]*(=\s*){0,2}$`},
		{"strict", `^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$`},
	} {
		re := regexp.MustCompile(c.pattern)
		d, err := Compile(c.pattern)
		if err != nil {
			b.Fatal(err)
		}
		for _, m := range []struct {
			name  string
			match func(string) bool
		}{{"dfa", d.MatchString}, {"regexp", re.MatchString}} {
			b.Run(c.name+"/"+m.name, func(b *testing.B) {
				b.SetBytes(int64(len(text)))
				for b.Loop() {
					if !m.match(text) {
						b.Fatal("no match")
					}
				}
			})
		}
	}
}

// TestMatchAgreesOnGeneratedPatterns compares with the regexp on patterns made at random from
// the pieces the table's patterns use, nested, and strings over the characters they name.
func TestMatchAgreesOnGeneratedPatterns(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	n := 1500
	if testing.Short() {
		n = 150
	}
	atoms := []string{"a", "b", "é", "Ж", "k", `\x{212A}`, "ſ", "s", `\x{FFFD}`, `\n`, "-", ".", `(?s:.)`,
		"[a-c]", "[^a]", "[é-ж]", `\d`, `\s`, `\S`, `\pL`, `[^\n]`, "^", "$", `\A`, `\z`, "(?:)"}
	repeats := []string{"", "", "", "*", "+", "?", "{2}", "{0,2}", "{1,3}", "{2,}", "*?", "+?", "??"}
	alphabet := []string{"a", "b", "c", "é", "ж", "Ж", "k", "K", "\u212a", "s", "S", "ſ", "\n", "\xff",
		"\xef\xbf\xbd", "0", "-", " "}
	var gen func(depth int) string
	gen = func(depth int) string {
		var sb strings.Builder
		for range 1 + rng.IntN(4) {
			switch k := rng.IntN(10); {
			case k < 7 || depth > 2:
				sb.WriteString(atoms[rng.IntN(len(atoms))])
			case k == 7:
				sb.WriteString("(" + gen(depth+1) + "|" + gen(depth+1) + ")")
			case k == 8:
				sb.WriteString("(?i:" + gen(depth+1) + ")")
			default:
				sb.WriteString("(?:" + gen(depth+1) + ")")
			}
			sb.WriteString(repeats[rng.IntN(len(repeats))])
		}
		return sb.String()
	}
	compiled := 0
	for range n {
		p := gen(0)
		re, err := regexp.Compile(p)
		if err != nil {
			continue // x** and the like
		}
		d, err := Compile(p)
		if errors.Is(err, ErrUnsupported) {
			continue // an automaton past the limits
		}
		if err != nil {
			t.Fatalf("%q: %v", p, err)
		}
		compiled++
		for i := range 30 {
			var sb strings.Builder
			for range rng.IntN(12) {
				sb.WriteString(alphabet[rng.IntN(len(alphabet))])
			}
			s := sb.String()
			if i == 0 { // long enough for the regexp's NFA rather than its backtracker
				s = strings.Repeat(s, 300)
			}
			if got, want := d.MatchString(s), re.MatchString(s); got != want {
				t.Fatalf("%q on %q: %v, the regexp says %v", p, abbrev(s), got, want)
			}
		}
	}
	t.Logf("%d of %d generated patterns compiled", compiled, n)
	if compiled < n/2 {
		t.Errorf("only %d of %d generated patterns compiled", compiled, n)
	}
}
