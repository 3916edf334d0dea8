// Package xmlgen builds XML documents of a chosen shape (deep, wide, with many attributes)
// for the fuzz targets and tests of the hub's XML readers, which must stay linear and bounded
// on such input, not only on small mutations of real messages.
package xmlgen

import (
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// Shape is the document to build.
type Shape struct {
	// Depth is how deeply the spine of elements nests below the root.
	Depth int
	// Width is how many sibling elements each element of the spine has besides the next one.
	Width int
	// Attrs is how many attributes each element of the spine has.
	Attrs int
	// Seed picks the names, texts and flaws.
	Seed uint64
	// Root and Namespace name the root element; Root "" means "r" and no namespace.
	Root, Namespace string
	// Flaws lets the seed add a second root, text after the root or a DOCTYPE.
	Flaws bool
}

// Doc is a built document and what it holds.
type Doc struct {
	XML []byte
	// Depth is the deepest nesting of elements, the root at 1.
	Depth int
	// Attrs is the largest number of attributes of one element.
	Attrs int
	// SecondRoot, TextAfter and Doctype tell which flaw was added, if any.
	SecondRoot, TextAfter, Doctype bool
}

var (
	locals = []string{"a", "b", "Док", "item", "x1"}
	texts  = []string{"t", " ", "&amp;&lt;", "Текст", "<![CDATA[c]]>", "<!-- c -->", "&#x41;"}
)

// Generate builds the document s describes. Its size is about Depth × (Width + Attrs) × 10
// bytes: callers bound the shape.
func Generate(s Shape) Doc {
	r := rand.New(rand.NewPCG(s.Seed, s.Seed>>32|1))
	var b strings.Builder
	d := Doc{Depth: s.Depth + 1, Attrs: 1}
	if s.Depth > 0 {
		d.Attrs = max(s.Attrs, 1)
	}
	if s.Flaws && r.IntN(8) == 0 {
		d.Doctype = true
		b.WriteString(`<!DOCTYPE r [<!ENTITY e "x">]>`)
	}
	root := s.Root
	if root == "" {
		root = "r"
	}
	b.WriteString("<" + root)
	if s.Namespace != "" {
		b.WriteString(` xmlns="` + s.Namespace + `"`)
		d.Attrs = max(d.Attrs, 2)
	}
	b.WriteString(` xmlns:p="urn:p">`)
	names := make([]string, s.Depth)
	for i := range s.Depth {
		name := locals[r.IntN(len(locals))]
		if r.IntN(4) == 0 {
			name = "p:" + name
		}
		names[i] = name
		b.WriteString("<" + name)
		for k := range s.Attrs {
			b.WriteString(" a" + strconv.Itoa(k) + `="` + texts[r.IntN(3)] + `"`)
		}
		b.WriteString(">")
		for range s.Width {
			switch r.IntN(3) {
			case 0:
				b.WriteString("<w/>")
				d.Depth = max(d.Depth, i+3)
			case 1:
				b.WriteString("<w>" + texts[r.IntN(len(texts))] + "</w>")
				d.Depth = max(d.Depth, i+3)
			default:
				b.WriteString(texts[r.IntN(len(texts))])
			}
		}
	}
	for i := s.Depth - 1; i >= 0; i-- {
		b.WriteString("</" + names[i] + ">")
	}
	b.WriteString("</" + root + ">\n<!-- after -->\n")
	if s.Flaws {
		switch r.IntN(4) {
		case 0:
			d.SecondRoot = true
			b.WriteString("<" + root + "/>")
		case 1:
			d.TextAfter = true
			b.WriteString("forged")
		}
	}
	d.XML = []byte(b.String())
	return d
}

// Bounded returns s with Width and Attrs, then Depth, halved until the document has at most
// about n elements and attributes (Depth × (Width + Attrs + 1) ≤ n).
func (s Shape) Bounded(n int) Shape {
	s.Depth, s.Width, s.Attrs = max(s.Depth, 0), max(s.Width, 0), max(s.Attrs, 0)
	for s.Depth*(s.Width+s.Attrs+1) > n {
		switch {
		case s.Width > 0:
			s.Width /= 2
		case s.Attrs > 0:
			s.Attrs /= 2
		default:
			s.Depth /= 2
		}
	}
	return s
}

// Outcome is what a bounded reader must make of a document.
type Outcome int

// The outcomes, in the order a reader meets them: a DOCTYPE comes first in the document, a
// limit inside the root, a second root or text after it.
const (
	Accept Outcome = iota
	RefuseDoctype
	RefuseLimit
	RefuseAfterRoot
)

// Want returns the outcome for a reader that allows maxDepth levels and maxAttrs attributes.
func (d Doc) Want(maxDepth, maxAttrs int) Outcome {
	switch {
	case d.Doctype:
		return RefuseDoctype
	case d.Depth > maxDepth || d.Attrs > maxAttrs:
		return RefuseLimit
	case d.SecondRoot || d.TextAfter:
		return RefuseAfterRoot
	}
	return Accept
}

// AddSeeds adds to a fuzz target's corpus the shapes that matter: small, at xmllimit.Default's
// depth and attribute limits, far beyond them, wide, with flaws. The target takes (depth, width,
// attrs uint16, seed uint64), which [Fuzzed] turns into a Shape.
func AddSeeds(f *testing.F) {
	for _, s := range []struct {
		depth, width, attrs uint16
		seed                uint64
	}{
		{3, 2, 1, 1}, {255, 1, 2, 2}, {256, 0, 0, 3}, {300, 0, 0, 4}, {19999, 0, 0, 5},
		{10, 63, 256, 6}, {10, 0, 257, 7}, {2, 63, 399, 8}, {1000, 30, 3, 9}, {100, 5, 5, 10},
	} {
		f.Add(s.depth, s.width, s.attrs, s.seed)
	}
}

// Fuzzed is the shape a fuzz target's arguments name: up to 20,000 deep, 64 wide and 400
// attributes an element, with flaws; callers bound it ([Shape.Bounded]) to what they can read.
func Fuzzed(depth, width, attrs uint16, seed uint64) Shape {
	return Shape{Depth: int(depth % 20000), Width: int(width % 64), Attrs: int(attrs % 400), Seed: seed, Flaws: true}
}

// Allocated returns the bytes f allocates, for checks that a reader stays within a multiple of
// its input.
func Allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
