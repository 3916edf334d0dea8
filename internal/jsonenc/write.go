package jsonenc

import (
	"io"
	"sync"
	"unicode/utf8"
)

// Sizes of a streamed encoding: what is encoded is written once it passes spillAt bytes, and a
// string longer than spillAt is encoded longChunk bytes of its text at a time, so the buffer
// never holds more than spillAt plus an escaped chunk (six bytes a byte at worst).
const (
	spillAt   = 32 << 10
	longChunk = 8 << 10
)

// Write writes the JSON encoding of v to w, the bytes Append appends, in pieces of some tens
// of kilobytes: a value holding a large document (an attachment's base64) goes to a file or a
// connection without its encoding ever being whole in memory. It returns the bytes written.
//
// Unlike Append it cannot take back what it wrote: a value that fails to encode part way
// (encoding/json's error for a value of another type, a cycle) returns the error with part of
// the encoding written, and the caller discards what w received.
func Write(w io.Writer, v any) (int64, error) {
	return write(w, v, spillAt, longChunk)
}

var writeBufs = sync.Pool{New: func() any { b := make([]byte, 0, 2*spillAt); return &b }}

func write(w io.Writer, v any, spill, chunk int) (int64, error) {
	e := encoderPool.Get().(*encoder)
	e.w, e.spillAt, e.chunk, e.written, e.werr = w, spill, chunk, 0, nil
	bp := writeBufs.Get().(*[]byte)
	b, err := e.encode((*bp)[:0], v)
	if err == nil {
		b = e.flush(b)
		err = e.werr
	}
	n := e.written
	e.w = nil
	e.release()
	if cap(b) <= 4*spillAt {
		*bp = b[:0]
		writeBufs.Put(bp)
	}
	return n, err
}

// spill writes b out once it has grown past spillAt, when streaming, and returns it emptied.
func (e *encoder) spill(b []byte) []byte {
	if e.w == nil || len(b) < e.spillAt {
		return b
	}
	return e.flush(b)
}

// flush writes b out; after a write error nothing more is written and the error is kept.
func (e *encoder) flush(b []byte) []byte {
	if e.werr == nil && len(b) > 0 {
		n, err := e.w.Write(b)
		e.written += int64(n)
		e.werr = err
	}
	return b[:0]
}

// str appends s as a JSON string; when streaming, a long one is encoded and written a chunk at a
// time.
func (e *encoder) str(b []byte, s string) []byte {
	if e.w == nil || len(s) <= e.spillAt {
		return appendString(b, s)
	}
	b = append(b, '"')
	for len(s) > 0 {
		cut := min(e.chunk, len(s))
		if cut < len(s) {
			cut = runeCut(s, cut)
		}
		b = appendStringBody(b, s[:cut])
		s = s[cut:]
		b = e.spill(b)
	}
	return append(b, '"')
}

// runeCut returns a place near i to split s so that no UTF-8 sequence is cut: before the byte
// that starts the sequence i is in, or, when that is s's first byte, after the sequence. A
// continuation byte more than three bytes from any start is in no valid sequence and decodes
// alone either way, so it is a safe cut too. The cut is never 0, so every piece has bytes.
func runeCut(s string, i int) int {
	for k := 0; k < utf8.UTFMax && i-k > 0; k++ {
		if utf8.RuneStart(s[i-k]) {
			return i - k
		}
	}
	j := i
	for j < len(s) && j < i+utf8.UTFMax && !utf8.RuneStart(s[j]) {
		j++
	}
	return j
}
