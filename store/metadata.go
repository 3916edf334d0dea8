package store

import (
	"encoding/binary"
	"errors"
	"sort"
)

// Stores keep a dead letter's metadata as bytes of length-prefixed pairs rather than JSON or a
// text column: those would refuse or replace bytes that are not UTF-8, and a dead letter must be
// replayed exactly as it arrived. Every store uses this one layout, so a dead letter moved
// between stores keeps its bytes.
//
// Layout: uvarint number of pairs, then for each pair (sorted by name) uvarint length and bytes of
// the name, uvarint length and bytes of the value.

// EncodeMetadata writes m in the stores' layout.
func EncodeMetadata(m map[string]string) []byte {
	names := make([]string, 0, len(m))
	size := binary.MaxVarintLen64
	for k, v := range m {
		names = append(names, k)
		size += 2*binary.MaxVarintLen64 + len(k) + len(v)
	}
	sort.Strings(names)
	b := make([]byte, 0, size)
	b = binary.AppendUvarint(b, uint64(len(m)))
	for _, k := range names {
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
		b = binary.AppendUvarint(b, uint64(len(m[k])))
		b = append(b, m[k]...)
	}
	return b
}

var errBadMetadata = errors.New("stored metadata is damaged")

// DecodeMetadata reads metadata written by EncodeMetadata, refusing damaged bytes.
func DecodeMetadata(b []byte) (map[string]string, error) {
	n, w := binary.Uvarint(b)
	if w <= 0 || n > uint64(len(b)) {
		return nil, errBadMetadata
	}
	b = b[w:]
	if n == 0 {
		if len(b) != 0 {
			return nil, errBadMetadata
		}
		return nil, nil
	}
	m := make(map[string]string, n)
	next := func() (string, bool) {
		l, w := binary.Uvarint(b)
		if w <= 0 || l > uint64(len(b)-w) {
			return "", false
		}
		s := string(b[w : w+int(l)])
		b = b[w+int(l):]
		return s, true
	}
	for range n {
		k, ok1 := next()
		v, ok2 := next()
		if !ok1 || !ok2 {
			return nil, errBadMetadata
		}
		m[k] = v
	}
	if len(b) != 0 {
		return nil, errBadMetadata
	}
	return m, nil
}
