package main

// Scale-out end to end: several aiskao processes on one RabbitMQ broker and one PostgreSQL
// database (configs/rabbitmq-postgres.yaml), each test on a broker prefix and a database schema of
// its own, so that test packages running at once on the same services do not meet.
//
// TestScaleOutBrokerRestart and TestScaleOutPostgresRestart restart the shared services, which
// would disturb every other test using them: they run only with AISKAO_TEST_RESTART_SERVICES=1.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/aiskao/aiskao/internal/bareloop"
	"github.com/aiskao/aiskao/store"
)

// restartServicesVar opts in to the tests that restart the shared broker and database.
const restartServicesVar = "AISKAO_TEST_RESTART_SERVICES"

// hubLogsVar, when set, shows the end of every process's log, as when a test fails.
const hubLogsVar = "AISKAO_TEST_HUB_LOGS"

// scaleConfig is the deployment under test.
var scaleConfig = filepath.Join("..", "..", "configs", "rabbitmq-postgres.yaml")

// demoRoute is the route of configs/rabbitmq-postgres.yaml.
const demoRoute = "esoed-inbox"

// scaleRoutes are the routes of scaleConfig, whose broker objects the tests delete afterwards.
var scaleRoutes = []string{demoRoute, "applications", "esoed-outgoing", "esoed-received", "tax-register",
	"application-dossiers", "dossier-commands", "esoed-dossiers", "dossier-esoed-statuses", "dossier-registers", "dossier-events"}

// envOr returns the environment variable name, or def when it is empty.
func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// redactURL hides the password of a URL shown in a message.
func redactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return "(unparsable URL)"
}

// scaleServices returns the addresses of the broker and the database. When either cannot be
// reached the test is skipped, naming what is missing, or fails when CI is set: CI must never
// skip silently.
func scaleServices(tb testing.TB) (amqpURL, pgURL string) {
	tb.Helper()
	amqpURL = envOr("AISKAO_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
	pgURL = envOr("AISKAO_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
	var missing []string
	if c, err := amqp.DialConfig(amqpURL, amqp.Config{Dial: amqp.DefaultDial(3 * time.Second)}); err != nil {
		missing = append(missing, fmt.Sprintf("RabbitMQ is not reachable at %s (set AISKAO_AMQP_URL): %v", redactURL(amqpURL), err))
	} else {
		c.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pgURL)
	if err == nil {
		err = conn.Ping(ctx)
		conn.Close(ctx)
	}
	if err != nil {
		missing = append(missing, fmt.Sprintf("PostgreSQL is not reachable at %s (set AISKAO_POSTGRES_URL): %v", redactURL(pgURL), err))
	}
	if len(missing) > 0 {
		msg := "scale-out test needs RabbitMQ and PostgreSQL: " + strings.Join(missing, "; ")
		if os.Getenv("CI") != "" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	return amqpURL, pgURL
}

// uniqueName is a name fit for both an AMQP prefix and a PostgreSQL schema, new at each call.
func uniqueName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// deployment is the hub processes of one test, sharing a broker prefix, a database schema and an
// output folder.
type deployment struct {
	tb      testing.TB
	config  string
	name    string // AMQP prefix and PostgreSQL schema
	amqpURL string
	pgURL   string
	out     string   // AISKAO_OUT_DIR, absolute
	env     []string // for every process, after the deployment's own variables
}

// newDeployment prepares a deployment of config whose routes are named routeNames (to delete
// their queues at the end); extra is added to every process's environment. The schema is dropped
// and the broker objects deleted when the test ends, after its processes were killed.
func newDeployment(tb testing.TB, config string, routeNames []string, extra ...string) *deployment {
	tb.Helper()
	amqpURL, pgURL := scaleServices(tb)
	out, err := filepath.Abs(filepath.Join(tb.TempDir(), "out"))
	if err != nil {
		tb.Fatal(err)
	}
	d := &deployment{tb: tb, config: config, name: uniqueName("aiskao_e2e_"), amqpURL: amqpURL, pgURL: pgURL, out: out, env: extra}
	tb.Cleanup(func() {
		d.dropSchema()
		d.deleteBrokerObjects(routeNames)
	})
	return d
}

func (d *deployment) dropSchema() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, d.pgURL)
	if err != nil {
		d.tb.Errorf("cleanup: drop schema %s: %v", d.name, err)
		return
	}
	defer conn.Close(ctx)
	// The configuration's dossiers are in a schema of their own beside the hub's.
	for _, schema := range []string{d.name, d.name + "_dossiers"} {
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			d.tb.Errorf("cleanup: drop schema %s: %v", schema, err)
		}
	}
}

// deleteBrokerObjects deletes what the rabbitmq transport declares for the routes (see the
// topology in hub/transport/rabbitmq/doc.go; the topic of a route R is route.R).
func (d *deployment) deleteBrokerObjects(routeNames []string) {
	c, err := amqp.DialConfig(d.amqpURL, amqp.Config{Dial: amqp.DefaultDial(10 * time.Second)})
	if err != nil {
		d.tb.Errorf("cleanup: delete queues and exchanges %s.*: %v", d.name, err)
		return
	}
	defer c.Close()
	p := d.name
	queues := []string{}
	exchanges := []string{p + ".unrouted", p + ".dead", p + ".delay", p + ".redeliver"}
	for _, tier := range []string{"1s", "5s", "15s", "1m", "5m", "15m", "1h", "4h", "24h"} {
		queues = append(queues, p+".delay."+tier) // the delay queues of retries (rabbitmq/delay.go)
	}
	for _, r := range routeNames {
		topic := "route." + r
		queues = append(queues, p+"."+r+"."+topic, p+"."+r+"."+topic+".dead", p+".unrouted."+topic)
		exchanges = append(exchanges, p+"."+topic)
	}
	// A failed delete closes its channel: one channel per object.
	del := func(kind, name string, f func(*amqp.Channel) error) {
		ch, err := c.Channel()
		if err == nil {
			err = f(ch)
			ch.Close()
		}
		if err != nil {
			d.tb.Errorf("cleanup: delete %s %s: %v", kind, name, err)
		}
	}
	for _, q := range queues {
		del("queue", q, func(ch *amqp.Channel) error { _, err := ch.QueueDelete(q, false, false, false); return err })
	}
	for _, x := range exchanges {
		del("exchange", x, func(ch *amqp.Channel) error { return ch.ExchangeDelete(x, false, false) })
	}
}

