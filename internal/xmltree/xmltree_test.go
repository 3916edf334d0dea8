package xmltree

import (
	"bytes"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
	"unsafe"

	"github.com/antchfx/xmlquery"

	"github.com/aiskao/aiskao/internal/xmllimit"
)

// moduleRoot is the repository root, whose XML files make the differential corpus.
const moduleRoot = "../.."

// repoXMLFiles lists every .xml file of the repository outside hidden folders.
func repoXMLFiles(tb testing.TB) []string {
	tb.Helper()
	var files []string
	err := filepath.WalkDir(moduleRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != moduleRoot && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(d.Name(), ".xml") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("listing XML files: %v", err)
	}
	if len(files) == 0 {
		tb.Fatal("no XML files found in the repository")
	}
	return files
}

func TestRepositoryFiles(t *testing.T) {
	for _, path := range repoXMLFiles(t) {
		t.Run(strings.TrimPrefix(path, moduleRoot+"/"), func(t *testing.T) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			differential(t, b)
		})
	}
}

// TestFastPathTaken guards against a change that would quietly send the hub's messages
// back to xmlquery: the ESOED samples and the RegiX samples must not fall back.
func TestFastPathTaken(t *testing.T) {
	var paths []string
	for _, pattern := range []string{
		moduleRoot + "/testdata/esoed/*.xml",
		moduleRoot + "/transforms/xml/testdata/*.xml",
		moduleRoot + "/regix/registers/*/*.xml",
	} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, m...)
	}
	if len(paths) < 10 {
		t.Fatalf("found only %d sample messages", len(paths))
	}
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !utf8.Valid(b) {
			// Three published property-register samples are windows-1251 without a
			// declaration: not XML the hub accepts, refused by the register's client.
			continue
		}
		if _, ok := parseFast(b, xmllimit.Default, false); !ok {
			t.Errorf("%s: fell back to xmlquery", path)
		}
	}
}

