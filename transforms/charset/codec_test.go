package charset

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/transforms"
)

const bulgarian = "Иван Петров Георгиев, ул. „Шипка“ № 5, ЩЪРКЕЛ щъркел ЮЯ юя Ё"

func TestRoundTrip(t *testing.T) {
	for _, name := range []string{"windows-1251", "cp866", "koi8-r", "utf-8"} {
		c, ok := Lookup(name)
		if !ok {
			t.Fatalf("%s unknown", name)
		}
		text := bulgarian
		if name != "windows-1251" && name != "utf-8" {
			text = strings.NewReplacer("„", "\"", "“", "\"", "№", "N").Replace(text) // not in these sets
		}
		enc, err := c.Encode(nil, []byte(text))
		if err != nil {
			t.Fatalf("%s: encode: %v", name, err)
		}
		if name != "utf-8" && len(enc) != utf8.RuneCountInString(text) {
			t.Errorf("%s: %d bytes for %d letters", name, len(enc), utf8.RuneCountInString(text))
		}
		dec, err := c.Decode(nil, enc)
		if err != nil || string(dec) != text {
			t.Errorf("%s: decode = %q, %v", name, dec, err)
		}
	}
}

// Known bytes of each set, so that a wrong table cannot pass the round trip alone.
func TestKnownBytes(t *testing.T) {
	tests := []struct {
		set  string
		b    byte
		want rune
	}{
		{"windows-1251", 0xC0, 'А'}, {"windows-1251", 0xFF, 'я'}, {"windows-1251", 0xB9, '№'}, {"windows-1251", 0x84, '„'},
		{"cp866", 0x80, 'А'}, {"cp866", 0xEF, 'я'}, {"cp866", 0xF0, 'Ё'},
		{"koi8-r", 0xE1, 'А'}, {"koi8-r", 0xD1, 'я'}, {"koi8-r", 0xB3, 'Ё'},
	}
	for _, tt := range tests {
		c, _ := Lookup(tt.set)
		got, err := c.Decode(nil, []byte{tt.b})
		if err != nil || string(got) != string(tt.want) {
			t.Errorf("%s 0x%02X = %q, %v; want %q", tt.set, tt.b, got, err, tt.want)
		}
	}
}

func TestRefusals(t *testing.T) {
	w, _ := Lookup("windows-1251")
	_, err := w.Decode(nil, []byte("\xf0\xe5\xe4 1\n\xc8\xe2\x98\xed"))
	if err == nil || err.Error() != "byte 0x98 at byte 8, line 2 is not defined in windows-1251" {
		t.Errorf("undefined byte: %v", err)
	}
	_, err = w.Encode(nil, []byte("ok\nѝ"))
	if err == nil || err.Error() != "windows-1251 cannot hold 'ѝ' (U+045D) at byte 3, line 2" {
		t.Errorf("rune outside the set: %v", err)
	}
	_, err = w.Encode(nil, []byte("a\xffb"))
	if err == nil || err.Error() != "invalid UTF-8 byte 0xFF at byte 1, line 1" {
		t.Errorf("invalid input: %v", err)
	}
	u, _ := Lookup("UTF-8")
	_, err = u.Decode(nil, []byte("ab\xc3"))
	if err == nil || err.Error() != "invalid UTF-8 byte 0xC3 at byte 2, line 1" {
		t.Errorf("truncated UTF-8: %v", err)
	}
	k, _ := Lookup("koi8-r")
	if _, err := k.Encode(nil, []byte("Ї")); err == nil {
		t.Error("koi8-r encoded a Ukrainian letter it does not hold")
	}
	if _, ok := Lookup("latin-1"); ok {
		t.Error("an unsupported set is known")
	}
}

func makeStep(t *testing.T, src string) (transforms.Step, error) {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatal(err)
	}
	o := &Options{}
	if errs := spec.Decode("s.yaml", n.Content[0], "charset", o); len(errs) > 0 {
		return nil, errs
	}
	f, _ := transforms.Default.Lookup("charset")
	return f.New(o, transforms.Env{})
}

