package main

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// fakePeer is a peer as the bench expects one: it reads -c CONFIG, listens on PORT and writes
// each document posted to its path into a file of its own in OUTDIR.
const fakePeer = `package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
)

func main() {
	config := flag.String("c", "", "configuration")
	flag.Parse()
	if _, err := os.Stat(*config); err != nil {
		panic(err)
	}
	if os.Getenv("THREADS") != "2" {
		panic("THREADS not passed")
	}
	// With WANT_CPUS the bench is to have pinned the peer to those cores.
	if want := os.Getenv("WANT_CPUS"); want != "" {
		status, err := os.ReadFile("/proc/self/status")
		if err != nil {
			panic(err)
		}
		if !strings.Contains(string(status), "Cpus_allowed_list:\t"+want+"\n") {
			panic("not on cores " + want + ":\n" + string(status))
		}
	}
	var n atomic.Int64
	http.HandleFunc("/esoed/documents", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		body, _ := io.ReadAll(r.Body)
		name := filepath.Join(os.Getenv("OUTDIR"), fmt.Sprintf("%d.xml", n.Add(1)))
		if err := os.WriteFile(name, body, 0o644); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Write([]byte("ok"))
	})
	panic(http.ListenAndServe("127.0.0.1:"+os.Getenv("PORT"), nil))
}
`

// TestBenchWithPeer runs the bench with a peer, two short rounds, so that the interleaving, the
// peer's readiness and its count of files are exercised without the real peer.
func TestBenchWithPeer(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the hub four times")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte(fakePeer), 0o644); err != nil {
		t.Fatal(err)
	}
	peer := filepath.Join(dir, "peer")
	build := exec.Command("go", "build", "-o", peer, src)
	build.Env = append(os.Environ(), "GO111MODULE=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the fake peer: %v\n%s", err, out)
	}
	config := filepath.Join(dir, "peer.yaml")
	if err := os.WriteFile(config, []byte("# nothing to read\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	args := []string{"bench", "-duration", "700ms", "-clients", "4", "-bare=false",
		"-size", "10KB", "-rounds", "2", "-data", data, "-sync", "filesystem",
		"-http-addr", freeAddr(t), "-ops-addr", freeAddr(t),
		"-peer", peer, "-peer-config", config, "-peer-env", "THREADS=2", "-peer-addr", freeAddr(t)}
	_, errTaskset := exec.LookPath("taskset")
	if errTaskset == nil {
		// The peer checks that it runs on the hub's core.
		args = append(args, "-cpus", "0", "-peer-env", "WANT_CPUS=0")
	}
	cmd := exec.Command(binary, args...)
	cmd.Dir = "../.."
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, out)
	}
	text := string(out)
	if errTaskset == nil && !strings.Contains(text, "hub and peer in turn, both on cores 0 (taskset -c 0):") {
		t.Errorf("the output does not say where hub and peer ran:\n%s", text)
	}
	for _, want := range []string{"message: 10000 bytes", "the hub's file sinks: sync filesystem (AISKAO_OUT_SYNC)", "round 1 hub: ", "round 1 peer: ", "round 2 hub: ", "round 2 peer: ", "median hub: ", "median peer: "} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in the output:\n%s", want, text)
		}
	}
	if strings.Contains(text, "refused") {
		t.Errorf("some messages were refused:\n%s", text)
	}
	// The rounds come in turn: hub, peer, hub, peer.
	if i, j, k := strings.Index(text, "round 1 peer"), strings.Index(text, "round 2 hub"), strings.Index(text, "round 2 peer"); !(i < j && j < k) {
		t.Errorf("rounds out of turn:\n%s", text)
	}
	// Every run delivered what it accepted, and the peer's figures have no allocations (its
	// runtime cannot be read) while the hub's do.
	peerLine := regexp.MustCompile(`(?m)^round \d peer: +\d+ msgs/s \(([1-9]\d*) delivered`)
	if got := peerLine.FindAllString(text, -1); len(got) != 2 {
		t.Errorf("want two peer rounds with messages delivered, got %q:\n%s", got, text)
	}
	if !regexp.MustCompile(`(?m)^round 1 hub: .*allocs/msg`).MatchString(text) {
		t.Errorf("the hub's round has no allocations:\n%s", text)
	}
	if !regexp.MustCompile(`hub ÷ peer \(medians\): throughput \d+\.\d\d, CPU per message \d+\.\d\d, accept p50 \d+\.\d\d, p99 \d+\.\d\d, peak RSS \d+\.\d\d`).MatchString(text) {
		t.Errorf("no ratios in the output:\n%s", text)
	}
	if left, _ := os.ReadDir(data); len(left) != 0 {
		t.Errorf("the bench left %d working folders in %s", len(left), data)
	}
}