// cases cover each construct the fast path handles (fast: true) and each reason it hands
// a document to xmlquery (fast: false); all must give xmlquery's result either way.
var cases = []struct {
	name  string
	input string
	fast  bool
}{
	// Documents the fast path builds.
	{"minimal", `<a/>`, true},
	{"declaration", `<?xml version="1.0"?><a/>`, true},
	{"declaration utf-8", `<?xml version="1.0" encoding="utf-8"?>` + "\n<a>x</a>\n", true},
	{"declaration UTF-8 standalone", `<?xml version='1.0' encoding='UTF-8' standalone='yes'?><a/>`, true},
	{"declaration Utf-8 spaces", `<?xml   version="1.0"   encoding="Utf-8"  ?><a/>`, true},
	{"declaration newline separated", "<?xml version=\"1.0\"\n\tencoding=\"utf-8\"\r\n?><a/>", true},
	{"declaration then whitespace and comments", "<?xml version=\"1.0\"?>\n<!-- c1 -->\n \t<!--c2--><a/>", true},
	{"whitespace and comments after root", "<a/>\n<!-- after -->\n\n<!---->  ", true},
	{"crlf after root", "<a/>\r\n\r\n", true},
	{"nested", "<a>\n  <b>1</b>\n  <c><d/></c>\n</a>", true},
	{"self-closing with space", `<a><b /><c	/></a>`, true},
	{"attributes both quotes", `<a x="1" y='2' z="it's" w='say "hi"'/>`, true},
	{"attributes without space between", `<a x="1"y="2"/>`, true},
	{"attribute spaces around =", "<a x = \"1\"\n y\t=\t'2'/>", true},
	{"attribute empty", `<a x=""/>`, true},
	{"attribute with > and ]]>", `<a x="a>b]]>c"/>`, true},
	{"attribute tab and newline kept", "<a x=\"1\t2\n3\"/>", true},
	{"attribute crlf", "<a x=\"1\r\n2\r3\"/>", true},
	{"duplicate attributes", `<a x="1" x="2"/>`, true},
	{"entities in text", `<a>&lt;&gt;&amp;&apos;&quot;</a>`, true},
	{"entities in attribute", `<a x="&lt;&amp;&quot;&#65;&#x42;"/>`, true},
	{"char refs", `<a>&#65;&#x41;&#xe9;&#1041;&#x1F600;&#0065;&#9;&#10;&#13;</a>`, true},
	{"char ref CR not normalized", "<a>&#13;\n&#xD;&#xA;</a>", true},
	{"crlf in text", "<a>\r\n  <b>x\ry\r\n</b>\r\n</a>\r\n", true},
	{"crlf and entity", "<a>\r&amp;\n&#13;\r\n</a>", true},
	{"cdata", `<a><![CDATA[<b>&amp;</b>]]></a>`, true},
	{"cdata empty", `<a><![CDATA[]]></a>`, true},
	{"cdata crlf", "<a><![CDATA[x\r\ny\rz]]></a>", true},
	{"cdata brackets", `<a><![CDATA[]]]]><![CDATA[>]]></a>`, true},
	{"cdata between text", `<a>x<![CDATA[y]]>z</a>`, true},
	{"comment", `<a><!-- x < y & z --></a>`, true},
	{"comment crlf raw", "<a><!--x\r\ny--></a>", true},
	{"comment dashes", `<a><!-- - --></a>`, true},
	{"comment empty", `<a><!----></a>`, true},
	{"text with ] and >", `<a>]>x]]y > z</a>`, true},
	{"text unicode", `<a>Столична община „Младост“ 😀</a>`, true},
	{"text nbsp and line separator", "<a>\u00a0\u2028\ufffd\ufeff</a>", true},
	{"whitespace only text", "<a> \t\n</a>", true},
	{"end tag with space", "<a></a \n>", true},
	{"names", `<_a.b-c X_1="1"><B9/></_a.b-c>`, true},
	{"prefixed", `<p:a xmlns:p="urn:p"><p:b p:x="1"/></p:a>`, true},
	{"default namespace", `<a xmlns="urn:d"><b/><c x="1"/></a>`, true},
	{"esoed like", `<?xml version="1.0" encoding="utf-8"?><Message xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns="http://schemas.egov.bg/messaging/v1"><Header xsi:nil="true"/></Message>`, true},
	{"redeclared prefix", `<p:a xmlns:p="urn:1"><p:b xmlns:p="urn:2"><p:c/></p:b><p:d/></p:a>`, true},
	{"same uri two prefixes", `<p:a xmlns:p="urn:x" xmlns:q="urn:x"><p:b/><q:c p:y="1" q:z="2"/></p:a>`, true},
	{"same uri later prefix", `<p:a xmlns:p="urn:x"><q:b xmlns:q="urn:x"/><p:c/></p:a>`, true},
	{"default and prefix same uri", `<a xmlns="urn:x" xmlns:p="urn:x"><p:b/><c/></a>`, true},
	{"prefix then default same uri", `<p:a xmlns:p="urn:x"><b xmlns="urn:x"><p:c/></b></p:a>`, true},
	{"default namespace reset", `<a xmlns="urn:1"><b xmlns="urn:2"><c/></b><d/></a>`, true},
	{"default deeper then shallower", `<r><a><b xmlns="urn:x"/></a><c xmlns="urn:x" xmlns:p="urn:x"><p:d/></c><e xmlns:p="urn:x"><f xmlns="urn:x"><p:g/></f></e></r>`, true},
	{"default redeclared at same level", `<r xmlns:p="urn:x"><a xmlns="urn:x"/><b xmlns="urn:x"><p:c/></b></r>`, true},
	{"default first shallow", `<r xmlns="urn:x"><a xmlns:p="urn:x"><p:b/></a><c xmlns="urn:x"><p:d xmlns:p="urn:x"/></c></r>`, true},
	{"default scope ends", `<r><a xmlns="urn:x"><b/></a><c/></r>`, true},
	{"prefix scope ends", `<r><a xmlns:p="urn:x"><p:b/></a><p:c xmlns:p="urn:y"/></r>`, true},
	{"duplicate declaration", `<p:a xmlns:p="urn:1" xmlns:p="urn:2"><p:b/></p:a>`, true},
	{"declaration after use on same element", `<p:a p:x="1" xmlns:p="urn:1"/>`, true},
	{"xml:lang", `<a xml:lang="bg"><xml:b xml:space="preserve"/></a>`, true},
	{"self-closing declares", `<r><p:a xmlns:p="urn:1"/><q:b xmlns:q="urn:2"/></r>`, true},
	{"deep nesting, at the depth limit", strings.Repeat("<a>", 256) + "x" + strings.Repeat("</a>", 256), true},
	{"wide", "<r>" + strings.Repeat("<a x='1'>t</a>\n", 300) + "</r>", true},

	// Documents handed to xmlquery.
	{"empty", ``, false},
	{"only whitespace", "  \n", false},
	{"only declaration", `<?xml version="1.0"?>`, false},
	{"only comment", `<!-- x -->`, false},
	{"bom", "\ufeff<a/>", true},
	{"bom and declaration", "\ufeff<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<a/>", true},
	{"bom and whitespace", "\ufeff <a/>", false},
	{"bom and comment", "\ufeff<!-- c --><a/>", false},
	{"bom twice", "\ufeff\ufeff<a/>", false},
	{"bom alone", "\ufeff", false},
	{"bom in text", "<a>\ufeff</a>", true},
	{"invalid utf-8", "<a>\xff</a>", false},
	{"invalid utf-8 in comment", "<a><!--\xc3--></a>", false},
	{"control character", "<a>\x01</a>", false},
	{"nul in attribute", "<a x=\"\x00\"/>", false},
	{"control in comment", "<a><!--\x1b--></a>", false},
	{"U+FFFE", "<a>\ufffe</a>", false},
	{"U+FFFF in attribute", "<a x=\"\uffff\"/>", false},
	{"U+FFFF in cdata", "<a><![CDATA[\uffff]]></a>", false},
	{"doctype", `<?xml version="1.0"?><!DOCTYPE a><a/>`, false},
	{"doctype with entity", `<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>`, false},
	{"directive inside", `<a><!ELEMENT b></a>`, false},
	{"processing instruction", `<a><?pi data?></a>`, false},
	{"processing instruction before root", `<?xml version="1.0"?><?xml-stylesheet href="a"?><a/>`, false},
	{"processing instruction after root", `<a/><?pi?>`, false},
	{"declaration not at start", ` <?xml version="1.0"?><a/>`, false},
	{"declaration twice", `<?xml version="1.0"?><?xml version="1.0"?><a/>`, false},
	{"declaration uppercase target", `<?XML version="1.0"?><a/>`, false},
	{"declaration version 1.1", `<?xml version="1.1"?><a/>`, false},
	{"declaration no version", `<?xml encoding="utf-8"?><a/>`, false},
	{"declaration latin1", `<?xml version="1.0" encoding="ISO-8859-1"?><a>x</a>`, false},
	{"declaration windows-1251", `<?xml version="1.0" encoding="windows-1251"?><a/>`, false},
	{"declaration bogus encoding", `<?xml version="1.0" encoding="bogus"?><a/>`, false},
	{"declaration unclosed", `<?xml version="1.0"`, false},
	{"declaration odd", `<?xml version = "1.0"?><a/>`, false},
	{"declaration no space", `<?xmlversion="1.0"?><a/>`, false},
	{"declaration empty", `<?xml ?><a/>`, false},
	{"whitespace before root", " <a/>", false},
	{"comment before root", `<!-- c --><a/>`, false},
	{"text before root", `x<a/>`, false},
	{"text before root after declaration", `<?xml version="1.0"?>x<a/>`, false},
	{"cdata before root", `<?xml version="1.0"?><![CDATA[x]]><a/>`, false},
	{"text after root", `<a/>x`, false},
	{"entity after root", `<a/>&amp;`, false},
	{"cdata after root", `<a/><![CDATA[x]]>`, false},
	{"second root", `<a/><b/>`, false},
	{"second root after whitespace", "<a></a>\n<b/>", false},
	{"unclosed", `<a><b></b>`, false},
	{"unclosed start tag", `<a`, false},
	{"unclosed attribute", `<a x="1`, false},
	{"mismatched end", `<a></b>`, false},
	{"mismatched prefix", `<p:a xmlns:p="urn:x" xmlns:q="urn:x"></q:a>`, false},
	{"end tag prefix missing", `<p:a xmlns:p="urn:x"></a>`, false},
	{"end without start", `</a>`, false},
	{"stray end", `<a></a></a>`, false},
	{"end tag garbage", `<a></a x>`, false},
	{"self-closing slash space", `<a/ >`, false},
	{"bad entity", `<a>&foo;</a>`, false},
	{"entity no semicolon", `<a>&amp</a>`, false},
	{"bare ampersand", `<a>a & b</a>`, false},
	{"char ref NUL", `<a>&#0;</a>`, false},
	{"char ref control", `<a>&#1;</a>`, false},
	{"char ref surrogate", `<a>&#xD800;</a>`, false},
	{"char ref FFFE", `<a>&#xFFFE;</a>`, false},
	{"char ref too big", `<a>&#x110000;</a>`, false},
	{"char ref huge", `<a>&#99999999999999999999999;</a>`, false},
	{"char ref uppercase X", `<a>&#X41;</a>`, false},
	{"char ref empty", `<a>&#;</a>`, false},
	{"char ref hex empty", `<a>&#x;</a>`, false},
	{"char ref bad digit", `<a>&#12a;</a>`, false},
	{"bad entity in attribute", `<a x="&nbsp;"/>`, false},
	{"lt in attribute", `<a x="<"/>`, false},
	{"unquoted attribute", `<a x=1/>`, false},
	{"attribute without value", `<a x/>`, false},
	{"attribute without =", `<a x "1"/>`, false},
	{"cdata end in text", `<a>x]]>y</a>`, false},
	{"text like cdata", `<a>![CDATA[x</a>`, false},
	{"text like cdata lowercase", `<a>![cdata[x</a>`, false},
	{"text starting with ![", `<a>![x</a>`, false},
	{"cdata unclosed", `<a><![CDATA[x</a>`, false},
	{"cdata lowercase", `<a><![cdata[x]]></a>`, false},
	{"comment with --", `<a><!-- a -- b --></a>`, false},
	{"comment ending --->", `<a><!-- a ---></a>`, false},
	{"comment unclosed", `<a><!-- a </a>`, false},
	{"comment bad start", `<a><!- a --></a>`, false},
	{"unbound element prefix", `<p:a/>`, false},
	{"unbound attribute prefix", `<a p:x="1"/>`, false},
	{"prefix out of scope", `<r><a xmlns:p="urn:x"/><p:b/></r>`, false},
	{"empty default namespace", `<a xmlns="urn:x"><b xmlns=""/></a>`, false},
	{"empty prefixed namespace", `<a xmlns:p=""/>`, false},
	{"namespace without colon", `<a xmlns="x"/>`, false},
	{"namespace named xmlns", `<a xmlns:p="xmlns"><p:b/></a>`, false},
	{"bind xml prefix", `<a xmlns:xml="http://www.w3.org/XML/1998/namespace"/>`, false},
	{"bind xmlns prefix", `<a xmlns:xmlns="urn:x"/>`, false},
	{"xml namespace other prefix", `<a xmlns:p="http://www.w3.org/XML/1998/namespace"/>`, false},
	{"xml namespace default", `<a xmlns="http://www.w3.org/XML/1998/namespace"/>`, false},
	{"prefixed xmlns attribute", `<a xmlns:p="urn:x" p:xmlns="urn:y"/>`, false},
	{"element named xmlns", `<xmlns/>`, false},
	{"element prefixed xmlns", `<xmlns:a/>`, false},
	{"latin-1 name", `<ä xmlns:é="urn:x"><é:ÿÀ ø="1" é:Ö="2"/></ä>`, true},
	{"cyrillic name", `<DLCategоries><Категория Вид="1" xmlns:п="urn:x"><п:Ёя/></Категория></DLCategоries>`, true},
	{"other script name", `<α/>`, false},
	{"other script in name", `<aα/>`, false},
	{"multiplication sign in name", "<a\u00d7/>", false},
	{"combining mark in name", "<a\u0301/>", false},
	{"cyrillic outside the table", "<\u0400/>", false},
	{"non-ascii after end name", "<a></aé>", false},
	{"name with two colons", `<a:b:c/>`, false},
	{"name ending with colon", `<a:/>`, false},
	{"name starting with colon", `<:a/>`, false},
	{"name starting with digit", `<1a/>`, false},
	{"local name starting with digit", `<p:1a xmlns:p="urn:x"/>`, false},
	{"space after <", `< a/>`, false},
	{"too deep", strings.Repeat("<a>", 600) + strings.Repeat("</a>", 600), false},
	{"long name", "<" + strings.Repeat("n", 300) + "/>", false},
	{"lone <", `<a><</a>`, false},
	{"trailing <", `<a/><`, false},
}

