package esoed

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/internal/xmlgen"
	"github.com/aiskao/aiskao/internal/xmllimit"
	"github.com/aiskao/aiskao/internal/xsd"
)

// nested returns a message whose Body holds depth elements nested in one another, the shape of
// the attack on the hub's ingress (100,000 of them in 700 KB).
func nested(depth int) []byte {
	var b bytes.Buffer
	b.WriteString(`<Message xmlns="` + Namespace + `"><Header><Version>1.0</Version></Header><Body>`)
	b.WriteString(strings.Repeat("<a>", depth))
	b.WriteString(strings.Repeat("</a>", depth))
	b.WriteString(`</Body></Message>`)
	return b.Bytes()
}

// TestDeepMessageRefusedCheaply is finding 3 of issue 17: ParseHeader joined the whole element
// path at every end tag, quadratic in the depth (100,000 levels took 7.5 GB). A message nested
// beyond the depth limit is refused with a limit error that says where, having allocated a small
// multiple of its size.
func TestDeepMessageRefusedCheaply(t *testing.T) {
	doc := nested(5000) // 35 KB; the quadratic path join allocated 28 MB for it
	readers := map[string]func() error{
		"ParseHeader": func() error { _, err := ParseHeader(bytes.NewReader(doc)); return err },
		"ParseMessage": func() error {
			_, _, err := ParseMessage(bytes.NewReader(doc))
			return err
		},
		"Schema.Validate": func() error {
			s, err := Schema()
			if err != nil {
				t.Fatal(err)
			}
			return s.Validate(bytes.NewReader(doc))
		},
	}
	for name, read := range readers {
		t.Run(name, func(t *testing.T) {
			read() // the schema is compiled once, outside the measure
			var err error
			n := xmlgen.Allocated(func() { err = read() })
			switch {
			case err == nil:
				t.Fatal("no error")
			case name == "ParseMessage":
				// It stops earlier, at the first element out of place.
			case !strings.Contains(err.Error(), "element depth exceeds the limit of 256 at line 1, column"):
				t.Errorf("error %q does not name the limit and where", err)
			}
			if limit := uint64(64*len(doc) + 1<<20); n > limit {
				t.Errorf("allocated %d bytes for a %d-byte document, want under %d", n, len(doc), limit)
			}
		})
	}
}

// TestParseHeaderLinearInDepth reads messages nested within the limit: the work must not grow
// with the square of the depth (the path is joined only where the summary reads it).
func TestParseHeaderLinearInDepth(t *testing.T) {
	lim := xmllimit.Limits{MaxDepth: 1 << 20}
	measure := func(depth int) uint64 {
		doc := nested(depth)
		return xmlgen.Allocated(func() {
			if _, err := ParseHeaderWith(bytes.NewReader(doc), lim); err == nil || errors.Is(err, xmllimit.ErrLimit) {
				t.Fatalf("depth %d: error %v, want the missing header fields", depth, err)
			}
		})
	}
	small, large := measure(2000), measure(16000)
	// Eight times the depth: linear work allocates about eight times as much, quadratic 64.
	if large > 16*small {
		t.Errorf("depth 2000 allocated %d bytes, depth 16000 %d: more than linear", small, large)
	}
}

// forgery is finding 5 of issue 17: a signed message followed by an unsigned forged one. Every
// reader must refuse it; before, the header was read from the forgery, the schema validator and
// the signature check passed it and the engine's XML tree dropped the second root.
func forgery(t *testing.T) []byte {
	t.Helper()
	signed, err := testSigner(t, "Столична община").Sign(sample(t, "registration-request.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifySignatureIntegrity(signed); err != nil {
		t.Fatal(err)
	}
	forged := strings.Replace(string(sample(t, "registration-request.xml")), "<MessageGUID>{f330b925-8cca-447e-907e-8e42a11bb6d6}",
		"<MessageGUID>{00000000-0000-4000-8000-000000000000}", 1)
	forged = forged[strings.Index(forged, "<Message"):]
	return append(append(signed, '\n'), forged...)
}

func TestWrappedForgeryRefused(t *testing.T) {
	doc := forgery(t)
	want := "element after the root element at line "
	if s, err := ParseHeader(bytes.NewReader(doc)); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("ParseHeader: %+v, %v; want %q", s, err, want)
	}
	if _, _, err := ParseMessage(bytes.NewReader(doc)); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("ParseMessage: %v; want %q", err, want)
	}
	s, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	err = s.Validate(bytes.NewReader(doc))
	var ve *xsd.ValidationError
	if err == nil || errors.As(err, &ve) && len(ve.Problems) == 0 || !strings.Contains(err.Error(), "after the root element") {
		t.Errorf("Schema.Validate: %v; want the second root refused", err)
	}
	// Text or a comment after the root: text is refused, a comment is not.
	one := sample(t, "registration-request.xml")
	if _, err := ParseHeader(bytes.NewReader(append(append([]byte{}, one...), "\n<!-- c -->\n"...))); err != nil {
		t.Errorf("comment after the root: %v", err)
	}
	if _, err := ParseHeader(bytes.NewReader(append(append([]byte{}, one...), "x"...))); err == nil || !strings.Contains(err.Error(), "text after the root element") {
		t.Errorf("text after the root: %v", err)
	}
}

// TestAnyContentLinear: DocAddData is canonicalized element by element; the namespace prefixes in
// scope were copied at every element, so 200 prefixes declared once made each of 20,000 empty
// elements cost a map of 200 (100 MB for 88 KB). Now only an element that declares a
// prefix copies them, and no more than maxPrefixes may be in scope.
func TestAnyContentLinear(t *testing.T) {
	var decls strings.Builder
	for i := range 60 {
		fmt.Fprintf(&decls, ` xmlns:p%d="urn:p%d"`, i, i)
	}
	doc := func(decls string, children int) []byte {
		return []byte(strings.Replace(string(sample(t, "status-response.xml")), "</DocRegStatus>",
			"</DocRegStatus><DocAddData><x"+decls+">"+strings.Repeat("<y/>", children)+"</x></DocAddData>", 1))
	}
	in := doc(decls.String(), 20000)
	var err error
	n := xmlgen.Allocated(func() { _, _, err = ParseMessage(bytes.NewReader(in)) })
	if err != nil {
		t.Fatal(err)
	}
	// encoding/xml takes about 50 bytes for each byte of empty elements four bytes long.
	if limit := uint64(64*len(in) + 1<<20); n > limit {
		t.Errorf("allocated %d bytes for %d bytes, want at most %d", n, len(in), limit)
	}
	for i := 60; i < 70; i++ {
		fmt.Fprintf(&decls, ` xmlns:p%d="urn:p%d"`, i, i)
	}
	if _, _, err := ParseMessage(bytes.NewReader(doc(decls.String(), 1))); err == nil || !strings.Contains(err.Error(), "more than 64 namespace prefixes in scope") {
		t.Errorf("70 prefixes in scope: %v", err)
	}
}
