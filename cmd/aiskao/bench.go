package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aiskao/aiskao/internal/bareloop"
	"github.com/aiskao/aiskao/internal/freeport"
)

// runBench measures the demo end to end: HTTP → durable transport → steps → file sink, with many
// concurrent clients against a real `aiskao serve` process, beside the bare loop of the same work
// in memory. Phase one finds the throughput with clients posting as fast as they are answered;
// phase two offers a fixed share of that rate and measures latency. With -peer, another engine
// doing the same work is measured in turn with the hub instead (runBenchRounds).
func runBench(args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlags("bench", "[-clients N] [-duration D] [-size S] [-transport rabbitmq [-processes N|N,M,...]] [-cpus LIST] [-peer PATH -peer-config FILE [-rounds N]] [-data DIR [-keep]]", stderr)
	o := benchOptions{}
	fs.IntVar(&o.clients, "clients", 32, "concurrent HTTP clients")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long each phase (each round with -peer) offers load")
	share := fs.Float64("rate-share", 0.5, "phase two offers this share of phase one's throughput (without -peer)")
	fs.StringVar(&o.config, "config", defaultConfig, "configuration to serve (its esoed-inbox route is measured)")
	sample := fs.String("sample", "testdata/esoed/registration-request.xml", "message to post, made unique per request")
	size := fs.String("size", "", "grow the sample to this size with a base64 attachment: bytes, or 30KB, 300KB, 1MiB (empty: the sample as it is)")
	schema := fs.String("schema", "configs/schemas/esoed-message.json", "schema for the bare loop")
	fs.StringVar(&o.root, "data", "data", "folder in which the bench makes its working folders (removed afterwards), on the disk the hub's data folder would use")
	fs.StringVar(&o.httpAddr, "http-addr", "", "address for the hub's ingress (default: a free port of the loopback)")
	fs.StringVar(&o.opsAddr, "ops-addr", "", "address for the hub's operations endpoint (default: a free port of the loopback)")
	bare := fs.Bool("bare", true, "measure the bare loop of the same work in memory too")
	fs.StringVar(&o.peer.path, "peer", "", "a peer's binary to measure beside the hub, run as PATH -c CONFIG with PORT and OUTDIR in its environment")
	fs.StringVar(&o.peer.config, "peer-config", "", "the peer's configuration (with -peer)")
	fs.Var(&o.peer.env, "peer-env", "K=V added to the peer's environment (repeatable)")
	fs.StringVar(&o.peer.addr, "peer-addr", "", "address the peer listens on; its port is passed as PORT (default: a free port of the loopback)")
	fs.IntVar(&o.rounds, "rounds", 3, "with -peer: rounds of hub then peer; with a list of -processes: rounds of each count; each run in fresh folders")
	transport := fs.String("transport", "sqlite", "sqlite: the configuration as given; rabbitmq: "+rabbitConfig+" against the local broker and PostgreSQL")
	counts := processCounts{1}
	fs.Var(&counts, "processes", "with -transport rabbitmq: hub processes sharing the queues and the schema, the clients' requests spread over them in turn; a list such as 1,2,3 measures each count in turn, -rounds times, and sets each against the first")
	fs.BoolVar(&o.keep, "keep", false, "keep the runs' folders instead of removing them: on ext4 without a journal every new file costs a scan past the inodes deleted in the last minutes, so a series of runs that each delete tens of thousands of files measures that; remove the folders once the series is done")
	fs.StringVar(&o.sync, "sync", "", "the hub's file sinks' sync, file or filesystem, given to the configuration as "+outSyncEnv+" (empty: as the configuration says); filesystem is for an output folder on a volume of its own")
	fs.StringVar(&o.cpus, "cpus", "", "run the hub processes, and the peer with -peer, under taskset -c LIST (e.g. 1, or 0-1), so that other programs can be kept off those cores")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	o.processes = counts[0]
	if (len(counts) > 1 || o.processes > 1) && *transport != "rabbitmq" {
		fmt.Fprintln(stderr, "bench: -processes above 1 or a list only with -transport rabbitmq (processes share its queues and schema)")
		return errUsage
	}
	if len(counts) > 1 && o.peer.path != "" {
		fmt.Fprintln(stderr, "bench: -processes with a list compares the hub with itself; -peer compares it with a peer: one at a time")
		return errUsage
	}
	if o.cpus != "" && !validCPUList(o.cpus) {
		fmt.Fprintf(stderr, "bench: -cpus %q: want a list of cores such as 1, 0-1 or 0,2\n", o.cpus)
		return errUsage
	}
	switch *transport {
	case "sqlite":
	case "rabbitmq":
		configSet := false
		fs.Visit(func(f *flag.Flag) { configSet = configSet || f.Name == "config" })
		if !configSet {
			o.config = rabbitConfig
		}
		o.rabbit = true
		if err := reachable(); err != nil {
			return err
		}
	default:
		fmt.Fprintf(stderr, "bench: -transport %q: want sqlite or rabbitmq\n", *transport)
		return errUsage
	}
	if err := checkOutSync(o.sync, o.config); err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return errUsage
	}
	if (o.peer.path == "") != (o.peer.config == "") || o.rounds < 1 || o.clients < 1 {
		fmt.Fprintln(stderr, "bench: -peer and -peer-config go together; -rounds and -clients must be at least 1")
		return errUsage
	}
	n, err := parseSize(*size)
	if err != nil {
		return err
	}
	// Not the system's temporary folder: builds and tests create and delete files there all the
	// time, and on some file systems (ext4 without a journal) every new file then costs a scan
	// past the inodes deleted in the last minutes: the bench would measure that churn.
	if err := os.MkdirAll(o.root, 0o755); err != nil {
		return err
	}
	input, err := os.ReadFile(*sample)
	if err != nil {
		return err
	}
	if o.input, err = sizedSample(input, n); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "message: %d bytes\n", len(o.input))
	if o.sync != "" {
		fmt.Fprintf(stdout, "the hub's file sinks: sync %s (%s)\n", o.sync, outSyncEnv)
	} else if v := os.Getenv(outSyncEnv); v != "" {
		// Inherited by the hub: said, so that a figure is not read as the configuration's default.
		fmt.Fprintf(stdout, "the hub's file sinks: sync %s (%s in the environment)\n", v, outSyncEnv)
	}

	var bareRate [2]float64
	if *bare {
		if bareRate, err = bareLoopRate(*schema, o.input, 3*time.Second, ""); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "bare loop (in memory, same work): %.0f msgs/s on 1 goroutine, %.0f msgs/s on %d\n",
			bareRate[0], bareRate[1], runtime.GOMAXPROCS(0))
	}
	if o.peer.path != "" {
		return runBenchRounds(o, stdout)
	}
	if len(counts) > 1 {
		return runProcessRounds(o, counts, stdout)
	}
	bareFiles := [2]float64{}
	if *bare {
		outDir, err := os.MkdirTemp(o.root, "bench-bare-")
		if err != nil {
			return err
		}
		defer o.removeAll(outDir)
		if bareFiles, err = bareLoopRate(*schema, o.input, 3*time.Second, outDir); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "bare loop writing one file per message (no queue, no fsync): %.0f msgs/s on 1 goroutine, %.0f msgs/s on %d\n",
			bareFiles[0], bareFiles[1], runtime.GOMAXPROCS(0))
	}

	srv, cleanup, err := startHubRound(o)
	if err != nil {
		return err
	}
	defer func() {
		srv.stop()
		if cerr := cleanup(); cerr != nil && err == nil {
			err = cerr
		}
	}()

	// Phase one: saturate.
	fig, res, err := measure(srv, o)
	if err != nil {
		return fmt.Errorf("%w; see %s", err, filepath.Join(srv.data, "hub.log"))
	}
	fmt.Fprintf(stdout, "\nend to end, %d clients, as fast as answered, %v, %s:\n", o.clients, o.duration, o.hubs())
	fmt.Fprintf(stdout, "  accepted %d (refused %d), delivered %d in %.1fs: %.0f msgs/s\n",
		res.accepted, res.failed, fig.delivered, fig.wall.Seconds(), fig.rate)
	if *bare {
		// The bare loop once more, the hub idle: a shared machine's speed drifts by tens of
		// percent between minutes, so the figure is set against the mean of the runs before and after.
		after, err := bareLoopRate(*schema, o.input, 3*time.Second, "")
		if err != nil {
			return err
		}
		mean := (bareRate[1] + after[1]) / 2
		fmt.Fprintf(stdout, "  = %.0f%% of the bare loop, %.0f%% of the bare loop writing files (bare loop on %d goroutines: %.0f msgs/s before, %.0f after; the mean counts)\n",
			100*fig.rate/mean, 100*fig.rate/bareFiles[1], runtime.GOMAXPROCS(0), bareRate[1], after[1])
	}
	fmt.Fprintf(stdout, "  accept latency (202, durably stored) p50 %v  p99 %v\n", fig.p50, fig.p99)
	fmt.Fprintf(stdout, "  hub RSS: %s (%.0f kB when ready, before the load)\n", srv.rss(), fig.idleKB)
	fmt.Fprintf(stdout, "  CPU: %s\n", fig.cpu.describe(fig.delivered))
	fmt.Fprintf(stdout, "  allocations: %s\n", fig.allocs())
	if p := fig.packs(); p != "" {
		fmt.Fprintf(stdout, "  packs: %s\n", p)
	}
	if d := fig.services.describe(fig.delivered); d != "" {
		fmt.Fprintf(stdout, "  broker and database: %s\n", d)
	}

	// Phase two: a fixed rate below the maximum.
	offered := fig.rate * *share
	res2 := srv.load(o.input, o.clients, o.duration, offered, res.accepted+1)
	delivered2, took2 := srv.waitDelivered(fig.delivered+res2.accepted, time.Minute)
	fmt.Fprintf(stdout, "\nend to end, %d clients, %.0f msgs/s offered (%.0f%% of phase one), %v:\n", o.clients, offered, 100**share, o.duration)
	fmt.Fprintf(stdout, "  accepted %d (refused %d), delivered %d, last delivered %.2fs after the load stopped\n",
		res2.accepted, res2.failed, delivered2-fig.delivered, took2.Seconds())
	fmt.Fprintf(stdout, "  accept latency p50 %v  p99 %v\n", res2.p(0.50), res2.p(0.99))
	fmt.Fprintf(stdout, "  hub RSS: %s\n", srv.rss())
	return nil
}

