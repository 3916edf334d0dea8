package main

import (
	"math"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
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

func TestServicesUseDescribe(t *testing.T) {
	start := servicesUse{broker: 1, db: 2}
	end := servicesUse{broker: 1.12, db: 2.05}
	got := end.since(start).describe(1000)
	want := "RabbitMQ 120 µs, PostgreSQL 50 µs of CPU per message delivered (their processes on this machine, other clients' work included)"
	if got != want {
		t.Errorf("describe = %q\nwant       %q", got, want)
	}
	brokerOnly := servicesUse{broker: 0.1, db: math.NaN()}
	if got := brokerOnly.describe(1000); !strings.HasPrefix(got, "RabbitMQ 100 µs of CPU") {
		t.Errorf("describe without a database = %q", got)
	}
	if got := (servicesUse{broker: math.NaN(), db: math.NaN()}).describe(1000); got != "" {
		t.Errorf("describe with neither = %q, want nothing", got)
	}
	if got := end.describe(0); got != "" {
		t.Errorf("describe of no message = %q, want nothing", got)
	}
}

func TestProcStat(t *testing.T) {
	line := func(comm string) []byte {
		// pid (comm) state ppid … utime stime cutime cstime …, as the kernel writes it.
		return []byte("42 (" + comm + ") S 1 42 42 0 -1 4194560 100 0 0 0 250 50 7 3 20 0 1 0 100 1000 10")
	}
	for _, comm := range []string{"postgres", "beam.smp", "a b", "x) (y", ")"} {
		got, rest, ok := procStat(line(comm))
		if !ok || got != comm {
			t.Errorf("procStat(%q): name %q, ok %v", comm, got, ok)
			continue
		}
		if rest[11] != 250 || rest[12] != 50 || rest[13] != 7 || rest[14] != 3 {
			t.Errorf("procStat(%q): utime, stime, cutime, cstime = %v, want 250 50 7 3", comm, rest[11:15])
		}
	}
	for _, bad := range []string{"", "42 postgres S 1", "42 (postgres) S 1 2 3"} {
		if _, _, ok := procStat([]byte(bad)); ok {
			t.Errorf("procStat(%q) = ok, want refused", bad)
		}
	}
}

// TestServicesCPUReadsTheLocalServices finds the broker and PostgreSQL among this machine's
// processes, which CI starts.
func TestServicesCPUReadsTheLocalServices(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("CPU times come from /proc")
	}
	u := servicesCPU()
	if os.Getenv("CI") == "" && (math.IsNaN(u.broker) || math.IsNaN(u.db)) {
		t.Skipf("RabbitMQ or PostgreSQL does not run on this machine (%+v)", u)
	}
	if !(u.broker > 0) || !(u.db > 0) {
		t.Errorf("servicesCPU = %+v, want the broker's and PostgreSQL's CPU time above zero", u)
	}
}

// A peer started by a script runs as the script's child: its CPU and memory are measured with
// the script's, not left out (the script alone would read as no CPU and a few MB).
func TestServedCountsTheChildrenOfAScript(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("CPU times come from /proc")
	}
	// The script waits for its child, which works for a while and then sleeps until killed.
	cmd := exec.Command("sh", "-c", `sh -c 'i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done; exec sleep 60' & wait`)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, pid := range processTree(cmd.Process.Pid)[1:] {
			if p, err := os.FindProcess(pid); err == nil {
				_ = p.Kill()
			}
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	s := &served{cmd: cmd}
	var used float64
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if used = s.cpu().hub; used >= 0.1 {
			break
		}
	}
	if used < 0.1 {
		t.Fatalf("the script's child worked, but its tree used %.2f s of CPU", used)
	}
	tree := processTree(cmd.Process.Pid)
	if len(tree) < 2 || tree[0] != cmd.Process.Pid {
		t.Fatalf("process tree %v: want the script first, then its child", tree)
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	if _, rest, _ := procStat(stat); (rest[11]+rest[12])/userHZ >= used {
		t.Errorf("the script alone used %.2f s, its tree %.2f s: the child was not counted", (rest[11]+rest[12])/userHZ, used)
	}
	alone := (&served{cmd: &exec.Cmd{Process: &os.Process{Pid: tree[len(tree)-1]}}}).procStatusKB("VmHWM")
	if all := s.procStatusKB("VmHWM"); !(all > alone) {
		t.Errorf("peak RSS of the tree %v kB, of its last process alone %v kB: want the tree's larger", all, alone)
	}
}
