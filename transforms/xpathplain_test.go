package transforms

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/antchfx/xmlquery"
	"github.com/antchfx/xpath"

	"github.com/aiskao/aiskao/internal/xmltree"
)

// plainNS declares the prefixes of the tests: m is ЕСОЕД's namespace, x and y two prefixes of one
// URI, e a prefix of no namespace at all.
var plainNS = map[string]string{
	"m":  "http://schemas.egov.bg/messaging/v1",
	"ds": "http://www.w3.org/2000/09/xmldsig#",
	"x":  "urn:x",
	"y":  "urn:x",
	"p":  "urn:p",
	"e":  "",
}

// demoFields are the expressions of the demo's esoed-inbox route.
var demoFields = []string{
	"/m:Message/m:Header/m:MessageGUID",
	"/m:Message/m:Header/m:MessageType",
	"/m:Message/m:Header/m:Sender/m:Identifier",
	"(/m:Message/m:Body//m:DocID/m:DocumentNumber/m:DocNumber)[1]",
	"/m:Message/m:Body//m:DocKind",
}

// plainExprs are plain location paths, each compared with the library over every document.
var plainExprs = append([]string{
	"/r", "/r/a", "/r/a/b", "//a", "//b", "//c", "/r//c", "/r/*", "/*", "//*", "/*/*", "//*/a", "/r/*/c",
	// Nested elements of one name: the library gives the c of the outer b first, although the c
	// of the nested b comes first in the document; the walk must too.
	"//b/c", "(//b/c)[1]", "//b//c", "/r//b/c", "//a//a", "//a/a", "//a//a//b", "//a/a/b",
	"(//c)[1]", "(/r/a)[1]", "(//*)[1]",
	// Namespaces: a prefixed name matches by URI whatever prefix the document uses; an unprefixed
	// one matches the elements xmlquery records without a prefix (a default namespace's).
	"/x:r/x:a", "/y:r/y:a", "//x:a", "//y:c", "//p:a", "//e:a", "//e:r", "/e:r/e:a", "/R/A", "//A", "//x:A",
	"/Message/Header/MessageType", "//DocRegStatus", "//Signature", "//m:DocNumber", "//ds:SignatureValue",
	"//ds:Signature//ds:DigestValue", "/m:Message/m:Body/*", "//m:Body//*",
	// Processing instructions are elements to the library's navigator.
	"//pi", "/pi", "//inner", "/r/inner",
	// Names the library's scanner reads as one token.
	"//and", "/div", "//or/mod", "//text", "//node", "//a-b", "//a.b", "//a_1", "//Име", "//Ünïcödé", "//m:DocID",
}, demoFields...)

// plainDocs are small documents with what makes the walk go wrong when it is not careful.
var plainDocs = map[string]string{
	"nested": `<r><b><x><b><c>inner</c></b></x><c>outer</c></b><a><a><b>deep</b></a><b>shallow</b></a></r>`,
	"indented": `<?xml version="1.0" encoding="UTF-8"?>
<r>
  <a>
    <b>one</b>
  </a>
  <a><b>two</b><c>three</c></a>
</r>
`,
	"mixed":                    `<r><a>one<!--c-->two<![CDATA[three]]><b>four<c>five</c></b></a><a><!--only a comment--></a><a>  </a><a/></r>`,
	"cdata":                    `<r><a><![CDATA[<not markup>]]></a><c><!--x--><![CDATA[]]>t</c></r>`,
	"entities":                 `<r><a>a &amp; b &lt; c</a><c>&#1048;&#x43c;</c></r>`,
	"prefixed":                 `<x:r xmlns:x="urn:x"><x:a>1</x:a><x:a><x:c>2</x:c></x:a></x:r>`,
	"default":                  `<r xmlns="urn:x"><a>1</a><a><c>2</c></a><inner xmlns="urn:p"><a>3</a></inner></r>`,
	"two names":                `<x:r xmlns:x="urn:x" xmlns:y="urn:x"><x:a>x</x:a><y:a>y</y:a><y:c><x:c>xc</x:c></y:c></x:r>`,
	"redeclared":               `<r xmlns:x="urn:x"><x:a>1</x:a><s xmlns:x="urn:p"><x:a>2</x:a></s><x:a xmlns:x="urn:x">3</x:a></r>`,
	"spaces":                   `<r xmlns:p="urn:p" xmlns:x="urn:x"><p:a>P</p:a><x:a>X</x:a><a>none</a><A xmlns="urn:x">default</A></r>`,
	"no namespace and default": `<R><A>1</A><Inner xmlns="urn:x"><A>2</A></Inner></R>`,
	"pi":                       `<?xml version="1.0"?><?pi top?><r><?inner x="1"?><a>1</a><?pi inside?></r><?pi after?>`,
	"pi first":                 `<?pi top?><r><a>1</a></r>`,
	"comment before root":      `<!--c--><r><a>x</a></r><!--d-->`,
	"declaration comment":      `<?xml version="1.0"?><!--c--><r><a>x</a></r>`,
	"bom":                      "\ufeff<r><a>bom</a></r>",
	"names": `<r><and>1</and><div>2</div><or><mod>3</mod></or><text>4</text><node>5</node><a-b>6</a-b><a.b>7</a.b>` +
		`<a_1>8</a_1><Име>9</Име><Ünïcödé>10</Ünïcödé></r>`,
	"empty":      `<r/>`,
	"div":        `<div><and>1</and><mod/></div>`,
	"deep same":  `<a><a><a><a><b>4</b></a><b>3</b></a></a><b>1</b></a>`,
	"inner only": `<r><a><c/><a><b>in</b></a></a><a><b>after</b></a></r>`,
	"siblings":   `<r><a><b>1</b></a><a><b>2</b><b>3</b></a><c><b>4</b></c></r>`,
}

