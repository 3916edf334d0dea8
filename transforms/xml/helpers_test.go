package xml

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/antchfx/xmlquery"
	"github.com/antchfx/xpath"

	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/transforms"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// newStep makes a step through the registry, as the engine does.
func newStep(t testing.TB, name string, opts any) transforms.Step {
	t.Helper()
	f, ok := transforms.Default.Lookup(name)
	if !ok {
		t.Fatalf("step %q is not registered", name)
	}
	s, err := f.New(opts, transforms.Env{BaseDir: "testdata"})
	if err != nil {
		t.Fatalf("New(%s): %v", name, err)
	}
	return s
}

func apply(t testing.TB, s transforms.Step, m *transforms.Message) {
	t.Helper()
	if err := s.Apply(context.Background(), m); err != nil {
		t.Fatal(err)
	}
}

func payload(t testing.TB, m *transforms.Message) string {
	t.Helper()
	p, err := m.Payload()
	if err != nil {
		t.Fatal(err)
	}
	return string(p)
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// golden compares got with testdata/name, or rewrites the file under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (run with -update after checking):\n got: %s\nwant: %s", name, got, want)
	}
}

// samples lists the real XML messages in testdata.
func samples(t testing.TB) []string {
	t.Helper()
	names, err := filepath.Glob("testdata/*.xml")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range names {
		if !strings.HasSuffix(n, ".golden.xml") {
			out = append(out, filepath.Base(n))
		}
	}
	if len(out) < 3 {
		t.Fatalf("only %d samples in testdata", len(out))
	}
	return out
}

// canonical writes a document as a string that ignores whitespace between elements, attribute
// order, comments and processing instructions: what a round trip must keep.
func canonical(t testing.TB, doc []byte) string {
	t.Helper()
	n, err := xmlquery.Parse(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, doc)
	}
	var b strings.Builder
	var walk func(n *xmlquery.Node)
	walk = func(n *xmlquery.Node) {
		switch n.Type {
		case xmlquery.ElementNode:
			b.WriteString("<" + qname(n))
			attrs := make([]string, 0, len(n.Attr))
			for _, a := range n.Attr {
				attrs = append(attrs, attrName(a)+"="+a.Value)
			}
			slices.Sort(attrs)
			b.WriteString(" " + strings.Join(attrs, " ") + ">")
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c)
			}
			b.WriteString("</" + qname(n) + ">")
		case xmlquery.TextNode, xmlquery.CharDataNode:
			b.WriteString(strings.TrimSpace(n.Data))
		case xmlquery.DocumentNode:
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c)
			}
		}
	}
	walk(n)
	return b.String()
}

// fieldErrors renders a Validate or New error as "field: message" lines.
func fieldErrors(err error) string {
	var lines []string
	for _, e := range spec.Unjoin(err) {
		var fe *spec.FieldError
		if errors.As(e, &fe) {
			lines = append(lines, fe.Field+": "+fe.Msg)
		} else {
			lines = append(lines, e.Error())
		}
	}
	return strings.Join(lines, "\n")
}

// optionCase is options of a step and the field errors New gives for them, one a line; empty
// when it accepts them.
type optionCase[O any] struct {
	name string
	opts O
	want string
}

// checkOptions makes the step through the registry with each case's options in env and compares
// the field errors.
func checkOptions[O any](t *testing.T, step string, env transforms.Env, cases []optionCase[O]) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newFromRegistry(step, &tt.opts, env)
			if got := fieldErrors(err); got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// newFromRegistry is New through the registry, returning the error.
func newFromRegistry(name string, opts any, env transforms.Env) (transforms.Step, error) {
	f, _ := transforms.Default.Lookup(name)
	return f.New(opts, env)
}

// firstNode returns the first node src selects in doc, prefixes resolved with esoedNS.
func firstNode(t testing.TB, src string, doc *xmlquery.Node) *xmlquery.Node {
	t.Helper()
	e, err := xpath.CompileWithNS(src, esoedNS)
	if err != nil {
		t.Fatal(err)
	}
	nodes := xmlquery.QuerySelectorAll(doc, e)
	if len(nodes) == 0 {
		t.Fatalf("%s selects nothing", src)
	}
	return nodes[0]
}
