package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aiskao/aiskao/identity"
)

// benchPath is where the demo's ESOED ingress takes documents; a peer listens on the same path.
const benchPath = "/esoed/documents"

// benchOptions are the bench's settings shared by its runs.
type benchOptions struct {
	clients           int
	duration          time.Duration
	config, root      string
	httpAddr, opsAddr string
	input             []byte
	rounds            int
	peer              peerOptions
	// rabbit: the hub runs on the broker and PostgreSQL, each run with a prefix and a schema
	// of its own.
	rabbit bool
	// processes is how many hub processes share the queues and the schema (-processes).
	processes int
	// cpus, where set, is the list of cores the hub processes run on (taskset -c).
	cpus string
	// keep leaves the runs' folders in place instead of removing them (-keep).
	keep bool
	// sync, where set, is the hub's file sinks' sync (-sync), passed as AISKAO_OUT_SYNC.
	sync string
}

// removeAll removes a run's folder, unless the folders are kept.
func (o benchOptions) removeAll(dir string) error {
	if o.keep {
		return nil
	}
	return os.RemoveAll(dir)
}

// hubs says how many hub processes run, and on which cores.
func (o benchOptions) hubs() string {
	s := "1 hub process"
	if o.processes > 1 {
		s = fmt.Sprintf("%d hub processes sharing the queues and the schema", o.processes)
	}
	if o.cpus != "" {
		return s + " on cores " + o.cpus + " (taskset -c " + o.cpus + ")"
	}
	return s + " on any core"
}

// validCPUList tells whether l is a list of cores as taskset -c takes one: numbers and ranges
// separated by commas.
func validCPUList(l string) bool {
	for _, part := range strings.Split(l, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		if _, err := strconv.ParseUint(lo, 10, 16); err != nil {
			return false
		}
		if _, err := strconv.ParseUint(hi, 10, 16); isRange && err != nil {
			return false
		}
	}
	return true
}

// peerOptions say how to run the peer measured beside the hub.
type peerOptions struct {
	path, config, addr string
	env                stringList
}

// stringList is a flag that may be given several times.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, " ") }

// Set adds one value.
func (l *stringList) Set(v string) error {
	if !strings.Contains(v, "=") {
		return fmt.Errorf("want K=V, got %q", v)
	}
	*l = append(*l, v)
	return nil
}

// figures are what one saturating run measured.
type figures struct {
	delivered int
	refused   int           // answers other than accepted, and failed requests
	wall      time.Duration // from the first message posted to the last delivered
	rate      float64       // messages delivered per second of wall
	p50, p99  time.Duration // accept latency
	cpu       cpuUse
	peakKB    float64 // peak resident memory, kB (VmHWM), the largest of the processes
	// idleKB is the resident memory of that process when it was ready, before the load (VmRSS):
	// what its code and configuration take, so that peak − idle is what the messages took.
	idleKB float64
	// peaksKB is each process's peak resident memory, kB, where there are several.
	peaksKB []float64
	// Allocations over the run, from the hub's Go metrics; NaN for a peer, whose runtime the
	// bench cannot read.
	mallocs, allocBytes float64
	// Broker messages the hub's transport sent and the messages they carried, over the run,
	// where it packs (RabbitMQ with pack above 1); 0 otherwise.
	brokerMsgs, packed float64
	// services is the broker's and the database's CPU over the run, where the hub runs on them
	// (-transport rabbitmq; a peer there uses the broker alone) and they run on this machine.
	services servicesUse
}

// packs describes the packs the transport sent, or is empty where it sent none.
func (f figures) packs() string {
	if f.brokerMsgs <= 0 {
		return ""
	}
	return fmt.Sprintf("%.0f messages in %.0f broker messages, %.1f a broker message (the transport's pack)",
		f.packed, f.brokerMsgs, f.packed/f.brokerMsgs)
}

// cpuPerMsg is the process's CPU time per message delivered, in µs.
func (f figures) cpuPerMsg() float64 {
	if !f.cpu.ok || f.delivered == 0 {
		return math.NaN()
	}
	return 1e6 * f.cpu.hub / float64(f.delivered)
}

// allocs describes the allocations per message delivered.
func (f figures) allocs() string {
	if math.IsNaN(f.mallocs) || f.delivered == 0 {
		return "unknown"
	}
	return fmt.Sprintf("%.0f allocations, %.0f kB allocated per message delivered (the hub's go_memstats over the run, scrapes included)",
		f.mallocs/float64(f.delivered), f.allocBytes/1e3/float64(f.delivered))
}

