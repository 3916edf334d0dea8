package xsd

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestWideDocumentLinear: an element with many children of distinct names (200,000 in 2 MB)
// is validated in time linear in their number. Each child's path segment used to be found by a
// linear search over the names seen among its siblings: quadratic, minutes for this document.
func TestWideDocumentLinear(t *testing.T) {
	s := compileString(t, map[string]string{"s.xsd": structSchema}, "s.xsd")
	var b strings.Builder
	b.WriteString(`<Root xmlns="urn:t"><Person kind="a"><Id>p1</Id><First>A</First></Person><o:x xmlns:o="urn:o">`)
	for i := range 200000 {
		fmt.Fprintf(&b, "<o:c%d/>", i)
	}
	b.WriteString(`</o:x></Root>`)
	start := time.Now()
	err := s.Validate(strings.NewReader(b.String()))
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("validated %d bytes in %v, want a few hundred milliseconds", b.Len(), took)
	}
	if err != nil {
		t.Logf("validation: %v", err)
	}
}

// TestChildSegCounts: the n-th child of a name is name[n] whether the names are counted in the
// list or, past maxCountList distinct names, in the map.
func TestChildSegCounts(t *testing.T) {
	f := &frame{}
	var got []string
	for i := range maxCountList + 4 {
		got = append(got, f.childSeg(qname{local: fmt.Sprint("c", i)}))
	}
	for _, name := range []string{"c0", "c1", "c19", "c0"} {
		got = append(got, f.childSeg(qname{local: name}))
	}
	if f.countMap == nil {
		t.Fatal("no map after many distinct names")
	}
	want := "c0 c1 c2 c3 c4 c5 c6 c7 c8 c9 c10 c11 c12 c13 c14 c15 c16 c17 c18 c19 c0[2] c1[2] c19[2] c0[3]"
	if strings.Join(got, " ") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(got, " "), want)
	}
}

// TestManyBindingsRefused: more than 256 namespace declarations in scope make the document
// invalid at once, with one problem.
func TestManyBindingsRefused(t *testing.T) {
	s := compileString(t, map[string]string{"s.xsd": structSchema}, "s.xsd")
	var b strings.Builder
	b.WriteString(`<Root xmlns="urn:t"><Person kind="a"><Id>p1</Id><First>A</First></Person>`)
	for d := range 2 {
		b.WriteString(`<o:x xmlns:o="urn:o"`)
		for i := range 200 {
			fmt.Fprintf(&b, ` xmlns:p%d_%d="urn:p"`, d, i)
		}
		b.WriteString(">")
	}
	b.WriteString(`</o:x></o:x></Root>`)
	ps := problems(t, s, b.String())
	if len(ps) != 1 || ps[0].Rule != "limit" || !strings.Contains(ps[0].Message, "more than 256 namespace declarations in scope") {
		t.Fatalf("got %v", ps)
	}
}
