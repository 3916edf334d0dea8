package jsonenc

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// reference is what the hub wrote before Append: encoding/json's Encoder
// with HTML escaping off, less the trailing newline.
func reference(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// checkSame fails t unless Append and encoding/json agree on v: the same
// bytes, or errors of the same type and text.
func checkSame(t *testing.T, v any) ([]byte, error) {
	t.Helper()
	want, wantErr := reference(v)
	prefix := []byte("prefix:")
	got, err := Append(prefix, v)
	if !bytes.HasPrefix(got, prefix) {
		t.Fatalf("Append lost the prefix: %q", got)
	}
	got = got[len(prefix):]
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("error = %v, encoding/json error = %v", err, wantErr)
	}
	if err != nil {
		if err.Error() != wantErr.Error() {
			t.Fatalf("error text = %q, encoding/json = %q", err, wantErr)
		}
		if reflect.TypeOf(err) != reflect.TypeOf(wantErr) {
			t.Fatalf("error type = %T, encoding/json = %T", err, wantErr)
		}
		if len(got) != 0 {
			t.Fatalf("Append grew b on error: %q", got)
		}
		return nil, err
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Append = %q\nencoding/json = %q", got, want)
	}
	checkWrite(t, v, want)
	return got, nil
}

// checkWrite fails t unless Write, with its own sizes and with sizes that split every string
// and spill after every member, writes want for v.
func checkWrite(t *testing.T, v any, want []byte) {
	t.Helper()
	for _, size := range []struct{ spill, chunk int }{{spillAt, longChunk}, {1, 1}, {7, 3}, {16, 5}} {
		var buf bytes.Buffer
		n, err := write(&buf, v, size.spill, size.chunk)
		if err != nil || n != int64(buf.Len()) || !bytes.Equal(buf.Bytes(), want) {
			t.Fatalf("write (spill %d, chunk %d) = %q, %d, %v\nwant %q", size.spill, size.chunk, buf.Bytes(), n, err, want)
		}
	}
}

type point struct {
	X, Y int
	Name string `json:"name,omitempty"`
	Tags []string
}

type marshalFails struct{}

func (marshalFails) MarshalJSON() ([]byte, error) { return nil, errors.New("boom") }

type ptrMarshaler struct{ S string }

// MarshalJSON has a pointer receiver: encoding/json does not call it for the
// non-addressable copies held in interfaces.
func (*ptrMarshaler) MarshalJSON() ([]byte, error) { return []byte(`"custom"`), nil }

type upper string

func (u upper) MarshalText() ([]byte, error) { return []byte(strings.ToUpper(string(u))), nil }

type named map[string]any

type node struct {
	Next *node
	Val  any
}

type cyclic struct {
	Self any
}

