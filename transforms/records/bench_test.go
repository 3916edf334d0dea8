package records

import (
	"bytes"
	"testing"
)

// BenchmarkFixedWidthParse measures the parser on the tax register's layout (166 characters,
// 11 fields of every type, windows-1251), 10 000 records a file.
//
//	go test ./transforms/records -run XXX -bench FixedWidth -benchtime 20x
func BenchmarkFixedWidthParse(b *testing.B) {
	one := readFile(b, "testdata/tax-register.txt")
	data := bytes.Repeat(one, 10000/24+1)
	o := decodeOptions[FixedWidthOptions](b, string(readFile(b, "testdata/tax-register.yaml")))
	s, err := buildFixedWidth(*o)
	if err != nil {
		b.Fatal(err)
	}
	recs, _ := s.Parse(data)
	n := len(recs)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		recs, err := s.Parse(data)
		if err != nil || len(recs) != n || recs[0].err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkFixedWidthParseJSON adds making the JSON array message, as the step does.
func BenchmarkFixedWidthParseJSON(b *testing.B) {
	one := readFile(b, "testdata/tax-register.txt")
	data := bytes.Repeat(one, 10000/24+1)
	o := decodeOptions[FixedWidthOptions](b, string(readFile(b, "testdata/tax-register.yaml")))
	s, err := buildFixedWidth(*o)
	if err != nil {
		b.Fatal(err)
	}
	recs, _ := s.Parse(data)
	n := len(recs)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		msgs, err := split(b, s.step(), data)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := msgs[0].Payload(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
}