// demoSample is the ЕСОЕД sample parsed, with the demo's fields compiled.
func demoSample(t testing.TB) (*xmlquery.Node, []*XPath) {
	t.Helper()
	b, err := os.ReadFile("../testdata/esoed/registration-request.xml")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := NewMessage("1", nil, b).XML()
	if err != nil {
		t.Fatal(err)
	}
	var xs []*XPath
	for _, src := range demoFields {
		x, err := CompileXPath(src, plainNS)
		if err != nil {
			t.Fatal(err)
		}
		xs = append(xs, x)
	}
	return doc, xs
}

// plainFiles are the ЕСОЕД and RegiX samples of the repository.
func plainFiles(t testing.TB) map[string]string {
	t.Helper()
	docs := map[string]string{}
	for _, pattern := range []string{"../testdata/esoed/*.xml", "xml/testdata/*.xml", "../configs/tests/input/*.xml"} {
		names, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			b, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			docs[name] = string(b)
		}
	}
	if len(docs) < 5 {
		t.Fatalf("found %d sample documents", len(docs))
	}
	return docs
}

// parsedTrees returns the document as the hub parses it and as xmlquery.Parse does, when they
// parse it.
func parsedTrees(doc string) map[string]*xmlquery.Node {
	trees := map[string]*xmlquery.Node{}
	if n, err := NewMessage("1", nil, []byte(doc)).XML(); err == nil {
		trees["hub"] = n
	}
	if n, err := xmlquery.Parse(strings.NewReader(doc)); err == nil {
		trees["xmlquery"] = n
	}
	return trees
}

// libraryFirst is what the library selects first, and its string value.
func libraryFirst(t testing.TB, x *XPath, doc *xmlquery.Node) (*xmlquery.Node, string) {
	t.Helper()
	it, ok := x.Evaluate(doc).(*xpath.NodeIterator)
	if !ok {
		t.Fatalf("%s: not a node set", x)
	}
	if !it.MoveNext() {
		return nil, ""
	}
	nav := it.Current().(*xmlquery.NodeNavigator)
	return nav.Current(), nav.Value()
}

// checkFirst compares First with the library over doc.
func checkFirst(t testing.TB, x *XPath, doc *xmlquery.Node, where string) {
	t.Helper()
	want, wantValue := libraryFirst(t, x, doc)
	got, ok := x.First(doc)
	if !ok {
		t.Fatalf("%s: %s is not taken as plain", where, x)
	}
	if got != want {
		t.Fatalf("%s: %s: walk gives %s, library %s", where, x, describe(got), describe(want))
	}
	if got != nil {
		if v := NodeValue(got); v != wantValue {
			t.Fatalf("%s: %s: walk's value %q, library's %q", where, x, v, wantValue)
		}
	}
}

func describe(n *xmlquery.Node) string {
	if n == nil {
		return "nothing"
	}
	return "<" + n.Data + "> " + strings.TrimSpace(n.InnerText())
}

