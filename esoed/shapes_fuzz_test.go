package esoed

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/internal/xmlgen"
	"github.com/aiskao/aiskao/internal/xmllimit"
	"github.com/aiskao/aiskao/internal/xsd"
)

// FuzzShapes reads generated messages of every shape up to 20,000 deep, 64 wide and 400
// attributes an element, with flaws (a DOCTYPE, a second root, text after the root), with the
// header reader, the full parser and the schema validator: each refuses what breaks a limit or
// is not one document, saying which, and allocates at most a small multiple of the input.
//
//	go test -run '^$' -fuzz FuzzShapes -fuzztime 20s ./esoed/
func FuzzShapes(f *testing.F) {
	xmlgen.AddSeeds(f)
	schema, err := Schema()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, depth, width, attrs uint16, seed uint64) {
		s := xmlgen.Fuzzed(depth, width, attrs, seed)
		s.Root, s.Namespace = "Message", Namespace
		s = s.Bounded(50000)
		d := xmlgen.Generate(s)
		want := d.Want(xmllimit.Default.MaxDepth, xmllimit.Default.MaxAttrs)
		limit := uint64(32*len(d.XML) + 1<<20)
		readers := []struct {
			name string
			read func() error
		}{
			{"ParseHeader", func() error { _, err := ParseHeader(bytes.NewReader(d.XML)); return err }},
			{"ParseMessage", func() error { _, _, err := ParseMessage(bytes.NewReader(d.XML)); return err }},
			{"Validate", func() error { return schema.Validate(bytes.NewReader(d.XML)) }},
		}
		for _, r := range readers {
			var err error
			if n := xmlgen.Allocated(func() { err = r.read() }); n > limit {
				t.Errorf("%s %+v: %d bytes allocated for %d bytes of XML, want at most %d", r.name, s, n, len(d.XML), limit)
			}
			if err == nil {
				t.Fatalf("%s %+v: a generated message was taken", r.name, s)
			}
			if r.name == "ParseMessage" {
				continue // it stops at the first element out of place, before any limit
			}
			var ve *xsd.ValidationError
			if errors.As(err, &ve) {
				err = errors.New(ve.Problems[len(ve.Problems)-1].Message)
			}
			switch msg := err.Error(); want {
			case xmlgen.RefuseDoctype:
				if !strings.Contains(msg, "DOCTYPE") {
					t.Fatalf("%s %+v: error %v, want the DOCTYPE refused", r.name, s, err)
				}
			case xmlgen.RefuseLimit:
				if !strings.Contains(msg, "exceeds the limit of 256") {
					t.Fatalf("%s %+v: error %v, want a limit", r.name, s, err)
				}
			case xmlgen.RefuseAfterRoot:
				if !strings.Contains(msg, "after the root element") && r.name == "ParseHeader" {
					t.Fatalf("%s %+v: error %v, want what follows the root refused", r.name, s, err)
				}
			}
		}
	})
}
