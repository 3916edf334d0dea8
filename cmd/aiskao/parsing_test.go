package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// deadLetter is what the tests read of a dead letter from the operations API.
type deadLetter struct {
	MessageID string `json:"message_id"`
	Route     string `json:"route"`
	Step      string `json:"step"`
	Error     string `json:"error"`
	Attempts  int    `json:"attempts"`
}

// deadLetters lists the hub's dead letters through its operations API.
func (h *hubProc) deadLetters() ([]deadLetter, error) {
	req, err := http.NewRequest(http.MethodGet, "http://"+h.opsAddr+"/api/v1/dead-letters", nil)
	if err != nil {
		return nil, err
	}
	tok := h.opsToken
	if tok == "" { // a process of a deployment: its token is kept by its ops address
		if v, ok := opsTokens.Load("http://" + h.opsAddr); ok {
			tok = v.(string)
		}
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("dead letters: %s", resp.Status)
	}
	var out struct {
		DeadLetters []deadLetter `json:"dead_letters"`
	}
	err = json.NewDecoder(resp.Body).Decode(&out)
	return out.DeadLetters, err
}

// peakRSS returns the process's peak resident set size (VmHWM) in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc to read the peak RSS from: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}

// TestDeepPostDeadLetteredAtOnce is finding 3 of issue 17 through the real binary: a 700 KB
// message of 100,000 nested elements took 7.5 GB and a core and was never dead-lettered. Posted
// to the demo's inbound it must become a dead letter within a second, at the first delivery, with
// the hub's peak RSS under 200 MB; the hub goes on with the next message.
func TestDeepPostDeadLetteredAtOnce(t *testing.T) {
	data := t.TempDir()
	h := startHub(t, filepath.Join("..", "..", "configs", "demo.yaml"), data, "", "")
	const depth = 100000
	deep := []byte(`<Message xmlns="http://schemas.egov.bg/messaging/v1">` + strings.Repeat("<a>", depth) + strings.Repeat("</a>", depth) + `</Message>`)
	id, dl, took := postUntilDeadLetter(t, h, deep, 5*time.Second)
	t.Logf("%d-byte message of %d nested elements dead-lettered %v after the POST began", len(deep), depth, took)
	if took > time.Second {
		t.Errorf("dead-lettered after %v, want under a second", took)
	}
	d := dl[0]
	if d.MessageID != id || d.Route != "esoed-inbox" || d.Attempts != 1 || !strings.Contains(d.Error, "element depth exceeds the limit of 256 at line 1, column") {
		t.Errorf("dead letter %+v, want message %s at its first attempt, naming the depth limit and where", d, id)
	}
	rss := peakRSS(t, h.cmd.Process.Pid)
	t.Logf("hub peak RSS %d MiB", rss>>20)
	if rss > 200<<20 {
		t.Errorf("hub peak RSS %d MiB, want under 200 MiB", rss>>20)
	}
	status, id, err := h.post(readSample(t, "registration-request.xml"))
	if err != nil || status != http.StatusAccepted {
		t.Fatalf("the hub did not take the next message: status %d, err %v", status, err)
	}
	out := filepath.Join(data, "out", "esoed-inbox", id+".json")
	waitFile(t, "the next message delivered", out, 10*time.Second)
}

// wrappedForgery is finding 5 of issue 17: the real signed status response followed by an
// unsigned forged message.
func wrappedForgery(t *testing.T) []byte {
	t.Helper()
	signed := readSample(t, "status-response.xml")
	forged := string(readSample(t, "registration-request.xml"))
	forged = forged[strings.Index(forged, "<Message"):]
	return append(append(bytes.TrimSpace(signed), '\n'), forged...)
}

