// Package jsonenc appends the JSON encoding of the hub's payload trees
// (map[string]any, []any, string, json.Number, float64, bool, nil and a few
// other common Go types) without reflection, producing exactly what
// encoding/json's Encoder writes with HTML escaping turned off. Values of any
// other type are handed to encoding/json, so the output never differs.
package jsonenc

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// maxDepth bounds the nesting the fast path follows before handing the whole
// value to encoding/json. Acyclic payloads are never this deep; a map or
// slice that contains itself is, and encoding/json reports it as a cycle.
const maxDepth = 1000

// errDelegate makes Append encode the whole value with encoding/json: the
// value is too deep for the fast path, or an error from encoding/json may
// depend on the nesting above the sub-value (pointer cycles are detected
// after a fixed number of levels counted from the top).
var errDelegate = errors.New("jsonenc: delegate to encoding/json")

// Append appends the JSON encoding of v to b, byte for byte what
// json.NewEncoder(w) with SetEscapeHTML(false) writes for v, less the final newline.
//
// On error b is returned with its original length and the error is the one
// encoding/json returns for v, with the same type and text.
func Append(b []byte, v any) ([]byte, error) {
	start := len(b)
	e := encoderPool.Get().(*encoder)
	b, err := e.encode(b, v)
	if err == errDelegate {
		b, err = e.std(b[:start], v)
	}
	e.release()
	if err != nil {
		return b[:start], err
	}
	return b, nil
}

// AppendString appends s as a JSON string, as encoding/json's Encoder writes it with HTML
// escaping turned off.
func AppendString(b []byte, s string) []byte { return appendString(b, s) }

// encoder is the per-call state, reused through encoderPool.
type encoder struct {
	// entries and keys are stacks: each map being encoded owns the segment
	// above its parent's, so nested maps share one allocation. Segments are
	// cleared when popped, so nothing past len holds a reference.
	entries []entry  // map[string]any
	keys    []string // map[string]string
	depth   int

	// buf and enc encode values the fast path does not handle.
	buf bytes.Buffer
	enc *json.Encoder

	// w, when set, receives the encoding in pieces (Write): spillAt and chunk are its sizes,
	// written counts what went out and werr is the first error w returned.
	w       io.Writer
	spillAt int
	chunk   int
	written int64
	werr    error
}

type entry struct {
	key string
	val any
}

var encoderPool = sync.Pool{New: func() any { return new(encoder) }}

// Pooled buffers larger than these are dropped rather than kept alive.
const (
	maxPooledKeys = 1 << 12
	maxPooledBuf  = 64 << 10
)

func (e *encoder) release() {
	// Only an error leaves entries on the stacks.
	clear(e.keys)
	e.keys = e.keys[:0]
	if cap(e.keys) > maxPooledKeys {
		e.keys = nil
	}
	clear(e.entries)
	e.entries = e.entries[:0]
	if cap(e.entries) > maxPooledKeys {
		e.entries = nil
	}
	e.depth = 0
	if e.buf.Cap() > maxPooledBuf {
		e.buf = bytes.Buffer{}
	} else {
		e.buf.Reset()
	}
	encoderPool.Put(e)
}

func (e *encoder) encode(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return e.str(b, x), nil
	case json.Number:
		return appendNumber(b, x)
	case float64:
		return appendFloat(b, x, 64)
	case bool:
		return strconv.AppendBool(b, x), nil
	case map[string]any:
		return e.appendMap(b, x)
	case []any:
		return e.appendSlice(b, x)
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case map[string]string:
		return e.appendStringMap(b, x), nil
	case []string:
		return e.appendStrings(b, x), nil
	case []map[string]any:
		return e.appendMaps(b, x)
	case float32:
		return appendFloat(b, float64(x), 32)
	case int8:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int16:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int32:
		return strconv.AppendInt(b, int64(x), 10), nil
	case uint:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint8:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint16:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint32:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint64:
		return strconv.AppendUint(b, x, 10), nil
	case uintptr:
		return strconv.AppendUint(b, uint64(x), 10), nil
	}
	return e.fallback(b, v)
}

