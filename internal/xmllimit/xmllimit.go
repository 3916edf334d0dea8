// Package xmllimit bounds what an XML document may demand of the hub before a parser builds
// anything from it.
//
// Every XML reader of the hub reads input that comes from outside: an HTTP body, an ЕСОЕД
// message, a register's answer. encoding/xml and the libraries built on it accept any depth,
// any number of attributes, names and texts of any length, several root elements and text
// after the root. A [Decoder] wraps encoding/xml's token stream and refuses, at the token
// where it happens, a document that is deeper, larger or wider than its [Limits], that has a
// second root element or content after the root, or that carries a DOCTYPE (no entity is ever
// declared, expanded or fetched). [Check] runs a whole document through it, for parsers that
// take bytes.
//
// A Decoder is an [xml.TokenReader]: xml.NewTokenDecoder over it decodes into structs with the
// limits holding while it reads. Such a decoder leaves innerxml fields empty (encoding/xml fills
// them from a reader only); [Decoder.SkipContent] tells where an element's content lies, for a
// caller that holds the input and wants it as written.
//
// The checks are constant work per token, so a reader behind a Decoder stays linear in its
// input; the stack encoding/xml keeps is bounded by the depth limit.
package xmllimit

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
)

// Limits bounds a document. A zero field takes its value from [Default].
type Limits struct {
	// MaxDepth is how deeply elements may nest; the root is at depth 1.
	MaxDepth int
	// MaxBytes is the size of the whole document.
	MaxBytes int64
	// MaxAttrs is how many attributes (namespace declarations included) one element may have.
	MaxAttrs int
	// MaxName is the length in bytes of an element's or attribute's local name.
	MaxName int
	// MaxText is the length in bytes of one text node, attribute value, comment or processing
	// instruction; base64 attachments of ЕСОЕД messages are one text node each.
	MaxText int
	// MaxElements is how many elements the document may have: what a tree built from it
	// costs grows with them (about 170 bytes a node in xmlquery's), not with the bytes.
	MaxElements int
}

// Default are the limits of every reader that is not told otherwise: far above what real
// messages need (ЕСОЕД messages nest about ten deep), far below what hurts.
var Default = Limits{
	MaxDepth: 256,
	MaxBytes: 256 << 20,
	MaxAttrs: 256,
	MaxName:  1024,
	MaxText:  64 << 20,
	// A million elements: far more than any message, room for large batch files; 10 MB
	// of empty elements would otherwise make a tree of 2.5 million nodes (440 MB).
	MaxElements: 1 << 20,
}

// WithDefaults returns l with each zero field set from [Default].
func (l Limits) WithDefaults() Limits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = Default.MaxDepth
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = Default.MaxBytes
	}
	if l.MaxAttrs <= 0 {
		l.MaxAttrs = Default.MaxAttrs
	}
	if l.MaxName <= 0 {
		l.MaxName = Default.MaxName
	}
	if l.MaxText <= 0 {
		l.MaxText = Default.MaxText
	}
	if l.MaxElements <= 0 {
		l.MaxElements = Default.MaxElements
	}
	return l
}

// What an [Error] names, for callers that tell refusals apart.
const (
	WhatDepth   = "element depth"
	WhatDoctype = "DOCTYPE or other declaration not allowed"
)

// ErrLimit is matched (errors.Is) by every error that reports an exceeded limit.
var ErrLimit = errors.New("limit exceeded")

// ErrNoRoot is matched (errors.Is) by the error for input that ends without an element.
var ErrNoRoot = errors.New("no root element")

// Error is a document refused by a [Decoder]: a limit exceeded (Limit > 0) or a structure the
// hub does not accept (a second root, text after the root, a DOCTYPE). Line and Col (1-based)
// are where the offending token starts, or, for the document's size, where reading stopped;
// Offset is the byte offset there.
type Error struct {
	// What names the limit or the structure, e.g. "element depth", "document size",
	// "element after the root element".
	What string
	// Limit is the limit exceeded, 0 for a structural refusal.
	Limit int64
	// Detail adds what was found, e.g. the element's name; may be empty.
	Detail    string
	Line, Col int
	Offset    int64
}