// bareLoopRate returns the bare loop's rate on one goroutine and on GOMAXPROCS goroutines. With
// a folder, each output is also written to a file of its own there, as the demo's sink does.
func bareLoopRate(schema string, input []byte, d time.Duration, dir string) ([2]float64, error) {
	l, err := bareloop.New(schema)
	if err != nil {
		return [2]float64{}, err
	}
	var out [2]float64
	for i, workers := range []int{1, runtime.GOMAXPROCS(0)} {
		var n atomic.Int64
		var wg sync.WaitGroup
		stop := time.Now().Add(d)
		start := time.Now()
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(stop) {
					out, err := l.Process(input)
					if err != nil {
						panic(err)
					}
					k := n.Add(1)
					if dir != "" {
						if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d-%d.json", i, k)), out, 0o640); err != nil {
							panic(err)
						}
					}
				}
			}()
		}
		wg.Wait()
		out[i] = float64(n.Load()) / time.Since(start).Seconds()
	}
	return out, nil
}

// served is a process under load: the hub, or a peer doing the same work.
type served struct {
	cmd      *exec.Cmd
	httpAddr string
	opsAddr  string // the hub's operations endpoint; empty for a peer
	client   *http.Client
	token    string // an integrator's API token, sent with every message
	// outDir, for a peer, is the folder in which it writes one file per message: the count of
	// its files is the count delivered. The hub's count comes from its metrics.
	outDir string
	data   string        // the hub's data folder, for its log
	exited chan struct{} // closed once the process has ended (start)
	// others are the further hub processes of -processes, sharing the queues and the schema. The
	// load is spread over s and them in turn; counts, CPU and allocations are summed over all.
	others []*served
}