// sortedKeys pushes the keys of m onto e.keys in byte order, as encoding/json
// sorts them, and returns them with the stack height to restore afterwards.
func (e *encoder) sortedKeys(m map[string]string) ([]string, int) {
	top := len(e.keys)
	for k := range m {
		e.keys = append(e.keys, k)
	}
	keys := e.keys[top:]
	slices.Sort(keys)
	return keys, top
}

func (e *encoder) popKeys(top int) {
	clear(e.keys[top:])
	e.keys = e.keys[:top]
}

func (e *encoder) appendMap(b []byte, m map[string]any) ([]byte, error) {
	if m == nil {
		return append(b, "null"...), nil
	}
	if e.depth++; e.depth > maxDepth {
		return e.tooDeep(b, m)
	}
	// Sorting entries rather than keys saves a map lookup per value. The
	// segment stays valid while nested maps push more entries: growing the
	// stack copies it elsewhere and leaves the old array untouched.
	top := len(e.entries)
	for k, v := range m {
		e.entries = append(e.entries, entry{k, v})
	}
	entries := e.entries[top:]
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	b = append(b, '{')
	var err error
	for i, kv := range entries {
		if i > 0 {
			b = append(b, ',')
		}
		b = e.str(b, kv.key)
		b = append(b, ':')
		if b, err = e.encode(b, kv.val); err != nil {
			return b, err
		}
		b = e.spill(b)
	}
	clear(e.entries[top:])
	e.entries = e.entries[:top]
	e.depth--
	return append(b, '}'), nil
}

func (e *encoder) appendStringMap(b []byte, m map[string]string) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	keys, top := e.sortedKeys(m)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = e.str(b, k)
		b = append(b, ':')
		b = e.spill(e.str(b, m[k]))
	}
	e.popKeys(top)
	return append(b, '}')
}

func (e *encoder) appendSlice(b []byte, s []any) ([]byte, error) {
	if s == nil {
		return append(b, "null"...), nil
	}
	if e.depth++; e.depth > maxDepth {
		return e.tooDeep(b, s)
	}
	b = append(b, '[')
	var err error
	for i, v := range s {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = e.encode(b, v); err != nil {
			return b, err
		}
		b = e.spill(b)
	}
	e.depth--
	return append(b, ']'), nil
}

func (e *encoder) appendMaps(b []byte, s []map[string]any) ([]byte, error) {
	if s == nil {
		return append(b, "null"...), nil
	}
	b = append(b, '[')
	var err error
	for i, m := range s {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = e.appendMap(b, m); err != nil {
			return b, err
		}
		b = e.spill(b)
	}
	return append(b, ']'), nil
}

func (e *encoder) appendStrings(b []byte, s []string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, v := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = e.spill(e.str(b, v))
	}
	return append(b, ']')
}

// tooDeep hands a value nested past maxDepth to encoding/json: the whole value when appending,
// so that a cycle's error is the one encoding/json gives for it; the value alone when streaming,
// which cannot take back what it wrote (its bytes are the same, only a cycle's error text
// differs).
func (e *encoder) tooDeep(b []byte, v any) ([]byte, error) {
	if e.w == nil {
		return b, errDelegate
	}
	e.depth--
	return e.std(b, v)
}

// fallback encodes a value the fast path does not know with encoding/json.
func (e *encoder) fallback(b []byte, v any) ([]byte, error) {
	b, err := e.std(b, v)
	if err != nil && e.depth > 0 && e.w == nil && isCycleError(err) {
		return b, errDelegate
	}
	return b, err
}

// std appends what encoding/json's Encoder writes for v, less the newline.
func (e *encoder) std(b []byte, v any) ([]byte, error) {
	if e.enc == nil {
		e.enc = json.NewEncoder(&e.buf)
		e.enc.SetEscapeHTML(false)
	}
	e.buf.Reset()
	if err := e.enc.Encode(v); err != nil {
		return b, err
	}
	out := e.buf.Bytes()
	return append(b, out[:len(out)-1]...), nil
}

// isCycleError reports whether err is encoding/json's pointer-cycle error,
// whose text names the value at which detection happened to start.
func isCycleError(err error) bool {
	var uv *json.UnsupportedValueError
	return errors.As(err, &uv) && strings.HasPrefix(uv.Str, "encountered a cycle via ")
}
