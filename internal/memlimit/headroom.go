package memlimit

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// Headroom bounds how far the collector lets the heap grow past the live heap, to the larger of
// minimum and half the live heap, by setting the runtime's soft memory limit after each
// collection: the memory the runtime uses besides the heap, plus the live heap, plus that
// headroom, and never above Available. A high GOGC (serve runs at 400) then still lets a small
// live heap grow five-fold between collections, where collecting is cheap and frequent
// collections cost most, while a large live heap (large messages in flight) is collected when
// it has grown by half rather than five-fold: there the peak is what the messages in flight
// make of the memory, and collecting more often costs little beside handling them. The limit
// follows the live heap up, so a live heap larger than any fixed limit never makes the collector
// run without pause.
//
// It returns a function that stops the following; the limit it set last stays until the next
// call of debug.SetMemoryLimit.
func Headroom(minimum int64) (stop func()) {
	var stopped atomic.Bool
	samples := []metrics.Sample{
		{Name: "/gc/heap/live:bytes"},
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"},
		{Name: "/memory/classes/heap/free:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
	}
	ceiling := Available()
	update := func() {
		metrics.Read(samples)
		v := make([]int64, len(samples))
		for i, s := range samples {
			if s.Value.Kind() != metrics.KindUint64 {
				return // a runtime without these metrics: leave the limit alone
			}
			v[i] = int64(min(s.Value.Uint64(), math.MaxInt64))
		}
		live, total := v[0], v[1]
		other := total - v[2] - v[3] - v[4] - v[5] // stacks, the runtime's own structures
		limit := max(other, 0) + live + max(minimum, live/2)
		if ceiling > 0 {
			limit = min(limit, ceiling)
		}
		debug.SetMemoryLimit(limit)
	}
	update()
	afterEachCollection(func() bool {
		if stopped.Load() {
			return false
		}
		update()
		return true
	})
	return func() { stopped.Store(true) }
}

// afterEachCollection calls f after each garbage collection until f returns false: a sentinel
// object's finalizer runs once the collector has found it unreachable, and arms a new one.
func afterEachCollection(f func() bool) {
	s := new(sentinel)
	runtime.SetFinalizer(s, func(*sentinel) {
		if f() {
			afterEachCollection(f)
		}
	})
}

// sentinel is large enough not to share a tiny-allocator block, whose finalizer could be delayed
// by its neighbours.
type sentinel struct{ _ [16]byte }
