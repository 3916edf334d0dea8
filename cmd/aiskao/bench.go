package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
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

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/internal/bareloop"
)

// runBench measures the demo end to end: HTTP → durable transport → steps → file sink, with many
// concurrent clients against a real `aiskao serve` process, beside the bare loop of the same work
// in memory. Phase one finds the throughput with clients posting as fast as they are answered;
// phase two offers a fixed share of that rate and measures latency.
func runBench(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", "[-clients N] [-duration D] [-rate-share F] [-data DIR]", stderr)
	clients := fs.Int("clients", 32, "concurrent HTTP clients")
	duration := fs.Duration("duration", 10*time.Second, "how long each phase offers load")
	share := fs.Float64("rate-share", 0.5, "phase two offers this share of phase one's throughput")
	config := fs.String("config", defaultConfig, "configuration to serve (its esoed-inbox route is measured)")
	sample := fs.String("sample", "testdata/esoed/registration-request.xml", "message to post, made unique per request")
	schema := fs.String("schema", "configs/schemas/esoed-message.json", "schema for the bare loop")
	root := fs.String("data", "data", "folder in which the bench makes its working folders (removed afterwards), on the disk the hub's data folder would use")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	// Not the system's temporary folder: builds and tests create and delete files there all the
	// time, and on some file systems (ext4 without a journal) every new file then costs a scan
	// past the inodes deleted in the last minutes: the bench would measure that churn.
	if err := os.MkdirAll(*root, 0o755); err != nil {
		return err
	}
	input, err := os.ReadFile(*sample)
	if err != nil {
		return err
	}

	bare, err := bareLoopRate(*schema, input, 3*time.Second, "")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "bare loop (in memory, same work): %.0f msgs/s on 1 goroutine, %.0f msgs/s on %d\n",
		bare[0], bare[1], runtime.GOMAXPROCS(0))
	outDir, err := os.MkdirTemp(*root, "bench-bare-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(outDir)
	bareFiles, err := bareLoopRate(*schema, input, 3*time.Second, outDir)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "bare loop writing one file per message (no queue, no fsync): %.0f msgs/s on 1 goroutine, %.0f msgs/s on %d\n",
		bareFiles[0], bareFiles[1], runtime.GOMAXPROCS(0))

	data, err := os.MkdirTemp(*root, "bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(data)
	// The demo's ingress takes integrators only: the bench posts as one, with a token of its own
	// in the store of its working folder, made as `aiskao tokens create` does. The name is new
	// each run, for a configuration whose store outlives the folder (PostgreSQL).
	token, err := issueToken(*config, data, fmt.Sprintf("bench-%d", time.Now().UnixNano()), identity.Integrator)
	if err != nil && !errors.Is(err, errNoTokenStore) {
		return fmt.Errorf("bench: API token: %w", err)
	}
	srv, err := startServe(*config, data)
	if err != nil {
		return err
	}
	srv.token = token
	defer srv.stop()

	// Phase one: saturate.
	cpu0 := srv.cpu()
	res := srv.load(input, *clients, *duration, 0, 0)
	if res.accepted == 0 {
		return fmt.Errorf("bench: the hub accepted none of %d messages; see %s", res.failed, filepath.Join(data, "hub.log"))
	}
	delivered, took := srv.waitDelivered(res.accepted, time.Minute)
	rate := float64(delivered) / (res.elapsed + took).Seconds()
	rss := srv.rss()
	cpu := srv.cpu().since(cpu0)
	// The bare loop once more, the hub idle: a shared machine's speed drifts by tens of percent
	// between minutes, so the figure is set against the mean of the runs before and after.
	after, err := bareLoopRate(*schema, input, 3*time.Second, "")
	if err != nil {
		return err
	}
	mean := (bare[1] + after[1]) / 2
	fmt.Fprintf(stdout, "\nend to end, %d clients, as fast as answered, %v:\n", *clients, *duration)
	fmt.Fprintf(stdout, "  accepted %d (refused %d), delivered %d in %.1fs: %.0f msgs/s = %.0f%% of the bare loop, %.0f%% of the bare loop writing files\n",
		res.accepted, res.failed, delivered, (res.elapsed + took).Seconds(), rate, 100*rate/mean, 100*rate/bareFiles[1])
	fmt.Fprintf(stdout, "  (bare loop on %d goroutines: %.0f msgs/s before, %.0f after; the mean counts)\n",
		runtime.GOMAXPROCS(0), bare[1], after[1])
	fmt.Fprintf(stdout, "  accept latency (202, durably stored) p50 %v  p99 %v\n", res.p(0.50), res.p(0.99))
	fmt.Fprintf(stdout, "  hub RSS: %s\n", rss)
	fmt.Fprintf(stdout, "  CPU: %s\n", cpu.describe(delivered))

	// Phase two: a fixed rate below the maximum.
	offered := rate * *share
	res2 := srv.load(input, *clients, *duration, offered, res.accepted+1)
	delivered2, took2 := srv.waitDelivered(res.accepted+res2.accepted, time.Minute)
	fmt.Fprintf(stdout, "\nend to end, %d clients, %.0f msgs/s offered (%.0f%% of phase one), %v:\n", *clients, offered, 100**share, *duration)
	fmt.Fprintf(stdout, "  accepted %d (refused %d), delivered %d, last delivered %.2fs after the load stopped\n",
		res2.accepted, res2.failed, delivered2-delivered, took2.Seconds())
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

type served struct {
	cmd      *exec.Cmd
	httpAddr string
	opsAddr  string
	client   *http.Client
	token    string // an integrator's API token, sent with every message
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func startServe(config, data string) (*served, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	httpAddr, err := freePort()
	if err != nil {
		return nil, err
	}
	opsAddr, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &served{httpAddr: httpAddr, opsAddr: opsAddr, client: &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256},
	}}
	logFile, err := os.Create(filepath.Join(data, "hub.log"))
	if err != nil {
		return nil, err
	}
	s.cmd = exec.Command(self, "serve", "-config", config, "-data", data, "-log-level", "warn")
	esoedAddr, err := freePort()
	if err != nil {
		return nil, err
	}
	apiAddr, err := freePort()
	if err != nil {
		return nil, err
	}
	s.cmd.Env = append(os.Environ(), "AISKAO_HTTP_ADDR="+httpAddr, "AISKAO_OPS_ADDR="+opsAddr, "AISKAO_ESOED_ADDR="+esoedAddr, "AISKAO_DOSSIER_API_ADDR="+apiAddr)
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := s.client.Get("http://" + opsAddr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.stop()
	return nil, fmt.Errorf("hub not ready after 30s; see %s", logFile.Name())
}

func (s *served) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
	}
}

// rss reads the hub's resident memory now and at its peak.
func (s *served) rss() string {
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
				req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, "http://"+s.httpAddr+"/esoed/documents", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/xml")
				if s.token != "" {
					req.Header.Set("Authorization", "Bearer "+s.token)
				}
				resp, err := s.client.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				if err == nil && resp.StatusCode == http.StatusAccepted {
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

func (s *served) delivered() int {
	resp, err := s.client.Get("http://" + s.opsAddr + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	const series = `aiskao_route_messages_total{outcome="delivered",route="esoed-inbox"} `
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series); ok {
			n, _ := strconv.ParseFloat(v, 64)
			return int(n)
		}
	}
	return 0
}