// lockedBuffer is a process's log, written by the process while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// proc is one running `aiskao serve` of a deployment.
type proc struct {
	name     string
	httpAddr string
	opsAddr  string
	data     string
	extra    []string // environment of this process only
	token    string   // an integrator's API token in the deployment's store, for post
	cmd      *exec.Cmd
	log      *lockedBuffer
	done     chan struct{}
}

// start runs a new process on free ports, with extra in its environment, and waits until it is
// ready.
func (d *deployment) start(name string, extra ...string) *proc {
	d.tb.Helper()
	return d.launch(name, freeAddrFor(d.tb), freeAddrFor(d.tb), d.tb.TempDir(), extra)
}

// restart runs p again on its ports, data folder and environment (p must have exited) and waits
// until it is ready.
func (d *deployment) restart(p *proc) *proc {
	d.tb.Helper()
	return d.launch(p.name, p.httpAddr, p.opsAddr, p.data, p.extra)
}

func (d *deployment) launch(name, httpAddr, opsAddr, data string, extra []string) *proc {
	d.tb.Helper()
	p := &proc{name: name, httpAddr: httpAddr, opsAddr: opsAddr, data: data, extra: extra, log: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(binary, "serve", "-config", d.config, "-data", data)
	p.cmd.Env = append(os.Environ(),
		"AISKAO_HTTP_ADDR="+httpAddr, "AISKAO_OPS_ADDR="+opsAddr, "AISKAO_ESOED_ADDR="+freeAddrFor(d.tb),
		"AISKAO_DOSSIER_API_ADDR="+freeAddrFor(d.tb),
		"AISKAO_STAFF_ADDR="+freeAddrFor(d.tb), "AISKAO_PORTAL_ADDR="+freeAddrFor(d.tb),
		"AISKAO_AMQP_URL="+d.amqpURL, "AISKAO_AMQP_PREFIX="+d.name,
		"AISKAO_POSTGRES_URL="+d.pgURL, "AISKAO_POSTGRES_SCHEMA="+d.name,
		"AISKAO_TAX_REGISTER_TABLE="+d.name+".tax_register", // dropped with the schema
		"AISKAO_OUT_DIR="+d.out)
	p.cmd.Env = append(append(p.cmd.Env, d.env...), extra...)
	opsTokens.Store("http://"+opsAddr, createToken(d.tb, "", d.config, data, p.cmd.Env, "operator"))
	p.token = createToken(d.tb, "", d.config, data, p.cmd.Env, "integrator")
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		d.tb.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	d.tb.Cleanup(func() {
		if !p.exited() {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if d.tb.Failed() || os.Getenv(hubLogsVar) != "" {
			d.tb.Logf("log of %s (pid %d):\n%s", p.name, p.cmd.Process.Pid, tail(p.log.String(), 80))
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for p.readyz() != http.StatusOK {
		if p.exited() {
			d.tb.Fatalf("%s exited before it was ready:\n%s", name, p.log.String())
		}
		if time.Now().After(deadline) {
			d.tb.Fatalf("%s not ready after 30s:\n%s", name, p.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return p
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) <= n {
		return s
	}
	return fmt.Sprintf("[%d lines before]\n", len(lines)-n) + strings.Join(lines[len(lines)-n:], "")
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL and waits for the process to end.
func (p *proc) kill(tb testing.TB) {
	tb.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		tb.Fatalf("kill %s: %v", p.name, err)
	}
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		tb.Fatalf("%s did not end within 10s of SIGKILL", p.name)
	}
}

func (p *proc) signal(tb testing.TB, sig syscall.Signal) {
	tb.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		tb.Fatalf("signal %s: %v", p.name, err)
	}
}

var probe = &http.Client{Timeout: 5 * time.Second}

// readyz returns the status of GET /readyz, 0 when the process does not answer.
func (p *proc) readyz() int {
	resp, err := probe.Get("http://" + p.opsAddr + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// poster is the clients' HTTP client: keeps a connection per concurrent client.
var poster = &http.Client{
	Timeout:   30 * time.Second,
	Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxIdleConns: 256, IdleConnTimeout: 30 * time.Second},
}

// post sends body to path on p with an Idempotency-Key and an integrator's token and returns the
// status and message id.
func (p *proc) post(path string, body []byte, key string) (int, string, error) {
	req, err := http.NewRequest(http.MethodPost, "http://"+p.httpAddr+path, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/xml")
	req.Header.Set("Idempotency-Key", key)
	req.Header.Set("Authorization", "Bearer "+p.token)
	resp, err := poster.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var r struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(raw, &r)
	return resp.StatusCode, r.ID, nil
}

// deadLetters lists the dead letters through p's operations API with the aiskao CLI.
func (p *proc) deadLetters(t *testing.T, route string) []store.DeadLetter {
	t.Helper()
	out, code := cli(t, "dead-letters", "-ops", "http://"+p.opsAddr, "-json", "list", "-route", route, "-limit", "1000")
	if code != 0 {
		t.Fatalf("aiskao dead-letters list against %s: exit %d:\n%s", p.name, code, out)
	}
	var dls []store.DeadLetter
	if err := json.Unmarshal([]byte(out), &dls); err != nil {
		t.Fatalf("aiskao dead-letters -json list against %s: %v:\n%s", p.name, err, out)
	}
	return dls
}

// delivered counts the files of the output folder by their message_guid.
func (d *deployment) delivered() map[string]int {
	seen := map[string]int{}
	entries, _ := os.ReadDir(d.out)
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(d.out, e.Name()))
		if err != nil {
			continue
		}
		var m struct {
			GUID string `json:"message_guid"`
		}
		if json.Unmarshal(raw, &m) == nil {
			seen[m.GUID]++
		}
	}
	return seen
}

// expectExactlyOnce waits until every accepted message is in the output folder, then checks
// that each is there once and nothing else is. It gives up when within has passed, or when no
// message has been delivered for stall, and says how many are missing.
func (d *deployment) expectExactlyOnce(t *testing.T, accepted map[string]bool, within, stall time.Duration) {
	t.Helper()
	var seen map[string]int
	deadline := time.Now().Add(within)
	progress, lastProgress := -1, time.Now()
	for {
		seen = d.delivered()
		missing := 0
		for g := range accepted {
			if seen[g] == 0 {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if len(seen) != progress {
			progress, lastProgress = len(seen), time.Now()
		}
		if now := time.Now(); now.After(deadline) || now.Sub(lastProgress) > stall {
			t.Errorf("%d of %d accepted messages not delivered (waited %v, the last %v without a new delivery)",
				missing, len(accepted), within-deadline.Sub(now), now.Sub(lastProgress).Round(time.Millisecond))
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	for g, n := range seen {
		switch {
		case !accepted[g]:
			t.Errorf("message %s delivered %d times but never accepted", g, n)
		case n != 1:
			t.Errorf("message %s delivered %d times, want exactly once", g, n)
		}
	}
}

// expectNoDeadLetters checks that p lists no dead letters of route, showing a few when it does.
func expectNoDeadLetters(t *testing.T, p *proc, route string) {
	t.Helper()
	dls := p.deadLetters(t, route)
	if len(dls) != 0 {
		t.Errorf("%s lists %d dead letters of %s, want none", p.name, len(dls), route)
	}
	showDeadLetters(t, dls, 5)
}

// showDeadLetters logs the first n of dls.
func showDeadLetters(t *testing.T, dls []store.DeadLetter, n int) {
	t.Helper()
	for i, dl := range dls {
		if i == n {
			t.Logf("... and %d more", len(dls)-n)
			break
		}
		t.Logf("dead letter %s of message %s at %s after %d attempts: %s", dl.ID, dl.MessageID, dl.Step, dl.Attempts, dl.Error)
	}
}

// traffic is the clients of a test. Each posts messages of its own (registration requests with
// GUIDs of their own, the GUID as Idempotency-Key) to the processes in turn until stopped; a
// message not answered 202 is sent again to the next process, as a real client retries.
type traffic struct {
	mu       sync.Mutex
	procs    []*proc
	accepted map[string]bool
	count    atomic.Int64 // messages answered 202
	refused  atomic.Int64 // attempts not answered 202
	stopped  atomic.Bool
	wg       sync.WaitGroup
}

func newTraffic(procs ...*proc) *traffic {
	return &traffic{procs: procs, accepted: map[string]bool{}}
}

// set replaces the process in slot i, restarted.
func (tr *traffic) set(i int, p *proc) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.procs[i] = p
}

func (tr *traffic) proc(i int) *proc {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.procs[i%len(tr.procs)]
}

// run starts the clients. A message still refused after giveUp fails the test.
func (tr *traffic) run(t *testing.T, clients int, sample []byte, giveUp time.Duration) {
	for c := range clients {
		tr.wg.Go(func() {
			for i := 0; !tr.stopped.Load(); i++ {
				body, guid := withGUID(sample, i*clients+c+1)
				deadline := time.Now().Add(giveUp)
				// Once sent, a message is sent until accepted, even after stop: it may be stored.
				for try := 0; ; try++ {
					status, _, err := tr.proc(c+i+try).post("/esoed/documents", body, guid)
					if err == nil && status == http.StatusAccepted {
						tr.mu.Lock()
						tr.accepted[guid] = true
						tr.mu.Unlock()
						tr.count.Add(1)
						break
					}
					tr.refused.Add(1)
					if time.Now().After(deadline) {
						t.Errorf("client %d: message %s not accepted within %v: last status %d, error %v", c, guid, giveUp, status, err)
						return
					}
					// Refused (503) or cut off: try the next process after a short pause.
					time.Sleep(20 * time.Millisecond)
				}
			}
		})
	}
}

// more waits until n more messages than now are accepted.
func (tr *traffic) more(t *testing.T, n int64, within time.Duration) {
	t.Helper()
	target := tr.count.Load() + n
	waitFor(t, fmt.Sprintf("%d messages accepted", target), within, func() bool { return tr.count.Load() >= target })
}

// stop stops the clients once each has its message at hand accepted, and returns the messages
// accepted.
func (tr *traffic) stop() map[string]bool {
	tr.stopped.Store(true)
	tr.wg.Wait()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.accepted
}

// TestScaleOutSigkill: three processes share the route; twenty clients post to them in turn;
// one process is killed with SIGKILL mid-flow and started again. Every message answered 202 is
// delivered exactly once.
func TestScaleOutSigkill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four hub processes; skipped with -short")
	}
	d := newDeployment(t, scaleConfig, scaleRoutes)
	procs := []*proc{d.start("hub-1"), d.start("hub-2"), d.start("hub-3")}
	tr := newTraffic(procs...)
	tr.run(t, 20, readSample(t, "registration-request.xml"), 60*time.Second)

	tr.more(t, 400, 60*time.Second)
	procs[1].kill(t)
	t.Logf("hub-2 killed with SIGKILL: %d messages accepted, %d delivered", tr.count.Load(), len(d.delivered()))
	tr.set(1, d.restart(procs[1]))
	tr.more(t, 400, 60*time.Second)
	accepted := tr.stop()
	t.Logf("%d attempts refused or cut off, and sent again", tr.refused.Load())
	d.expectExactlyOnce(t, accepted, 60*time.Second, 15*time.Second)
	expectNoDeadLetters(t, procs[0], demoRoute)
	t.Logf("%d messages accepted by three processes across a SIGKILL, each delivered exactly once", len(accepted))
}

// requireRestartOptIn skips a test that restarts a shared service unless it was asked for.
func requireRestartOptIn(t *testing.T, tool string) {
	t.Helper()
	if os.Getenv(restartServicesVar) != "1" {
		t.Skipf("restarts a service other tests share; run with %s=1", restartServicesVar)
	}
	if _, err := exec.LookPath(tool); err != nil {
		t.Fatalf("%s=1 but %s is not on PATH: %v", restartServicesVar, tool, err)
	}
}

// runTool runs a command that stops or starts a service, failing the test on error.
func runTool(t *testing.T, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	t.Logf("%s %s: %v", name, strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
}

// TestScaleOutBrokerRestart: RabbitMQ's application is stopped and started again mid-flow. The
// processes say not ready meanwhile, reconnect by themselves and lose nothing they accepted.
func TestScaleOutBrokerRestart(t *testing.T) {
	requireRestartOptIn(t, "rabbitmqctl")
	d := newDeployment(t, scaleConfig, scaleRoutes, "AISKAO_AMQP_RECONNECT_MAX=1s")
	procs := []*proc{d.start("hub-1"), d.start("hub-2"), d.start("hub-3")}
	tr := newTraffic(procs...)
	tr.run(t, 20, readSample(t, "registration-request.xml"), 2*time.Minute)

	tr.more(t, 400, 60*time.Second)
	// Whatever happens below, leave the broker running for the tests after this one.
	t.Cleanup(func() {
		_ = exec.Command("rabbitmqctl", "start_app").Run()
	})
	atStop, deliveredAtStop := tr.count.Load(), len(d.delivered())
	runTool(t, "rabbitmqctl", "stop_app")
	waitFor(t, "hub-1 /readyz 503 while the broker is stopped", 30*time.Second, func() bool {
		return procs[0].readyz() == http.StatusServiceUnavailable
	})
	refused := tr.refused.Load()
	runTool(t, "rabbitmqctl", "start_app")
	start := time.Now()
	for _, p := range procs {
		waitFor(t, p.name+" /readyz 200 after the broker's restart", 60*time.Second, func() bool { return p.readyz() == http.StatusOK })
	}
	t.Logf("broker stopped with %d messages accepted, %d delivered; %d attempts refused while it was down; every process ready %v after start_app",
		atStop, deliveredAtStop, refused, time.Since(start).Round(time.Millisecond))
	tr.more(t, 400, 60*time.Second)
	accepted := tr.stop()
	d.expectExactlyOnce(t, accepted, 60*time.Second, 15*time.Second)
	expectNoDeadLetters(t, procs[0], demoRoute)
	for _, p := range procs {
		if p.exited() {
			t.Errorf("%s exited during the broker's restart", p.name)
		}
	}
}

// postgresCluster returns the version folder of the one PostgreSQL cluster on this machine.
func postgresCluster(t *testing.T) string {
	t.Helper()
	entries, err := os.ReadDir("/etc/postgresql")
	if err != nil || len(entries) != 1 {
		t.Fatalf("want one PostgreSQL version in /etc/postgresql for pg_ctlcluster, found %d (%v)", len(entries), err)
	}
	return entries[0].Name()
}

// TestScaleOutPostgresRestart: PostgreSQL restarts mid-flow. Nothing accepted is lost, and the
// dead letters stored before are listed afterwards by every process.
func TestScaleOutPostgresRestart(t *testing.T) {
	requireRestartOptIn(t, "pg_ctlcluster")
	version := postgresCluster(t)
	d := newDeployment(t, scaleConfig, scaleRoutes)
	procs := []*proc{d.start("hub-1"), d.start("hub-2"), d.start("hub-3")}

	status, badID, err := procs[0].post("/esoed/documents", readSample(t, "schema-violation.xml"), "schema-violation-1")
	if err != nil || status != http.StatusAccepted {
		t.Fatalf("post schema violation: status %d, err %v", status, err)
	}
	var before []store.DeadLetter
	waitFor(t, "the dead letter of the schema violation", 20*time.Second, func() bool {
		before = procs[1].deadLetters(t, demoRoute)
		return len(before) == 1
	})
	if before[0].MessageID != badID {
		t.Fatalf("dead letter of message %s, want %s", before[0].MessageID, badID)
	}

	tr := newTraffic(procs...)
	tr.run(t, 20, readSample(t, "registration-request.xml"), 2*time.Minute)
	tr.more(t, 400, 60*time.Second)
	// Whatever happens below, leave the database running for the tests after this one.
	t.Cleanup(func() {
		_ = exec.Command("pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start").Run()
	})
	atRestart, deliveredAtRestart := tr.count.Load(), len(d.delivered())
	runTool(t, "pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart")
	t.Logf("PostgreSQL restarted with %d messages accepted, %d delivered", atRestart, deliveredAtRestart)
	tr.more(t, 400, 60*time.Second)
	accepted := tr.stop()
	t.Logf("%d attempts refused or cut off, and sent again", tr.refused.Load())
	d.expectExactlyOnce(t, accepted, 60*time.Second, 15*time.Second)
	for i, p := range procs {
		var after []store.DeadLetter
		waitFor(t, p.name+" lists the dead letter after the restart", 30*time.Second, func() bool {
			after = p.deadLetters(t, demoRoute)
			return len(after) > 0
		})
		if !slices.ContainsFunc(after, func(dl store.DeadLetter) bool { return dl.ID == before[0].ID }) {
			t.Errorf("%s no longer lists dead letter %s", p.name, before[0].ID)
		}
		if len(after) != 1 {
			t.Errorf("%s lists %d dead letters, want only %s, the schema violation's", p.name, len(after), before[0].ID)
			if i == 0 {
				showDeadLetters(t, after, 5)
			}
		}
		if p.exited() {
			t.Errorf("%s exited during the database's restart", p.name)
		}
	}
}

// registry is an HTTP sink's far end that hangs on every request while hanging is set (so that
// the process delivering is killed with the message in flight), and otherwise takes each.
type registry struct {
	mu        sync.Mutex
	hanging   bool
	hangOn    []byte      // where not empty: the requests whose body holds it hang, the others not
	arrivals  chan string // the X-Hub of each request that hangs
	delivered map[string]int
	release   chan struct{}
}

func (r *registry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	hanging := r.hanging || (len(r.hangOn) > 0 && bytes.Contains(body, r.hangOn))
	if !hanging {
		r.delivered[req.Header.Get("X-Message-Id")]++
	}
	r.mu.Unlock()
	if !hanging {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	select {
	case r.arrivals <- req.Header.Get("X-Hub"):
	default:
	}
	select {
	case <-req.Context().Done():
	case <-r.release:
		w.WriteHeader(http.StatusServiceUnavailable)
	}
}

func (r *registry) deliveries(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.delivered[id]
}

// registryConnectors and registryRoute add to configs/rabbitmq-postgres.yaml a route "registry"
// that takes what is POSTed to /registry/documents and delivers it to a URL (the format's %s);
// each process names itself in X-Hub. A message delivered more than twice is poison.
const registryConnectors = `connectors:
  registry-in:
    type: http
    auth: { type: none }
    listen: ${AISKAO_HTTP_ADDR:-127.0.0.1:8080}
    path: /registry/documents
    content_types: [application/xml]
  registry:
    type: http
    url: %s
    timeout: 5m
    headers: { X-Hub: "${AISKAO_HUB_NAME:-hub}" }
`

const registryRoute = `  - name: registry
    from: registry-in
    to: registry
    on_error:
      max_deliveries: 2
`

// poisonConfig writes into a temporary folder the deployment's configuration with the registry
// route and the demo's schema, and returns the configuration's path.
func poisonConfig(t *testing.T, sinkURL string) string {
	t.Helper()
	raw, err := os.ReadFile(scaleConfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(raw)
	if strings.Count(cfg, "\nconnectors:\n") != 1 || !strings.HasSuffix(cfg, "\n") {
		t.Fatalf("%s: no single connectors section to add to", scaleConfig)
	}
	cfg = strings.Replace(cfg, "\nconnectors:\n", "\n"+fmt.Sprintf(registryConnectors, sinkURL), 1) + registryRoute
	dir := t.TempDir()
	schema, err := os.ReadFile(filepath.Join("..", "..", "configs", "schemas", "esoed-message.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "schemas"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "schemas", "esoed-message.json"), schema, 0o644); err != nil {
		t.Fatal(err)
	}
	copyESOEDDemo(t, dir)
	copyServices(t, dir)
	path := filepath.Join(dir, "rabbitmq-postgres.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := cli(t, "validate", path); code != 0 {
		t.Fatalf("configuration of the test is invalid:\n%s", out)
	}
	return path
}

// killWhereItHangs waits n times for a delivery to hang at the registry, kills the process of
// hubs that holds it (after before(k), for the k-th, where before is not nil) and starts it again
// in its place; it returns the processes it started.
func killWhereItHangs(t *testing.T, d *deployment, reg *registry, hubs map[string]*proc, n int, before func(k int)) []*proc {
	t.Helper()
	var started []*proc
	for k := 1; k <= n; k++ {
		var who string
		select {
		case who = <-reg.arrivals:
		case <-time.After(30 * time.Second):
			t.Fatalf("delivery %d of the message did not reach the registry within 30s", k)
		}
		if before != nil {
			before(k)
		}
		p, ok := hubs[who]
		if !ok {
			t.Fatalf("delivery %d came from %q, not a process of the test", k, who)
		}
		p.kill(t)
		t.Logf("delivery %d hangs at %s: killed with SIGKILL", k, who)
		hubs[who] = d.restart(p)
		started = append(started, hubs[who])
	}
	return started
}

// TestScaleOutPoisonAndReplayFromAnotherProcess: two processes share the store. A message that
// fails the schema at process A is a dead letter that process B lists; a message whose delivery
// never ends, because each process handling it is killed, becomes a dead letter once delivered
// more than max_deliveries times; after the route is fixed, B replays both and they are delivered.
func TestScaleOutPoisonAndReplayFromAnotherProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts six hub processes; skipped with -short")
	}
	reg := &registry{hanging: true, arrivals: make(chan string, 16), delivered: map[string]int{}, release: make(chan struct{})}
	srv := httptest.NewServer(reg)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(reg.release) }) // runs before srv.Close: let hanging requests end
	config := poisonConfig(t, srv.URL+"/documents")
	d := newDeployment(t, config, append([]string{"registry"}, scaleRoutes...))
	hubs := map[string]*proc{"A": d.start("A", "AISKAO_HUB_NAME=A"), "B": d.start("B", "AISKAO_HUB_NAME=B")}

	// A schema violation at A is a dead letter that B lists.
	status, badID, err := hubs["A"].post("/esoed/documents", readSample(t, "schema-violation.xml"), "schema-violation-1")
	if err != nil || status != http.StatusAccepted {
		t.Fatalf("post schema violation to A: status %d, err %v", status, err)
	}
	var dls []store.DeadLetter
	waitFor(t, "B to list the dead letter of the schema violation", 20*time.Second, func() bool {
		dls = hubs["B"].deadLetters(t, demoRoute)
		return len(dls) > 0
	})
	schemaDL := dls[0]
	if len(dls) != 1 || schemaDL.MessageID != badID || schemaDL.Step != "steps[2].json_schema" || !strings.Contains(schemaDL.Error, "DocNumber") {
		t.Fatalf("B lists %d dead letters, first of message %s at %s: %s; want one of %s at steps[2].json_schema naming DocNumber",
			len(dls), schemaDL.MessageID, schemaDL.Step, schemaDL.Error, badID)
	}

	// A message whose delivery hangs: each process that takes it is killed with it in flight.
	status, poisonID, err := hubs["A"].post("/registry/documents", readSample(t, "registration-request.xml"), "poison-1")
	if err != nil || status != http.StatusAccepted {
		t.Fatalf("post to the registry route at A: status %d, err %v", status, err)
	}
	const maxDeliveries = 2
	killWhereItHangs(t, d, reg, hubs, maxDeliveries, nil)
	waitFor(t, "B to list the poison message as a dead letter", 30*time.Second, func() bool {
		dls = hubs["B"].deadLetters(t, "registry")
		return len(dls) > 0
	})
	poisonDL := dls[0]
	want := fmt.Sprintf("delivered %d times without being settled, more than max_deliveries %d", maxDeliveries+1, maxDeliveries)
	if len(dls) != 1 || poisonDL.MessageID != poisonID || !strings.Contains(poisonDL.Error, want) {
		t.Fatalf("B lists %d dead letters of the registry route, first of message %s at %s: %s; want one of %s saying %q",
			len(dls), poisonDL.MessageID, poisonDL.Step, poisonDL.Error, poisonID, want)
	}
	select {
	case who := <-reg.arrivals:
		t.Errorf("the poison message was delivered again, by %s, instead of becoming a dead letter at once", who)
	default:
	}

	// Fix both routes: the registry answers, the schema no longer requires a document number.
	// Reload both processes, then replay both dead letters through B.
	reg.mu.Lock()
	reg.hanging = false
	reg.mu.Unlock()
	schemaFile := filepath.Join(filepath.Dir(config), "schemas", "esoed-message.json")
	if err := os.WriteFile(schemaFile, []byte(`{"type": "object", "required": ["Message"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"A", "B"} {
		p := hubs[name]
		p.signal(t, syscall.SIGHUP)
		waitFor(t, name+" to reload", 20*time.Second, func() bool { return strings.Contains(p.log.String(), "configuration reloaded") })
	}
	for _, dl := range []store.DeadLetter{schemaDL, poisonDL} {
		out, code := cli(t, "dead-letters", "-ops", "http://"+hubs["B"].opsAddr, "replay", dl.ID)
		if code != 0 || !strings.Contains(out, dl.MessageID) {
			t.Fatalf("replay %s through B: exit %d:\n%s", dl.ID, code, out)
		}
	}
	file := filepath.Join(d.out, badID+".json")
	waitFile(t, "the replayed schema violation in the output folder", file, 20*time.Second)
	waitFor(t, "the replayed poison message at the registry", 20*time.Second, func() bool { return reg.deliveries(poisonID) > 0 })
	for _, route := range []string{demoRoute, "registry"} {
		if dls := hubs["A"].deadLetters(t, route); len(dls) != 0 {
			t.Errorf("A still lists %d dead letters of %s after the replays; first: %s: %s", len(dls), route, dls[0].Step, dls[0].Error)
		}
	}
	if n := reg.deliveries(poisonID); n != 1 {
		t.Errorf("the replayed message reached the registry %d times, want once", n)
	}
}

// TestScaleOutPoisonInAPack: a message whose delivery hangs, posted at once with others so that
// it travels to the broker in a pack with some of them, kills each process that takes it. Its
// neighbours are delivered once each; it alone becomes a dead letter, after no more deliveries
// than a message sent alone gets (a pack delivered again is split, its messages counting the
// pack's deliveries).
func TestScaleOutPoisonInAPack(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four hub processes; skipped with -short")
	}
	const mark = "POISON-IN-A-PACK"
	reg := &registry{hangOn: []byte(mark), arrivals: make(chan string, 16), delivered: map[string]int{}, release: make(chan struct{})}
	srv := httptest.NewServer(reg)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(reg.release) })
	d := newDeployment(t, poisonConfig(t, srv.URL+"/documents"), append([]string{"registry"}, scaleRoutes...))
	hubs := map[string]*proc{"A": d.start("A", "AISKAO_HUB_NAME=A"), "B": d.start("B", "AISKAO_HUB_NAME=B")}
	all := []*proc{hubs["A"], hubs["B"]}

	// Sixteen posts at once to A: the first goes to the broker alone, and what arrives while
	// the broker confirms it gathers in a pack.
	sample := readSample(t, "registration-request.xml")
	const n, poisonAt = 16, 9
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		body, key := sample, fmt.Sprintf("neighbour-%d", i)
		if i == poisonAt {
			body, key = bytes.Replace(sample, []byte("СО-94-00-1234"), []byte(mark), 1), "poison-in-a-pack"
		}
		wg.Go(func() {
			status, id, err := hubs["A"].post("/registry/documents", body, key)
			if err != nil || status != http.StatusAccepted {
				t.Errorf("post %s: status %d, err %v", key, status, err)
			}
			ids[i] = id
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	poisonID := ids[poisonAt]
	neighbours := slices.Delete(slices.Clone(ids), poisonAt, poisonAt+1)
	const maxDeliveries = 2
	all = append(all, killWhereItHangs(t, d, reg, hubs, maxDeliveries, func(k int) {
		if k > 1 {
			return
		}
		// The neighbours are delivered, and their marks written, before the kill; what a kill
		// cuts off between a delivery and its mark is delivered twice, as documented.
		waitFor(t, "the neighbours at the registry", 30*time.Second, func() bool {
			for _, id := range neighbours {
				if reg.deliveries(id) == 0 {
					return false
				}
			}
			return true
		})
		time.Sleep(time.Second)
	})...)
	var dls []store.DeadLetter
	waitFor(t, "B to list the poison message as a dead letter", 30*time.Second, func() bool {
		dls = hubs["B"].deadLetters(t, "registry")
		return len(dls) > 0
	})
	want := fmt.Sprintf("delivered %d times without being settled, more than max_deliveries %d", maxDeliveries+1, maxDeliveries)
	if len(dls) != 1 || dls[0].MessageID != poisonID || !strings.Contains(dls[0].Error, want) {
		t.Fatalf("B lists %d dead letters of the registry route, the first of %s: %s; want one, of %s, saying %q",
			len(dls), dls[0].MessageID, dls[0].Error, poisonID, want)
	}
	select {
	case who := <-reg.arrivals:
		t.Errorf("the poison message was delivered again, by %s, after max_deliveries", who)
	default:
	}
	for _, id := range neighbours {
		if got := reg.deliveries(id); got != 1 {
			t.Errorf("neighbour %s delivered %d times, want once", id, got)
		}
	}
	split := false
	for _, p := range all {
		split = split || strings.Contains(p.log.String(), "split into its messages")
	}
	t.Logf("the poison message travelled in a pack that was split: %v", split)
}

// BenchmarkScaleOut measures messages delivered end to end per second (POST with an
// Idempotency-Key, persistent publish with confirm, the demo route, file written, manual ack) by
// 1, 2 and 3 hub processes under 32 clients, and by one process whose route does no work
// (hub-passthrough: straight to a file sink without sync), beside a bare amqp091-go loop on the
// same broker:
// 32 publishers each awaiting the confirm of its persistent message into a quorum queue behind a
// fanout exchange, one consumer acknowledging each message (prefetch 64), same payload.
// accepted/s is the rate of 202 answers alone. Give each run a few seconds: -benchtime 3000x.
func BenchmarkScaleOut(b *testing.B) {
	const clients = 32
	sample, err := os.ReadFile(filepath.Join("..", "..", "testdata", "esoed", "registration-request.xml"))
	if err != nil {
		b.Fatal(err)
	}
	var run atomic.Int64 // keeps GUIDs apart between the runs of a benchmark
	passthrough := passthroughConfig(b)
	for _, c := range []struct {
		name, config string
		routes       []string
		n            int
	}{
		{"hub/processes=1", scaleConfig, scaleRoutes, 1},
		{"hub/processes=2", scaleConfig, scaleRoutes, 2},
		{"hub/processes=3", scaleConfig, scaleRoutes, 3},
		{"hub-passthrough/processes=1", passthrough, []string{demoRoute}, 1},
	} {
		n := c.n
		b.Run(c.name, func(b *testing.B) {
			d := newDeployment(b, c.config, c.routes)
			procs := make([]*proc, n)
			for i := range procs {
				procs[i] = d.start(fmt.Sprintf("hub-%d", i+1))
			}
			base := int(run.Add(1)) << 24
			b.SetBytes(int64(len(sample)))
			b.ResetTimer()
			var next atomic.Int64
			var wg sync.WaitGroup
			for range clients {
				wg.Go(func() {
					for {
						i := int(next.Add(1))
						if i > b.N {
							return
						}
						body, guid := withGUID(sample, base+i)
						status, _, err := procs[i%n].post("/esoed/documents", body, guid)
						if err != nil || status != http.StatusAccepted {
							b.Errorf("post: status %d, err %v", status, err)
							return
						}
					}
				})
			}
			wg.Wait()
			acceptedIn := b.Elapsed()
			deadline := time.Now().Add(5 * time.Minute)
			for deliveredTotal(procs) < b.N {
				if b.Failed() || time.Now().After(deadline) {
					b.Fatalf("%d of %d messages delivered", deliveredTotal(procs), b.N)
				}
				// Not faster: each scrape costs the process a store query and a queue inspection.
				time.Sleep(50 * time.Millisecond)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msg/s")
			b.ReportMetric(float64(b.N)/acceptedIn.Seconds(), "accepted/s")
		})
	}
	b.Run("bare", func(b *testing.B) {
		amqpURL, _ := scaleServices(b)
		benchBare(b, amqpURL, sample, clients, nil)
	})
	b.Run("bare+work", func(b *testing.B) {
		amqpURL, _ := scaleServices(b)
		l, err := bareloop.New(filepath.Join("..", "..", "configs", "schemas", "esoed-message.json"))
		if err != nil {
			b.Fatal(err)
		}
		benchBare(b, amqpURL, sample, clients, &bareWork{loop: l, dir: b.TempDir()})
	})
}

// passthroughConfig writes the deployment's transport, store and operations sections with one
// route that does no work: the demo's HTTP source straight to a file sink that does not sync,
// the hub's counterpart of the bare loop without work.
func passthroughConfig(b *testing.B) string {
	raw, err := os.ReadFile(scaleConfig)
	if err != nil {
		b.Fatal(err)
	}
	head, _, ok := strings.Cut(string(raw), "\nconnectors:\n")
	if !ok {
		b.Fatalf("%s: no connectors section", scaleConfig)
	}
	cfg := head + `
connectors:
  esoed-http:
    type: http
    auth: { type: none }
    listen: ${AISKAO_HTTP_ADDR}
    path: /esoed/documents
    content_types: [application/xml]
  esoed-inbox-files:
    type: file
    dir: ${AISKAO_OUT_DIR}
    fsync: false
routes:
  - name: ` + demoRoute + `
    from: esoed-http
    to: esoed-inbox-files
`
	path := filepath.Join(b.TempDir(), "passthrough.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}

// bareWork is the demo route's work done by the bare loop's consumer: the same parsing, XPaths,
// JSON and schema (internal/bareloop), and one file per message written and synced before the
// acknowledgement, as the hub's file sink does.
type bareWork struct {
	loop *bareloop.Loop
	dir  string
	n    atomic.Int64
}

func (w *bareWork) do(payload []byte) error {
	out, err := w.loop.Process(payload)
	if err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(w.dir, fmt.Sprintf("%d.json", w.n.Add(1))))
	if err != nil {
		return err
	}
	if _, err := f.Write(out); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// deliveredTotal sums the delivered counters of the processes.
func deliveredTotal(procs []*proc) int {
	total := 0
	for _, p := range procs {
		resp, err := probe.Get("http://" + p.opsAddr + "/metrics")
		if err != nil {
			continue
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		series := `aiskao_route_messages_total{outcome="delivered",route="` + demoRoute + `"} `
		for _, line := range strings.Split(string(raw), "\n") {
			if v, ok := strings.CutPrefix(line, series); ok {
				var f float64
				fmt.Sscan(v, &f)
				total += int(f)
			}
		}
	}
	return total
}

// benchBare is the bare loop with the hub's guarantees (persistent messages, publisher confirms,
// manual acknowledgements, a quorum queue): with work nil it does none of the hub's work; with
// work, its consumer does the demo route's work on each message, on as many goroutines as the
// prefetch allows, before acknowledging it.
func benchBare(b *testing.B, amqpURL string, payload []byte, publishers int, work *bareWork) {
	name := uniqueName("aiskao_e2e_bare_")
	exchange, queue := name+".x", name+".q"
	pc, err := amqp.Dial(amqpURL)
	if err != nil {
		b.Fatal(err)
	}
	cc, err := amqp.Dial(amqpURL)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if ch, err := pc.Channel(); err == nil {
			_, _ = ch.QueueDelete(queue, false, false, false)
			_ = ch.ExchangeDelete(exchange, false, false)
		}
		pc.Close()
		cc.Close()
	})
	ch, err := pc.Channel()
	if err != nil {
		b.Fatal(err)
	}
	if err := ch.ExchangeDeclare(exchange, amqp.ExchangeFanout, true, false, false, false, nil); err != nil {
		b.Fatal(err)
	}
	if _, err := ch.QueueDeclare(queue, true, false, false, false, amqp.Table{amqp.QueueTypeArg: amqp.QueueTypeQuorum}); err != nil {
		b.Fatal(err)
	}
	if err := ch.QueueBind(queue, "", exchange, false, nil); err != nil {
		b.Fatal(err)
	}
	ch.Close()
	chans := make([]*amqp.Channel, publishers)
	for i := range chans {
		if chans[i], err = pc.Channel(); err != nil {
			b.Fatal(err)
		}
		if err := chans[i].Confirm(false); err != nil {
			b.Fatal(err)
		}
	}
	cch, err := cc.Channel()
	if err != nil {
		b.Fatal(err)
	}
	if err := cch.Qos(64, 0, false); err != nil {
		b.Fatal(err)
	}
	deliveries, err := cch.Consume(queue, "", false, false, false, false, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(payload)))
	b.ResetTimer()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if work == nil {
			for range b.N {
				d, ok := <-deliveries
				if !ok {
					return
				}
				_ = d.Ack(false)
			}
			return
		}
		var wg sync.WaitGroup
		for range b.N {
			d, ok := <-deliveries
			if !ok {
				break
			}
			wg.Go(func() {
				if err := work.do(d.Body); err != nil {
					b.Errorf("bare work: %v", err)
				}
				_ = d.Ack(false)
			})
		}
		wg.Wait()
	}()
	var next atomic.Int64
	var wg sync.WaitGroup
	ctx := context.Background()
	for _, ch := range chans {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, exchange, "", true, false,
					amqp.Publishing{DeliveryMode: amqp.Persistent, ContentType: "application/xml", Body: payload})
				if err == nil {
					var ok bool
					ok, err = dc.WaitContext(ctx)
					if err == nil && !ok {
						err = fmt.Errorf("broker refused the message")
					}
				}
				if err != nil {
					b.Errorf("bare publish: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	<-done
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msg/s")
}