// rabbitBench runs the binary's bench with args on the test's broker and PostgreSQL, from the
// repository's root, and returns its output; a bench that fails fails the test.
func rabbitBench(t *testing.T, amqpURL, pgURL string, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"bench", "-transport", "rabbitmq"}, args...)...)
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "AISKAO_AMQP_URL="+amqpURL, "AISKAO_POSTGRES_URL="+pgURL)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bench %q: %v\n%s", args, err, out)
	}
	return string(out)
}

// TestBenchRabbitMQ runs the bench briefly on the broker and PostgreSQL and checks that the
// run's schema is gone afterwards.
func TestBenchRabbitMQ(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the hub on the broker and PostgreSQL")
	}
	amqpURL, pgURL := scaleServices(t)
	schemas := func() map[string]bool {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, pgURL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		rows, err := conn.Query(ctx, "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'aiskao_bench_%'")
		if err != nil {
			t.Fatal(err)
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, n := range names {
			out[n] = true
		}
		return out
	}
	before := schemas()
	out := rabbitBench(t, amqpURL, pgURL, "-duration", "700ms", "-clients", "4",
		"-bare=false", "-rate-share", "0.2", "-data", t.TempDir())
	m := regexp.MustCompile(`accepted (\d+) \(refused 0\), delivered (\d+) in`).FindStringSubmatch(out)
	if m == nil || m[1] != m[2] || m[1] == "0" {
		t.Errorf("want every message accepted and delivered, none refused:\n%s", out)
	}
	if !regexp.MustCompile(`allocations: \d+ allocations, \d+ kB allocated per message`).MatchString(out) {
		t.Errorf("no allocations in the output:\n%s", out)
	}
	// The configuration packs (pack: 32): the bench says how many messages went in how many
	// broker messages, every message accepted counted.
	p := regexp.MustCompile(`packs: (\d+) messages in (\d+) broker messages`).FindStringSubmatch(out)
	if m != nil && (p == nil || p[1] != m[1]) {
		t.Errorf("want the packs of the %v messages accepted in the output:\n%s", m[1:], out)
	}
	// The broker and PostgreSQL run on this machine in CI: the bench says what they spent.
	if os.Getenv("CI") != "" && !regexp.MustCompile(`broker and database: RabbitMQ \d+ µs, PostgreSQL \d+ µs of CPU per message`).MatchString(out) {
		t.Errorf("no broker and database CPU in the output:\n%s", out)
	}
	for name := range schemas() {
		if !before[name] {
			t.Errorf("the bench left its schema %s behind", name)
		}
	}
}

// TestBenchRabbitMQProcesses runs the bench briefly with two hub processes on one core: both
// take requests, every message accepted is delivered once in all, and the output says how many
// processes ran on which cores.
func TestBenchRabbitMQProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two hubs on the broker and PostgreSQL")
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		t.Skip("no taskset")
	}
	amqpURL, pgURL := scaleServices(t)
	data := t.TempDir()
	text := rabbitBench(t, amqpURL, pgURL, "-processes", "2", "-cpus", "0",
		"-duration", "700ms", "-clients", "4", "-bare=false", "-rate-share", "0.2", "-data", data)
	if !strings.Contains(text, "2 hub processes sharing the queues and the schema on cores 0 (taskset -c 0)") {
		t.Errorf("the output does not say how many processes ran where:\n%s", text)
	}
	m := regexp.MustCompile(`accepted (\d+) \(refused 0\), delivered (\d+) in`).FindStringSubmatch(text)
	if m == nil || m[1] != m[2] || m[1] == "0" {
		t.Errorf("want every message accepted and delivered once, none refused:\n%s", text)
	}
	// Each process's memory, and so each process ran to the end.
	if !regexp.MustCompile(`hub RSS: \d+ kB now, \d+ kB peak; \d+ kB now, \d+ kB peak\n`).MatchString(text) {
		t.Errorf("want the memory of each of two processes:\n%s", text)
	}
	if left, _ := os.ReadDir(data); len(left) != 0 {
		t.Errorf("the bench left %d working folders in %s", len(left), data)
	}
}