// all is s and the further processes sharing its queues.
func (s *served) all() []*served { return append([]*served{s}, s.others...) }

// outSyncEnv is the variable through which the shipped configurations' file sinks take their
// sync, and through which -sync sets it.
const outSyncEnv = "AISKAO_OUT_SYNC"

// checkOutSync refuses a -sync other than file or filesystem, and one the configuration would
// not see: a figure said to be taken with it would then be taken without.
func checkOutSync(sync, config string) error {
	if sync == "" {
		return nil
	}
	if sync != "file" && sync != "filesystem" {
		return fmt.Errorf("-sync %q: want file or filesystem", sync)
	}
	text, err := os.ReadFile(config)
	if err != nil {
		return err
	}
	if !bytes.Contains(text, []byte("${"+outSyncEnv)) {
		return fmt.Errorf("-sync: %s does not take %s in its file sinks' sync", config, outSyncEnv)
	}
	return nil
}

// newBenchClient is the load client, the same for the hub and a peer. It does not ask for
// gzip: a server that compresses its short answers whenever allowed would be measured
// compressing, which is not the work compared.
func newBenchClient() *http.Client {
	return &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256, DisableCompression: true},
	}
}

// freePort is a port of the loopback for a server the bench starts (see package freeport).
func freePort() (string, error) {
	return freeport.Loopback()
}

