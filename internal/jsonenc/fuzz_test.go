package jsonenc

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"testing"
)

// FuzzAppend checks Append against encoding/json on trees decoded from the
// input (with json.Number and with float64 numbers) and on trees built from
// the raw bytes, which reach invalid UTF-8, NaN, invalid numbers and the
// encoding/json fallback. Output and errors must be identical.
func FuzzAppend(f *testing.F) {
	for _, path := range testdataFiles(f) {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		`{"a":"\u2028\u0000\"\\","b":[1,-0,1e21,1e-7,123456789.123],"c":{}}`,
		`[null,true,false,"",[],{},0.000001,1E400]`,
		`"\ud800"`,
		"\x0a\x05ab\xff\x00\x02\x04\x01\x09\x0c\x0d",
		"\x0b\x03\x0e\x04\x0f\x02\x10\x16\x11\x13\x12\x14",
		"\x04\x00\x00\x00\x00\x00\x00\xf8\x7f\x05\x00\x00\x80\x7f",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, useNumber := range []bool{true, false} {
			if v, err := decode(data, useNumber); err == nil {
				checkSame(t, v)
			}
		}
		g := &gen{data: data}
		checkSame(t, g.value(0))
	})
}

// gen builds a value tree from fuzz bytes, covering every fast path and a
// few types that go through encoding/json.
type gen struct{ data []byte }

func (g *gen) byte() byte {
	if len(g.data) == 0 {
		return 0
	}
	b := g.data[0]
	g.data = g.data[1:]
	return b
}

func (g *gen) bytes(n int) []byte {
	n = min(n, len(g.data))
	b := g.data[:n]
	g.data = g.data[n:]
	return b
}

func (g *gen) uint64() uint64 {
	var buf [8]byte
	copy(buf[:], g.bytes(8))
	return binary.LittleEndian.Uint64(buf[:])
}

func (g *gen) string() string { return string(g.bytes(int(g.byte() % 40))) }

type fuzzStruct struct {
	S string  `json:"s"`
	F float64 `json:"f,omitempty"`
	V any     `json:"v"`
	N json.Number
}

func (g *gen) value(depth int) any {
	if len(g.data) == 0 {
		return nil
	}
	leaf := depth > 8
	op := g.byte() % 28
	if leaf && op >= 14 {
		op %= 14
	}
	switch op {
	case 0:
		return nil
	case 1:
		return g.byte()&1 == 1
	case 2:
		return g.string()
	case 3:
		return json.Number(g.string())
	case 4:
		return math.Float64frombits(g.uint64())
	case 5:
		return math.Float32frombits(uint32(g.uint64()))
	case 6:
		// Decimal magnitudes around the 'f'/'e' cutoffs.
		return float64(int8(g.byte())) * math.Pow10(int(int8(g.byte()))%30)
	case 7:
		return float32(int8(g.byte())) * float32(math.Pow10(int(int8(g.byte()))%30))
	case 8:
		return int(int64(g.uint64()))
	case 9:
		switch g.byte() % 4 {
		case 0:
			return int8(g.byte())
		case 1:
			return int16(g.uint64())
		case 2:
			return int32(g.uint64())
		}
		return int64(g.uint64())
	case 10:
		switch g.byte() % 5 {
		case 0:
			return uint(g.uint64())
		case 1:
			return uint8(g.byte())
		case 2:
			return uint16(g.uint64())
		case 3:
			return uint32(g.uint64())
		}
		return g.uint64()
	case 11:
		return []byte(g.string())
	case 12:
		return json.RawMessage(g.string())
	case 13:
		switch g.byte() % 3 {
		case 0:
			return map[string]any(nil)
		case 1:
			return []any(nil)
		}
		return map[string]string(nil)
	case 14, 15, 16:
		n := int(g.byte() % 6)
		m := make(map[string]any, n)
		for range n {
			m[g.string()] = g.value(depth + 1)
		}
		return m
	case 17, 18:
		n := int(g.byte() % 6)
		s := make([]any, n)
		for i := range s {
			s[i] = g.value(depth + 1)
		}
		return s
	case 19:
		n := int(g.byte() % 5)
		m := make(map[string]string, n)
		for range n {
			m[g.string()] = g.string()
		}
		return m
	case 20:
		n := int(g.byte() % 5)
		s := make([]string, n)
		for i := range s {
			s[i] = g.string()
		}
		return s
	case 21:
		n := int(g.byte() % 4)
		s := make([]map[string]any, n)
		for i := range s {
			if m, ok := g.value(depth + 1).(map[string]any); ok {
				s[i] = m
			}
		}
		return s
	case 22:
		return fuzzStruct{S: g.string(), F: math.Float64frombits(g.uint64()), V: g.value(depth + 1), N: json.Number(g.string())}
	case 23:
		v := g.value(depth + 1)
		return &v
	case 24:
		return named{g.string(): g.value(depth + 1)}
	case 25:
		return map[int]any{int(int8(g.byte())): g.value(depth + 1)}
	case 26:
		return [2]any{g.value(depth + 1), g.value(depth + 1)}
	}
	return upper(g.string())
}
