package xmllimit

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/internal/xmlgen"
)

// FuzzShapes reads generated documents of every shape up to 20,000 deep, 64 wide and 400
// attributes an element, with flaws: Check must refuse what breaks a limit or has more than one
// root and take the rest, encoding/xml's token decoder over a Decoder likewise, and Check must
// allocate at most a small multiple of the document's size (encoding/xml takes about 18 bytes
// for each byte of a document of short attributes).
func FuzzShapes(f *testing.F) {
	xmlgen.AddSeeds(f)
	f.Fuzz(func(t *testing.T, depth, width, attrs uint16, seed uint64) {
		s := xmlgen.Fuzzed(depth, width, attrs, seed).Bounded(200000)
		d := xmlgen.Generate(s)
		var err error
		n := xmlgen.Allocated(func() { err = Check(d.XML, Limits{}, nil) })
		checkOutcome(t, d, err)
		checkOutcome(t, d, readTokens(xml.NewTokenDecoder(NewDecoder(bytes.NewReader(d.XML), Limits{}))))
		if limit := uint64(32*len(d.XML) + 256<<10); n > limit {
			t.Errorf("%+v: %d bytes allocated for %d bytes of XML, want at most %d", s, n, len(d.XML), limit)
		}
	})
}

// readTokens reads d to its end; nil when it ends with io.EOF.
func readTokens(d *xml.Decoder) error {
	for {
		if _, err := d.Token(); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

func checkOutcome(t *testing.T, d xmlgen.Doc, err error) {
	t.Helper()
	switch d.Want(Default.MaxDepth, Default.MaxAttrs) {
	case xmlgen.Accept:
		if err != nil {
			t.Fatalf("refused: %v", err)
		}
	case xmlgen.RefuseDoctype:
		if err == nil || !strings.Contains(err.Error(), "DOCTYPE") {
			t.Fatalf("error %v, want the DOCTYPE refused", err)
		}
	case xmlgen.RefuseLimit:
		if !errors.Is(err, ErrLimit) {
			t.Fatalf("error %v, want a limit (depth %d, attributes %d)", err, d.Depth, d.Attrs)
		}
	case xmlgen.RefuseAfterRoot:
		if err == nil || !strings.Contains(err.Error(), "after the root element") {
			t.Fatalf("error %v, want what follows the root refused", err)
		}
	}
}
