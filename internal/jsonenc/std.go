// Copyright 2010 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// The functions in this file are adapted from the Go standard library's
// encoding/json (encode.go, tables.go, Go 1.26) so that their output and
// errors match it byte for byte; only the escapeHTML=false behaviour is kept.

package jsonenc

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"unicode/utf8"
)

const hex = "0123456789abcdef"

// safeSet holds the ASCII bytes that encoding/json writes verbatim inside a
// string when HTML escaping is off: everything from 0x20 up except '"' and '\\'.
// It is indexed by a full byte so that lookups need no bounds check; bytes
// from utf8.RuneSelf up are false and take the multi-byte path.
var safeSet = func() (t [256]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\'
	}
	return t
}()

// appendString is encoding/json's appendString with escapeHTML=false, for
// strings only.
func appendString(dst []byte, src string) []byte {
	if len(dst)+len(src)+2 > cap(dst) && len(src) >= largeString {
		dst = slices.Grow(dst, RoomFor(len(src)))
	}
	dst = append(dst, '"')
	dst = appendStringBody(dst, src)
	return append(dst, '"')
}

// appendStringBody appends src escaped as in a JSON string, without the quotes. Split anywhere
// but inside a UTF-8 sequence, the pieces' escapes are those of the whole.
func appendStringBody(dst []byte, src string) []byte {
	start := 0
	for i := 0; i < len(src); {
		if b := src[i]; b < utf8.RuneSelf {
			if safeSet[b] {
				i++
				// Within ASCII text skip eight plain bytes at a time.
				for i+8 <= len(src) {
					w := src[i : i+8]
					x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
						uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
					if !plainASCII8(x) {
						break
					}
					i += 8
				}
				continue
			}
			dst = append(dst, src[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				// Bytes < 0x20 other than \b, \f, \n, \r and \t.
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		// Two-byte sequences (Cyrillic, Latin accents) are always valid
		// runes that need no escaping; checking them inline keeps them off
		// DecodeRuneInString's slow path. The result is the same.
		if b := src[i]; b >= 0xC2 && b <= 0xDF && i+1 < len(src) && src[i+1]&0xC0 == 0x80 {
			i += 2
			continue
		}
		c, size := utf8.DecodeRuneInString(src[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, src[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		// U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR are valid
		// JSON but not valid JavaScript; encoding/json always escapes them.
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, src[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(dst, src[start:]...)
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// largeString is the length from which a string is given room for what follows it.
const largeString = 4 << 10

// RoomFor is the room to make before appending a string of n bytes (and its quotes) to a
// buffer too small for it. A large string (an attachment's base64) would otherwise be appended
// to exactly its size, and the next bytes written after it would copy all of it into a buffer
// a quarter (append) or twice (bytes.Buffer) larger: room for what usually follows it (the
// rest of a document's elements) is made in the one copy.
func RoomFor(n int) int {
	if n >= largeString {
		return n + 2 + 2<<10 + n/128
	}
	return n + 2
}

// plainASCII8 reports whether the 8 bytes packed in x are all in safeSet:
// ASCII, not below 0x20, not '"' and not '\\'. It uses the bit tricks that
// find a zero byte, (x-lsb)&^x&msb, and a byte below n, (x-n*lsb)&^x&msb;
// both are exact about whether such a byte exists when n <= 0x80.
func plainASCII8(x uint64) bool {
	q := x ^ ('"' * lsb)
	bs := x ^ ('\\' * lsb)
	return (x|(x-0x20*lsb)&^x|(q-lsb)&^q|(bs-lsb)&^bs)&msb == 0
}

// appendFloat is encoding/json's floatEncoder: ES6 number formatting, with
// the same error for NaN and ±Inf. bits is 32 or 64.
func appendFloat(b []byte, f float64, bits int) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		var v reflect.Value
		if bits == 32 {
			v = reflect.ValueOf(float32(f))
		} else {
			v = reflect.ValueOf(f)
		}
		return b, &json.UnsupportedValueError{Value: v, Str: strconv.FormatFloat(f, 'g', -1, bits)}
	}
	abs := math.Abs(f)
	fmt := byte('f')
	// float32 comparisons for float32 values keep the cutoffs exact.
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			fmt = 'e'
		}
	}
	b = strconv.AppendFloat(b, f, fmt, -1, bits)
	if fmt == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

// appendNumber is encoding/json's stringEncoder for json.Number: written
// verbatim when it is a valid JSON number, the empty Number as 0.
func appendNumber(b []byte, n json.Number) ([]byte, error) {
	s := string(n)
	if s == "" {
		s = "0"
	}
	if !isValidNumber(s) {
		return b, fmt.Errorf("json: invalid number literal %q", s)
	}
	return append(b, s...), nil
}

// isValidNumber reports whether s is a JSON number literal (RFC 7159 §6).
func isValidNumber(s string) bool {
	if s == "" {
		return false
	}

	// Optional -
	if s[0] == '-' {
		s = s[1:]
		if s == "" {
			return false
		}
	}

	// Digits
	switch {
	default:
		return false

	case s[0] == '0':
		s = s[1:]

	case '1' <= s[0] && s[0] <= '9':
		s = s[1:]
		for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
			s = s[1:]
		}
	}

	// . followed by 1 or more digits.
	if len(s) >= 2 && s[0] == '.' && '0' <= s[1] && s[1] <= '9' {
		s = s[2:]
		for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
			s = s[1:]
		}
	}

	// e or E followed by an optional - or + and
	// 1 or more digits.
	if len(s) >= 2 && (s[0] == 'e' || s[0] == 'E') {
		s = s[1:]
		if s[0] == '+' || s[0] == '-' {
			s = s[1:]
			if s == "" {
				return false
			}
		}
		for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
			s = s[1:]
		}
	}

	// Make sure we are at the end.
	return s == ""
}