// TestXPathFirstMatchesLibrary: for every plain expression and document, First selects the node
// the library selects first, and NodeValue gives the library's value for it.
func TestXPathFirstMatchesLibrary(t *testing.T) {
	docs := plainFiles(t)
	for name, doc := range plainDocs {
		docs[name] = doc
	}
	found := map[string]bool{}
	for _, src := range plainExprs {
		x, err := CompileXPath(src, plainNS)
		if err != nil {
			t.Fatal(err)
		}
		if !x.Plain() {
			t.Fatalf("%s is not taken as plain", src)
		}
		for name, doc := range docs {
			trees := parsedTrees(doc)
			if len(trees) == 0 {
				t.Fatalf("%s does not parse", name)
			}
			for parser, tree := range trees {
				checkFirst(t, x, tree, name+" ("+parser+")")
				if n, _ := x.First(tree); n != nil {
					found[src] = true
				}
			}
		}
	}
	// Every expression selects something somewhere, so that each comparison of a value counts.
	for _, src := range plainExprs {
		if !found[src] {
			t.Errorf("%s selects nothing in any document", src)
		}
	}
}

// TestXPathFirstOrder pins the library's order that the walk follows, which is not document
// order when elements of one name nest.
func TestXPathFirstOrder(t *testing.T) {
	doc := parsedTrees(plainDocs["nested"])["hub"]
	for src, want := range map[string]string{
		"//b/c":      "outer",
		"(//b/c)[1]": "outer",
		"//b//c":     "inner",
		"//c":        "inner",
		"//a/b":      "shallow",
		"//a//b":     "deep",
	} {
		x, err := CompileXPath(src, nil)
		if err != nil {
			t.Fatal(err)
		}
		n, ok := x.First(doc)
		if !ok || n == nil || NodeValue(n) != want {
			t.Errorf("%s gives %s, want %s", src, describe(n), want)
		}
		checkFirst(t, x, doc, "nested")
	}
}

// TestXPathNotPlain: expressions other than plain location paths are left to the library.
func TestXPathNotPlain(t *testing.T) {
	for _, src := range []string{
		"/r/a[1]", "//a[@x]", "//a[b]", "/r/@x", "//@x", "//text()", "/r/a/text()", "//node()", "//comment()",
		"/r/processing-instruction()", "count(//a)", "string(//a)", "boolean(/r)", "//a | //b", "/r/a = 'x'",
		"r", "r/a", "a//b", "./r", ".//a", "../r", "/r/..", "/r/.", "/", "/r/child::a", "/child::r",
		"/descendant::a", "//a/self::a", "/r/a/following-sibling::b", "//a/parent::r", "//x:*", "/r/*[1]",
		"(//a)[2]", "(//a)[last()]", "((//a))[1]", "(//a)", "(//a)[1]/b", "(//a)[1][1]", "(//a)[ 1]",
		"(//a) [1]", "(//a)[1] | (//b)[1]", "/r/ a", " /r", "/r ", "/ r", "/r /a", "/x :a", "/x: a",
		"//a/b//c", "/r//a/b//c", "//a/b/c//d", "/r/a//b/c//d", "//1a", "//-a", "//.a", "//a·b", "//日本",
		"//a:b:c", "/r/a*", "/*a", "//*:a", "/r/a/", "/r//", "///a", "//a//", "$x", "/r/a[1]/b", "/r/a()",
		"/r/and a", "-/r", "/r/a + 1", "//a,//b",
		"/" + strings.Repeat("/a", maxPlainSteps+1)[1:],
	} {
		x, err := CompileXPath(src, plainNS)
		if err != nil {
			continue // the library refuses it: nothing to evaluate
		}
		if x.Plain() {
			t.Errorf("%q is taken as plain", src)
		}
		if _, ok := x.First(nil); ok {
			t.Errorf("%q: First answers", src)
		}
	}
}

// TestXPathPlainNameLetters: every letter the walk accepts in a name is one the library reads
// as part of the name, so that a path with it selects the same element both ways.
func TestXPathPlainNameLetters(t *testing.T) {
	for r := rune(0x80); r < 0x500; r++ {
		if !xmltree.NameLetter(r) {
			continue
		}
		name := string(r) + "a" + string(r)
		src := "/r/" + name + "//" + string(r)
		x, err := CompileXPath(src, nil)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if !x.Plain() {
			t.Fatalf("%s is not taken as plain", src)
		}
		doc := "<r><" + name + "><" + string(r) + ">v</" + string(r) + "></" + name + "></r>"
		trees := parsedTrees(doc)
		if len(trees) != 2 {
			t.Fatalf("%s does not parse", doc)
		}
		for parser, tree := range trees {
			checkFirst(t, x, tree, parser)
			if n, _ := x.First(tree); n == nil {
				t.Fatalf("%s selects nothing in %s", src, doc)
			}
		}
	}
}