// TestWrappedForgeryRefused: `aiskao esoed check` reported the forgery "xsd: valid, signature:
// verified" and exited 0; the demo's inbound delivered the first message and dropped the second
// without a word. Now check exits non-zero naming the second root, and the inbound dead-letters it.
func TestWrappedForgeryRefused(t *testing.T) {
	file := filepath.Join(t.TempDir(), "forgery.xml")
	if err := os.WriteFile(file, wrappedForgery(t), 0o600); err != nil {
		t.Fatal(err)
	}
	out, code := cli(t, "esoed", "check", file)
	if code == 0 || !strings.Contains(out, "element after the root element at line") {
		t.Errorf("esoed check: exit %d, want non-zero naming the second root:\n%s", code, out)
	}

	data := t.TempDir()
	h := startHub(t, filepath.Join("..", "..", "configs", "demo.yaml"), data, "", "")
	id, dl, _ := postUntilDeadLetter(t, h, wrappedForgery(t), 10*time.Second)
	if d := dl[0]; d.MessageID != id || d.Attempts != 1 || !strings.Contains(d.Error, "element after the root element") {
		t.Errorf("dead letter %+v", d)
	}
	if entries, _ := os.ReadDir(filepath.Join(data, "out", "esoed-inbox")); len(entries) != 0 {
		t.Errorf("the forgery was delivered: %d files", len(entries))
	}
}

// outgoingConfig is the demo's ЕСОЕД sending route on an inbound of its own with no
// authentication (the demo's /esoed/outgoing asks for a token), at /esoed/documents so that
// hubProc.post reaches it.
const outgoingConfig = `
transport: { type: embedded }
store: { type: sqlite }
ops: { listen: "${AISKAO_OPS_ADDR}" }
connectors:
  outgoing-http:
    type: http
    listen: "${AISKAO_HTTP_ADDR}"
    path: /esoed/documents
    content_types: [application/xml]
    auth: { type: none }
  esoed:
    type: esoed
    participants:
      - { identifier: "000696327", guid: "{676150f9-dfb5-4723-a236-fb007f3eb046}", name: Столична община }
    listen: "${AISKAO_ESOED_ADDR}"
    cert: @ESOED@/demo-sofia.crt
    key: @ESOED@/demo-sofia.key
    ca: @ESOED@/demo-ca.crt
    registry_file: @ESOED@/registry.yaml
    retry_first: 15m
    retries: 10
routes:
  - name: esoed-outgoing
    from: outgoing-http
    to: esoed
    on_error:
      retry: { max: 10, backoff: 15m, multiplier: 2, max_backoff: 128h, jitter: 0 }
`

