package esoed

import (
	"bytes"
	"os"
	"testing"
)

// BenchmarkParse measures the two readers of a message on a real registration request.
func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile(samples + "/registration-request.xml")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("header", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ParseHeader(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("message", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := ParseMessage(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
