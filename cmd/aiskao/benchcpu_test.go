package main

import (
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"
)

func TestCPUUseDescribe(t *testing.T) {
	n := float64(runtime.NumCPU())
	start := cpuUse{hub: 10, self: 1, busy: 20, total: 40, ok: true}
	// One second of wall time on n cores: the hub used half a core, the clients a quarter.
	end := cpuUse{hub: 10.5, self: 1.25, busy: 20 + 0.75*n, total: 40 + n, ok: true}
	got := end.since(start).describe(1000)
	want := "hub 0.50 cores (500 µs per message delivered), clients 0.25 cores, machine 75% busy"
	if got != want {
		t.Errorf("describe = %q\nwant       %q", got, want)
	}
	if got := end.since(cpuUse{}).describe(1000); got != "unknown (no /proc)" {
		t.Errorf("describe without a first reading = %q, want unknown", got)
	}
}

// TestCPUReadsTheProcess reads this test's own process as if it were the hub, around some work.
func TestCPUReadsTheProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("CPU times come from /proc")
	}
	p, err := os.FindProcess(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	s := &served{cmd: &exec.Cmd{Process: p}}
	before := s.cpu()
	for start := time.Now(); time.Since(start) < 200*time.Millisecond; {
	}
	u := s.cpu().since(before)
	if !u.ok || u.hub <= 0 || u.self <= 0 || u.total <= 0 || u.busy <= 0 {
		t.Errorf("after 200 ms of work: %+v, want every figure above zero", u)
	}
}