func TestCases(t *testing.T) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			differential(t, []byte(c.input))
			if _, ok := parseFast([]byte(c.input), xmllimit.Default, false); ok != c.fast {
				t.Errorf("fast path taken: %v, want %v", ok, c.fast)
			}
		})
	}
}

// TestVeryDeep checks that a document far deeper than the limit is refused, and that
// under a limit raised above it, it parses like xmlquery's, with no recursion on either side.
func TestVeryDeep(t *testing.T) {
	const depth = 100000
	doc := []byte(strings.Repeat("<a>", depth) + strings.Repeat("</a>", depth))
	if _, err := Parse(doc); !errors.Is(err, xmllimit.ErrLimit) || !strings.Contains(err.Error(), "element depth exceeds the limit of 256 at line 1, column 769") {
		t.Fatalf("error %v, want the depth limit at line 1, column 769", err)
	}
	differentialWith(t, doc, xmllimit.Limits{MaxDepth: depth})
}

// TestRefused is finding 5 of issue 17 and the limits: documents xmlquery takes but the hub
// must not. A second root element used to be dropped from the tree without a word.
func TestRefused(t *testing.T) {
	small := xmllimit.Limits{MaxDepth: 3, MaxAttrs: 2, MaxName: 8, MaxText: 16, MaxBytes: 4096, MaxElements: 100}
	for _, c := range []struct {
		name, doc string
		lim       xmllimit.Limits
		want      string
	}{
		{"second root", "<a>1</a>\n<a>2</a>", xmllimit.Limits{}, "element after the root element at line 2, column 1"},
		{"second root after a comment", "<a/><!-- c --><b/>", xmllimit.Limits{}, "element after the root element"},
		{"text after the root", "<a/>x", xmllimit.Limits{}, "text after the root element"},
		{"text before the root", "x<a/>", xmllimit.Limits{}, "text before the root element"},
		{"DOCTYPE", `<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>`, xmllimit.Limits{}, "DOCTYPE"},
		{"depth", "<a><b><c><d/></c></b></a>", small, "element depth exceeds the limit of 3"},
		{"attributes", `<a x="1" y="2" z="3"/>`, small, "attribute count exceeds the limit of 2"},
		{"name", `<abcdefghi/>`, small, "name length exceeds the limit of 8"},
		{"attribute name", `<a abcdefghi="1"/>`, small, "name length exceeds the limit of 8"},
		{"text", `<a>0123456789abcdefgh</a>`, small, "text size exceeds the limit of 16"},
		{"text with entities", `<a>0123456789&amp;abcdefgh</a>`, small, "text size exceeds the limit of 16"},
		{"cdata", `<a><![CDATA[0123456789abcdefgh]]></a>`, small, "text size exceeds the limit of 16"},
		{"attribute value", `<a x="0123456789abcdefgh"/>`, small, "attribute value size exceeds the limit of 16"},
		{"comment", `<a><!--0123456789abcdefgh--></a>`, small, "comment size exceeds the limit of 16"},
		{"size", "<a>" + strings.Repeat("<!---->", 600) + "</a>", small, "document size exceeds the limit of 4096"},
		{"elements", "<a>" + strings.Repeat("<b/>", 100) + "</a>", small, "element count exceeds the limit of 100 at line 1, column 400 (<b>)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := ParseWith([]byte(c.doc), c.lim); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
			differentialWith(t, []byte(c.doc), c.lim)
		})
	}
}

