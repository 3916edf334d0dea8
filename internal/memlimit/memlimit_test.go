package memlimit

import (
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestCgroupLimit(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		text string
		want int64
	}{
		{"max\n", 0},
		{"536870912\n", 512 << 20},
		{"9223372036854771712\n", 0}, // cgroup v1's "no limit"
		{"garbage", 0},
		{"0", 0},
	} {
		p := filepath.Join(dir, "memory.max")
		if err := os.WriteFile(p, []byte(c.text), 0o600); err != nil {
			t.Fatal(err)
		}
		if got := cgroupLimit(p); got != c.want {
			t.Errorf("cgroupLimit(%q) = %d, want %d", c.text, got, c.want)
		}
	}
	if got := cgroupLimit(filepath.Join(dir, "absent")); got != 0 {
		t.Errorf("an absent file gives %d, want 0", got)
	}
}

func TestMemTotal(t *testing.T) {
	p := filepath.Join(t.TempDir(), "meminfo")
	if err := os.WriteFile(p, []byte("MemFree:  100 kB\nMemTotal:       24684396 kB\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, want := memTotal(p), int64(24684396)<<10; got != want {
		t.Errorf("memTotal = %d, want %d", got, want)
	}
	if err := os.WriteFile(p, []byte("MemTotal: 12 MB\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := memTotal(p); got != 0 {
		t.Errorf("memTotal of an unknown unit = %d, want 0", got)
	}
}

func TestShare(t *testing.T) {
	for _, c := range []struct{ avail, want int64 }{
		{0, 16 << 20},         // unknown: the floor
		{256 << 20, 16 << 20}, // small container: the floor
		{8 << 30, 256 << 20},  // 8 GiB ÷ 32
		{64 << 30, 1 << 30},   // capped
	} {
		if got := Share(c.avail, 32, 16<<20, 1<<30); got != c.want {
			t.Errorf("Share(%d) = %d, want %d", c.avail, got, c.want)
		}
	}
}

func TestAvailableReadsThisMachine(t *testing.T) {
	if _, err := os.Stat("/proc/meminfo"); err != nil {
		t.Skip("no /proc/meminfo here")
	}
	if got := Available(); got < 64<<20 {
		t.Errorf("Available() = %d, less than 64 MiB on a machine with /proc/meminfo", got)
	}
}

// TestHeadroomFollowsTheLiveHeap: with a live heap of 64 MiB and a minimum headroom of 8 MiB, the
// soft limit is set to about one and a half times the live heap after a collection, and it
// follows the live heap down when the memory is dropped.
func TestHeadroomFollowsTheLiveHeap(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	stop := Headroom(8 << 20)
	defer stop()
	live := make([]byte, 64<<20) // counted live whether or not its pages are touched
	limitAfterGC := func() int64 {
		runtime.GC()
		runtime.GC() // the finalizer of the first collection's sentinel has run by the second
		time.Sleep(10 * time.Millisecond)
		return debug.SetMemoryLimit(-1)
	}
	if got := limitAfterGC(); got < 96<<20 || got > 120<<20 {
		t.Errorf("with 64 MiB live: limit %d MiB, want about 96 MiB (live plus half as much again)", got>>20)
	}
	runtime.KeepAlive(live)
	live = nil
	if got := limitAfterGC(); got > 48<<20 {
		t.Errorf("with the 64 MiB dropped: limit %d MiB, want the minimum headroom over a small heap", got>>20)
	}
	stop()
	debug.SetMemoryLimit(math.MaxInt64)
	if got := limitAfterGC(); got != math.MaxInt64 {
		t.Errorf("after stop the limit was set again: %d", got)
	}
}
