package xmltree

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/aiskao/aiskao/internal/xmlgen"
	"github.com/aiskao/aiskao/internal/xmllimit"
)

// FuzzParse checks Parse against xmlquery.Parse on arbitrary input: the same error, or
// the same tree node for node. Seeds are the repository's XML files and the case table.
func FuzzParse(f *testing.F) {
	for _, path := range repoXMLFiles(f) {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, c := range cases {
		f.Add([]byte(c.input))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		differential(t, b)
	})
}

// FuzzNamespaces runs the same property on documents generated from the fuzz input: mostly
// well-formed, with prefixes and default namespaces declared, redeclared and reused at
// every depth, so that the fast path's namespace handling is explored rather than its
// fallbacks.
func FuzzNamespaces(f *testing.F) {
	f.Add([]byte{0, 0x41, 0x07, 0x10, 0x80, 0x02, 0x03, 0x02})
	f.Add([]byte{1, 0x08, 0x05, 0x00, 0x11, 0x40, 0x06, 0x22, 0x02, 0x02})
	f.Add([]byte{2, 0x00, 0x0c, 0x01, 0x19, 0x21, 0x04, 0x05, 0x13, 0x02, 0x07, 0x02})
	f.Fuzz(func(t *testing.T, b []byte) {
		differential(t, generate(b))
	})
}

var (
	genPrefixes = []string{"", "p:", "q:", "r:", "xml:", ""}
	genLocals   = []string{"a", "b", "Док"}
	genAttrs    = []string{
		` xmlns="urn:1"`, ` xmlns="urn:2"`, ` xmlns:p="urn:1"`, ` xmlns:p="urn:2"`,
		` xmlns:q="urn:1"`, ` xmlns:r='urn:3'`, ` p:x="1"`, ` x="&amp;&#x41;"`,
		` xml:lang="bg"`, ` q:y='2'`, ` r:z="3"`, ` xmlns:q="urn:3"`,
	}
	genTexts = []string{
		"t", " \n ", "\r\n", "&lt;&#13;", "]]", "x&quot;y", "Текст", "\t",
	}
)

// generate turns fuzz bytes into a document: the first byte picks the prolog, each
// following byte an event (open, close, text, comment, CDATA, empty element) and, for
// elements, the next bytes the name and attributes.
func generate(b []byte) []byte {
	var out bytes.Buffer
	next := func() byte {
		if len(b) == 0 {
			return 0
		}
		c := b[0]
		b = b[1:]
		return c
	}
	switch next() % 4 {
	case 1:
		out.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	case 2:
		out.WriteString("\ufeff")
	case 3:
		out.WriteString("<?xml version='1.0'?><!-- p -->\r\n")
	}
	var open []string
	element := func(empty bool) {
		c := next()
		name := genPrefixes[int(c)%len(genPrefixes)] + genLocals[int(c>>4)%len(genLocals)]
		out.WriteString("<" + name)
		for mask, i := uint16(next())|uint16(next())<<8, 0; mask != 0; mask, i = mask>>1, i+1 {
			if mask&1 != 0 && i < len(genAttrs) {
				out.WriteString(genAttrs[i])
			}
		}
		if empty {
			out.WriteString("/>")
			return
		}
		out.WriteString(">")
		open = append(open, name)
	}
	element(false)
	for len(b) > 0 && len(open) > 0 {
		c := next()
		switch c % 8 {
		case 0, 1:
			element(false)
		case 2:
			out.WriteString("</" + open[len(open)-1] + ">")
			open = open[:len(open)-1]
		case 3, 4:
			out.WriteString(genTexts[int(c>>3)%len(genTexts)])
		case 5:
			out.WriteString("<!--c\r\n-->")
		case 6:
			out.WriteString("<![CDATA[d]]\r>]]>")
		case 7:
			element(true)
		}
	}
	for len(open) > 0 {
		out.WriteString("</" + open[len(open)-1] + ">")
		open = open[:len(open)-1]
	}
	out.WriteString("\n<!-- e -->")
	return out.Bytes()
}

// FuzzShapes parses generated documents of every shape up to 20,000 deep, 64 wide and 400
// attributes an element, with flaws (a DOCTYPE, a second root, text after the root): Parse must
// refuse what xmllimit refuses, build xmlquery's tree for the rest, and allocate at most a
// small multiple of the document's size on either path.
func FuzzShapes(f *testing.F) {
	xmlgen.AddSeeds(f)
	f.Fuzz(func(t *testing.T, depth, width, attrs uint16, seed uint64) {
		s := xmlgen.Fuzzed(depth, width, attrs, seed).Bounded(20000)
		d := xmlgen.Generate(s)
		var err error
		n := xmlgen.Allocated(func() { _, err = Parse(d.XML) })
		want := d.Want(xmllimit.Default.MaxDepth, xmllimit.Default.MaxAttrs)
		if (err == nil) != (want == xmlgen.Accept) || want == xmlgen.RefuseLimit && !errors.Is(err, xmllimit.ErrLimit) {
			t.Fatalf("%+v: error %v, want outcome %d", s, err, want)
		}
		// A tree takes a node of about 170 bytes for each element, text and attribute.
		if limit := uint64(64*len(d.XML) + 1<<20); n > limit {
			t.Errorf("%+v: %d bytes allocated for %d bytes of XML, want at most %d", s, n, len(d.XML), limit)
		}
		differential(t, d.XML)
	})
}