// TestAttrAppendIsolated checks that attributes share one array without an append to
// one element's attributes reaching the next element's.
func TestAttrAppendIsolated(t *testing.T) {
	doc, err := Parse([]byte(`<r><a x="1"/><b y="2"/></r>`))
	if err != nil {
		t.Fatal(err)
	}
	a := doc.LastChild.FirstChild
	b := a.NextSibling
	a.Attr = append(a.Attr, a.Attr[0])
	a.Attr[1].Value = "changed"
	if b.Attr[0].Name.Local != "y" || b.Attr[0].Value != "2" {
		t.Fatalf("appending to <a>'s attributes changed <b>'s: %+v", b.Attr)
	}
}

// TestParserReuse checks that a pooled parser carries nothing over from one document to
// the next, whether the previous one succeeded or fell back half way.
func TestParserReuse(t *testing.T) {
	docs := []string{
		`<p:a xmlns:p="urn:1" xmlns="urn:d"><p:b/><c/></p:a>`,
		`<p:a xmlns:p="urn:1"><b xmlns="urn:2"><p:c x="&amp;"/></b>`,
		`<a><b/></a>`,
		`<q:a xmlns:q="urn:1"><b/></q:a>`,
		"<a>\r\n&lt;</a>",
	}
	for range 3 {
		for _, d := range docs {
			differential(t, []byte(d))
		}
	}
}