const (
	mallocsSeries    = "go_memstats_mallocs_total"
	allocBytesSeries = "go_memstats_alloc_bytes_total"
	brokerMsgsSeries = "aiskao_transport_broker_messages_sent_total"
	packedSeries     = "aiskao_transport_packed_messages_total"
)

// measure saturates s with o's clients for o's duration and waits for the deliveries.
func measure(s *served, o benchOptions) (figures, loadResult, error) {
	f := figures{mallocs: math.NaN(), allocBytes: math.NaN(), services: servicesUse{broker: math.NaN(), db: math.NaN()}}
	f.idleKB = s.procStatusKB("VmRSS")
	mem0 := s.metrics(mallocsSeries, allocBytesSeries, brokerMsgsSeries, packedSeries)
	cpu0 := s.cpu()
	var svc0 servicesUse
	if o.rabbit {
		svc0 = servicesCPU()
	}
	res := s.load(o.input, o.clients, o.duration, 0, 0)
	if res.accepted == 0 {
		return f, res, fmt.Errorf("bench: none of %d messages was accepted", res.failed)
	}
	delivered, took := s.waitDelivered(res.accepted, time.Minute)
	f.cpu = s.cpu().since(cpu0)
	if o.rabbit {
		f.services = servicesCPU().since(svc0)
		if s.opsAddr == "" {
			f.services.db = math.NaN() // a peer runs on the broker alone
		}
	}
	f.delivered, f.refused, f.wall = delivered, res.failed, res.elapsed+took
	f.rate = float64(delivered) / f.wall.Seconds()
	f.p50, f.p99 = res.p(0.50), res.p(0.99)
	f.peakKB = s.peakRSS()
	for _, p := range s.others {
		if len(f.peaksKB) == 0 {
			f.peaksKB = append(f.peaksKB, f.peakKB)
		}
		kb := p.peakRSS()
		f.peaksKB = append(f.peaksKB, kb)
		if kb > f.peakKB || math.IsNaN(f.peakKB) {
			f.peakKB = kb
		}
	}
	mem1 := s.metrics(mallocsSeries, allocBytesSeries, brokerMsgsSeries, packedSeries)
	if has(mem0, mallocsSeries, allocBytesSeries) && has(mem1, mallocsSeries, allocBytesSeries) {
		f.mallocs = mem1[mallocsSeries] - mem0[mallocsSeries]
		f.allocBytes = mem1[allocBytesSeries] - mem0[allocBytesSeries]
	}
	if has(mem0, brokerMsgsSeries, packedSeries) && has(mem1, brokerMsgsSeries, packedSeries) {
		f.brokerMsgs = mem1[brokerMsgsSeries] - mem0[brokerMsgsSeries]
		f.packed = mem1[packedSeries] - mem0[packedSeries]
	}
	return f, res, nil
}

// has tells whether m holds every one of names.
func has(m map[string]float64, names ...string) bool {
	for _, n := range names {
		if _, ok := m[n]; !ok {
			return false
		}
	}
	return true
}

// peakRSS is the process's peak resident memory in kB, NaN where /proc cannot tell.
func (s *served) peakRSS() float64 { return s.procStatusKB("VmHWM") }

// procStatusKB is a field of the process's /proc status in kB, summed with the processes
// descended from it (a peer run by a script is mostly its child), NaN where /proc cannot tell.
func (s *served) procStatusKB(field string) float64 {
	sum := math.NaN()
	for _, pid := range processTree(s.cmd.Process.Pid) {
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(line, field+":"); ok {
				if n, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64); err == nil {
					if math.IsNaN(sum) {
						sum = 0
					}
					sum += n
				}
			}
		}
	}
	return sum
}

