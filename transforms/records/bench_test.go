package records

import (
	"bytes"
	"testing"
)

// BenchmarkFixedWidthParse measures the parser on the tax register's layout (166 characters,
// 11 fields of every type, windows-1251), 10 000 records a file: the records alone, and with the
// JSON array message the step makes of them.
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
	for _, bench := range []struct {
		name string
		run  func(b *testing.B) error
	}{
		{"records", func(b *testing.B) error {
			recs, err := s.Parse(data)
			if err == nil && (len(recs) != n || recs[0].err != nil) {
				b.Fatalf("%d records, the first with error %v; want %d good", len(recs), recs[0].err, n)
			}
			return err
		}},
		{"JSON", func(b *testing.B) error {
			msgs, err := split(b, s.step(), data)
			if err != nil {
				return err
			}
			_, err = msgs[0].Payload()
			return err
		}},
	} {
		b.Run(bench.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for range b.N {
				if err := bench.run(b); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
