package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aiskao/aiskao/esoed"
	"github.com/aiskao/aiskao/store"
)

// TestESOEDDocumentSentToPeerIsAnsweredWithStatusChanges runs the demo hub (Столична община)
// and `aiskao esoed peer` (Община Пловдив) as two processes exchanging over mutual TLS with the
// demo keys: a registration request posted to the hub before the peer runs is retried (И.8)
// until it reaches the peer, signed; it is answered DS_WAIT_REGISTRATION (ЗР.2), and the peer's
// routes send DS_REGISTERED then DS_CLOSED back (ИС.5, ИС.7), which the hub journals and writes
// out. A status request is then answered from the peer's status table (ПС.7), and the same
// document sent again is already received (ЗР.1).
func TestESOEDDocumentSentToPeerIsAnsweredWithStatusChanges(t *testing.T) {
	hubESOED, peerESOED := freeAddr(t), freeAddr(t)
	t.Setenv("AISKAO_ESOED_REGISTRY", demoRegistry(t, hubESOED, peerESOED))
	t.Setenv("AISKAO_ESOED_ADDR", hubESOED)
	t.Setenv("AISKAO_ESOED_RETRY_BACKOFF", "1s")
	t.Setenv("AISKAO_PEER_REGISTER_DELAY", "200ms")
	t.Setenv("AISKAO_PEER_CLOSE_DELAY", "1s")

	hubData, peerData := t.TempDir(), t.TempDir()
	h := startHub(t, filepath.Join("..", "..", "configs", "demo.yaml"), hubData, "", "")
	hubOps := "http://" + h.opsAddr

	request, guid := withGUID(readSample(t, "registration-request.xml"), 0x5e05)
	if status := postOutgoing(t, h, request); status != http.StatusAccepted {
		t.Fatalf("post to /esoed/outgoing: status %d", status)
	}
	// The peer is not there yet: an exception (И.8), retried on the schedule.
	waitFor(t, "the first attempt to fail", 15*time.Second, func() bool { return lastEntry(t, hubOps, "esoed.send_failed").Result != "" })
	if e := lastEntry(t, hubOps, "esoed.send_failed"); e.Result != "И.8" || e.Detail["attempt"] != "1" || e.Detail["next_attempt"] == "" {
		t.Errorf("hub's esoed.send_failed = %+v, want И.8 with the next attempt", e)
	}
	peerOps := startPeer(t, peerESOED, peerData)

	// The peer has the document, signed by the hub's administration.
	atPeer := filepath.Join(peerData, "out", "esoed-received", strings.Trim(guid, "{}")+".xml")
	raw := waitFile(t, "the document at the peer", atPeer, 15*time.Second)
	if s, err := demoVerify(t, raw); err != nil || !s.Certificate.Equal(demoCert(t, "demo-sofia.crt")) {
		t.Errorf("document at the peer: signature %v, signer %v", err, s)
	}
	// The peer journals the reception after storing and answering it, so its route may write
	// the file first.
	waitFor(t, "the reception in the peer's journal", 15*time.Second, func() bool { return lastEntry(t, peerOps, "esoed.received").Result != "" })
	if e := lastEntry(t, peerOps, "esoed.received"); e.Result != esoed.StatusWaitRegistration || e.Detail["scenario"] != "ЗР.2" {
		t.Errorf("peer's journal: %+v", e)
	}

	// The hub got the synchronous answer, then the peer's two status changes, in order.
	var statuses []store.JournalEntry
	waitFor(t, "DS_REGISTERED and DS_CLOSED at the hub", 15*time.Second, func() bool {
		statuses = entries(t, hubOps, "esoed.received")
		return len(statuses) >= 2
	})
	sort.Slice(statuses, func(i, j int) bool { return statuses[i].ID < statuses[j].ID })
	for i, want := range []struct{ status, scenario string }{{esoed.StatusRegistered, "ИС.5"}, {esoed.StatusClosed, "ИС.7"}} {
		e := statuses[i]
		if e.Result != want.status || e.Detail["scenario"] != want.scenario || e.Actor != "000471504" ||
			!strings.HasPrefix(e.Subject, esoed.TypeStatusResponse) || e.Dossier != "ПД-94-926159f2" {
			t.Errorf("hub's esoed.received #%d = %+v, want %s (%s) from 000471504", i+1, e, want.status, want.scenario)
		}
	}
	if e := lastEntry(t, hubOps, "esoed.sent"); e.Result != esoed.StatusWaitRegistration || !strings.Contains(e.Subject, guid) {
		t.Errorf("hub's esoed.sent = %+v, want the answer DS_WAIT_REGISTRATION", e)
	}
	// The CLI shows the statuses too.
	if out, code := cli(t, "journal", "-ops", hubOps, "-kind", "esoed.received"); code != 0 ||
		!strings.Contains(out, esoed.StatusRegistered) || !strings.Contains(out, esoed.StatusClosed) {
		t.Errorf("aiskao journal (exit %d):\n%s", code, out)
	}

	// The status responses are in the hub's output, signed by the peer's administration.
	got := map[string]*esoed.StatusResponse{}
	for _, f := range files(t, filepath.Join(hubData, "out", "esoed-received")) {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if s, err := demoVerify(t, raw); err != nil || !s.Certificate.Equal(demoCert(t, "demo-plovdiv.crt")) {
			t.Errorf("%s: signature %v", filepath.Base(f), err)
		}
		m, _, err := esoed.ParseMessage(bytes.NewReader(raw))
		if err != nil || m.Body.StatusResponse == nil {
			t.Fatalf("%s: %v", filepath.Base(f), err)
		}
		got[m.Body.StatusResponse.Status] = m.Body.StatusResponse
	}
	reg := got[esoed.StatusRegistered]
	if len(got) != 2 || reg == nil || got[esoed.StatusClosed] == nil {
		t.Fatalf("hub's output has statuses %v, want DS_REGISTERED and DS_CLOSED", keys(got))
	}
	if reg.DocID.GUID != "{926159f2-af76-4c3d-ae7c-ee18890ca446}" || reg.DocID.Number == nil || reg.DocID.Number.Number != "ПД-94-926159f2" ||
		!reg.ExpectCloseDate.Equal(reg.DocID.Number.Date.AddDate(0, 0, 14)) {
		t.Errorf("DS_REGISTERED = %+v, number %+v", reg, reg.DocID.Number)
	}

	// The hub asks the document's status: the peer answers from its table.
	if status := postOutgoing(t, h, readSample(t, "status-request.xml")); status != http.StatusAccepted {
		t.Fatalf("post the status request: status %d", status)
	}
	waitFor(t, "the answer to the status request", 15*time.Second, func() bool {
		e := lastEntry(t, hubOps, "esoed.sent")
		return strings.HasPrefix(e.Subject, esoed.TypeStatusRequest) && e.Result == esoed.StatusClosed
	})
	// The peer journals after answering: wait for it too.
	waitFor(t, "the status request in the peer's journal", 15*time.Second, func() bool {
		return lastEntry(t, peerOps, "esoed.received").Detail["scenario"] == "ПС.7"
	})
	if e := lastEntry(t, peerOps, "esoed.received"); e.Detail["scenario"] != "ПС.7" || e.Result != esoed.StatusClosed {
		t.Errorf("peer's journal of the status request: %+v", e)
	}

	// The same document again, in a new message: already received, not registered twice.
	again, _ := withGUID(readSample(t, "registration-request.xml"), 0x5e06)
	if status := postOutgoing(t, h, again); status != http.StatusAccepted {
		t.Fatalf("post again: status %d", status)
	}
	waitFor(t, "DS_ALREADY_RECEIVED", 15*time.Second, func() bool {
		return lastEntry(t, hubOps, "esoed.sent").Result == esoed.StatusAlreadyReceived
	})
	waitFor(t, "the second copy in the peer's journal", 15*time.Second, func() bool {
		return lastEntry(t, peerOps, "esoed.received").Detail["scenario"] == "ЗР.1"
	})
	if e := lastEntry(t, peerOps, "esoed.received"); e.Detail["scenario"] != "ЗР.1" {
		t.Errorf("peer's journal of the second copy: %+v", e)
	}
	time.Sleep(500 * time.Millisecond) // what the peer's routes would send, had they been given it
	if n := len(entries(t, hubOps, "esoed.received")); n != 2 {
		t.Errorf("hub received %d status responses, want still 2", n)
	}
}

