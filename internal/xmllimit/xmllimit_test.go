package xmllimit

import (
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	small := Limits{MaxDepth: 3, MaxBytes: 200, MaxAttrs: 2, MaxName: 8, MaxText: 16, MaxElements: 10}
	for _, c := range []struct {
		name, doc string
		want      string // "" for accepted; "limit:" prefix for a limit error
	}{
		{"plain", `<a><b x="1"/>text</a>`, ""},
		{"prolog and epilog", "\ufeff<?xml version=\"1.0\"?>\n<!-- c --><a/>\n<!-- d --> <?p x?>\n", ""},
		{"depth at the limit", `<a><b><c/></b></a>`, ""},
		{"elements at the limit", `<a>` + strings.Repeat("<b/>", 9) + `</a>`, ""},
		{"too many elements", `<a>` + strings.Repeat("<b/>", 10) + `</a>`, "limit:element count exceeds the limit of 10 at line 1, column 40 (<b>)"},
		{"too deep", `<a><b><c><d/></c></b></a>`, "limit:element depth exceeds the limit of 3 at line 1, column 10 (<d>)"},
		{"too many attributes", `<a x="1" y="2" z="3"/>`, "limit:attribute count exceeds the limit of 2"},
		{"long name", `<abcdefghi/>`, "limit:name length exceeds the limit of 8"},
		{"long attribute name", `<a abcdefghi="1"/>`, "limit:name length exceeds the limit of 8"},
		{"long text", `<a>0123456789abcdefgh</a>`, "limit:text size exceeds the limit of 16"},
		{"long value", `<a x="0123456789abcdefgh"/>`, "limit:attribute value size exceeds the limit of 16"},
		{"long comment", `<a><!--0123456789abcdefgh--></a>`, "limit:comment size exceeds the limit of 16"},
		{"too large", `<a>` + strings.Repeat("<!---->", 30) + `</a>`, "limit:document size exceeds the limit of 200"},
		{"second root", "<a/>\n<b/>", "element after the root element at line 2, column 1 (<b>: a document has exactly one root element)"},
		{"text after root", `<a/>x`, "text after the root element at line 1, column 5"},
		{"text before root", `x<a/>`, "text before the root element"},
		{"doctype", `<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>`, "DOCTYPE or other declaration not allowed"},
		{"empty", ``, "no root element"},
		{"only a comment", `<!-- c -->`, "no root element"},
		{"malformed", `<a><b></a>`, "element <b> closed by </a>"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := Check([]byte(c.doc), small, nil)
			want, limit := strings.CutPrefix(c.want, "limit:")
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.want == "":
			case err == nil:
				t.Fatalf("accepted, want %q", c.want)
			case !strings.Contains(err.Error(), want):
				t.Fatalf("error %q, want %q", err, want)
			case errors.Is(err, ErrLimit) != limit:
				t.Fatalf("errors.Is(%v, ErrLimit) = %v", err, !limit)
			}
		})
	}
}

// TestDecoderAfterError checks that a refusal sticks: a caller that goes on reading does not get
// past it.
func TestDecoderAfterError(t *testing.T) {
	d := NewDecoder(strings.NewReader(`<a/><b/><c/>`), Limits{})
	var err error
	for range 5 {
		if _, err = d.Token(); err != nil {
			break
		}
	}
	if _, err2 := d.Token(); err2 != err || err == nil {
		t.Fatalf("first %v, then %v", err, err2)
	}
}

func TestDefaults(t *testing.T) {
	l := Limits{MaxDepth: 5}.WithDefaults()
	if l.MaxDepth != 5 || l.MaxBytes != Default.MaxBytes || l.MaxAttrs != Default.MaxAttrs || l.MaxName != Default.MaxName || l.MaxText != Default.MaxText || l.MaxElements != Default.MaxElements {
		t.Fatalf("%+v", l)
	}
}