func TestAppend(t *testing.T) {
	self := map[string]any{"a": 1}
	self["self"] = self
	loop := &node{Val: "x"}
	loop.Next = loop
	selfSlice := make([]any, 1)
	selfSlice[0] = selfSlice

	cases := []struct {
		name string
		v    any
		want string // empty when only the comparison with encoding/json matters
		err  string
	}{
		{name: "nil", v: nil, want: `null`},
		{name: "true", v: true, want: `true`},
		{name: "false", v: false, want: `false`},
		{name: "empty string", v: "", want: `""`},
		{name: "quotes and backslash", v: `a"b\c`, want: `"a\"b\\c"`},
		{name: "short escapes", v: "\b\f\n\r\t", want: `"\b\f\n\r\t"`},
		{name: "control chars", v: "\x00\x01\x1f\x7f", want: `"\u0000\u0001\u001f` + "\x7f\""},
		{name: "html left alone", v: "<a href='x'>&amp;</a>", want: `"<a href='x'>&amp;</a>"`},
		{name: "invalid utf8", v: "a\xffb\xc3(\xe2\x82", want: `"a\ufffdb\ufffd(\ufffd\ufffd"`},
		{name: "two-byte edges", v: "\xc2\x80\xdf\xbf\xc1\xbf\xc2\x7f\xc2\xc0\xe0\x80\xdf", want: "\"\u0080\u07ff\\ufffd\\ufffd\\ufffd\x7f\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\""},
		{name: "surrogate half", v: "\xed\xa0\x80", want: `"\ufffd\ufffd\ufffd"`},
		{name: "line separators", v: "a\u2028b\u2029c", want: `"a\u2028b\u2029c"`},
		{name: "cyrillic and emoji", v: "Столична община „Младост“ 😀", want: `"Столична община „Младост“ 😀"`},
		{name: "replacement char kept", v: "\ufffd", want: "\"\ufffd\""},
		{name: "float zero", v: 0.0, want: `0`},
		{name: "float negative zero", v: math.Copysign(0, -1), want: `-0`},
		{name: "float 1e20", v: 1e20, want: `100000000000000000000`},
		{name: "float 1e21", v: 1e21, want: `1e+21`},
		{name: "float 1e-6", v: 1e-6, want: `0.000001`},
		{name: "float 1e-7", v: 1e-7, want: `1e-7`},
		{name: "float 123456789.123", v: 123456789.123, want: `123456789.123`},
		{name: "float max", v: math.MaxFloat64, want: `1.7976931348623157e+308`},
		{name: "float smallest", v: math.SmallestNonzeroFloat64, want: `5e-324`},
		{name: "float -1.5e-10", v: -1.5e-10, want: `-1.5e-10`},
		{name: "float32 0.1", v: float32(0.1), want: `0.1`},
		{name: "float32 1e21", v: float32(1e21), want: `1e+21`},
		{name: "float32 1e-7", v: float32(1e-7), want: `1e-7`},
		{name: "float32 just below 1e21", v: math.Nextafter32(1e21, 0), want: `999999950000000000000`},
		{name: "float32 3.4e38", v: float32(math.MaxFloat32), want: `3.4028235e+38`},
		{name: "NaN", v: math.NaN(), err: `json: unsupported value: NaN`},
		{name: "+Inf", v: math.Inf(1), err: `json: unsupported value: +Inf`},
		{name: "float32 -Inf", v: float32(math.Inf(-1)), err: `json: unsupported value: -Inf`},
		{name: "NaN nested", v: map[string]any{"a": []any{1.0, math.NaN()}}, err: `json: unsupported value: NaN`},
		{name: "number", v: json.Number("-12.5e+3"), want: `-12.5e+3`},
		{name: "number empty", v: json.Number(""), want: `0`},
		{name: "number invalid", v: json.Number("0x10"), err: `json: invalid number literal "0x10"`},
		{name: "number leading zero", v: json.Number("01"), err: `json: invalid number literal "01"`},
		{name: "number bare exponent", v: json.Number("1e"), err: `json: invalid number literal "1e"`},
		{name: "number in map", v: map[string]any{"n": json.Number("1.0")}, want: `{"n":1.0}`},
		{name: "ints", v: []any{int(-1), int8(-128), int16(32767), int32(-5), int64(math.MinInt64)}, want: `[-1,-128,32767,-5,-9223372036854775808]`},
		{name: "uints", v: []any{uint(1), uint8(255), uint16(65535), uint32(7), uint64(math.MaxUint64), uintptr(9)}, want: `[1,255,65535,7,18446744073709551615,9]`},
		{name: "empty map", v: map[string]any{}, want: `{}`},
		{name: "empty slice", v: []any{}, want: `[]`},
		{name: "nil map", v: map[string]any(nil), want: `null`},
		{name: "nil slice", v: []any(nil), want: `null`},
		{name: "nil string map", v: map[string]string(nil), want: `null`},
		{name: "nil strings", v: []string(nil), want: `null`},
		{name: "nil maps", v: []map[string]any(nil), want: `null`},
		{name: "nil map in maps", v: []map[string]any{nil, {}}, want: `[null,{}]`},
		{name: "nil values in map", v: map[string]any{"m": map[string]any(nil), "s": []any(nil), "n": nil}, want: `{"m":null,"n":null,"s":null}`},
		{name: "key order is byte order", v: map[string]any{"b": 1, "B": 2, "a": 3, "ä": 4, "aa": 5, "": 6}, want: `{"":6,"B":2,"a":3,"aa":5,"b":1,"ä":4}`},
		{name: "escaped keys", v: map[string]any{"a\"b": 1, "\n": 2, "\xff": 3, "\u2028": 4}, want: `{"\n":2,"a\"b":1,"\u2028":4,"\ufffd":3}`},
		{name: "string map", v: map[string]string{"z": "1", "a": "\t"}, want: `{"a":"\t","z":"1"}`},
		{name: "strings", v: []string{"a", "", "\x00"}, want: `["a","","\u0000"]`},
		{name: "maps", v: []map[string]any{{"b": 1, "a": []any{}}, {"c": "d"}}, want: `[{"a":[],"b":1},{"c":"d"}]`},
		{name: "nested", v: map[string]any{"a": map[string]any{"b": []any{map[string]any{"c": []any{nil, true, "x", 1.5}}}}}, want: `{"a":{"b":[{"c":[null,true,"x",1.5]}]}}`},
		{name: "struct in map", v: map[string]any{"p": point{X: 1, Y: 2, Tags: []string{"<t>"}}}, want: `{"p":{"X":1,"Y":2,"Tags":["<t>"]}}`},
		{name: "pointer to struct", v: []any{&point{Name: "n"}, (*point)(nil)}, want: `[{"X":0,"Y":0,"name":"n","Tags":null},null]`},
		{name: "bytes", v: map[string]any{"b": []byte("hi"), "nil": []byte(nil)}, want: `{"b":"aGk=","nil":null}`},
		{name: "raw message compacted", v: map[string]any{"r": json.RawMessage(` { "a" : [1, 2] } `)}, want: `{"r":{"a":[1,2]}}`},
		{name: "raw message invalid", v: map[string]any{"r": json.RawMessage(`{`)}},
		{name: "marshaler error", v: map[string]any{"a": 1, "b": marshalFails{}}, err: `json: error calling MarshalJSON for type jsonenc.marshalFails: boom`},
		{name: "pointer receiver marshaler not addressable", v: map[string]any{"p": ptrMarshaler{S: "s"}}, want: `{"p":{"S":"s"}}`},
		{name: "pointer receiver marshaler via pointer", v: map[string]any{"p": &ptrMarshaler{S: "s"}}, want: `{"p":"custom"}`},
		{name: "text marshaler", v: []any{upper("abc")}, want: `["ABC"]`},
		{name: "string-kind keys ignore MarshalText", v: map[upper]int{"b": 1, "a": 2}, want: `{"a":2,"b":1}`},
		{name: "int keys", v: map[int]any{10: 1, 9: 2}, want: `{"10":1,"9":2}`},
		{name: "named map type", v: named{"b": 1, "a": "x"}, want: `{"a":"x","b":1}`},
		{name: "time", v: map[string]any{"t": time.Date(2024, 3, 12, 10, 15, 30, 0, time.UTC)}, want: `{"t":"2024-03-12T10:15:30Z"}`},
		{name: "unsupported type", v: map[string]any{"c": make(chan int)}, err: `json: unsupported type: chan int`},
		{name: "unsupported in fallback nested", v: []any{map[string]any{"f": func() {}}}, err: `json: unsupported type: func()`},
		{name: "first error in key order", v: map[string]any{"b": math.NaN(), "a": json.Number("x")}, err: `json: invalid number literal "x"`},
		{name: "self-containing map", v: self},
		{name: "self-containing slice", v: selfSlice},
		{name: "pointer cycle at top", v: loop},
		{name: "pointer cycle nested", v: map[string]any{"a": []any{map[string]any{"loop": loop}}}},
		{name: "pointer cycle through map", v: func() any {
			c := &cyclic{}
			c.Self = map[string]any{"c": c}
			return []any{c}
		}()},
		{name: "deep", v: deepTree(3000)},
		{name: "deep slices", v: deepSlices(1500)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := checkSame(t, c.v)
			if c.err != "" && (err == nil || err.Error() != c.err) {
				t.Fatalf("error = %v, want %q", err, c.err)
			}
			if c.want != "" && string(got) != c.want {
				t.Fatalf("Append = %s, want %s", got, c.want)
			}
		})
	}
}