// startHubRound starts the hub on a fresh data folder, with an integrator's token of its own,
// and returns it and what removes the round's folder (and queues and schema) once it is stopped.
// With o.processes above 1, each process has a data folder of its own in the round's folder and
// they share one output folder there (as processes on one machine do, see the configuration).
func startHubRound(o benchOptions) (*served, func() error, error) {
	top, err := os.MkdirTemp(o.root, "bench-")
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() error { return o.removeAll(top) }
	var env []string
	if o.rabbit {
		var undo func() error
		if env, undo, err = rabbitRound(o.config); err != nil {
			cleanup()
			return nil, nil, err
		}
		cleanup = func() error { return errors.Join(undo(), o.removeAll(top)) }
	}
	datas := []string{top}
	if o.processes > 1 {
		datas = nil
		for i := 1; i <= o.processes; i++ {
			d := filepath.Join(top, fmt.Sprintf("hub-%d", i))
			if err := os.Mkdir(d, 0o755); err != nil {
				cleanup()
				return nil, nil, err
			}
			datas = append(datas, d)
		}
		if _, set := os.LookupEnv("AISKAO_OUT_DIR"); !set {
			out, err := filepath.Abs(filepath.Join(top, "out"))
			if err != nil {
				cleanup()
				return nil, nil, err
			}
			env = append(env, "AISKAO_OUT_DIR="+out)
		}
	}
	data := datas[0]
	// The demo's ingress takes integrators only: the bench posts as one, with a token of its own
	// in the store of its working folder, made as `aiskao tokens create` does.
	name := fmt.Sprintf("bench-%d", time.Now().UnixNano())
	var token string
	if env == nil {
		token, err = issueToken(o.config, data, name, identity.Integrator)
	} else {
		token, err = issueTokenWith(o.config, data, name, env)
	}
	if err != nil && !errors.Is(err, errNoTokenStore) {
		cleanup()
		return nil, nil, fmt.Errorf("bench: API token: %w", err)
	}
	var srv *served
	for i, d := range datas {
		httpAddr, opsAddr := o.httpAddr, o.opsAddr
		if i > 0 {
			httpAddr, opsAddr = "", ""
		}
		penv := env
		if o.sync != "" {
			penv = append(slices.Clip(env), outSyncEnv+"="+o.sync)
		}
		p, err := startServe(o.config, d, httpAddr, opsAddr, o.cpus, penv)
		if err != nil {
			if srv != nil {
				srv.stop()
			}
			cleanup()
			return nil, nil, err
		}
		p.token, p.data = token, d
		if srv == nil {
			srv = p
		} else {
			srv.others = append(srv.others, p)
		}
	}
	return srv, cleanup, nil
}

// startBenchPeer runs the peer as PATH -c CONFIG in dir, with PORT (of its address) and OUTDIR (a
// folder in dir for one file per message) in its environment, and waits until its HTTP port
// answers. Where cpus is set the peer runs under taskset -c cpus, on the hub's cores.
func startBenchPeer(p peerOptions, dir, cpus string) (*served, error) {
	addr := p.addr
	if addr == "" {
		var err error
		if addr, err = freePort(); err != nil {
			return nil, err
		}
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("bench: peer address %q: %w", addr, err)
	}
	s := &served{httpAddr: addr, client: newBenchClient(), outDir: filepath.Join(dir, "out")}
	if err := os.Mkdir(s.outDir, 0o755); err != nil {
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(dir, "peer.log"))
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	s.cmd = exec.Command(p.path, "-c", p.config)
	if cpus != "" {
		// As for the hub: taskset executes the peer in its own place, so the pid is the peer's.
		s.cmd = exec.Command("taskset", append([]string{"-c", cpus}, s.cmd.Args...)...)
	}
	s.cmd.Env = append(append(os.Environ(), "PORT="+port, "OUTDIR="+s.outDir), p.env...)
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	if err := s.start(); err != nil {
		return nil, fmt.Errorf("bench: start the peer: %w", err)
	}
	// Any HTTP answer means the port is served: a GET may well be refused by a POST-only input.
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := s.client.Get("http://" + addr + benchPath); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return s, nil
		}
	}
	s.stop()
	return nil, fmt.Errorf("bench: peer not answering on %s after 30s; see %s", addr, logFile.Name())
}