// TestXPathConditionPlain: an xpath condition over a plain path holds as the library's node set
// says.
func TestXPathConditionPlain(t *testing.T) {
	for _, tt := range []struct {
		xp   string
		want bool
	}{
		{"/x:r/x:a", true}, {"/x:r/x:b", false}, {"//y:c", true}, {"(//x:a)[1]", true}, {"/r", false},
	} {
		c, err := NewCondition(tt.xp, "", plainNS)
		if err != nil {
			t.Fatal(err)
		}
		if !c.(xpathCondition).x.Plain() {
			t.Fatalf("%s is not taken as plain", tt.xp)
		}
		got, err := c.Match(NewMessage("1", nil, []byte(plainDocs["prefixed"])))
		if err != nil || got != tt.want {
			t.Errorf("%s: Match = %v, %v, want %v", tt.xp, got, err, tt.want)
		}
	}
}

// FuzzXPathPlain: whenever an expression compiles, is a plain location path and the document
// parses, First selects what the library selects first.
func FuzzXPathPlain(f *testing.F) {
	for _, src := range plainExprs {
		for _, doc := range plainDocs {
			f.Add(src, doc)
		}
	}
	f.Fuzz(func(t *testing.T, src, doc string) {
		if len(src) > 1<<10 || len(doc) > 1<<16 {
			return
		}
		x, err := CompileXPath(src, plainNS)
		if err != nil || !x.Plain() {
			return
		}
		for parser, tree := range parsedTrees(doc) {
			checkFirst(t, x, tree, parser)
		}
	})
}

// TestXPathFirstRandom compares First with the library over random documents of a few names
// that nest, in several namespaces, and random plain paths over those names: the cases where
// the order of the walk matters come up far more often than in the fuzzer's mutations.
func TestXPathFirstRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	names := []string{"a", "b", "c"}
	prefixes := []string{"", "", "x:", "y:", "p:"}
	var element func(b *strings.Builder, depth int)
	element = func(b *strings.Builder, depth int) {
		name := prefixes[rng.IntN(len(prefixes))] + names[rng.IntN(len(names))]
		b.WriteString("<" + name)
		if rng.IntN(8) == 0 {
			b.WriteString(` xmlns="urn:x"`)
		}
		b.WriteString(">")
		for range rng.IntN(4) {
			switch k := rng.IntN(10); {
			case k < 5 && depth < 6:
				element(b, depth+1)
			case k < 7:
				b.WriteString(names[rng.IntN(len(names))] + strconv.Itoa(rng.IntN(10)))
			case k == 7:
				b.WriteString("<!--" + names[rng.IntN(len(names))] + "-->")
			case k == 8:
				b.WriteString("<![CDATA[" + names[rng.IntN(len(names))] + "]]>")
			default:
				b.WriteString("<?" + names[rng.IntN(len(names))] + " t?>")
			}
		}
		b.WriteString("</" + name + ">")
	}
	stepNames := []string{"a", "b", "c", "r", "*", "x:a", "y:b", "p:c", "x:r", "e:a", "e:r"}
	compared := 0
	for range 3000 {
		var b strings.Builder
		b.WriteString(`<r xmlns:x="urn:x" xmlns:y="urn:x" xmlns:p="urn:p">`)
		for range 1 + rng.IntN(3) {
			element(&b, 1)
		}
		b.WriteString("</r>")
		trees := parsedTrees(b.String())
		if len(trees) == 0 {
			t.Fatalf("does not parse: %s", b.String())
		}
		for range 5 {
			var src strings.Builder
			for range 1 + rng.IntN(4) {
				src.WriteString([]string{"/", "//"}[rng.IntN(2)] + stepNames[rng.IntN(len(stepNames))])
			}
			expr := src.String()
			if rng.IntN(4) == 0 {
				expr = "(" + expr + ")[1]"
			}
			x, err := CompileXPath(expr, plainNS)
			if err != nil {
				t.Fatal(err)
			}
			if !x.Plain() {
				continue // a descendant step after a child step after a descendant step
			}
			for parser, tree := range trees {
				checkFirst(t, x, tree, parser+" "+b.String())
			}
			compared++
		}
	}
	if compared < 5000 {
		t.Fatalf("only %d comparisons", compared)
	}
}
