package xmltree

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/antchfx/xmlquery"
	"golang.org/x/net/html/charset"

	"github.com/aiskao/aiskao/internal/xmllimit"
)

// diffTrees reports the first difference between two xmlquery trees, or "" if they are
// equal node for node. It walks both without recursion, following FirstChild and
// NextSibling from the document node (so nodes hung off the document's NextSibling chain
// count), and then checks that every link of one tree maps onto the same link of the other.
func diffTrees(want, got *xmlquery.Node) string {
	pair := map[*xmlquery.Node]*xmlquery.Node{}
	seen := map[*xmlquery.Node]bool{}
	var order []*xmlquery.Node
	// Paths are kept as depth and sibling index: strings would grow with the depth.
	type step struct {
		w, g         *xmlquery.Node
		depth, index int
	}
	work := []step{{want, got, 0, 0}}
	for len(work) > 0 {
		st := work[len(work)-1]
		work = work[:len(work)-1]
		w, g := st.w, st.g
		if (w == nil) != (g == nil) {
			return fmt.Sprintf("depth %d, sibling %d: want node %v, got %v", st.depth, st.index, describe(w), describe(g))
		}
		if w == nil {
			continue
		}
		if _, dup := pair[w]; dup || seen[g] {
			return fmt.Sprintf("depth %d, sibling %d: node reached twice (cycle)", st.depth, st.index)
		}
		pair[w], seen[g] = g, true
		order = append(order, w)
		if d := diffNode(w, g); d != "" {
			return fmt.Sprintf("depth %d, sibling %d: %s", st.depth, st.index, d)
		}
		work = append(work,
			step{w.NextSibling, g.NextSibling, st.depth, st.index + 1},
			step{w.FirstChild, g.FirstChild, st.depth + 1, 0})
	}
	for _, w := range order {
		g := pair[w]
		links := []struct {
			name string
			w, g *xmlquery.Node
		}{
			{"Parent", w.Parent, g.Parent},
			{"FirstChild", w.FirstChild, g.FirstChild},
			{"LastChild", w.LastChild, g.LastChild},
			{"PrevSibling", w.PrevSibling, g.PrevSibling},
			{"NextSibling", w.NextSibling, g.NextSibling},
		}
		for _, l := range links {
			if l.w == nil {
				if l.g != nil {
					return fmt.Sprintf("%s of %s: want nil, got %s", l.name, describe(w), describe(l.g))
				}
				continue
			}
			m, ok := pair[l.w]
			if !ok {
				return fmt.Sprintf("%s of %s: links to a node outside the tree", l.name, describe(w))
			}
			if m != l.g {
				return fmt.Sprintf("%s of %s: want %s, got %s", l.name, describe(w), describe(m), describe(l.g))
			}
		}
	}
	return ""
}

func diffNode(w, g *xmlquery.Node) string {
	switch {
	case w.Type != g.Type:
		return fmt.Sprintf("Type: want %d, got %d (%s)", w.Type, g.Type, describe(w))
	case w.Data != g.Data:
		return fmt.Sprintf("Data: want %q, got %q", w.Data, g.Data)
	case w.Prefix != g.Prefix:
		return fmt.Sprintf("Prefix of %s: want %q, got %q", describe(w), w.Prefix, g.Prefix)
	case w.NamespaceURI != g.NamespaceURI:
		return fmt.Sprintf("NamespaceURI of %s: want %q, got %q", describe(w), w.NamespaceURI, g.NamespaceURI)
	case len(w.Attr) != len(g.Attr):
		return fmt.Sprintf("Attr of %s: want %+v, got %+v", describe(w), w.Attr, g.Attr)
	case (w.ProcInst == nil) != (g.ProcInst == nil) || w.ProcInst != nil && *w.ProcInst != *g.ProcInst:
		return fmt.Sprintf("ProcInst of %s: want %+v, got %+v", describe(w), w.ProcInst, g.ProcInst)
	}
	for i := range w.Attr {
		if w.Attr[i] != g.Attr[i] {
			return fmt.Sprintf("Attr[%d] of %s: want %+v, got %+v", i, describe(w), w.Attr[i], g.Attr[i])
		}
	}
	return ""
}

func describe(n *xmlquery.Node) string {
	if n == nil {
		return "nil"
	}
	return fmt.Sprintf("{Type %d %q}", n.Type, n.Data)
}

// differential checks the property Parse promises for one input: xmllimit's refusal of a
// document beyond the limits or not one document, and otherwise the same error or the same
// tree as xmlquery.Parse.
func differential(t *testing.T, input []byte) {
	t.Helper()
	differentialWith(t, input, xmllimit.Limits{})
}

func differentialWith(t *testing.T, input []byte, lim xmllimit.Limits) {
	t.Helper()
	var want *xmlquery.Node
	wantErr := xmllimit.Check(input, lim, charset.NewReaderLabel)
	if wantErr == nil {
		want, wantErr = xmlquery.Parse(bytes.NewReader(input))
	}
	got, gotErr := ParseWith(input, lim)
	if (wantErr == nil) != (gotErr == nil) {
		t.Fatalf("Parse(%q): error %v, xmlquery's %v", clip(input), gotErr, wantErr)
	}
	if wantErr != nil {
		if gotErr.Error() != wantErr.Error() {
			t.Fatalf("Parse(%q): error %q, xmlquery's %q", clip(input), gotErr, wantErr)
		}
		return
	}
	if d := diffTrees(want, got); d != "" {
		t.Fatalf("Parse(%q): tree differs from xmlquery's: %s", clip(input), d)
	}
	// ParseShared builds the same tree from the input itself.
	own := bytes.Clone(input)
	shared, err := ParseShared(own, lim)
	if err != nil {
		t.Fatalf("ParseShared(%q): %v, ParseWith none", clip(input), err)
	}
	if d := diffTrees(want, shared); d != "" {
		t.Fatalf("ParseShared(%q): tree differs from xmlquery's: %s", clip(input), d)
	}
}

func clip(b []byte) []byte {
	if len(b) > 300 {
		return append(b[:300:300], "..."...)
	}
	return b
}