// runBenchRounds measures the hub and the peer in turn, o.rounds times each, every run in
// fresh folders, and prints each round, the medians and the ratios hub ÷ peer. Interleaving
// spreads a shared machine's drift over both.
//
// The runs' folders are removed after the last round, not after each run: on ext4 without a
// journal, the kernel passes over recently deleted inodes (for up to five minutes) when it
// makes a file, one by one, so each run after the deletion of tens of thousands of files made
// its own files ever more slowly, hub and peer alike, and later rounds measured the file system.
func runBenchRounds(o benchOptions, stdout io.Writer) (err error) {
	var hub, peer []figures
	var cleanups []func() error
	defer func() {
		for _, c := range cleanups {
			err = errors.Join(err, c())
		}
	}()
	where := ""
	if o.cpus != "" {
		where = ", both on cores " + o.cpus + " (taskset -c " + o.cpus + ")"
	}
	fmt.Fprintf(stdout, "\n%d clients, as fast as answered, %v per run; hub and peer in turn%s:\n", o.clients, o.duration, where)
	for r := 1; r <= o.rounds; r++ {
		f, cleanup, err := hubRound(o)
		cleanups = append(cleanups, cleanup)
		if err != nil {
			return fmt.Errorf("bench: round %d, hub: %w", r, err)
		}
		hub = append(hub, f)
		fmt.Fprintf(stdout, "round %d hub:  %s\n", r, f.line())
		f, cleanup, err = peerRound(o)
		cleanups = append(cleanups, cleanup)
		if err != nil {
			return fmt.Errorf("bench: round %d, peer: %w", r, err)
		}
		peer = append(peer, f)
		fmt.Fprintf(stdout, "round %d peer: %s\n", r, f.line())
	}
	mh, mp := medianFigures(hub), medianFigures(peer)
	fmt.Fprintf(stdout, "median hub:   %s\n", mh.line())
	fmt.Fprintf(stdout, "median peer:  %s\n", mp.line())
	fmt.Fprintf(stdout, "hub ÷ peer (medians): %s\n", ratios(mh, mp))
	return nil
}

// hubRound measures the hub once. It returns what removes the run's folders, never nil.
func hubRound(o benchOptions) (f figures, cleanup func() error, err error) {
	srv, cleanup, err := startHubRound(o)
	if err != nil {
		return figures{}, func() error { return nil }, err
	}
	f, _, err = measure(srv, o)
	if err != nil {
		err = fmt.Errorf("%w; see %s", err, filepath.Join(srv.data, "hub.log"))
	}
	srv.stop()
	return f, cleanup, err
}

// peerRound measures the peer once. It returns what removes the run's folder, never nil.
func peerRound(o benchOptions) (figures, func() error, error) {
	dir, err := os.MkdirTemp(o.root, "bench-peer-")
	if err != nil {
		return figures{}, func() error { return nil }, err
	}
	cleanup := func() error { return o.removeAll(dir) }
	srv, err := startBenchPeer(o.peer, dir, o.cpus)
	if err != nil {
		return figures{}, cleanup, err
	}
	defer srv.stop()
	f, _, err := measure(srv, o)
	if err != nil {
		return f, cleanup, fmt.Errorf("%w; see %s", err, filepath.Join(dir, "peer.log"))
	}
	return f, cleanup, nil
}

// line is one run's figures on one line.
func (f figures) line() string {
	s := fmt.Sprintf("%6.0f msgs/s (%d delivered in %.1fs), CPU %4.0f µs/msg, accept p50 %v p99 %v, peak RSS %.0f MB (%.0f MB idle)",
		f.rate, f.delivered, f.wall.Seconds(), f.cpuPerMsg(), f.p50, f.p99, f.peakKB/1e3, f.idleKB/1e3)
	if len(f.peaksKB) > 1 {
		mb := make([]string, len(f.peaksKB))
		for i, kb := range f.peaksKB {
			mb[i] = fmt.Sprintf("%.0f", kb/1e3)
		}
		s += " (each: " + strings.Join(mb, ", ") + " MB)"
	}
	if f.refused > 0 {
		s += fmt.Sprintf(", %d refused", f.refused)
	}
	if !math.IsNaN(f.mallocs) && f.delivered > 0 {
		s += fmt.Sprintf(", %.0f allocs/msg (%.0f kB/msg)", f.mallocs/float64(f.delivered), f.allocBytes/1e3/float64(f.delivered))
	}
	if f.brokerMsgs > 0 {
		s += fmt.Sprintf(", %.1f messages a broker message", f.packed/f.brokerMsgs)
	}
	b, d := f.services.perMsg(f.delivered)
	if b > 0 {
		s += fmt.Sprintf(", broker CPU %.0f µs/msg", b)
	}
	if d > 0 {
		s += fmt.Sprintf(", PostgreSQL CPU %.0f µs/msg", d)
	}
	return s
}

