// Package charset converts payloads between UTF-8 and the character sets of legacy registers
// (windows-1251, CP866, KOI8-R, UTF-8 with or without a byte order mark), and registers the
// "charset" step.
//
// The tables come from golang.org/x/text/encoding/charmap. Its decoders replace a byte that the
// character set leaves undefined with U+FFFD and its encoders write '?' for a rune the set cannot
// hold, both silently; a register export that loses a letter that way loses a name. Codec refuses
// both instead, naming the byte offset (and line) of the byte or the rune that does not fit.
package charset

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// bom is the UTF-8 byte order mark.
var bom = []byte{0xEF, 0xBB, 0xBF}

// Codec converts between one character set and UTF-8. The zero value is not usable; get one with
// Lookup.
type Codec struct {
	name string
	utf8 bool
	dec  *[256]rune       // single-byte sets: rune of each byte, utf8.RuneError when undefined
	enc  map[rune]byte    // single-byte sets: byte of each rune above ASCII
	cm   *charmap.Charmap // the table dec and enc were made from
}

// names maps every accepted spelling to the canonical name and table (nil for UTF-8).
var names = map[string]*charmap.Charmap{
	"utf-8":        nil,
	"utf8":         nil,
	"windows-1251": charmap.Windows1251,
	"cp1251":       charmap.Windows1251,
	"cp866":        charmap.CodePage866,
	"ibm866":       charmap.CodePage866,
	"koi8-r":       charmap.KOI8R,
}

// Names returns the accepted names of character sets, sorted.
func Names() []string {
	out := make([]string, 0, len(names))
	for n := range names {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// codecs are built once, at init, and only read afterwards.
var codecs = map[string]*Codec{}

func init() {
	for name, cm := range names {
		c := &Codec{name: name, utf8: cm == nil, cm: cm}
		if cm != nil {
			c.dec = new([256]rune)
			c.enc = map[rune]byte{}
			for b := range 256 {
				r := cm.DecodeByte(byte(b))
				c.dec[b] = r
				if r != utf8.RuneError && r >= utf8.RuneSelf {
					c.enc[r] = byte(b)
				}
			}
		}
		codecs[name] = c
	}
}

// Lookup returns the codec of a character set named case-insensitively, or false.
func Lookup(name string) (*Codec, bool) {
	c, ok := codecs[strings.ToLower(strings.TrimSpace(name))]
	return c, ok
}

// Find is Lookup with an error that lists the known character sets, for checking options.
func Find(name string) (*Codec, error) {
	if c, ok := Lookup(name); ok {
		return c, nil
	}
	return nil, fmt.Errorf("unknown character set %q; known: %s", name, strings.Join(Names(), ", "))
}

// Name returns the name the codec was looked up by, in lower case.
func (c *Codec) Name() string { return c.name }

// IsUTF8 reports whether the codec is UTF-8 (which Decode and Encode check but do not convert).
func (c *Codec) IsUTF8() bool { return c.utf8 }

// ByteError is a byte that the character set does not define, or a rune that it cannot hold.
type ByteError struct {
	Charset string
	Offset  int  // byte offset in the input, from 0
	Line    int  // line of the input, from 1
	Byte    byte // the undefined byte (decoding)
	Rune    rune // the rune that does not fit (encoding)
	Encode  bool // true for a rune that does not fit
}

func (e *ByteError) Error() string {
	if e.Encode {
		return fmt.Sprintf("%s cannot hold %q (U+%04X) at byte %d, line %d", e.Charset, e.Rune, e.Rune, e.Offset, e.Line)
	}
	if e.Charset == "utf-8" {
		return fmt.Sprintf("invalid UTF-8 byte 0x%02X at byte %d, line %d", e.Byte, e.Offset, e.Line)
	}
	return fmt.Sprintf("byte 0x%02X at byte %d, line %d is not defined in %s", e.Byte, e.Offset, e.Line, e.Charset)
}

// StripBOM returns b without a leading UTF-8 byte order mark.
func StripBOM(b []byte) []byte { return bytes.TrimPrefix(b, bom) }

// Decode appends the UTF-8 text of src to dst. On error dst holds the text before the bad byte. A byte the character set does not define (or, for
// UTF-8, an invalid sequence) is a *ByteError. A UTF-8 byte order mark is not removed; see
// StripBOM.
func (c *Codec) Decode(dst, src []byte) ([]byte, error) {
	if c.utf8 {
		if i := invalidUTF8(src); i >= 0 {
			return append(dst, src[:i]...), &ByteError{Charset: c.name, Offset: i, Line: lineAt(src, i), Byte: src[i]}
		}
		return append(dst, src...), nil
	}
	for i, b := range src {
		if b < utf8.RuneSelf {
			dst = append(dst, b)
			continue
		}
		r := c.dec[b]
		if r == utf8.RuneError {
			return dst, &ByteError{Charset: c.name, Offset: i, Line: lineAt(src, i), Byte: b}
		}
		dst = utf8.AppendRune(dst, r)
	}
	return dst, nil
}

// DecodeLossy appends the UTF-8 text of src to dst with U+FFFD in place of each byte that cannot
// be decoded; it is for showing a bad record, never for the data itself.
func (c *Codec) DecodeLossy(dst, src []byte) []byte {
	if c.utf8 {
		for i := 0; i < len(src); {
			r, n := utf8.DecodeRune(src[i:])
			dst = utf8.AppendRune(dst, r) // RuneError for an invalid byte
			i += n
		}
		return dst
	}
	for _, b := range src {
		if b < utf8.RuneSelf {
			dst = append(dst, b)
			continue
		}
		dst = utf8.AppendRune(dst, c.dec[b])
	}
	return dst
}

// Encode appends src (UTF-8 text) in the character set to dst. A rune the set cannot hold, or
// src that is not valid UTF-8, is a *ByteError naming the offset in src; nothing is replaced.
func (c *Codec) Encode(dst, src []byte) ([]byte, error) {
	if c.utf8 {
		if i := invalidUTF8(src); i >= 0 {
			return append(dst, src[:i]...), &ByteError{Charset: c.name, Offset: i, Line: lineAt(src, i), Byte: src[i]}
		}
		return append(dst, src...), nil
	}
	for i := 0; i < len(src); {
		b := src[i]
		if b < utf8.RuneSelf {
			dst = append(dst, b)
			i++
			continue
		}
		r, n := utf8.DecodeRune(src[i:])
		if r == utf8.RuneError && n <= 1 {
			return dst, &ByteError{Charset: "utf-8", Offset: i, Line: lineAt(src, i), Byte: b}
		}
		e, ok := c.enc[r]
		if !ok {
			return dst, &ByteError{Charset: c.name, Offset: i, Line: lineAt(src, i), Rune: r, Encode: true}
		}
		dst = append(dst, e)
		i += n
	}
	return dst, nil
}

// invalidUTF8 returns the offset of the first byte of b that is not valid UTF-8, or -1.
func invalidUTF8(b []byte) int {
	if utf8.Valid(b) {
		return -1
	}
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return -1
}

// lineAt returns the 1-based line of offset i in b.
func lineAt(b []byte, i int) int { return bytes.Count(b[:i], []byte{'\n'}) + 1 }
