// The race detector makes sync.Pool drop items at random, so allocation
// counts are only meaningful without it.

//go:build !race

package jsonenc

import (
	"bytes"
	"encoding/json"
	"math"
	"runtime"
	"strings"
	"testing"
)

// TestAppendAllocs checks that a payload tree costs no allocation once b is
// large enough.
func TestAppendAllocs(t *testing.T) {
	v := benchValue(t)
	b := make([]byte, 0, 64<<10)
	allocs := testing.AllocsPerRun(100, func() {
		var err error
		if b, err = Append(b[:0], v); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Append allocated %v times per run, want 0", allocs)
	}
}

// TestLargeStringCopiedOnce: a value holding an attachment of 20 KB, with members after it, is
// encoded into one buffer grown once, not into one grown again after the attachment (which
// copied it into a buffer a quarter larger). Larger allocations are rounded up to more room
// than the rest of a document takes, so the attachment is small here.
func TestLargeStringCopiedOnce(t *testing.T) {
	att := strings.Repeat("QUJD", 5000)
	v := map[string]any{"a": "first", "b": att, "c": map[string]any{"d": "after", "e": strings.Repeat("x", 1500)}}
	var out []byte
	allocated := bytesAllocated(func() {
		var err error
		if out, err = Append(make([]byte, 0, 1024), v); err != nil {
			t.Fatal(err)
		}
	})
	if allocated > uint64(len(out))*5/4 {
		t.Errorf("allocated %d bytes for %d bytes of JSON, want at most 1.25×", allocated, len(out))
	}
	want, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, want) {
		t.Error("the output differs from encoding/json's")
	}
}

// bytesAllocated returns the bytes fn allocates, the least of three runs.
func bytesAllocated(fn func()) uint64 {
	least := uint64(math.MaxUint64)
	for range 3 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		fn()
		runtime.ReadMemStats(&after)
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	return least
}
