package mask

import (
	"strings"
	"testing"
)

func TestPersonalNumbers(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"8506258485", "******8485"},
		{"ЕГН 8506258485, ЛНЧ 1000000001.", "ЕГН ******8485, ЛНЧ ******0001."},
		{`{"egn":"8506258485"}`, `{"egn":"******8485"}`},
		{"<EGN>8506258485</EGN><EGN>7501020018</EGN>", "<EGN>******8485</EGN><EGN>******0018</EGN>"},
		{"8506258485 7501020018", "******8485 ******0018"},
		{"ЕИК 831641791 and 0881234567890", "ЕИК 831641791 and 0881234567890"}, // 9 and 13 digits
		{"85062584851", "85062584851"},                                         // 11 digits
		{"", ""},
	} {
		if got := PersonalNumbers(c.in); got != c.want {
			t.Errorf("PersonalNumbers(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// Map masks values, not keys; Bytes masks text in any ASCII-compatible encoding.
func TestMapAndBytes(t *testing.T) {
	m := Map(map[string]string{"egn": "8506258485", "n": "1"})
	if m["egn"] != "******8485" || m["n"] != "1" {
		t.Errorf("Map = %v", m)
	}
	if Map(nil) != nil {
		t.Error("Map(nil) is not nil")
	}
	// Windows-1251 bytes around the number are masked alike.
	b := Bytes([]byte("\xc5\xc3\xcd 8506258485"))
	if !strings.HasSuffix(string(b), " ******8485") {
		t.Errorf("Bytes = %q", b)
	}
}

func FuzzBytes(f *testing.F) {
	f.Add([]byte("8506258485"))
	f.Add([]byte("a1234567890b12345678901"))
	f.Fuzz(func(t *testing.T, in []byte) {
		out := Bytes(append([]byte(nil), in...))
		if len(out) != len(in) {
			t.Fatalf("length changed: %d to %d", len(in), len(out))
		}
		if PersonalNumbers(string(out)) != string(out) {
			t.Fatalf("a ten-digit run survived in %q", out)
		}
	})
}
