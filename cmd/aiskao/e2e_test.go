package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aiskao/aiskao/internal/freeport"
)

// binary is the aiskao binary built once for the end-to-end tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "aiskao-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "aiskao")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build aiskao:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// hubProc is a running aiskao serve.
type hubProc struct {
	t        testing.TB
	cmd      *exec.Cmd
	httpAddr string
	opsAddr  string
	log      *lockedBuffer
	done     chan struct{}
	// opsToken is an operator's API token for the operations API (cli sends it), sendToken an
	// integrator's for the ingress.
	opsToken, sendToken string
}

func freeAddr(t testing.TB) string {
	t.Helper()
	return freeAddrFor(t)
}

// freeAddrFor is freeAddr for benchmarks too: a free port of the loopback that no earlier call
// returned (a hub killed and started again binds its old addresses) and that no outgoing
// connection can take before the hub binds it.
func freeAddrFor(tb testing.TB) string {
	tb.Helper()
	addr, err := freeport.Loopback()
	if err != nil {
		tb.Fatal(err)
	}
	return addr
}

// startHub runs `aiskao serve -config config -data data` on free ports (or the given ones) and
// waits until it is ready.
func startHub(t testing.TB, config, data, httpAddr, opsAddr string) *hubProc {
	t.Helper()
	if httpAddr == "" {
		httpAddr, opsAddr = freeAddr(t), freeAddr(t)
	}
	h := &hubProc{t: t, httpAddr: httpAddr, opsAddr: opsAddr, log: &lockedBuffer{}, done: make(chan struct{})}
	h.cmd = exec.Command(binary, "serve", "-config", config, "-data", data)
	h.cmd.Env = append(os.Environ(), "AISKAO_HTTP_ADDR="+httpAddr, "AISKAO_OPS_ADDR="+opsAddr)
	if os.Getenv("AISKAO_ESOED_ADDR") == "" {
		// The demo's ЕСОЕД endpoint, on a port of its own so that hubs started together do not clash.
		h.cmd.Env = append(h.cmd.Env, "AISKAO_ESOED_ADDR="+freeAddr(t))
	}
	if os.Getenv("AISKAO_DOSSIER_API_ADDR") == "" {
		h.cmd.Env = append(h.cmd.Env, "AISKAO_DOSSIER_API_ADDR="+freeAddr(t)) // likewise the dossier API
	}
	if os.Getenv("AISKAO_STAFF_ADDR") == "" {
		h.cmd.Env = append(h.cmd.Env, "AISKAO_STAFF_ADDR="+freeAddr(t)) // likewise the staff site
	}
	if os.Getenv("AISKAO_PORTAL_ADDR") == "" {
		h.cmd.Env = append(h.cmd.Env, "AISKAO_PORTAL_ADDR="+freeAddr(t)) // and the citizens' portal
	}
	h.opsToken = createToken(t, "", config, data, h.cmd.Env, "operator")
	h.sendToken = createToken(t, "", config, data, h.cmd.Env, "integrator")
	opsTokens.Store("http://"+opsAddr, h.opsToken)
	h.cmd.Stdout, h.cmd.Stderr = h.log, h.log
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = h.cmd.Wait(); close(h.done) }()
	t.Cleanup(func() {
		if h.cmd.ProcessState == nil {
			_ = h.cmd.Process.Kill()
			<-h.done
		}
		if t.Failed() {
			t.Logf("hub log:\n%s", h.log.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + opsAddr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return h
			}
		}
		select {
		case <-h.done:
			t.Fatalf("hub exited before it was ready:\n%s", h.log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("hub not ready after 30s:\n%s", h.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (h *hubProc) signal(sig syscall.Signal) {
	h.t.Helper()
	if err := h.cmd.Process.Signal(sig); err != nil {
		h.t.Fatal(err)
	}
}

func (h *hubProc) wait(timeout time.Duration) {
	h.t.Helper()
	select {
	case <-h.done:
	case <-time.After(timeout):
		h.t.Fatalf("hub did not exit within %v", timeout)
	}
}

// post sends an ЕСОЕД message to the demo endpoint, with the hub's integrator token, and returns
// the status and the message id.
// A client that retries sends the same idempotency key each time, so that a message stored before
// its answer was lost is not stored twice.
func (h *hubProc) post(body []byte, idempotencyKey ...string) (int, string, error) {
	req, err := http.NewRequest(http.MethodPost, "http://"+h.httpAddr+"/esoed/documents", bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/xml")
	if h.sendToken != "" {
		req.Header.Set("Authorization", "Bearer "+h.sendToken)
	}
	if len(idempotencyKey) > 0 {
		req.Header.Set("Idempotency-Key", idempotencyKey[0])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var r struct {
		ID string `json:"id"`
	}
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &r)
	return resp.StatusCode, r.ID, nil
}

// cli runs the binary with args and returns its output and exit code.
func cli(t testing.TB, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = withOpsToken(os.Environ(), args)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// killAt runs hubs of config on data while something fills them: a hub is killed with SIGKILL
// once count reaches each of at, and a last hub is started and returned. what names what count
// counts, for the log.
func killAt(t *testing.T, config, data, what string, count func() int, at ...int) *hubProc {
	t.Helper()
	for kill, n := range at {
		h := startHub(t, config, data, "", "")
		waitFor(t, fmt.Sprintf("%d %s", n, what), 60*time.Second, func() bool { return count() >= n })
		h.signal(syscall.SIGKILL)
		h.wait(10 * time.Second)
		t.Logf("kill %d: SIGKILL at %d %s", kill+1, count(), what)
	}
	return startHub(t, config, data, "", "")
}

// waitFile waits up to timeout for the file at path to exist and returns what it holds.
func waitFile(t *testing.T, what, path string, timeout time.Duration) []byte {
	t.Helper()
	waitFor(t, what, timeout, func() bool { _, err := os.Stat(path); return err == nil })
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readSample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "esoed", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withGUID gives the registration-request sample a message GUID of its own.
func withGUID(sample []byte, n int) ([]byte, string) {
	guid := fmt.Sprintf("{%08x-0000-4000-8000-%012x}", n, n)
	return bytes.Replace(sample, []byte("{f330b925-8cca-447e-907e-8e42a11bb6d6}"), []byte(guid), 1), guid
}

// copyDemo copies the demo configuration, its schemas and service catalogue into a temporary
// folder, so a test can change them.
func copyDemo(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	files := append([]string{"demo.yaml", "schemas/esoed-message.json"}, serviceFiles(t)...)
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join("..", "..", "configs", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyESOEDDemo(t, dir)
	return filepath.Join(dir, "demo.yaml")
}

// serviceFiles are the dossiers' service catalogue's files, relative to configs/.
func serviceFiles(t testing.TB) []string {
	t.Helper()
	services, _ := filepath.Glob(filepath.Join("..", "..", "configs", "services", "*.yaml"))
	if len(services) == 0 {
		t.Fatal("no service descriptions in configs/services")
	}
	var files []string
	for _, f := range services {
		files = append(files, filepath.Join("services", filepath.Base(f)))
	}
	return files
}

// copyServices copies the dossiers' service catalogue into dir/services, beside a copied
// configuration that names it.
func copyServices(t *testing.T, dir string) {
	t.Helper()
	for _, f := range serviceFiles(t) {
		b, err := os.ReadFile(filepath.Join("..", "..", "configs", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func metric(t *testing.T, opsAddr, series string) string {
	t.Helper()
	resp, err := http.Get("http://" + opsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, series+" ") {
			return strings.TrimPrefix(line, series+" ")
		}
	}
	return ""
}

func TestDemoDeliversJSONAndCountsIt(t *testing.T) {
	data := t.TempDir()
	h := startHub(t, filepath.Join("..", "..", "configs", "demo.yaml"), data, "", "")
	status, id, err := h.post(readSample(t, "registration-request.xml"))
	if err != nil || status != http.StatusAccepted || id == "" {
		t.Fatalf("post: status %d, id %q, err %v", status, id, err)
	}
	out := filepath.Join(data, "out", "esoed-inbox", id+".json")
	raw := waitFile(t, out, out, 10*time.Second)
	var got struct {
		MessageGUID string         `json:"message_guid"`
		MessageType string         `json:"message_type"`
		Sender      string         `json:"sender"`
		DocNumber   string         `json:"doc_number"`
		DocKind     string         `json:"doc_kind"`
		Document    map[string]any `json:"document"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, raw)
	}
	want := [5]string{"{f330b925-8cca-447e-907e-8e42a11bb6d6}", "MSG_DocumentRegistrationRequest", "000696327", "СО-94-00-1234", "Заявление"}
	if g := [5]string{got.MessageGUID, got.MessageType, got.Sender, got.DocNumber, got.DocKind}; g != want {
		t.Errorf("fields = %q, want %q", g, want)
	}
	if _, ok := got.Document["Message"]; !ok {
		t.Errorf("document has no Message: %s", raw)
	}
	waitFor(t, "delivered counter", 5*time.Second, func() bool {
		return metric(t, h.opsAddr, `aiskao_route_messages_total{outcome="delivered",route="esoed-inbox"}`) == "1"
	})
	if v := metric(t, h.opsAddr, `aiskao_source_messages_total{connector="esoed-http",outcome="accepted"}`); v != "1" {
		t.Errorf("accepted counter = %q, want 1", v)
	}
	if os.Getenv("GOGC") == "" {
		if v := metric(t, h.opsAddr, "go_gc_gogc_percent"); v != "400" {
			t.Errorf("go_gc_gogc_percent = %q, want serve's default 400", v)
		}
	}
	h.signal(syscall.SIGTERM)
	h.wait(15 * time.Second)
	if !strings.Contains(h.log.String(), "hub stopped") {
		t.Errorf("no orderly stop in the log:\n%s", h.log.String())
	}
}

func TestDeadLetterIsListedAndReplayedAfterTheRouteIsFixed(t *testing.T) {
	data := t.TempDir()
	config := copyDemo(t)
	h := startHub(t, config, data, "", "")
	ops := "http://" + h.opsAddr

	status, id, err := h.post(readSample(t, "schema-violation.xml"))
	if err != nil || status != http.StatusAccepted {
		t.Fatalf("post: status %d, err %v", status, err)
	}
	var list string
	waitFor(t, "a dead letter", 10*time.Second, func() bool {
		list, _ = cli(t, "dead-letters", "-ops", ops, "list")
		return strings.Contains(list, "esoed-inbox")
	})
	for _, want := range []string{"steps[2].json_schema", "DocNumber"} {
		if !strings.Contains(list, want) {
			t.Errorf("dead-letters list lacks %q:\n%s", want, list)
		}
	}
	fields := strings.Fields(strings.Split(strings.TrimSpace(list), "\n")[1])
	dlID := fields[0]
	// The id the POST was answered with names the dead letter too; flags may follow the words.
	if out, code := cli(t, "dead-letters", "show", id, "-ops", ops, "-json"); code != 0 || !strings.Contains(out, `"id": "`+dlID+`"`) {
		t.Errorf("dead-letters show %s (the message id) -json: exit %d:\n%s", id, code, out)
	}

	// An invalid configuration is refused on SIGHUP; the hub goes on with the old one.
	good, _ := os.ReadFile(config)
	if err := os.WriteFile(config, append(good, []byte("\nbogus: 1\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	h.signal(syscall.SIGHUP)
	waitFor(t, "refused reload", 10*time.Second, func() bool { return strings.Contains(h.log.String(), "configuration not reloaded") })
	if !strings.Contains(h.log.String(), `unknown key \"bogus\"`) && !strings.Contains(h.log.String(), `unknown key "bogus"`) {
		t.Errorf("refused reload does not name the bad key:\n%s", h.log.String())
	}

	// Fix the route: the schema no longer requires a document number. Reload, then replay.
	schemaFile := filepath.Join(filepath.Dir(config), "schemas", "esoed-message.json")
	if err := os.WriteFile(schemaFile, []byte(`{"type": "object", "required": ["Message"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(config, good, 0o644); err != nil {
		t.Fatal(err)
	}
	h.signal(syscall.SIGHUP)
	waitFor(t, "reload", 10*time.Second, func() bool { return strings.Contains(h.log.String(), "configuration reloaded") })

	out, code := cli(t, "dead-letters", "-ops", ops, "replay", dlID)
	if code != 0 || !strings.Contains(out, id) {
		t.Fatalf("replay: exit %d:\n%s", code, out)
	}
	file := filepath.Join(data, "out", "esoed-inbox", id+".json")
	waitFile(t, "replayed message delivered", file, 10*time.Second)
	list, _ = cli(t, "dead-letters", "-ops", ops, "list")
	if strings.Contains(list, dlID) {
		t.Errorf("replayed dead letter still listed:\n%s", list)
	}
}

// killUnderLoad has clients post perClient unique registrations each to the demo, with their
// GUIDs as Idempotency-Keys when withKeys, kills the hub with SIGKILL once a third are accepted and
// starts it again on the same data and addresses. Each client sends a post again until it is
// answered 202, as a real one would. It returns the id answered for each GUID, how many posts got
// no answer, and the data folder.
func killUnderLoad(t *testing.T, clients, perClient int, withKeys bool) (accepted map[string]string, cut int, data string) {
	data = t.TempDir()
	config := filepath.Join("..", "..", "configs", "demo.yaml")
	h := startHub(t, config, data, "", "")
	sample := readSample(t, "registration-request.xml")
	accepted = map[string]string{}
	var (
		mu     sync.Mutex
		killed = make(chan struct{})
	)
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perClient; i++ {
				body, guid := withGUID(sample, c*perClient+i+1)
				var keys []string
				if withKeys {
					keys = []string{guid}
				}
				for {
					mu.Lock()
					cur := h
					mu.Unlock()
					status, id, err := cur.post(body, keys...)
					mu.Lock()
					if err == nil && status == http.StatusAccepted {
						accepted[guid] = id
						if len(accepted) == clients*perClient/3 {
							close(killed)
						}
						mu.Unlock()
						break
					}
					cut++
					mu.Unlock()
					// Refused or cut off by the crash: the client tries again, as a real one would.
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}
	select {
	case <-killed:
	case <-time.After(time.Minute):
		t.Fatal("a third of the messages not accepted within a minute")
	}
	if err := h.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	h.wait(10 * time.Second)
	mu.Lock()
	atKill := len(accepted)
	mu.Unlock()
	files, _ := os.ReadDir(filepath.Join(data, "out", "esoed-inbox"))
	t.Logf("killed with SIGKILL: %d messages accepted, %d files written", atKill, len(files))
	restarted := startHub(t, config, data, h.httpAddr, h.opsAddr)
	mu.Lock()
	h = restarted
	mu.Unlock()
	wg.Wait()
	if len(accepted) != clients*perClient {
		t.Errorf("%d messages accepted, want %d", len(accepted), clients*perClient)
	}
	return accepted, cut, data
}

// TestCrashSafety: 20 clients post unique messages, each with an Idempotency-Key; the hub is
// killed with SIGKILL mid-flow and started again; every message answered 202 is in the output
// folder exactly once.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test starts the hub twice; skipped with -short")
	}
	accepted, _, data := killUnderLoad(t, 20, 40, true)
	outDir := filepath.Join(data, "out", "esoed-inbox")
	count := func() map[string]int {
		seen := map[string]int{}
		entries, _ := os.ReadDir(outDir)
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".json") {
				continue
			}
			raw, err := os.ReadFile(filepath.Join(outDir, e.Name()))
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
	var seen map[string]int
	waitFor(t, "every accepted message in the output", 60*time.Second, func() bool {
		seen = count()
		for g := range accepted {
			if seen[g] == 0 {
				return false
			}
		}
		return true
	})
	for g := range accepted {
		if seen[g] != 1 {
			t.Errorf("message %s is in the output %d times, want exactly once", g, seen[g])
		}
	}
	t.Logf("%d messages accepted across a SIGKILL, each delivered exactly once", len(accepted))
}

// TestCrashSafetyWithoutKeys: the demo's ЕСОЕД inbox delivers within the request (inline), and a
// sender without an Idempotency-Key gets a new id for each request. kill -9 under load: every
// message answered 202 has its file, whole, under its id; the only other files are of requests the
// crash cut off before their answer, which the clients sent again as new messages.
func TestCrashSafetyWithoutKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test starts the hub twice; skipped with -short")
	}
	accepted, cut, data := killUnderLoad(t, 16, 40, false)
	outDir := filepath.Join(data, "out", "esoed-inbox")
	ids := map[string]bool{}
	for guid, id := range accepted {
		ids[id] = true
		raw, err := os.ReadFile(filepath.Join(outDir, id+".json"))
		if err != nil {
			t.Errorf("message %s (GUID %s) was answered 202 but has no file: %v", id, guid, err)
			continue
		}
		var m struct {
			GUID string `json:"message_guid"`
		}
		if err := json.Unmarshal(raw, &m); err != nil || m.GUID != guid {
			t.Errorf("file of %s: GUID %q, %v; want %s, whole", id, m.GUID, err, guid)
		}
	}
	entries, _ := os.ReadDir(outDir)
	extra := 0
	for _, e := range entries {
		if !ids[strings.TrimSuffix(e.Name(), ".json")] {
			extra++
		}
	}
	if extra > cut {
		t.Errorf("%d files of messages never answered 202, more than the %d requests without an answer", extra, cut)
	}
	t.Logf("%d messages accepted across a SIGKILL, each in its file; %d requests cut off, %d files of them", len(accepted), cut, extra)
}

func TestValidateNamesUnknownKeyAndLine(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	cfg := "connectors:\n  in:\n    type: http\n    listen: 127.0.0.1:0\n    path: /x\n    lisen: oops\n  out:\n    type: file\n    dir: out\nroutes:\n  - name: r\n    from: in\n    to: out\n"
	if err := os.WriteFile(bad, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := cli(t, "validate", bad)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	want := bad + `:6:5: connectors.in: unknown key "lisen"; allowed: listen, path,`
	if !strings.Contains(out, want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}
	out, code = cli(t, "validate", filepath.Join("..", "..", "configs", "demo.yaml"))
	if code != 0 || !strings.Contains(out, "ok") {
		t.Errorf("demo: exit %d:\n%s", code, out)
	}
}

func TestTryShowsEveryStepAndTheDeadLetter(t *testing.T) {
	config := filepath.Join("..", "..", "configs", "demo.yaml")
	good := filepath.Join("..", "..", "testdata", "esoed", "registration-request.xml")
	out, code := cli(t, "try", "-config", config, "-route", "esoed-inbox", good)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, want := range []string{"── steps[0].xpath", "esoed_message_guid: {f330b925-8cca-447e-907e-8e42a11bb6d6}", "── steps[1].xml_to_json", "── steps[2].json_schema", "── steps[3].set", "would go to esoed-inbox-files"} {
		if !strings.Contains(out, want) {
			t.Errorf("try output lacks %q", want)
		}
	}
	bad := filepath.Join("..", "..", "testdata", "esoed", "no-guid.xml")
	out, code = cli(t, "try", "-config", config, "-route", "esoed-inbox", bad)
	if code != 1 || !strings.Contains(out, "would become a dead letter at steps[0].xpath") {
		t.Errorf("exit %d, output:\n%s", code, out)
	}
}

// TestDeeplyNestedMessageDoesNotBringTheHubDown: a document nested far deeper than any real
// message, within the body size limit, becomes a dead letter with the reason; the hub goes on.
func TestDeeplyNestedMessageDoesNotBringTheHubDown(t *testing.T) {
	data := t.TempDir()
	h := startHub(t, filepath.Join("..", "..", "configs", "demo.yaml"), data, "", "")
	deep := []byte(strings.Repeat("<a>", 500000) + strings.Repeat("</a>", 500000))
	if status, _, err := h.post(deep); err != nil || status != http.StatusAccepted {
		t.Fatalf("post: status %d, err %v", status, err)
	}
	var list string
	waitFor(t, "a dead letter", 30*time.Second, func() bool {
		list, _ = cli(t, "dead-letters", "-ops", "http://"+h.opsAddr, "list")
		return strings.Contains(list, "nested deeper than 256")
	})
	status, id, err := h.post(readSample(t, "registration-request.xml"))
	if err != nil || status != http.StatusAccepted {
		t.Fatalf("the hub did not take the next message: status %d, err %v\n%s", status, err, h.log.String())
	}
	out := filepath.Join(data, "out", "esoed-inbox", id+".json")
	waitFile(t, "the next message delivered", out, 10*time.Second)
}