func deepTree(n int) any {
	var v any = "leaf"
	for i := range n {
		if i%2 == 0 {
			v = map[string]any{"k": v, "n": float64(i)}
		} else {
			v = []any{v, nil}
		}
	}
	return v
}

func deepSlices(n int) any {
	var v any = []string{"x"}
	for range n {
		v = []any{v}
	}
	return v
}

// TestAppendErrorKeepsBuffer checks that a failed Append hands back b as it was.
func TestAppendErrorKeepsBuffer(t *testing.T) {
	b := []byte("keep")
	got, err := Append(b, map[string]any{"a": "xxxxxxxxxxxxxxxxxx", "z": math.Inf(1)})
	if err == nil {
		t.Fatal("no error for +Inf")
	}
	var uv *json.UnsupportedValueError
	if !errors.As(err, &uv) {
		t.Fatalf("error type %T, want *json.UnsupportedValueError", err)
	}
	if string(got) != "keep" {
		t.Fatalf("b = %q after error, want %q", got, "keep")
	}
}

// TestAppendTestdata compares every JSON file in the package and repository
// test data, decoded both with json.Number and with float64 numbers.
func TestAppendTestdata(t *testing.T) {
	for _, path := range testdataFiles(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, useNumber := range []bool{true, false} {
			v, err := decode(data, useNumber)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			checkSame(t, v)
		}
	}
}

func decode(data []byte, useNumber bool) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if useNumber {
		dec.UseNumber()
	}
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