// startServe starts `aiskao serve` on data and waits until it is ready. Empty addresses are
// free ports of the loopback. With cpus, the process runs under `taskset -c cpus`. A process
// that ends before it is ready is started again, twice at most, on other free ports: a port
// found free may be taken by another program before the hub listens on it.
func startServe(config, data, httpAddr, opsAddr, cpus string, env []string) (s *served, err error) {
	for try := 0; try < 3; try++ {
		var ended bool
		if s, ended, err = startServeOnce(config, data, httpAddr, opsAddr, cpus, env); err == nil || !ended {
			return s, err
		}
	}
	return nil, err
}

// startServeOnce is one attempt of startServe; ended reports that the process ended before it
// was ready.
func startServeOnce(config, data, httpAddr, opsAddr, cpus string, env []string) (_ *served, ended bool, err error) {
	self, err := os.Executable()
	if err != nil {
		return nil, false, err
	}
	for _, a := range []*string{&httpAddr, &opsAddr} {
		if *a == "" {
			if *a, err = freePort(); err != nil {
				return nil, false, err
			}
		}
	}
	s := &served{httpAddr: httpAddr, opsAddr: opsAddr, client: newBenchClient()}
	logFile, err := os.Create(filepath.Join(data, "hub.log"))
	if err != nil {
		return nil, false, err
	}
	s.cmd = exec.Command(self, "serve", "-config", config, "-data", data, "-log-level", "warn")
	if cpus != "" {
		// taskset sets the affinity and executes the hub in its own place: the pid is the hub's.
		s.cmd = exec.Command("taskset", append([]string{"-c", cpus}, s.cmd.Args...)...)
	}
	esoedAddr, err := freePort()
	if err != nil {
		return nil, false, err
	}
	apiAddr, err := freePort()
	if err != nil {
		return nil, false, err
	}
	staffAddr, err := freePort()
	if err != nil {
		return nil, false, err
	}
	portalAddr, err := freePort()
	if err != nil {
		return nil, false, err
	}
	s.cmd.Env = append(os.Environ(), "AISKAO_HTTP_ADDR="+httpAddr, "AISKAO_OPS_ADDR="+opsAddr, "AISKAO_ESOED_ADDR="+esoedAddr,
		"AISKAO_DOSSIER_API_ADDR="+apiAddr, "AISKAO_STAFF_ADDR="+staffAddr, "AISKAO_PORTAL_ADDR="+portalAddr)
	s.cmd.Env = append(s.cmd.Env, env...)
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	if err := s.start(); err != nil {
		return nil, false, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := s.client.Get("http://" + opsAddr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, false, nil
			}
		}
		select {
		case <-s.exited:
			return nil, true, fmt.Errorf("hub ended before it was ready; see %s", logFile.Name())
		case <-time.After(50 * time.Millisecond):
		}
	}
	s.stop()
	return nil, false, fmt.Errorf("hub not ready after 30s; see %s", logFile.Name())
}

