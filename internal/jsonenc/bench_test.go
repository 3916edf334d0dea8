package jsonenc

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

// benchValue is an ЕСОЕД message converted to JSON with five routing fields
// on top, decoded the way the hub decodes payloads.
func benchValue(tb testing.TB) any {
	tb.Helper()
	data, err := os.ReadFile("testdata/message.json")
	if err != nil {
		tb.Fatal(err)
	}
	v, err := decode(data, true)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

func BenchmarkAppend(b *testing.B) {
	v := benchValue(b)
	buf, _ := Append(nil, v)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = Append(buf[:0], v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodingJSON(b *testing.B) {
	v := benchValue(b)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len() - 1))
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := enc.Encode(v); err != nil {
			b.Fatal(err)
		}
	}
}
