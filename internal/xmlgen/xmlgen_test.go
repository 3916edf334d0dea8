package xmlgen

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

// TestGenerate checks that a flawless document is well-formed XML of the shape asked for.
func TestGenerate(t *testing.T) {
	for seed := range uint64(20) {
		d := Generate(Shape{Depth: 30, Width: 3, Attrs: 4, Seed: seed})
		dec := xml.NewDecoder(strings.NewReader(string(d.XML)))
		depth, maxDepth, maxAttrs := 0, 0, 0
		for {
			tok, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("seed %d: %v\n%s", seed, err, d.XML)
			}
			switch t := tok.(type) {
			case xml.StartElement:
				depth++
				maxDepth = max(maxDepth, depth)
				maxAttrs = max(maxAttrs, len(t.Attr))
			case xml.EndElement:
				depth--
			}
		}
		// The root's two namespace declarations count among its attributes.
		if maxDepth != d.Depth || maxAttrs != d.Attrs {
			t.Errorf("seed %d: depth %d, attributes %d; want %d, %d", seed, maxDepth, maxAttrs, d.Depth, d.Attrs)
		}
	}
}

func TestFuzzedAndAllocated(t *testing.T) {
	if s := Fuzzed(65535, 65535, 65535, 7); s.Depth >= 20000 || s.Width >= 64 || s.Attrs >= 400 || !s.Flaws || s.Seed != 7 {
		t.Errorf("Fuzzed: %+v", s)
	}
	var keep []byte
	if n := Allocated(func() { keep = make([]byte, 1<<20) }); n < 1<<20 {
		t.Errorf("Allocated: %d bytes for a slice of %d", n, len(keep))
	}
}