// demoRegistry writes the demo's participants registry with the endpoints on the ports given
// and the certificates of configs/esoed, and returns its path.
func demoRegistry(t *testing.T, hubAddr, peerAddr string) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "configs", "esoed"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "registry.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.NewReplacer(
		"https://127.0.0.1:8443/", "https://"+hubAddr+"/",
		"https://127.0.0.1:8444/", "https://"+peerAddr+"/",
		"certificate_file: demo-", "certificate_file: "+dir+"/demo-",
	).Replace(string(raw))
	if strings.Count(s, hubAddr)+strings.Count(s, peerAddr) != 2 || strings.Count(s, dir) != 2 {
		t.Fatalf("configs/esoed/registry.yaml no longer has the two endpoints and certificates this test replaces:\n%s", s)
	}
	path := filepath.Join(t.TempDir(), "registry.yaml")
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// copyESOEDDemo copies the demo's keys, certificates and participants registry (configs/esoed)
// into dir/esoed, for a test that runs a copy of a configuration naming them.
func copyESOEDDemo(t testing.TB, dir string) {
	t.Helper()
	src := filepath.Join("..", "..", "configs", "esoed")
	es, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "esoed"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if e.IsDir() || strings.HasSuffix(e.Name(), ".go") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "esoed", e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// startPeer runs `aiskao esoed peer` from the repository's root, as an integrator would, with
// its endpoint on esoedAddr, and returns the address of its operations API once it is ready.
func startPeer(t *testing.T, esoedAddr, data string) string {
	t.Helper()
	ops := freeAddr(t)
	log := &lockedBuffer{}
	cmd := exec.Command(binary, "esoed", "peer", "-data", data)
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), "AISKAO_PEER_ESOED_ADDR="+esoedAddr, "AISKAO_PEER_OPS_ADDR="+ops, "AISKAO_PEER_HTTP_ADDR="+freeAddr(t))
	opsTokens.Store("http://"+ops, createToken(t, cmd.Dir, "configs/esoed-peer.yaml", data, cmd.Env, "operator"))
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("peer log:\n%s", log.String())
		}
	})
	waitFor(t, "the peer ready", 30*time.Second, func() bool {
		select {
		case <-done:
			t.Fatalf("peer exited:\n%s", log.String())
		default:
		}
		resp, err := http.Get("http://" + ops + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return "http://" + ops
}

// postOutgoing posts an unsigned ЕСОЕД message to the hub's /esoed/outgoing.
func postOutgoing(t *testing.T, h *hubProc, body []byte) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+h.httpAddr+"/esoed/outgoing", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/xml")
	req.Header.Set("Authorization", "Bearer "+h.sendToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// entries lists the journal entries of kind through the CLI, newest first.
func entries(t *testing.T, ops, kind string) []store.JournalEntry {
	t.Helper()
	out, code := cli(t, "journal", "-ops", ops, "-kind", kind, "-json")
	if code != 0 {
		t.Fatalf("aiskao journal: exit %d\n%s", code, out)
	}
	var es []store.JournalEntry
	if err := json.Unmarshal([]byte(out), &es); err != nil {
		t.Fatalf("aiskao journal -json: %v\n%s", err, out)
	}
	return es
}

func lastEntry(t *testing.T, ops, kind string) store.JournalEntry {
	t.Helper()
	es := entries(t, ops, kind)
	if len(es) == 0 {
		return store.JournalEntry{}
	}
	return es[0]
}

// demoCert reads a demo certificate of configs/esoed.
func demoCert(t *testing.T, name string) *x509.Certificate {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "configs", "esoed", name))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(raw)
	if b == nil {
		t.Fatalf("%s: no PEM block", name)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// demoVerify verifies a message's signature with the demo CA as the trust anchor.
func demoVerify(t *testing.T, raw []byte) (*esoed.Signed, error) {
	t.Helper()
	trust, err := esoed.NewTrust([]*x509.Certificate{demoCert(t, "demo-ca.crt")}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return esoed.VerifySignature(context.Background(), raw, trust)
}

func files(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		if !e.IsDir() {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
