package main

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// userHZ is the unit of the times in /proc, fixed by the kernel's interface.
const userHZ = 100

// cpu reads the CPU times from /proc, the hub's summed over its processes and theirs (a peer
// started by a script that runs it as a child is measured with it); where there is none, the
// figures are left out.
func (s *served) cpu() cpuUse {
	var u cpuUse
	for _, p := range s.all() {
		for _, pid := range processTree(p.cmd.Process.Pid) {
			stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
			if err != nil {
				if pid == p.cmd.Process.Pid {
					return u
				}
				continue // a child ended meanwhile
			}
			_, rest, ok := procStat(stat)
			if !ok {
				return u
			}
			// With the children each has reaped: a script's commands that have ended count too.
			u.hub += (rest[11] + rest[12] + rest[13] + rest[14]) / userHZ
		}
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

// servicesCPU reads, from /proc, the CPU time used so far by the broker (RabbitMQ's runtime,
// beam.smp started with "rabbit boot") and by the database (every postgres process, with the
// children the postmaster has reaped: connections closed during the run count too). Either is
// NaN where no such process runs on this machine or /proc cannot be read.
func servicesCPU() servicesUse {
	u := servicesUse{broker: math.NaN(), db: math.NaN()}
	add := func(v *float64, t float64) {
		if math.IsNaN(*v) {
			*v = 0
		}
		*v += t
	}
	eachProcess(func(pid int, comm string, rest []float64) {
		switch comm {
		case "beam.smp":
			cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			// The broker, not its command-line tools, which run the same runtime.
			if err == nil && bytes.Contains(cmdline, []byte("\x00rabbit\x00boot\x00")) {
				add(&u.broker, (rest[11]+rest[12])/userHZ)
			}
		case "postgres":
			add(&u.db, (rest[11]+rest[12]+rest[13]+rest[14])/userHZ)
		}
	})
	return u
}

// eachProcess calls fn with every process that runs now, its command name and the numbers of its
// /proc stat (procStat); those that end meanwhile are left out.
func eachProcess(fn func(pid int, comm string, rest []float64)) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // ended meanwhile
		}
		if comm, rest, ok := procStat(stat); ok {
			fn(pid, comm, rest)
		}
	}
}

// procStat splits a /proc/PID/stat into the command name and the numbers after it (utime is
// rest[11], stime rest[12], cutime rest[13], cstime rest[14]). The name is in parentheses and
// may hold spaces and parentheses itself, so it ends at the last ") ".
func procStat(stat []byte) (comm string, rest []float64, ok bool) {
	open := bytes.IndexByte(stat, '(')
	end := bytes.LastIndex(stat, []byte(") "))
	if open < 0 || end < open {
		return "", nil, false
	}
	f := strings.Fields(string(stat[end+2:]))
	if len(f) < 15 {
		return "", nil, false
	}
	rest = make([]float64, 15)
	for i := range rest {
		rest[i], _ = strconv.ParseFloat(f[i], 64)
	}
	return string(stat[open+1 : end]), rest, true
}

// processTree returns root and the processes descended from it that run now, root first.
func processTree(root int) []int {
	children := map[int][]int{}
	eachProcess(func(pid int, _ string, rest []float64) {
		ppid := int(rest[1])
		children[ppid] = append(children[ppid], pid)
	})
	tree := []int{root}
	for i := 0; i < len(tree); i++ {
		tree = append(tree, children[tree[i]]...)
	}
	return tree
}
