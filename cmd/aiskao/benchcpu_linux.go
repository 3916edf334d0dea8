package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// userHZ is the unit of the times in /proc, fixed by the kernel's interface.
const userHZ = 100

// cpu reads the CPU times from /proc, the hub's summed over its processes; where there is none,
// the figures are left out.
func (s *served) cpu() cpuUse {
	var u cpuUse
	for _, p := range s.all() {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
		if err != nil {
			return u
		}
		// Fields after the command name, which is in parentheses and may hold spaces: utime and
		// stime are the 12th and 13th of them.
		_, rest, _ := strings.Cut(string(stat), ") ")
		f := strings.Fields(rest)
		if len(f) < 13 {
			return u
		}
		ut, _ := strconv.ParseFloat(f[11], 64)
		st, _ := strconv.ParseFloat(f[12], 64)
		u.hub += (ut + st) / userHZ
	}
	machine, err := os.ReadFile("/proc/stat")
	if err != nil {
		return u
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		u.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	}
	line, _, _ := strings.Cut(string(machine), "\n")
	for i, v := range strings.Fields(line)[1:] {
		n, _ := strconv.ParseFloat(v, 64)
		u.total += n / userHZ
		if i != 3 && i != 4 { // idle and iowait
			u.busy += n / userHZ
		}
	}
	u.ok = true
	return u
}