// median is the middle of xs, the mean of the two middle ones for an even count; NaN for none.
// NaNs are left out.
func median(xs []float64) float64 {
	v := slices.DeleteFunc(slices.Clone(xs), math.IsNaN)
	if len(v) == 0 {
		return math.NaN()
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// medianFigures takes the median of each figure on its own, so the result need not be one
// of the runs.
func medianFigures(fs []figures) figures {
	pick := func(get func(figures) float64) float64 {
		v := make([]float64, len(fs))
		for i, f := range fs {
			v[i] = get(f)
		}
		return median(v)
	}
	m := figures{
		rate:       pick(func(f figures) float64 { return f.rate }),
		p50:        time.Duration(pick(func(f figures) float64 { return float64(f.p50) })),
		p99:        time.Duration(pick(func(f figures) float64 { return float64(f.p99) })),
		peakKB:     pick(func(f figures) float64 { return f.peakKB }),
		idleKB:     pick(func(f figures) float64 { return f.idleKB }),
		delivered:  int(pick(func(f figures) float64 { return float64(f.delivered) })),
		refused:    int(pick(func(f figures) float64 { return float64(f.refused) })),
		wall:       time.Duration(pick(func(f figures) float64 { return f.wall.Seconds() }) * float64(time.Second)),
		mallocs:    math.NaN(),
		allocBytes: math.NaN(),
	}
	// Messages a broker message likewise, carried over a nominal one broker message.
	if r := pick(func(f figures) float64 {
		if f.brokerMsgs <= 0 {
			return math.NaN()
		}
		return f.packed / f.brokerMsgs
	}); !math.IsNaN(r) {
		m.packed, m.brokerMsgs = r, 1
	}
	// The services' CPU per message likewise.
	m.services.broker = pick(func(f figures) float64 { b, _ := f.services.perMsg(f.delivered); return b }) * float64(m.delivered) / 1e6
	m.services.db = pick(func(f figures) float64 { _, d := f.services.perMsg(f.delivered); return d }) * float64(m.delivered) / 1e6
	// CPU per message and allocations per message are medians of the per-run ratios; carried
	// as totals over a nominal delivered count so line() prints them.
	if cpu := pick(figures.cpuPerMsg); !math.IsNaN(cpu) && m.delivered > 0 {
		m.cpu = cpuUse{hub: cpu * float64(m.delivered) / 1e6, ok: true}
	}
	perMsg := func(total func(figures) float64) float64 {
		return pick(func(f figures) float64 {
			if f.delivered == 0 {
				return math.NaN()
			}
			return total(f) / float64(f.delivered)
		})
	}
	if a := perMsg(func(f figures) float64 { return f.mallocs }); !math.IsNaN(a) {
		m.mallocs = a * float64(m.delivered)
		m.allocBytes = perMsg(func(f figures) float64 { return f.allocBytes }) * float64(m.delivered)
	}
	return m
}

// ratios sets the hub's figures against the peer's: above 1 means the hub makes more (rate),
// or spends more (CPU, latency, memory).
func ratios(hub, peer figures) string {
	r := func(a, b float64) string {
		if b == 0 || math.IsNaN(a) || math.IsNaN(b) {
			return "?"
		}
		return fmt.Sprintf("%.2f", a/b)
	}
	s := fmt.Sprintf("throughput %s, CPU per message %s, accept p50 %s, p99 %s, peak RSS %s, peak RSS above idle %s",
		r(hub.rate, peer.rate), r(hub.cpuPerMsg(), peer.cpuPerMsg()),
		r(float64(hub.p50), float64(peer.p50)), r(float64(hub.p99), float64(peer.p99)), r(hub.peakKB, peer.peakKB),
		r(hub.peakKB-hub.idleKB, peer.peakKB-peer.idleKB))
	hb, hd := hub.services.perMsg(hub.delivered)
	pb, _ := peer.services.perMsg(peer.delivered)
	if hb > 0 && pb > 0 { // NaN where not measured
		s += ", broker CPU per message " + r(hb, pb)
		// On a machine that the engines, the broker and the database share, the rate follows
		// the CPU all of them spend on a message.
		if !(hd > 0) {
			hd = 0 // a hub without PostgreSQL
		}
		s += ", all CPU per message (engine, broker and database) " + r(hub.cpuPerMsg()+hb+hd, peer.cpuPerMsg()+pb)
	}
	return s
}