// start starts s's process and notes its end in s.exited.
func (s *served) start() error {
	if err := s.cmd.Start(); err != nil {
		return err
	}
	s.exited = make(chan struct{})
	go func() {
		_ = s.cmd.Wait()
		close(s.exited)
	}()
	return nil
}

// stop stops s and its other processes, all at once.
func (s *served) stop() {
	var wg sync.WaitGroup
	for _, p := range s.all() {
		wg.Go(p.stop1)
	}
	wg.Wait()
}

func (s *served) stop1() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// rss reads the hub's resident memory now and at its peak, each process's in turn.
func (s *served) rss() string {
	var out []string
	for _, p := range s.all() {
		out = append(out, p.rss1())
	}
	return strings.Join(out, "; ")
}

func (s *served) rss1() string {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	defer f.Close()
	var now, peak string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		switch k {
		case "VmRSS":
			now = strings.TrimSpace(v)
		case "VmHWM":
			peak = strings.TrimSpace(v)
		}
	}
	return fmt.Sprintf("%s now, %s peak", now, peak)
}

// cpuUse is CPU time used so far, in seconds: by the hub, by this process (the clients and
// the bare loops), and by the whole machine, busy and in all.
type cpuUse struct {
	hub, self, busy, total float64
	ok                     bool
}

// since returns the CPU time used between start and u.
func (u cpuUse) since(start cpuUse) cpuUse {
	return cpuUse{hub: u.hub - start.hub, self: u.self - start.self, busy: u.busy - start.busy, total: u.total - start.total, ok: u.ok && start.ok}
}

// servicesUse is CPU time, in seconds, used so far by the broker and the database the hub runs
// on, where they run on this machine; NaN where they do not (or not measured).
type servicesUse struct {
	broker, db float64
}

// since returns the CPU time used between start and u.
func (u servicesUse) since(start servicesUse) servicesUse {
	return servicesUse{broker: u.broker - start.broker, db: u.db - start.db}
}

// perMsg is each service's CPU time per delivered message, in µs (NaN where unknown).
func (u servicesUse) perMsg(delivered int) (broker, db float64) {
	if delivered == 0 {
		return math.NaN(), math.NaN()
	}
	return 1e6 * u.broker / float64(delivered), 1e6 * u.db / float64(delivered)
}

// describe tells the services' CPU time per delivered message, or is empty where neither was
// measured.
func (u servicesUse) describe(delivered int) string {
	b, d := u.perMsg(delivered)
	var parts []string
	if !math.IsNaN(b) {
		parts = append(parts, fmt.Sprintf("RabbitMQ %.0f µs", b))
	}
	if !math.IsNaN(d) {
		parts = append(parts, fmt.Sprintf("PostgreSQL %.0f µs", d))
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, ", ") + " of CPU per message delivered (their processes on this machine, other clients' work included)"
}

// describe tells how many cores the hub and the clients kept busy, the hub's CPU time per
// delivered message (steadier than the rate on a shared machine) and how busy the machine was.
func (u cpuUse) describe(delivered int) string {
	if !u.ok || u.total <= 0 || delivered == 0 {
		return "unknown (no /proc)"
	}
	wall := u.total / float64(runtime.NumCPU())
	return fmt.Sprintf("hub %.2f cores (%.0f µs per message delivered), clients %.2f cores, machine %.0f%% busy",
		u.hub/wall, 1e6*u.hub/float64(delivered), u.self/wall, 100*u.busy/u.total)
}

type loadResult struct {
	accepted, failed int
	elapsed          time.Duration
	latencies        []time.Duration
}

func (r loadResult) p(q float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	return r.latencies[min(len(r.latencies)-1, int(q*float64(len(r.latencies))))].Round(10 * time.Microsecond)
}