// TestDeepPostToTheESOEDSinkDeadLetteredAtOnce is finding 3 as it was found: the ЕСОЕД sink
// read the header of the 100,000-deep message (quadratic, 7.5 GB) and the message was never
// dead-lettered. It must become a dead letter at its first attempt, within a second.
func TestDeepPostToTheESOEDSinkDeadLetteredAtOnce(t *testing.T) {
	esoedDir, err := filepath.Abs(filepath.Join("..", "..", "configs", "esoed"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	config := filepath.Join(dir, "outgoing.yaml")
	if err := os.WriteFile(config, []byte(strings.ReplaceAll(outgoingConfig, "@ESOED@", esoedDir)), 0o600); err != nil {
		t.Fatal(err)
	}
	h := startHub(t, config, filepath.Join(dir, "data"), "", "")
	const depth = 100000
	deep := []byte(`<Message xmlns="http://schemas.egov.bg/messaging/v1">` + strings.Repeat("<a>", depth) + strings.Repeat("</a>", depth) + `</Message>`)
	id, dl, took := postUntilDeadLetter(t, h, deep, 5*time.Second)
	t.Logf("dead-lettered by the ЕСОЕД sink %v after the POST began", took)
	if took > time.Second {
		t.Errorf("dead-lettered after %v, want under a second", took)
	}
	if d := dl[0]; d.MessageID != id || d.Attempts != 1 || !strings.Contains(d.Error, "element depth exceeds the limit of 256") {
		t.Errorf("dead letter %+v, want message %s at its first attempt, naming the depth limit", d, id)
	}
	rss := peakRSS(t, h.cmd.Process.Pid)
	t.Logf("hub peak RSS %d MiB", rss>>20)
	if rss > 200<<20 {
		t.Errorf("hub peak RSS %d MiB, want under 200 MiB", rss>>20)
	}
}

// postUntilDeadLetter posts body to h and waits up to timeout for its one dead letter; it returns
// the id the POST was answered with, the dead letters and how long after the POST began they came.
func postUntilDeadLetter(t *testing.T, h *hubProc, body []byte, timeout time.Duration) (string, []deadLetter, time.Duration) {
	t.Helper()
	start := time.Now()
	status, id, err := h.post(body)
	if err != nil || status != http.StatusAccepted {
		t.Fatalf("post: status %d, err %v", status, err)
	}
	var dl []deadLetter
	for {
		dl, err = h.deadLetters()
		if err == nil && len(dl) > 0 || time.Since(start) > timeout {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if len(dl) != 1 {
		t.Fatalf("dead letters after %v: %+v", took, dl)
	}
	return id, dl, took
}

// crashConfig delivers what /esoed/documents receives to an HTTP server that never answers: a
// message the process is busy with when it is killed, as when a message brings a process down.
const crashConfig = `
transport: @TRANSPORT@
store: @STORE@
ops: { listen: "${AISKAO_OPS_ADDR}" }
connectors:
  in: { type: http, listen: "${AISKAO_HTTP_ADDR}", path: /esoed/documents, content_types: [application/xml], auth: { type: none } }
  hang: { type: http, url: "@URL@", timeout: 1h }
routes:
  - name: crash
    from: in
    to: hang
    timeout: 1h
    on_error: { max_deliveries: 2 }
`

// TestMessageThatKillsTheProcessIsDeadLettered: a message whose processing the process never
// survives (here: killed with SIGKILL while it is delivering the message) comes back after each
// restart; after max_deliveries (2) deliveries without an outcome the next start dead-letters it
// as poison without processing it again. On both transports: the embedded one counts deliveries
// in its SQLite file, a RabbitMQ quorum queue in the broker.
func TestMessageThatKillsTheProcessIsDeadLettered(t *testing.T) {
	for _, tr := range []struct {
		name, transport, store string
	}{
		{"embedded", "{ type: embedded }", "{ type: sqlite }"},
		{"rabbitmq", `{ type: rabbitmq, url: "${AISKAO_AMQP_URL}", queue_type: quorum, exchange_prefix: "${AISKAO_AMQP_PREFIX}", queue_prefix: "${AISKAO_AMQP_PREFIX}" }`,
			`{ type: postgres, url: "${AISKAO_POSTGRES_URL}", schema: "${AISKAO_POSTGRES_SCHEMA}" }`},
	} {
		t.Run(tr.name, func(t *testing.T) {
			received := make(chan struct{}, 16)
			stop := make(chan struct{})
			sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				received <- struct{}{}
				select { // never answers: the hub is killed meanwhile
				case <-r.Context().Done():
				case <-stop:
				}
			}))
			t.Cleanup(sink.Close)
			t.Cleanup(func() { close(stop) })
			config := filepath.Join(t.TempDir(), "crash.yaml")
			text := strings.NewReplacer("@TRANSPORT@", tr.transport, "@STORE@", tr.store, "@URL@", sink.URL).Replace(crashConfig)
			if err := os.WriteFile(config, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}

			// start runs the hub (again) and returns how to post to it, kill it and list its dead letters.
			var start func() (post func([]byte) (int, string, error), kill func(), deadLetters func() ([]deadLetter, error))
			if tr.name == "embedded" {
				data, httpAddr, opsAddr := t.TempDir(), freeAddr(t), freeAddr(t)
				start = func() (func([]byte) (int, string, error), func(), func() ([]deadLetter, error)) {
					h := startHub(t, config, data, httpAddr, opsAddr)
					return func(b []byte) (int, string, error) { return h.post(b) },
						func() { _ = h.cmd.Process.Kill(); h.wait(10 * time.Second) },
						h.deadLetters
				}
			} else {
				d := newDeployment(t, config, []string{"crash"})
				var p *proc
				start = func() (func([]byte) (int, string, error), func(), func() ([]deadLetter, error)) {
					if p == nil {
						p = d.start("hub")
					} else {
						p = d.restart(p)
					}
					h := &hubProc{t: t, httpAddr: p.httpAddr, opsAddr: p.opsAddr, sendToken: p.token}
					return func(b []byte) (int, string, error) { return h.post(b) }, func() { p.kill(t) }, h.deadLetters
				}
			}

			post, kill, _ := start()
			status, id, err := post(readSample(t, "registration-request.xml"))
			if err != nil || status != http.StatusAccepted {
				t.Fatalf("post: status %d, err %v", status, err)
			}
			for i := range 2 {
				select {
				case <-received:
				case <-time.After(30 * time.Second):
					t.Fatalf("delivery %d did not reach the sink", i+1)
				}
				kill()
				if i == 0 {
					_, kill, _ = start()
				}
			}
			_, _, deadLetters := start()
			var dl []deadLetter
			waitFor(t, "the message as a dead letter", 30*time.Second, func() bool {
				dl, err = deadLetters()
				return err == nil && len(dl) == 1
			})
			if d := dl[0]; d.MessageID != id || d.Step != "delivery" || d.Attempts != 3 || !strings.Contains(d.Error, "delivered 3 times without being settled, more than max_deliveries 2") {
				t.Errorf("dead letter %+v", d)
			}
			select {
			case <-received:
				t.Error("the poison message was delivered again")
			case <-time.After(200 * time.Millisecond):
			}
		})
	}
}

// TestESOEDCheckDeepMessage: `aiskao esoed check` on the 100,000-deep message inside a real
// signed one took 67 s and 10 GB; it must refuse it at once, naming the depth limit.
func TestESOEDCheckDeepMessage(t *testing.T) {
	signed := string(readSample(t, "status-response.xml"))
	i := strings.Index(signed, "<Body>") + len("<Body>")
	const depth = 100000
	file := filepath.Join(t.TempDir(), "deep.xml")
	if err := os.WriteFile(file, []byte(signed[:i]+strings.Repeat("<a>", depth)+strings.Repeat("</a>", depth)+signed[i:]), 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	out, code := cli(t, "esoed", "check", file)
	took := time.Since(start)
	if code == 0 || !strings.Contains(out, "element depth exceeds the limit of 256") {
		t.Errorf("exit %d, want non-zero naming the depth limit:\n%s", code, out)
	}
	if took > 2*time.Second {
		t.Errorf("took %v, want well under 2 s", took)
	}
}

// TestWidePostBounded: 10 MB of empty elements (2.5 million) made a tree of 440 MB. The element
// limit refuses it while reading, before anything is built: a dead letter at its first attempt,
// the hub's peak RSS under 200 MB.
func TestWidePostBounded(t *testing.T) {
	data := t.TempDir()
	h := startHub(t, filepath.Join("..", "..", "configs", "demo.yaml"), data, "", "")
	wide := []byte(`<Message xmlns="http://schemas.egov.bg/messaging/v1">` + strings.Repeat("<a/>", 2500000) + `</Message>`)
	id, dl, _ := postUntilDeadLetter(t, h, wide, 30*time.Second)
	if d := dl[0]; d.MessageID != id || d.Attempts != 1 || !strings.Contains(d.Error, "element count exceeds the limit of 1048576 at line 1, column") {
		t.Errorf("dead letter %+v", d)
	}
	rss := peakRSS(t, h.cmd.Process.Pid)
	t.Logf("hub peak RSS %d MiB for a %d-byte message", rss>>20, len(wide))
	if rss > 200<<20 {
		t.Errorf("hub peak RSS %d MiB, want under 200 MiB", rss>>20)
	}
}