// TestBenchComparesProcessCounts runs one process and two in turn for two rounds: each run is
// reported with its count, the order turns from round to round, and the medians are set against
// one process's.
func TestBenchComparesProcessCounts(t *testing.T) {
	if testing.Short() {
		t.Skip("runs hubs on the broker and PostgreSQL")
	}
	amqpURL, pgURL := scaleServices(t)
	data := t.TempDir()
	text := rabbitBench(t, amqpURL, pgURL, "-processes", "1,2", "-rounds", "2",
		"-duration", "700ms", "-clients", "4", "-bare=false", "-data", data)
	run := regexp.MustCompile(`(?m)^round (\d), (1 process|2 processes): +\d+ msgs/s \((\d+) delivered`)
	var order []string
	for _, m := range run.FindAllStringSubmatch(text, -1) {
		if m[3] == "0" {
			t.Errorf("round %s, %s delivered nothing", m[1], m[2])
		}
		order = append(order, m[1]+" "+m[2])
	}
	want := []string{"1 1 process", "1 2 processes", "2 2 processes", "2 1 process"}
	if !slices.Equal(order, want) {
		t.Errorf("runs %q, want %q:\n%s", order, want, text)
	}
	for _, line := range []string{"median, 1 process:", "median, 2 processes:", "2 processes ÷ 1 (medians): throughput "} {
		if !strings.Contains(text, line) {
			t.Errorf("no %q in the output:\n%s", line, text)
		}
	}
	if left, _ := os.ReadDir(data); len(left) != 0 {
		t.Errorf("the bench left %d working folders in %s", len(left), data)
	}
}

// A hub that ends before it is ready (here: its operations port is taken) is reported at once,
// after the attempts on other ports, not after the 30 s wait for readiness.
func TestBenchReportsAHubThatEndsBeforeReady(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	config := demoWithMaxBody(t, "10MiB")
	raw, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	const ops = "listen: ${AISKAO_OPS_ADDR:-127.0.0.1:9090}"
	if !strings.Contains(string(raw), ops) {
		t.Fatalf("the demo has no %q", ops)
	}
	text := strings.Replace(string(raw), ops, "listen: "+taken.Addr().String(), 1)
	if err := os.WriteFile(config, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	out, err := exec.Command(binary, "bench", "-bare=false", "-duration", "1s", "-config", config,
		"-sample", filepath.Join("..", "..", "testdata", "esoed", "registration-request.xml"), "-data", t.TempDir()).CombinedOutput()
	if err == nil {
		t.Fatalf("bench succeeded with the hub's port taken:\n%s", out)
	}
	if !strings.Contains(string(out), "ended before it was ready") {
		t.Errorf("bench said:\n%s\nwant that the hub ended before it was ready", out)
	}
	if d := time.Since(start); d > 25*time.Second {
		t.Errorf("reported after %v, want at once", d)
	}
}

// TestBenchKeep: with -keep the run's folder, its files delivered with it, stays in -data.
func TestBenchKeep(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the hub")
	}
	data := t.TempDir()
	cmd := exec.Command(binary, "bench", "-duration", "300ms", "-clients", "2", "-bare=false", "-rate-share", "0.01",
		"-keep", "-data", data, "-http-addr", freeAddr(t), "-ops-addr", freeAddr(t),
		"-config", "configs/bench-esoed-inbox.yaml")
	cmd.Dir = "../.."
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, out)
	}
	left, _ := os.ReadDir(data)
	if len(left) != 1 || !strings.HasPrefix(left[0].Name(), "bench-") {
		t.Fatalf("with -keep the bench left %v in %s, want its run's folder", left, data)
	}
	var files int
	filepath.WalkDir(filepath.Join(data, left[0].Name()), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".json") {
			files++
		}
		return nil
	})
	if files == 0 {
		t.Errorf("the kept folder holds no delivered file:\n%s", out)
	}
}
