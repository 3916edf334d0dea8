package main

// The dossier core's acceptance scenario through the real binary, on the shipped configurations:
// the embedded demo (configs/demo.yaml) and RabbitMQ + PostgreSQL with two hub processes
// (configs/rabbitmq-postgres.yaml). Община Пловдив (`aiskao esoed peer`) sends the hub's
// administration an ЕСОЕД registration request, which opens a dossier with a registration
// number; a second document naming the first as its parent is filed into the same dossier
// (ЗР.4–ЗР.6); the ex officio check is asked of the register simulator and its answer completes
// the checklist; an irregularity suspends the dossier and its answer resumes it; the dossier
// closes with a result; and a status request about the document is answered DS_CLOSED.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aiskao/aiskao/esoed"
	"github.com/aiskao/aiskao/store"
)

// demoEvent is one event of a dossier as the demo's dossier-events route writes it.
type demoEvent struct {
	Dossier string          `json:"dossier"`
	Seq     int             `json:"seq"`
	Type    string          `json:"type"`
	Data    json.RawMessage `json:"data"`
}

// demoEvents reads the events in dir, by dossier and then seq.
func demoEvents(t *testing.T, dir string) []demoEvent {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	var out []demoEvent
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // being renamed into place
		}
		var e demoEvent
		if json.Unmarshal(b, &e) != nil || e.Dossier == "" {
			continue
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Dossier != out[j].Dossier {
			return out[i].Dossier < out[j].Dossier
		}
		return out[i].Seq < out[j].Seq
	})
	return out
}

// demoPeer is `aiskao esoed peer` (Община Пловдив) with its ingress for messages to the hub.
type demoPeer struct {
	ops, http, token string
}