func (e *Error) Error() string {
	at := fmt.Sprintf("line %d, column %d", e.Line, e.Col)
	if e.Line == 0 {
		at = fmt.Sprintf("byte %d", e.Offset)
	}
	detail := ""
	if e.Detail != "" {
		detail = " (" + e.Detail + ")"
	}
	if e.Limit > 0 {
		return fmt.Sprintf("xml: %s exceeds the limit of %d at %s%s", e.What, e.Limit, at, detail)
	}
	return fmt.Sprintf("xml: %s at %s%s", e.What, at, detail)
}

// Is lets errors.Is(err, ErrLimit) tell a limit from a structural refusal.
func (e *Error) Is(target error) bool {
	return target == ErrLimit && e.Limit > 0 || target == ErrNoRoot && e.What == ErrNoRoot.Error()
}

// Decoder is an encoding/xml token stream with limits. It reads exactly one document: after
// the root element's end only white space, comments and processing instructions may follow,
// and the stream ends there with io.EOF.
type Decoder struct {
	d     *xml.Decoder
	lim   Limits
	depth int
	elems int
	root  bool // the root element has started
	done  bool // the root element has ended
	err   error

	line, col int   // where the last token started
	off       int64 // its byte offset
}

// NewDecoder returns a Decoder reading r under lim (zero fields from [Default]). The
// underlying decoder is strict, as encoding/xml's default.
func NewDecoder(r io.Reader, lim Limits) *Decoder {
	lim = lim.WithDefaults()
	// A reader over bytes in memory (bytes.Reader, strings.Reader) tells its size: within the
	// limit it is read directly, which encoding/xml does byte by byte without a buffer between.
	if sized, ok := r.(interface {
		io.ByteReader
		Len() int
	}); ok && int64(sized.Len()) <= lim.MaxBytes {
		return &Decoder{d: xml.NewDecoder(r), lim: lim}
	}
	return &Decoder{d: xml.NewDecoder(&countingReader{r: r, max: lim.MaxBytes}), lim: lim}
}

// SetCharsetReader sets the decoder's CharsetReader, for documents in encodings other than
// UTF-8.
func (d *Decoder) SetCharsetReader(f func(charset string, input io.Reader) (io.Reader, error)) {
	d.d.CharsetReader = f
}

// InputPos returns the line and column (1-based) just after the last token.
func (d *Decoder) InputPos() (line, col int) { return d.d.InputPos() }

// InputOffset returns the byte offset just after the last token.
func (d *Decoder) InputOffset() int64 { return d.d.InputOffset() }

// Depth returns how many elements are open.
func (d *Decoder) Depth() int { return d.depth }

// Token returns the next token as encoding/xml's Decoder.Token does, or the first refusal. After
// an error every call returns the same error.
func (d *Decoder) Token() (xml.Token, error) {
	if d.err != nil {
		return nil, d.err
	}
	// Where the token starts: a refusal points at the element, not past it.
	d.line, d.col = d.d.InputPos()
	d.off = d.d.InputOffset()
	tok, err := d.d.Token()
	if err != nil {
		var le *Error
		switch {
		case errors.As(err, &le):
			le.Line, le.Col = d.d.InputPos()
		case err == io.EOF && !d.root:
			err = d.fail(ErrNoRoot.Error(), 0, "")
		}
		d.err = err
		return nil, err
	}
	if err := d.check(tok); err != nil {
		d.err = err
		return nil, err
	}
	return tok, nil
}

