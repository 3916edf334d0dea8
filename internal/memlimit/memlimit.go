// Package memlimit tells how much memory this process may use, so that the hub's budgets of
// messages in memory (a route's bytes in flight, an HTTP source's bodies being received) and its
// collector's soft limit follow the machine or container they run in rather than one figure.
package memlimit

import (
	"bufio"
	"bytes"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
)

// Available returns the bytes of memory this process may use: the least of GOMEMLIMIT (or a
// limit the program set), the cgroup's memory limit (v2, then v1) and the machine's memory. It
// returns 0 when none can be read.
func Available() int64 { return available() }

var available = sync.OnceValue(func() int64 {
	least := int64(0)
	take := func(n int64) {
		if n > 0 && (least == 0 || n < least) {
			least = n
		}
	}
	if l := debug.SetMemoryLimit(-1); l < math.MaxInt64 {
		take(l)
	}
	take(cgroupLimit("/sys/fs/cgroup/memory.max"))
	take(cgroupLimit("/sys/fs/cgroup/memory/memory.limit_in_bytes"))
	take(memTotal("/proc/meminfo"))
	return least
})

// Share returns available ÷ div, held within [lo, hi]; lo when the memory cannot be read.
func Share(available, div, lo, hi int64) int64 {
	if available <= 0 {
		return lo
	}
	return min(max(available/div, lo), hi)
}

// cgroupLimit reads a cgroup memory limit file: a number of bytes, or "max" (none, 0). cgroup v1
// reports no limit as a number near the largest int64; anything past 1 PiB is taken as none.
func cgroupLimit(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, err := strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64)
	if err != nil || n <= 0 || n >= 1<<50 {
		return 0
	}
	return n
}

// memTotal reads MemTotal from /proc/meminfo, in bytes.
func memTotal(path string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) != 2 || fields[1] != "kB" {
			return 0
		}
		n, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil || n <= 0 {
			return 0
		}
		return n << 10
	}
	return 0
}

// Bounds of Budget.
const (
	BudgetShare = 32
	BudgetMin   = 16 << 20
	BudgetMax   = 256 << 20
)

// Budget is the default of the hub's budgets of bytes in memory (a route's messages in flight,
// an HTTP source's bodies being received): a thirty-second of Available, at least 16 MiB and
// at most 256 MiB. The documentation of the options that take it says so in these words.
func Budget() int64 { return Share(Available(), BudgetShare, BudgetMin, BudgetMax) }