func TestStep(t *testing.T) {
	tests := []struct {
		opts, in, want, err string
	}{
		{opts: "from: windows-1251", in: "\xc8\xe2\xe0\xed", want: "Иван"},
		{opts: "from: utf-8", in: "\ufeffИван", want: "Иван"},
		{opts: "from: cp866", in: "\x88\xa2\xa0\xad", want: "Иван"},
		{opts: "to: koi8-r", in: "Иван", want: "\xe9\xd7\xc1\xce"},
		{opts: "to: utf-8\nbom: true", in: "Иван", want: "\ufeffИван"},
		{opts: "to: utf-8\nbom: true", in: "\ufeffИван", want: "\ufeffИван"},
		{opts: "from: windows-1251", in: "\xc8\x98", err: "charset: decode: byte 0x98 at byte 1, line 1 is not defined in windows-1251"},
		{opts: "to: cp866", in: "„", err: "charset: encode: cp866 cannot hold '„' (U+201E) at byte 0, line 1"},
		{opts: "{}", err: "from: set from (decode into UTF-8) or to"},
		{opts: "from: a\nto: b", err: "to: set from or to, not both"},
		{opts: "from: latin-1", err: `unknown character set "latin-1"`},
		{opts: "to: cp866\nbom: true", err: "bom: only with to: utf-8"},
	}
	for _, tt := range tests {
		st, err := makeStep(t, tt.opts)
		if err == nil {
			m := transforms.NewMessage("m", nil, []byte(tt.in))
			if err = st.Apply(context.Background(), m); err == nil {
				p, _ := m.Payload()
				if string(p) != tt.want {
					t.Errorf("%s: %q → %q, want %q", tt.opts, tt.in, p, tt.want)
				}
			}
		}
		if (err != nil || tt.err != "") && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%s: err = %v, want %q", tt.opts, err, tt.err)
		}
	}
}

// Every byte of the single-byte sets either decodes and encodes back to itself, or is refused.
func TestEveryByte(t *testing.T) {
	for _, name := range []string{"windows-1251", "cp866", "koi8-r"} {
		c, _ := Lookup(name)
		for b := range 256 {
			dec, err := c.Decode(nil, []byte{byte(b)})
			if err != nil {
				if name != "windows-1251" || b != 0x98 {
					t.Errorf("%s: byte 0x%02X refused: %v", name, b, err)
				}
				continue
			}
			enc, err := c.Encode(nil, dec)
			if err != nil || len(enc) != 1 || enc[0] != byte(b) {
				t.Errorf("%s: byte 0x%02X → %q → %x, %v", name, b, dec, enc, err)
			}
		}
	}
}

func TestStepOffsetCountsBOM(t *testing.T) {
	st, err := makeStep(t, "from: utf-8")
	if err != nil {
		t.Fatal(err)
	}
	err = st.Apply(context.Background(), transforms.NewMessage("m", nil, []byte("\ufeffab\xff")))
	if err == nil || !strings.Contains(err.Error(), "0xFF at byte 5,") {
		t.Fatalf("err = %v", err)
	}
}

func TestDecodeLossy(t *testing.T) {
	w, _ := Lookup("windows-1251")
	if got := string(w.DecodeLossy(nil, []byte("\xc0\x98b"))); got != "А\ufffdb" {
		t.Errorf("windows-1251: %q", got)
	}
	u, _ := Lookup("utf-8")
	if got := string(u.DecodeLossy(nil, []byte("Я\xff\xfeb\xd0"))); got != "Я\ufffd\ufffdb\ufffd" {
		t.Errorf("utf-8: %q", got)
	}
}

func TestFind(t *testing.T) {
	if c, err := Find(" Windows-1251 "); err != nil || c.Name() != "windows-1251" {
		t.Errorf("Find(windows-1251) = %v, %v", c, err)
	}
	_, err := Find("latin-1")
	if err == nil || !strings.Contains(err.Error(), `unknown character set "latin-1"; known: `) || !strings.Contains(err.Error(), "koi8-r") {
		t.Errorf("Find(latin-1) error %v; want it to list the known sets", err)
	}
}
