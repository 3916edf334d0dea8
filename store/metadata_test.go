package store

import (
	"maps"
	"strings"
	"testing"
)

func TestMetadataRoundTrip(t *testing.T) {
	for _, m := range []map[string]string{
		nil,
		{"": ""},
		{"a": "b", "тип": "заявление", "\xff\x00": "\x00\xfe", "long": strings.Repeat("я", 1000)},
	} {
		got, err := DecodeMetadata(EncodeMetadata(m))
		if err != nil || !maps.Equal(got, m) {
			t.Errorf("round trip of %q = %q, %v", m, got, err)
		}
	}
	for _, bad := range [][]byte{nil, {}, {2, 1, 'a'}, {1, 5, 'a'}, {0, 0}, {1, 1, 'a', 1, 'b', 'c'}} {
		if _, err := DecodeMetadata(bad); err == nil {
			t.Errorf("DecodeMetadata(%q) succeeded, want an error", bad)
		}
	}
}