func (d *Decoder) check(tok xml.Token) error {
	switch t := tok.(type) {
	case xml.StartElement:
		if d.done {
			return d.fail("element after the root element", 0, "<"+clip(t.Name.Local)+">: a document has exactly one root element")
		}
		d.root = true
		d.depth++
		if d.elems++; d.elems > d.lim.MaxElements {
			return d.fail("element count", int64(d.lim.MaxElements), "<"+clip(t.Name.Local)+">")
		}
		if d.depth > d.lim.MaxDepth {
			return d.fail(WhatDepth, int64(d.lim.MaxDepth), "<"+clip(t.Name.Local)+">")
		}
		if len(t.Name.Local) > d.lim.MaxName {
			return d.fail("name length", int64(d.lim.MaxName), "element "+clip(t.Name.Local))
		}
		if len(t.Attr) > d.lim.MaxAttrs {
			return d.fail("attribute count", int64(d.lim.MaxAttrs), "<"+clip(t.Name.Local)+">")
		}
		for _, a := range t.Attr {
			if len(a.Name.Local) > d.lim.MaxName {
				return d.fail("name length", int64(d.lim.MaxName), "attribute "+clip(a.Name.Local))
			}
			if len(a.Value) > d.lim.MaxText {
				return d.fail("attribute value size", int64(d.lim.MaxText), "attribute "+clip(a.Name.Local))
			}
		}
	case xml.EndElement:
		d.depth--
		if d.depth == 0 {
			d.done = true
		}
	case xml.CharData:
		if len(t) > d.lim.MaxText {
			return d.fail("text size", int64(d.lim.MaxText), "")
		}
		if d.depth == 0 && len(bytes.Trim(t, " \t\r\n\ufeff")) > 0 {
			if d.done {
				return d.fail("text after the root element", 0, "")
			}
			return d.fail("text before the root element", 0, "")
		}
	case xml.Comment:
		if len(t) > d.lim.MaxText {
			return d.fail("comment size", int64(d.lim.MaxText), "")
		}
	case xml.ProcInst:
		if len(t.Inst) > d.lim.MaxText {
			return d.fail("processing instruction size", int64(d.lim.MaxText), "")
		}
	case xml.Directive:
		return d.fail(WhatDoctype, 0, "<!"+clip(string(bytes.TrimSpace(t)))+">")
	}
	return nil
}

func (d *Decoder) fail(what string, limit int64, detail string) error {
	return &Error{What: what, Limit: limit, Detail: detail, Line: d.line, Col: d.col, Offset: d.off}
}

// SkipContent is [Decoder.Skip] that also tells where the skipped content lies: from is the
// byte offset just after the start tag returned last, to the offset where its end tag starts,
// so that input[from:to] is the element's content as written (what encoding/xml's innerxml
// holds). Offsets count the bytes the Decoder read, from the start of its reader.
func (d *Decoder) SkipContent() (from, to int64, err error) {
	from = d.d.InputOffset()
	for open := 1; open > 0; {
		tok, err := d.Token()
		if err != nil {
			return 0, 0, err
		}
		switch tok.(type) {
		case xml.StartElement:
			open++
		case xml.EndElement:
			open--
		}
	}
	// d.off is where the last token, the element's end, started.
	return from, d.off, nil
}

// Skip reads tokens up to the end of the element whose start was returned last, as
// encoding/xml's Decoder.Skip does, with every token checked.
func (d *Decoder) Skip() error {
	_, _, err := d.SkipContent()
	return err
}

// Check reads a whole document under lim and returns the first refusal or syntax error, nil
// when it is one well-formed document within the limits. charsetReader may be nil.
func Check(b []byte, lim Limits, charsetReader func(string, io.Reader) (io.Reader, error)) error {
	lim = lim.WithDefaults()
	if int64(len(b)) > lim.MaxBytes {
		return &Error{What: "document size", Limit: lim.MaxBytes, Offset: lim.MaxBytes}
	}
	d := NewDecoder(bytes.NewReader(b), lim)
	d.SetCharsetReader(charsetReader)
	for {
		if _, err := d.Token(); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

var _ xml.TokenReader = (*Decoder)(nil)

// countingReader ends the input with an [Error] once more than max bytes were read.
type countingReader struct {
	r   io.Reader
	n   int64
	max int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.n > c.max {
		return 0, &Error{What: "document size", Limit: c.max, Offset: c.n}
	}
	// Reading one byte past the limit tells a document of exactly max bytes from a longer one.
	if rest := c.max + 1 - c.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.max {
		return n, &Error{What: "document size", Limit: c.max, Offset: c.max}
	}
	return n, err
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
