package transforms

import (
	"strings"
	"testing"

	"github.com/antchfx/xmlquery"
)

// TestXMLRefusesDeepNesting: n levels of elements are accepted up to MaxXMLDepth, wherever the
// deep branch stands among its siblings.
func TestXMLRefusesDeepNesting(t *testing.T) {
	nest := func(n int) string { return strings.Repeat("<a>", n) + strings.Repeat("</a>", n) }
	tests := []struct {
		name string
		doc  string
		ok   bool
	}{
		{"flat", "<a/>", true},
		{"at the limit", nest(MaxXMLDepth), true},
		{"one deeper", nest(MaxXMLDepth + 1), false},
		{"deep branch after siblings", "<r><b/><c><d/></c>" + nest(MaxXMLDepth) + "</r>", false},
		{"shallow branches after a deep one", "<r>" + nest(MaxXMLDepth-1) + "<b/><c><d/></c></r>", true},
		{"attack", nest(100000), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewMessage("m", nil, []byte(tt.doc)).XML()
			if tt.ok && err != nil {
				t.Errorf("refused: %v", err)
			}
			if !tt.ok && (err == nil || !strings.Contains(err.Error(), "nested deeper than 256")) {
				t.Errorf("err %v, want the nesting named", err)
			}
		})
	}
}

// TestReleaseKeepsThePayload: after Release the message still gives its payload, and its XML
// parsed again; a document a step set is not released, and a step's JSON value keeps its
// strings.
func TestReleaseKeepsThePayload(t *testing.T) {
	const doc = `<r xmlns="urn:x"><a k="v">one</a><b>two &amp; three</b></r>`
	text := func(m *Message) string {
		t.Helper()
		d, err := m.XML()
		if err != nil {
			t.Fatal(err)
		}
		for n := d.FirstChild; n != nil; n = n.NextSibling {
			if n.Type == xmlquery.ElementNode {
				return n.InnerText()
			}
		}
		t.Fatal("no root element")
		return ""
	}

	m := NewMessage("m", nil, []byte(doc))
	first := text(m)
	m.Release()
	m.Release() // once is enough; twice does no harm
	// Another message's tree is built in the memory released.
	other := NewMessage("o", nil, []byte(`<z><y>other</y><y>more</y><y>still</y></z>`))
	if got := text(other); got != "othermorestill" {
		t.Fatalf("other message: %q", got)
	}
	if got := text(m); got != first || got != "onetwo & three" {
		t.Errorf("after Release: %q, before %q", got, first)
	}
	if p, err := m.Payload(); err != nil || string(p) != doc {
		t.Errorf("payload after Release: %q, %v", p, err)
	}
	other.Release()

	// A document a step set is the payload until it is serialised: Release leaves it.
	set := NewMessage("s", nil, []byte(doc))
	d, err := set.XML()
	if err != nil {
		t.Fatal(err)
	}
	set.SetXML(d)
	set.Release()
	if p, err := set.Payload(); err != nil || !strings.Contains(string(p), "two &amp; three") {
		t.Errorf("payload of a set document after Release: %q, %v", p, err)
	}

	// Strings taken from the tree outlive its release.
	j := NewMessage("j", nil, []byte(doc))
	jd, err := j.XML()
	if err != nil {
		t.Fatal(err)
	}
	a, b := jd.SelectElement("r").SelectElement("a"), jd.SelectElement("r").SelectElement("b")
	kept := []string{a.FirstChild.Data, a.Attr[0].Value, b.FirstChild.Data}
	j.Release()
	reuse := NewMessage("x", nil, []byte(`<q>`+strings.Repeat(`<w v="yyyy">zzzzzzzzzzzzzz</w>`, 20)+`</q>`))
	text(reuse)
	if want := []string{"one", "v", "two & three"}; strings.Join(kept, "|") != strings.Join(want, "|") {
		t.Errorf("strings taken before Release: %q, want %q", kept, want)
	}
}