// TestConcurrent parses from several goroutines at once: the pooled parsers must not
// share state between documents.
func TestConcurrent(t *testing.T) {
	var inputs [][]byte
	for _, path := range repoXMLFiles(t) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, b)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 3 * len(inputs) {
				in := inputs[(k+g*7)%len(inputs)]
				want, wantErr := xmlquery.Parse(bytes.NewReader(in))
				got, gotErr := Parse(in)
				if (wantErr == nil) != (gotErr == nil) {
					t.Errorf("error %v, xmlquery's %v", gotErr, wantErr)
					return
				}
				if wantErr == nil {
					if d := diffTrees(want, got); d != "" {
						t.Errorf("tree differs: %s", d)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

// TestManyTagsFewElements: a document with more '<' than the element limit but not more
// elements leaves the fast path and is still parsed, like xmlquery's.
func TestManyTagsFewElements(t *testing.T) {
	lim := xmllimit.Limits{MaxElements: 100}
	doc := []byte("<a>" + strings.Repeat("<b></b><!---->", 60) + "</a>")
	if _, ok := parseFast(doc, lim.WithDefaults(), false); ok {
		t.Error("fast path taken")
	}
	differentialWith(t, doc, lim)
	if _, err := ParseWith(doc, lim); err != nil {
		t.Fatal(err)
	}
}

// TestParseSharedKeepsOneCopy: a document with a large text is held once, its text node a
// substring of the caller's bytes, where ParseWith copies the document.
func TestParseSharedKeepsOneCopy(t *testing.T) {
	big := strings.Repeat("QUJD", 64<<10) // 256 KiB of base64
	// An entity before the attachment is decoded into a buffer of its text's size, not of all
	// that follows it.
	doc := []byte(`<m xmlns="urn:x"><Title>A &amp; B</Title><Att name="a.pdf"><Body>` + big + `</Body></Att></m>`)
	bodyOf := func(root *xmlquery.Node) string {
		n := xmlquery.FindOne(root, "//*[local-name()='Body']")
		if n == nil || n.FirstChild == nil {
			t.Fatal("no Body text")
		}
		return n.FirstChild.Data
	}
	within := func(s string) bool {
		p, b := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(&doc[0]))
		return p >= b && p < b+uintptr(len(doc))
	}
	shared, err := ParseShared(doc, xmllimit.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if s := bodyOf(shared); s != big || !within(s) {
		t.Errorf("ParseShared: the text is not the caller's bytes (equal: %v)", s == big)
	}
	copied, err := ParseWith(doc, xmllimit.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if s := bodyOf(copied); s != big || within(s) {
		t.Errorf("ParseWith: the text shares the caller's bytes (equal: %v)", s == big)
	}
	sharedBytes := allocatedBy(func() { _, _ = ParseShared(doc, xmllimit.Limits{}) })
	copiedBytes := allocatedBy(func() { _, _ = ParseWith(doc, xmllimit.Limits{}) })
	if sharedBytes > uint64(len(doc))/8 || copiedBytes < uint64(len(doc)) {
		t.Errorf("allocated %d bytes sharing and %d copying a %d-byte document", sharedBytes, copiedBytes, len(doc))
	}
}

// allocatedBy returns the bytes fn allocates, the least of three runs.
func allocatedBy(fn func()) uint64 {
	least := uint64(math.MaxUint64)
	for range 3 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		fn()
		runtime.ReadMemStats(&after)
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	return least
}