// startDemoPeer runs `aiskao esoed peer` with its endpoint on esoedAddr and returns its
// operations API, its /esoed/outgoing and an integrator's token for it.
func startDemoPeer(t *testing.T, esoedAddr string) demoPeer {
	t.Helper()
	data := t.TempDir()
	p := demoPeer{ops: freeAddr(t), http: freeAddr(t)}
	log := &lockedBuffer{}
	cmd := exec.Command(binary, "esoed", "peer", "-data", data)
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), "AISKAO_PEER_ESOED_ADDR="+esoedAddr, "AISKAO_PEER_OPS_ADDR="+p.ops, "AISKAO_PEER_HTTP_ADDR="+p.http)
	opsTokens.Store("http://"+p.ops, createToken(t, cmd.Dir, "configs/esoed-peer.yaml", data, cmd.Env, "operator"))
	p.token = createToken(t, cmd.Dir, "configs/esoed-peer.yaml", data, cmd.Env, "integrator")
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
			t.Logf("peer log:\n%s", tail(log.String(), 60))
		}
	})
	waitFor(t, "the peer ready", 30*time.Second, func() bool {
		select {
		case <-done:
			t.Fatalf("peer exited:\n%s", log.String())
		default:
		}
		resp, err := http.Get("http://" + p.ops + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	p.ops = "http://" + p.ops
	return p
}

// send posts an unsigned ЕСОЕД message to the peer, which signs it and sends it to the hub.
func (p demoPeer) send(t *testing.T, body []byte) {
	t.Helper()
	if code, b := postJSON(t, "http://"+p.http+"/esoed/outgoing", p.token, "application/xml", body, ""); code != http.StatusAccepted {
		t.Fatalf("post to the peer's /esoed/outgoing: %d %s", code, b)
	}
}

// postJSON posts body with the token (and an idempotency key, when given) and returns the
// status and the answer.
func postJSON(t *testing.T, url, token, ctype string, body []byte, key string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Authorization", "Bearer "+token)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

const (
	plovdivParticipant = `<Identifier>000471504</Identifier>
      <AdministrativeBodyName>Община Пловдив</AdministrativeBodyName>
      <GUID>{805fd26b-4b64-4823-a7b5-d40315c4b783}</GUID>`
	sofiaParticipant = `<Identifier>000696327</Identifier>
      <AdministrativeBodyName>Столична община</AdministrativeBodyName>
      <GUID>{676150f9-dfb5-4723-a236-fb007f3eb046}</GUID>`
	sampleDocGUID     = "{926159f2-af76-4c3d-ae7c-ee18890ca446}"
	sampleMessageGUID = "{f330b925-8cca-447e-907e-8e42a11bb6d6}"
	maritalStatusKind = "Искане за удостоверение за семейно положение"
	demoApplicantEGN  = "8506258485"
)

// fromPlovdiv turns a sample the hub sends to Община Пловдив around: Пловдив sends it to the hub.
func fromPlovdiv(sample string) string {
	s := strings.Replace(sample, sofiaParticipant, "@@SENDER@@", 1)
	s = strings.Replace(s, plovdivParticipant, sofiaParticipant, 1)
	return strings.Replace(s, "@@SENDER@@", plovdivParticipant, 1)
}

// registrationFromPlovdiv is a registration request from Община Пловдив to the hub: document
// guid of kind, whose parent is parent (none when empty), for the person demoApplicantEGN.
func registrationFromPlovdiv(t *testing.T, message, guid, parent, kind string) []byte {
	t.Helper()
	s := fromPlovdiv(string(readSample(t, "registration-request.xml")))
	if parent == "" {
		parent = guid // the sample's parent is the document itself: no parent
	}
	s = strings.Replace(s, sampleDocGUID, guid, 1)
	s = strings.Replace(s, sampleDocGUID, parent, 1)
	s = strings.Replace(s, sampleMessageGUID, message, 1)
	s = strings.Replace(s, "<DocKind>Заявление</DocKind>", "<DocKind>"+kind+"</DocKind>", 1)
	s = strings.Replace(s, "ап. 5</CorAddress>", "ап. 5</CorAddress>\n            <CorEGN>"+demoApplicantEGN+"</CorEGN>", 1)
	if strings.Count(s, guid) == 0 || !strings.Contains(s, demoApplicantEGN) || !strings.Contains(s, kind) || !strings.Contains(s, message) {
		t.Fatal("testdata/esoed/registration-request.xml no longer has what this test replaces")
	}
	return []byte(s)
}

// statusRequestFromPlovdiv asks the hub the status of document guid.
func statusRequestFromPlovdiv(t *testing.T, message, guid string) []byte {
	t.Helper()
	s := fromPlovdiv(string(readSample(t, "status-request.xml")))
	s = strings.Replace(s, sampleDocGUID, guid, 1)
	s = strings.Replace(s, "{8b35f449-2db0-4304-8260-0fe0bc275bec}", message, 1)
	if !strings.Contains(s, guid) || !strings.Contains(s, message) {
		t.Fatal("testdata/esoed/status-request.xml no longer has what this test replaces")
	}
	return []byte(s)
}

// dossierScenario is what the scenario needs of a deployment: where the events are written,
// and the hubs' ingresses (the scenario spreads its calls over them).
type dossierScenario struct {
	events string
	ops    string // a hub's operations API, for its journal
	hubs   []demoIngress
	peer   demoPeer
	api    demoIngress // a hub's dossier API (host:port) and an integrator's token for it
}

// demoIngress is one hub process's HTTP ingress and an integrator's token for it.
type demoIngress struct{ http, token string }

func (s dossierScenario) hub(i int) demoIngress { return s.hubs[i%len(s.hubs)] }

// command posts a dossier.Command to hub i.
func (s dossierScenario) command(t *testing.T, i int, cmd string) {
	t.Helper()
	h := s.hub(i)
	if code, b := postJSON(t, "http://"+h.http+"/dossiers/commands", h.token, "application/json", []byte(cmd), ""); code/100 != 2 {
		t.Fatalf("post %s: %d %s", cmd, code, b)
	}
}

// of are the events of dossier number.
func (s dossierScenario) of(t *testing.T, number string) []demoEvent {
	t.Helper()
	var out []demoEvent
	for _, e := range demoEvents(t, s.events) {
		if e.Dossier == number {
			out = append(out, e)
		}
	}
	return out
}

// waitEvent waits for an event of type typ in dossier number that match accepts (nil: any).
func (s dossierScenario) waitEvent(t *testing.T, number, typ string, match func(demoEvent) bool) demoEvent {
	t.Helper()
	var found demoEvent
	waitFor(t, typ+" in "+number, 60*time.Second, func() bool {
		for _, e := range s.of(t, number) {
			if e.Type == typ && (match == nil || match(e)) {
				found = e
				return true
			}
		}
		return false
	})
	return found
}

// field reads a field of the event's payload, as text (JSON for what is not a string).
func (e demoEvent) field(name string) string {
	var m map[string]any
	_ = json.Unmarshal(e.Data, &m)
	switch v := m[name].(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

// peerReceived waits until the peer has received status about document doc, registered
// under number.
func (s dossierScenario) peerReceived(t *testing.T, status, number, doc string) store.JournalEntry {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		es := entries(t, s.peer.ops, "esoed.received")
		for _, e := range es {
			if e.Result == status && e.Dossier == number && e.Detail["document_guid"] == doc {
				return e
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s about %s under %s at the peer; it received %+v", status, doc, number, es)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var demoNumber = regexp.MustCompile(`^ОБА3-\d+/\d\d\.\d\d\.\d{4}$`)

// run plays the acceptance scenario.
func (s dossierScenario) run(t *testing.T) {
	const docA, docB = "{0a000019-0000-4000-8000-00000000000a}", "{0b000019-0000-4000-8000-00000000000b}"

	// ЗР.6: a registration request opens a dossier with a registration number.
	s.peer.send(t, registrationFromPlovdiv(t, "{1a000019-0000-4000-8000-00000000001a}", docA, "", maritalStatusKind))
	var opened demoEvent
	waitFor(t, "a dossier opened", 60*time.Second, func() bool {
		for _, e := range demoEvents(t, s.events) {
			if e.Type == "dossier.opened" {
				opened = e
				return true
			}
		}
		return false
	})
	number := opened.Dossier
	if !demoNumber.MatchString(number) || opened.field("service") != "local-marital-status" {
		t.Fatalf("dossier.opened: number %q, service %q", number, opened.field("service"))
	}
	t.Logf("dossier %s opened from ЕСОЕД document %s", number, docA)
	// The sender is told the number (ЗР.7).
	s.peerReceived(t, esoed.StatusRegistered, number, docA)

	// The clerk's first task: the registration stage's, for the front office.
	task := s.waitEvent(t, number, "dossier.task_created", nil)
	if task.field("task") != "T1" || task.field("stage") != "register" || !strings.Contains(task.field("assignee"), "front-office-clerk") {
		t.Errorf("first task: %s", task.Data)
	}
	// The same task in the dossier API's work list of the front office.
	resp := do(t, http.MethodGet, "http://"+s.api.http+"/api/v1/tasks?assignee=position:front-office-clerk", s.api.token, "", nil)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"number":"`+number+`"`) {
		t.Errorf("GET /api/v1/tasks for the front office: %d %s; want dossier %s listed", resp.StatusCode, body, number)
	}

	// ЗР.5: a document naming the first as its parent is filed into its dossier, under its number.
	before := len(s.of(t, number))
	s.peer.send(t, registrationFromPlovdiv(t, "{1b000019-0000-4000-8000-00000000001b}", docB, docA, "Допълнение"))
	s.waitEvent(t, number, "dossier.document_filed", func(e demoEvent) bool { return e.Seq > before })
	s.peerReceived(t, esoed.StatusRegistered, number, docB)

	// The clerk registers; the ex officio check is asked of the register simulator and its
	// answer completes the checklist item.
	s.command(t, 0, fmt.Sprintf(`{"command": "complete_task", "number": %q, "task": "T1", "by": {"kind": "user", "id": "ivanova"}}`, number))
	// The request carries the ЕГН, so it is not among the events; its answer is.
	item := s.waitEvent(t, number, "dossier.item_completed", nil)
	if item.field("item") != "marital-status" || item.field("outcome") != "received" {
		t.Errorf("item completed: %s", item.Data)
	}
	officer := s.waitEvent(t, number, "dossier.task_created", func(e demoEvent) bool { return e.field("stage") == "issue" })
	t.Logf("the register answered; task %s of stage issue created", officer.field("task"))

	// An irregularity suspends the dossier; its answer resumes it.
	due := time.Now().AddDate(0, 0, 14).Format("2006-01-02")
	s.command(t, 1, fmt.Sprintf(`{"command": "notify_irregularity", "number": %q, "by": {"kind": "user", "id": "petrova"},
	  "notice": {"legal_grounds": "чл. 30, ал. 1 от Административнопроцесуалния кодекс", "factual_grounds": "Липсва подпис на искането.", "due": %q}}`, number, due))
	s.waitEvent(t, number, "dossier.suspended", nil)
	s.command(t, 0, fmt.Sprintf(`{"command": "answer_irregularity", "number": %q, "id": "N1",
	  "documents": [{"id": "signed-request", "kind": "other", "name": "Искане с подпис.pdf", "media_type": "application/pdf", "size": 83,
	    "sha256": "cb181be22d47434bcabf8884b8e754e98445702dad6f7f7ad2e5a964f0a5763b"}]}`, number))
	s.waitEvent(t, number, "dossier.resumed", nil)

	// The fee is paid, the officer prepares the certificate, the result is issued, delivered and
	// the dossier closed.
	s.command(t, 1, fmt.Sprintf(`{"command": "mark_fee_paid", "number": %q, "amount_cents": 102, "reference": "POS-19"}`, number))
	s.waitEvent(t, number, "dossier.fee_paid", nil)
	s.command(t, 0, fmt.Sprintf(`{"command": "complete_task", "number": %q, "task": %q, "by": {"kind": "user", "id": "petrova"}}`, number, officer.field("task")))
	s.waitEvent(t, number, "dossier.stage_completed", func(e demoEvent) bool { return e.field("stage") == "issue" })
	s.command(t, 1, fmt.Sprintf(`{"command": "issue_result", "number": %q, "outcome": "granted",
	  "document": {"id": "certificate", "kind": "result", "name": "Удостоверение.pdf", "media_type": "application/pdf", "size": 83,
	    "sha256": "cb181be22d47434bcabf8884b8e754e98445702dad6f7f7ad2e5a964f0a5763b"}}`, number))
	s.waitEvent(t, number, "dossier.result_issued", nil)
	s.command(t, 0, fmt.Sprintf(`{"command": "deliver_result", "number": %q, "way": "electronic", "reference": "ЕСОЕД"}`, number))
	s.waitEvent(t, number, "dossier.result_delivered", nil)
	s.command(t, 1, fmt.Sprintf(`{"command": "close", "number": %q, "reason": "completed"}`, number))
	closed := s.waitEvent(t, number, "dossier.closed", nil)
	if closed.field("reason") != "completed" {
		t.Errorf("closed: %s", closed.Data)
	}
	closedAtPeer := s.peerReceived(t, esoed.StatusClosed, number, docA)
	// The hub keeps the status it told once the peer has answered, and journals it then: a status
	// request before that would be told the one before.
	waitFor(t, "DS_CLOSED in the hub's journal", 30*time.Second, func() bool {
		for _, e := range entries(t, s.ops, "esoed.sent") {
			if e.Subject == closedAtPeer.Subject {
				return true
			}
		}
		return false
	})

	// ПС.5: a status request about the first document is answered with the dossier's status.
	s.peer.send(t, statusRequestFromPlovdiv(t, "{1c000019-0000-4000-8000-00000000001c}", docA))
	waitFor(t, "the answer to the status request", 60*time.Second, func() bool {
		for _, e := range entries(t, s.peer.ops, "esoed.sent") {
			if strings.HasPrefix(e.Subject, esoed.TypeStatusRequest) && e.Result != "" {
				return true
			}
		}
		return false
	})
	for _, e := range entries(t, s.peer.ops, "esoed.sent") {
		if strings.HasPrefix(e.Subject, esoed.TypeStatusRequest) && e.Result != esoed.StatusClosed {
			t.Errorf("the status request was answered %+v, want DS_CLOSED", e)
		}
	}

	// ЗР.1: the first document again, in a new message, is already received; the dossier does
	// not change.
	s.peer.send(t, registrationFromPlovdiv(t, "{1d000019-0000-4000-8000-00000000001d}", docA, "", maritalStatusKind))
	waitFor(t, "DS_ALREADY_RECEIVED", 60*time.Second, func() bool {
		for _, e := range entries(t, s.peer.ops, "esoed.sent") {
			if e.Result == esoed.StatusAlreadyReceived {
				return true
			}
		}
		return false
	})
	time.Sleep(time.Second) // what the dossiers would publish, had they been given it

	// One dossier, each event once (the register request is left out: it carries the ЕГН).
	evs := demoEvents(t, s.events)
	for i, e := range evs {
		if e.Dossier != number {
			t.Errorf("event %s of another dossier %s", e.Type, e.Dossier)
		}
		if e.Seq <= i {
			t.Errorf("event %d (%s) came out twice", e.Seq, e.Type)
		}
		if strings.Contains(string(e.Data), demoApplicantEGN) {
			t.Errorf("event %s carries the applicant's ЕГН", e.Type)
		}
	}
	var types []string
	for _, e := range evs {
		types = append(types, e.Type)
	}
	t.Logf("%d events: %s", len(evs), strings.Join(types, " "))
}

// demoScenarioEnv sets what the hub and the peer share: the participants registry naming their
// endpoints, the register simulator, and short ЕСОЕД retries. It returns the hub's and the peer's
// ЕСОЕД endpoints.
func demoScenarioEnv(t *testing.T) (hubESOED, peerESOED string) {
	t.Helper()
	hubESOED, peerESOED = freeAddr(t), freeAddr(t)
	t.Setenv("AISKAO_ESOED_REGISTRY", demoRegistry(t, hubESOED, peerESOED))
	t.Setenv("AISKAO_ESOED_RETRY_BACKOFF", "1s")
	t.Setenv("AISKAO_REGIX_URL", "http://"+startSim(t)+"/RegiX/RegiXEntryPointV2.svc")
	return hubESOED, peerESOED
}

// TestDossierDemoScenario: the acceptance scenario on the embedded demo, one process.
func TestDossierDemoScenario(t *testing.T) {
	hubESOED, peerESOED := demoScenarioEnv(t)
	t.Setenv("AISKAO_ESOED_ADDR", hubESOED)
	api := freeAddr(t)
	t.Setenv("AISKAO_DOSSIER_API_ADDR", api)
	data := t.TempDir()
	h := startHub(t, filepath.Join("..", "..", "configs", "demo.yaml"), data, "", "")
	peer := startDemoPeer(t, peerESOED)
	s := dossierScenario{events: filepath.Join(data, "out", "dossier-events"), ops: "http://" + h.opsAddr, hubs: []demoIngress{{h.httpAddr, h.sendToken}}, peer: peer, api: demoIngress{api, h.sendToken}}
	s.run(t)
	h.signal(syscall.SIGTERM)
	h.wait(30 * time.Second)
}

// TestScaleOutDossierScenario: the acceptance scenario on RabbitMQ + PostgreSQL with two hub
// processes sharing the dossiers: the peer sends to the first process's ЕСОЕД endpoint, the
// commands go to both in turn, and the routes, the outbox relay and the ЕСОЕД status table run
// wherever the broker and the database put them.
func TestScaleOutDossierScenario(t *testing.T) {
	hubESOED, peerESOED := demoScenarioEnv(t)
	events := filepath.Join(t.TempDir(), "dossier-events")
	d := newDeployment(t, scaleConfig, scaleRoutes, "AISKAO_DOSSIER_EVENTS_DIR="+events)
	a := d.start("hub-a", "AISKAO_ESOED_ADDR="+hubESOED)
	api := freeAddr(t)
	b := d.start("hub-b", "AISKAO_DOSSIER_API_ADDR="+api)
	peer := startDemoPeer(t, peerESOED)
	s := dossierScenario{events: events, ops: "http://" + b.opsAddr, hubs: []demoIngress{{a.httpAddr, a.token}, {b.httpAddr, b.token}}, peer: peer, api: demoIngress{api, b.token}}
	s.run(t)
	for _, p := range []*proc{a, b} {
		for _, route := range []string{"esoed-dossiers", "dossier-commands", "dossier-registers", "dossier-esoed-statuses"} {
			expectNoDeadLetters(t, p, route)
		}
	}
}

// TestDossierRedeliveredMessageChangesNothing: a message the dossiers are given again with the
// same id changes nothing. On the demo, the same application posted twice with one
// Idempotency-Key opens one dossier; and on a route that delivers to the dossiers and then to a
// sink that fails twice, the hub's retries give the dossiers the same message three times, and
// still one dossier with one set of events comes out.
func TestDossierRedeliveredMessageChangesNothing(t *testing.T) {
	application, err := os.ReadFile(filepath.Join("..", "..", "configs", "tests", "input", "dossier-application.json"))
	if err != nil {
		t.Fatal(err)
	}
	// openingEvents: opened, the application filed, the first stage started, its task created.
	const openingEvents = 4
	check := func(t *testing.T, events string) {
		t.Helper()
		waitFor(t, "the dossier's opening events", 30*time.Second, func() bool { return len(demoEvents(t, events)) >= openingEvents })
		time.Sleep(time.Second) // a second dossier, or the events again, would show by now
		evs := demoEvents(t, events)
		seen := map[string]int{}
		for _, e := range evs {
			seen[fmt.Sprintf("%s#%d", e.Dossier, e.Seq)]++
			if e.Dossier != evs[0].Dossier {
				t.Errorf("a second dossier %s (event %s)", e.Dossier, e.Type)
			}
		}
		for k, n := range seen {
			if n != 1 {
				t.Errorf("event %s came out %d times", k, n)
			}
		}
		if len(evs) != openingEvents && !(len(evs) == openingEvents+1 && evs[openingEvents].Type == "dossier.deadline_near") {
			t.Errorf("%d events, want the %d of opening: %+v", len(evs), openingEvents, evs)
		}
	}

	t.Run("the same application posted twice", func(t *testing.T) {
		data := t.TempDir()
		h := startHub(t, filepath.Join("..", "..", "configs", "demo.yaml"), data, "", "")
		for range 2 {
			if code, b := postJSON(t, "http://"+h.httpAddr+"/applications", h.sendToken, "application/json", application, "portal-94-17"); code/100 != 2 {
				t.Fatalf("POST /applications: %d %s", code, b)
			}
		}
		check(t, filepath.Join(data, "out", "dossier-events"))
	})

	t.Run("redelivered by the hub's retries", func(t *testing.T) {
		var calls atomic.Int32
		mirror := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) <= 2 {
				http.Error(w, "not yet", http.StatusServiceUnavailable)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}))
		defer mirror.Close()
		services, err := filepath.Abs(filepath.Join("..", "..", "configs", "services"))
		if err != nil {
			t.Fatal(err)
		}
		cfg := fmt.Sprintf(`transport: { type: embedded }
store: { type: sqlite }
ops: { listen: "${AISKAO_OPS_ADDR}" }
connectors:
  applications-http:
    type: http
    auth: { type: api_key, role: integrator }
    listen: ${AISKAO_HTTP_ADDR}
    path: /applications
    content_types: [application/json]
    message_type: application.Submitted
  dossiers:
    type: dossier
    services: %q
    administration: { eik: "000695089", name: Община Примерно }
    relay_interval: 50ms
  mirror:
    type: http
    url: %s
  events:
    type: file
    dir: out/dossier-events
routes:
  - name: applications
    from: applications-http
    to: [dossiers, mirror]
    on_error: { retry: { max: 5, backoff: 100ms } }
  - name: dossier-events
    from: dossiers
    to: events
`, services, mirror.URL)
		config := filepath.Join(t.TempDir(), "redelivery.yaml")
		if err := os.WriteFile(config, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		data := t.TempDir()
		h := startHub(t, config, data, "", "")
		if code, b := postJSON(t, "http://"+h.httpAddr+"/applications", h.sendToken, "application/json", application, ""); code/100 != 2 {
			t.Fatalf("POST /applications: %d %s", code, b)
		}
		waitFor(t, "the mirror to take the message", 30*time.Second, func() bool { return calls.Load() >= 3 })
		check(t, filepath.Join(data, "out", "dossier-events"))
	})
}