// TestDecoderSize checks the size limit on a stream and on bytes in memory, which are read
// without counting when they fit.
func TestDecoderSize(t *testing.T) {
	doc := "<a>" + strings.Repeat("<b/>", 100) + "</a>"
	lim := Limits{MaxBytes: int64(len(doc))}
	for name, r := range map[string]func(string) io.Reader{
		"stream":    func(s string) io.Reader { return io.MultiReader(strings.NewReader(s)) },
		"in memory": func(s string) io.Reader { return strings.NewReader(s) },
	} {
		t.Run(name, func(t *testing.T) {
			if err := readAll(NewDecoder(r(doc), lim)); err != nil {
				t.Errorf("%d bytes at the limit: %v", len(doc), err)
			}
			err := readAll(NewDecoder(r(doc+" "), lim))
			if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), "document size exceeds the limit of 407") {
				t.Errorf("a byte over the limit: %v", err)
			}
		})
	}
}

func readAll(d *Decoder) error {
	for {
		if _, err := d.Token(); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

// TestSkipContent checks the offsets of skipped content against what encoding/xml's innerxml
// reads from the same document.
func TestSkipContent(t *testing.T) {
	for _, doc := range []string{
		`<r><in>text</in></r>`,
		`<r><in/></r>`,
		`<r><in></in></r>`,
		"\ufeff<?xml version=\"1.0\"?>\n<r x=\"1\"><in a=\"&lt;\"> <p:b xmlns:p=\"u\">x &amp; y<!-- c --></p:b><![CDATA[<z>]]> <in/></in></r>",
		`<r><skip><in>not this</in></skip><in>Ж<b/></in></r>`,
	} {
		var want struct {
			In []struct {
				XML string `xml:",innerxml"`
			} `xml:"in"`
		}
		if err := xml.Unmarshal([]byte(doc), &want); err != nil || len(want.In) == 0 {
			t.Fatalf("%q: %v", doc, err)
		}
		d := NewDecoder(strings.NewReader(doc), Limits{})
		var got []string
		for {
			tok, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%q: %v", doc, err)
			}
			se, ok := tok.(xml.StartElement)
			switch {
			case ok && se.Name.Local == "in":
				from, to, err := d.SkipContent()
				if err != nil {
					t.Fatalf("%q: %v", doc, err)
				}
				got = append(got, doc[from:to])
			case ok && se.Name.Local == "skip":
				if err := d.Skip(); err != nil {
					t.Fatalf("%q: %v", doc, err)
				}
			}
		}
		if len(got) != len(want.In) {
			t.Fatalf("%q: %q, want %d elements", doc, got, len(want.In))
		}
		for i, w := range want.In {
			if got[i] != w.XML {
				t.Errorf("%q: content %d is %q, want %q", doc, i, got[i], w.XML)
			}
		}
	}
	d := NewDecoder(strings.NewReader(`<r><a><b><c/></b></a></r>`), Limits{MaxDepth: 3})
	d.Token()
	d.Token()
	if _, _, err := d.SkipContent(); !errors.Is(err, ErrLimit) {
		t.Errorf("skipping past the depth limit: %v", err)
	}
}

// TestTokenDecoder checks that encoding/xml decodes from a Decoder, names in their namespaces,
// and that a refusal ends the decoding with the Decoder's error.
func TestTokenDecoder(t *testing.T) {
	type doc struct {
		XMLName xml.Name
		Items   []string `xml:"urn:i item"`
		Attr    string   `xml:"urn:a k,attr"`
	}
	var v doc
	in := `<r xmlns="urn:r" xmlns:i="urn:i" xmlns:a="urn:a" a:k="v"><i:item>1</i:item><item>no</item><x xmlns="urn:i"><item>no</item></x><i:item>2</i:item></r>`
	if err := xml.NewTokenDecoder(NewDecoder(strings.NewReader(in), Limits{})).Decode(&v); err != nil {
		t.Fatal(err)
	}
	if v.XMLName != (xml.Name{Space: "urn:r", Local: "r"}) || strings.Join(v.Items, ",") != "1,2" || v.Attr != "v" {
		t.Errorf("decoded %+v", v)
	}
	for _, in := range []string{`<r><a><b><c/></b></a></r>`, `<!DOCTYPE r><r/>`} {
		err := xml.NewTokenDecoder(NewDecoder(strings.NewReader(in), Limits{MaxDepth: 3})).Decode(&v)
		if le := (*Error)(nil); !errors.As(err, &le) {
			t.Errorf("%s: %v, want the Decoder's refusal", in, err)
		}
	}
}