// load posts unique messages from n clients for d. With rate 0 each client posts as soon as it
// is answered; otherwise the clients together offer rate messages per second on a fixed schedule,
// and latency is measured from the scheduled time, so that a slow answer is not hidden.
func (s *served) load(input []byte, n int, d time.Duration, rate float64, seq int) loadResult {
	marker := []byte("{f330b925-8cca-447e-907e-8e42a11bb6d6}")
	var (
		mu   sync.Mutex
		res  loadResult
		next atomic.Int64
		wg   sync.WaitGroup
	)
	next.Store(int64(seq))
	var addrs []string // the processes' ingresses, taken in turn
	for _, p := range s.all() {
		addrs = append(addrs, p.httpAddr)
	}
	start := time.Now()
	stop := start.Add(d)
	var interval time.Duration
	if rate > 0 {
		interval = time.Duration(float64(time.Second) * float64(n) / rate)
	}
	for c := 0; c < n; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			acc, fail := 0, 0
			due := start.Add(time.Duration(c) * interval / time.Duration(n))
			for {
				if interval > 0 {
					time.Sleep(time.Until(due))
				}
				t0 := time.Now()
				if t0.After(stop) {
					break
				}
				if interval > 0 {
					t0 = due
					due = due.Add(interval)
				}
				k := next.Add(1)
				guid := fmt.Sprintf("{%08x-0000-4000-8000-%012x}", k, k)
				body := bytes.Replace(input, marker, []byte(guid), 1)
				req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, "http://"+addrs[k%int64(len(addrs))]+benchPath, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/xml")
				if s.token != "" {
					req.Header.Set("Authorization", "Bearer "+s.token)
				}
				resp, err := s.client.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				if err == nil && s.stored(resp.StatusCode) {
					acc++
					lat = append(lat, time.Since(t0))
				} else {
					fail++
				}
			}
			mu.Lock()
			res.accepted += acc
			res.failed += fail
			res.latencies = append(res.latencies, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	slices.Sort(res.latencies)
	return res
}

// waitDelivered waits until the route has delivered want messages in all, reading the hub's
// metrics, and returns the count and how long it waited.
func (s *served) waitDelivered(want int, limit time.Duration) (int, time.Duration) {
	start := time.Now()
	got := 0
	for time.Since(start) < limit {
		got = s.delivered()
		if got >= want {
			break
		}
		time.Sleep(50 * time.Millisecond) // each look is a scrape, which takes from the hub
	}
	return got, time.Since(start)
}

// stored tells whether an answer means the message was taken: 202 from the hub, any 2xx from
// a peer (Benthos answers 200).
func (s *served) stored(status int) bool {
	if s.outDir != "" {
		return status/100 == 2
	}
	return status == http.StatusAccepted
}

// deliveredSeries is the hub's count of messages the measured route delivered.
const deliveredSeries = `aiskao_route_messages_total{outcome="delivered",route="esoed-inbox"}`

func (s *served) delivered() int {
	if s.outDir != "" {
		entries, err := os.ReadDir(s.outDir)
		if err != nil {
			return 0
		}
		return len(entries)
	}
	return int(s.metrics(deliveredSeries)[deliveredSeries])
}

// metrics reads the named series from the hub's /metrics, summed over its processes; a series
// not found in every process is left out.
func (s *served) metrics(names ...string) map[string]float64 {
	sum := map[string]float64{}
	seen := map[string]int{}
	for _, p := range s.all() {
		for k, v := range p.metrics1(names...) {
			sum[k] += v
			seen[k]++
		}
	}
	for k, n := range seen {
		if n != len(s.others)+1 {
			delete(sum, k)
		}
	}
	return sum
}

func (s *served) metrics1(names ...string) map[string]float64 {
	out := map[string]float64{}
	if s.opsAddr == "" {
		return out
	}
	resp, err := s.client.Get("http://" + s.opsAddr + "/metrics")
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		for _, name := range names {
			if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
				if n, err := strconv.ParseFloat(v, 64); err == nil {
					out[name] = n
				}
			}
		}
	}
	return out
}