func testdataFiles(tb testing.TB) []string {
	tb.Helper()
	var paths []string
	for _, pattern := range []string{"testdata/*.json", "../../testdata/esoed/*.json"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			tb.Fatal(err)
		}
		paths = append(paths, m...)
	}
	if len(paths) == 0 {
		tb.Fatal("no JSON test data found")
	}
	return paths
}

// TestAppendStringOffsets puts every kind of byte that needs care at every
// offset of ASCII runs, so that the word-at-a-time scan of plain ASCII is
// checked at each alignment.
func TestAppendStringOffsets(t *testing.T) {
	specials := []string{"\x00", "\x1f", " ", "\"", "\\", "~", "\x7f", "\x80", "\xc2\xa9", "\xd0\x96", "\xe2\x80\xa8", "\xe2\x80\xa9", "\xf0\x9f\x98\x80", "\xff", "\xed\xa0\x80"}
	for n := range 20 {
		for _, sp := range specials {
			for pos := 0; pos <= n; pos++ {
				s := strings.Repeat("a", pos) + sp + strings.Repeat("b", n-pos)
				checkSame(t, s)
				checkSame(t, map[string]any{s: s})
			}
		}
	}
}

// TestAppendConcurrent shares the pooled state between goroutines.
func TestAppendConcurrent(t *testing.T) {
	v := benchValue(t)
	want, err := reference(v)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			var b []byte
			for range 50 {
				var err error
				if b, err = Append(b[:0], v); err != nil || !bytes.Equal(b, want) {
					t.Errorf("concurrent Append differs (err %v)", err)
					return
				}
				if _, err := Append(nil, map[string]any{"x": math.NaN()}); err == nil {
					t.Error("no error for NaN")
					return
				}
			}
		})
	}
	wg.Wait()
}

// A string is split for writing only between UTF-8 sequences, whatever bytes surround the
// place a chunk ends: valid sequences of every length, invalid ones, stray continuation bytes,
// U+2028 (escaped), and the bytes that are escaped.
func TestWriteSplitsStringsBetweenRunes(t *testing.T) {
	pieces := []string{"a", "я", "€", "😀", "\u2028", "\xff", "\x80", "\xe2\x82", "\xf0\x9f\x98", "\x80\x80\x80\x80\x80", "\"", "\\", "\n", "\x01"}
	for _, p := range pieces {
		for _, q := range pieces {
			s := strings.Repeat("x", 5) + p + q + p + strings.Repeat("y", 3)
			want, err := reference(s)
			if err != nil {
				t.Fatal(err)
			}
			checkWrite(t, s, want)
			checkWrite(t, map[string]any{s: []any{s, map[string]string{s: s}, []string{s}}}, mustReference(t, map[string]any{s: []any{s, map[string]string{s: s}, []string{s}}}))
		}
	}
}

func mustReference(t *testing.T, v any) []byte {
	t.Helper()
	b, err := reference(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A value nested past the fast path's depth is streamed through encoding/json for the part
// below that depth, with the same bytes; a cycle is an error.
func TestWriteDeepAndCyclic(t *testing.T) {
	for _, v := range []any{deepTree(maxDepth + 50), deepSlices(maxDepth + 50)} {
		checkWrite(t, v, mustReference(t, v))
	}
	cyclic := map[string]any{}
	cyclic["self"] = []any{cyclic}
	if _, err := Write(io.Discard, cyclic); err == nil {
		t.Fatal("a cyclic value was written without an error")
	}
}

// errWriter fails once it has taken limit bytes.
type errWriter struct {
	limit, got int
	writes     int
}

func (w *errWriter) Write(p []byte) (int, error) {
	w.writes++
	if w.got+len(p) > w.limit {
		n := w.limit - w.got
		w.got = w.limit
		return n, errors.New("disk full")
	}
	w.got += len(p)
	return len(p), nil
}

// A write error stops the writing and is returned, with the count of bytes that went out; a
// large string is written in pieces, not held whole.
func TestWriteErrorAndPieces(t *testing.T) {
	v := map[string]any{"document": strings.Repeat("QUJD", 100_000), "n": json.Number("1")}
	w := &errWriter{limit: 1 << 30}
	n, err := Write(w, v)
	if err != nil || n != int64(w.got) || w.writes < 400_000/spillAt {
		t.Fatalf("Write = %d, %v after %d writes; want the whole in pieces of about %d bytes", n, err, w.writes, spillAt)
	}
	w = &errWriter{limit: 100_000}
	n, err = Write(w, v)
	if err == nil || err.Error() != "disk full" || n != 100_000 {
		t.Fatalf("Write to a failing writer = %d, %v; want 100000 and its error", n, err)
	}
	if w.writes > 5 {
		t.Errorf("%d writes after the writer failed, want none", w.writes-4)
	}
}
