package main

// The dossier connector through the real binary: an application posted to the hub opens a
// dossier with a registration number, and its events come out of a route to a file sink; a hub
// killed between the dossier's commit and the events' publication publishes them once after
// its restart.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dstore "github.com/aiskao/aiskao/dossier/store"
	dsqlite "github.com/aiskao/aiskao/dossier/store/sqlite"
)

// dossierConfig is a hub that takes applications over HTTP into the dossiers and, with events,
// writes every dossier event to a file named by its id and the time the hub received it (so a
// message published twice leaves two files).
func dossierConfig(t *testing.T, events bool) string {
	t.Helper()
	return dossierConfigOn(t, events, "")
}

// dossierConfigOn is dossierConfig with the dossiers in database (the connector's option), or
// in the embedded file when it is empty.
func dossierConfigOn(t testing.TB, events bool, database string) string {
	t.Helper()
	services, err := filepath.Abs(filepath.Join("..", "..", "dossier", "service", "testdata"))
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
    applicant_key: a key the processes share
%s
  events:
    type: file
    dir: out/events
    name: '{{id}}-{{meta "time"}}{{ext}}'
routes:
  - name: applications
    from: applications-http
    to: dossiers
`, services, database)
	if events {
		cfg += `  - name: dossier-events
    from: dossiers
    to: events
`
	}
	path := filepath.Join(t.TempDir(), fmt.Sprintf("dossier-%v.yaml", events))
	cfg = strings.Replace(cfg, "\n\n  events:", "\n  events:", 1)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const dossierApplication = `{"application": {"service": "2016", "channel": "portal", "term": "normal",
  "applicant": {"kind": "person", "egn": "8506258485", "name": "Мария Петрова", "address": "ул. Образцова 1"},
  "documents": [{"id": "doc-1", "kind": "application", "name": "Заявление.pdf", "media_type": "application/pdf", "size": 10,
    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}],
  "data": {"deceased_egn": "7501020018", "deceased_name": "Петър Петров"},
  "delivery": {"way": "electronic"}}}`

func postDossierApplication(t *testing.T, h *hubProc) {
	t.Helper()
	resp := do(t, http.MethodPost, "http://"+h.httpAddr+"/applications", h.sendToken, "application/json", []byte(dossierApplication))
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("POST /applications: %d %s", resp.StatusCode, body)
	}
}

// dossierEvent is what the file sink wrote of one event.
type dossierEvent struct {
	file    string
	Dossier string `json:"dossier"`
	Seq     int    `json:"seq"`
	Type    string `json:"type"`
}

func readEvents(t *testing.T, data string) []dossierEvent {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(data, "out", "events", "*.json"))
	var out []dossierEvent
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		e := dossierEvent{file: filepath.Base(f)}
		if err := json.Unmarshal(b, &e); err != nil {
			continue // being written
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out
}

// TestDossierOpenedThroughBinary: a posted application opens a dossier with a registration
// number, and dossier.opened comes out of the events route with it.
func TestDossierOpenedThroughBinary(t *testing.T) {
	data := t.TempDir()
	h := startHub(t, dossierConfig(t, true), data, "", "")
	postDossierApplication(t, h)
	var evs []dossierEvent
	waitFor(t, "the dossier's four first events", 30*time.Second, func() bool { evs = readEvents(t, data); return len(evs) >= 4 })
	if evs[0].Type != "dossier.opened" || !regexp.MustCompile(`^ОБА3-1/\d\d\.\d\d\.\d{4}$`).MatchString(evs[0].Dossier) {
		t.Errorf("first event = %+v", evs[0])
	}
	for _, e := range evs {
		b, _ := os.ReadFile(filepath.Join(data, "out", "events", e.file))
		if strings.Contains(string(b), "8506258485") {
			t.Errorf("%s carries the applicant's ЕГН", e.Type)
		}
	}
	h.signal(syscall.SIGTERM)
	h.wait(30 * time.Second)
}

// TestDossierKilledBeforePublishing: the hub commits the dossier and is killed with SIGKILL
// before its events are published (its configuration has no route from the dossiers, so they
// stay in the outbox); the next hub publishes each of them exactly once.
func TestDossierKilledBeforePublishing(t *testing.T) {
	data := t.TempDir()
	h := startHub(t, dossierConfig(t, false), data, "", "")
	postDossierApplication(t, h)
	waitFor(t, "the dossier committed", 30*time.Second, func() bool { return dossiersIn(t, data) == 1 })
	h.signal(syscall.SIGKILL)
	h.wait(10 * time.Second)
	if evs := readEvents(t, data); len(evs) != 0 {
		t.Fatalf("%d events published before the restart", len(evs))
	}

	h = startHub(t, dossierConfig(t, true), data, "", "")
	var evs []dossierEvent
	waitFor(t, "the events published", 30*time.Second, func() bool { evs = readEvents(t, data); return len(evs) >= 4 })
	time.Sleep(500 * time.Millisecond) // ten more relay rounds: a second publication would show
	evs = readEvents(t, data)
	seqs := map[int]int{}
	for _, e := range evs {
		seqs[e.Seq]++
	}
	// Besides the four of opening, the watch may have raised the first stage's deadline alert.
	for seq, n := range seqs {
		if n != 1 {
			t.Errorf("event %d came out %d times", seq, n)
		}
	}
	if seqs[1] != 1 || seqs[2] != 1 || seqs[3] != 1 || seqs[4] != 1 || len(evs) > 5 {
		t.Errorf("events after the restart: %+v", evs)
	}
	h.signal(syscall.SIGTERM)
	h.wait(30 * time.Second)
}

// dossiersIn counts the dossiers in the hub's embedded file.
func dossiersIn(t *testing.T, data string) int {
	t.Helper()
	st, err := dsqlite.Open(filepath.Join(data, "aiskao.db"))
	if err != nil {
		return 0 // not created yet
	}
	defer st.Close()
	p, err := st.Dashboard(context.Background(), dstore.Query{})
	if err != nil {
		return 0
	}
	return len(p.Items)
}

// dossierPeerConfig is Община Пловдив with the dossier core: the ЕСОЕД documents it receives open
// dossiers, and the dossiers' status responses go back through ЕСОЕД.
func dossierPeerConfig(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	copyESOEDDemo(t, dir)
	services, err := filepath.Abs(filepath.Join("..", "..", "dossier", "service", "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`transport: { type: embedded }
store: { type: sqlite }
ops: { listen: "${AISKAO_OPS_ADDR}" }
connectors:
  esoed:
    type: esoed
    participants:
      - { identifier: "000471504", guid: "{805fd26b-4b64-4823-a7b5-d40315c4b783}", name: Община Пловдив }
    listen: ${AISKAO_PEER_ESOED_ADDR}
    cert: esoed/demo-plovdiv.crt
    key: esoed/demo-plovdiv.key
    ca: esoed/demo-ca.crt
    revocation: { mode: prefer }
    registry_file: ${AISKAO_ESOED_REGISTRY}
    retry_first: 1s
  dossiers:
    type: dossier
    services: %q
    administration: { eik: "000471504", name: Община Пловдив }
    esoed_services: { Заявление: "2128" }
    relay_interval: 50ms
routes:
  - name: esoed-dossiers
    from: esoed
    steps:
      - filter: { expr: "meta.type == 'esoed.DocumentRegistrationRequest'" }
      - xpath:
          namespaces: { m: "http://schemas.egov.bg/messaging/v1" }
          fields:
            esoed_doc_number: (/m:Message/m:Body//m:DocID/m:DocumentNumber/m:DocNumber)[1]
            esoed_doc_kind: /m:Message/m:Body//m:DocKind
      - xml_to_json: {}
      - set:
          json: '{"sender": meta.esoed_sender, "doc_number": meta.esoed_doc_number, "doc_kind": meta.esoed_doc_kind, "document": body}'
    to: dossiers
  - name: esoed-statuses
    from: dossiers
    steps:
      - filter: { expr: "meta.type == 'esoed.DocumentStatusResponse'" }
    to: esoed
    on_error: { retry: { max: 10, backoff: 1s } }
`, services)
	path := filepath.Join(dir, "peer.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestDossierFromESOEDAnswersStatus: the demo hub (Столична община) sends a registration request
// to a hub of Община Пловдив that runs the dossier core; the document opens a dossier there, whose
// number comes back as DS_REGISTERED (ЗР.7), and a status request about the document is answered
// with that status and number (ПС.5).
func TestDossierFromESOEDAnswersStatus(t *testing.T) {
	hubESOED, peerESOED := freeAddr(t), freeAddr(t)
	t.Setenv("AISKAO_ESOED_REGISTRY", demoRegistry(t, hubESOED, peerESOED))
	t.Setenv("AISKAO_ESOED_ADDR", hubESOED)
	t.Setenv("AISKAO_PEER_ESOED_ADDR", peerESOED)
	t.Setenv("AISKAO_ESOED_RETRY_BACKOFF", "1s")

	peer := startHub(t, dossierPeerConfig(t), t.TempDir(), "", "")
	h := startHub(t, filepath.Join("..", "..", "configs", "demo.yaml"), t.TempDir(), "", "")
	hubOps := "http://" + h.opsAddr

	request, _ := withGUID(readSample(t, "registration-request.xml"), 0xd055)
	if status := postOutgoing(t, h, request); status != http.StatusAccepted {
		t.Fatalf("post to /esoed/outgoing: status %d", status)
	}
	number := regexp.MustCompile(`^ОБА3-1/\d\d\.\d\d\.\d{4}$`)
	waitFor(t, "DS_REGISTERED at the hub", 30*time.Second, func() bool {
		for _, e := range entries(t, hubOps, "esoed.received") {
			if e.Result == "DS_REGISTERED" {
				return true
			}
		}
		return false
	})
	for _, e := range entries(t, hubOps, "esoed.received") {
		if e.Result == "DS_REGISTERED" && (!number.MatchString(e.Dossier) || e.Actor != "000471504") {
			t.Errorf("hub's esoed.received = %+v, want the dossier's number from 000471504", e)
		}
	}
	if status := postOutgoing(t, h, readSample(t, "status-request.xml")); status != http.StatusAccepted {
		t.Fatalf("post the status request: status %d", status)
	}
	waitFor(t, "the answer to the status request", 30*time.Second, func() bool {
		e := lastEntry(t, hubOps, "esoed.sent")
		return strings.HasPrefix(e.Subject, "MSG_DocumentStatusRequest") && e.Result != ""
	})
	if e := lastEntry(t, hubOps, "esoed.sent"); e.Result != "DS_REGISTERED" {
		t.Errorf("the status request was answered %+v, want DS_REGISTERED", e)
	}
	peer.signal(syscall.SIGTERM)
	peer.wait(30 * time.Second)
}

// TestDossierEventsSurviveSIGKILL: thirty applications are posted and the hub is killed with
// SIGKILL while their dossiers' events are being published; after the restart every event has
// come out of the route exactly once, none lost and none repeated (an event published again
// after the kill keeps its id, which the route has seen).
func TestDossierEventsSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("long: waits out the relay's lease")
	}
	const apps, perDossier = 30, 4
	data := t.TempDir()
	config := dossierConfig(t, true)
	h := startHub(t, config, data, "", "")
	for range apps {
		postDossierApplication(t, h)
	}
	waitFor(t, "the first events", 30*time.Second, func() bool { return len(readEvents(t, data)) >= 8 })
	h.signal(syscall.SIGKILL)
	h.wait(10 * time.Second)
	t.Logf("SIGKILL after %d events", len(readEvents(t, data)))

	h = startHub(t, config, data, "", "")
	// The events of opening each dossier (seq 1 to 4), and the deadline alerts the watch
	// raises besides (the first stage is due the next working day).
	opening := func(evs []dossierEvent) int {
		n := 0
		for _, e := range evs {
			if e.Seq <= perDossier {
				n++
			}
		}
		return n
	}
	// Messages claimed by the killed relay go out again when their lease (30s) ends.
	waitFor(t, "every dossier's opening events", 90*time.Second, func() bool { return opening(readEvents(t, data)) >= apps*perDossier })
	time.Sleep(time.Second)
	evs := readEvents(t, data)
	ids, events, dossiers := map[string]int{}, map[string]int{}, map[string]bool{}
	for _, e := range evs {
		// {{id}}-{{time}}: the id is a UUID, 36 characters (cutting at "-2", the year, cut
		// inside ids whose second group starts with 2).
		id := e.file
		if len(id) > 36 {
			id = id[:36]
		}
		ids[id]++
		events[fmt.Sprintf("%s#%d", e.Dossier, e.Seq)]++
		dossiers[e.Dossier] = true
	}
	for k, n := range events {
		if n != 1 {
			t.Errorf("event %s came out %d times", k, n)
		}
	}
	if n := opening(evs); n != apps*perDossier || len(dossiers) != apps || len(ids) != len(evs) {
		t.Errorf("%d opening events of %d dossiers, %d files of %d ids; want %d events of %d dossiers, one file per id",
			n, len(dossiers), len(evs), len(ids), apps*perDossier, apps)
	}
	t.Logf("%d events of %d dossiers, each once", len(evs), len(dossiers))
	h.signal(syscall.SIGTERM)
	h.wait(30 * time.Second)
}

// TestDossierTwoHubsOnePostgres: two hubs keep their dossiers in one PostgreSQL schema and take
// applications at the same time: the registration numbers are unique and consecutive, and each
// dossier's events come out of one hub or the other, once.
func TestDossierTwoHubsOnePostgres(t *testing.T) {
	var pg sqlServer
	for _, s := range sqlServers(t) {
		if s.driver == "postgres" {
			pg = s
		}
	}
	if pg.db == nil {
		t.Skip("PostgreSQL is not reachable")
	}
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	schema := "dossier_e2e_" + hex.EncodeToString(b)
	t.Cleanup(func() { _, _ = pg.db.Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE") })
	config := dossierConfigOn(t, true, fmt.Sprintf("    database: { postgres: { url: %q, schema: %s } }", pg.dsn, schema))
	dataA, dataB := t.TempDir(), t.TempDir()
	a := startHub(t, config, dataA, "", "")
	hb := startHub(t, config, dataB, "", "")
	const each, perDossier = 20, 4
	var wg sync.WaitGroup
	for _, h := range []*hubProc{a, hb} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				postDossierApplication(t, h)
			}
		}()
	}
	wg.Wait()
	opening := func() []dossierEvent {
		var out []dossierEvent
		for _, e := range append(readEvents(t, dataA), readEvents(t, dataB)...) {
			if e.Seq <= perDossier {
				out = append(out, e)
			}
		}
		return out
	}
	waitFor(t, "every dossier's opening events", 60*time.Second, func() bool { return len(opening()) >= 2*each*perDossier })
	time.Sleep(500 * time.Millisecond)
	evs := opening()
	seen, numbers := map[string]int{}, map[string]bool{}
	for _, e := range evs {
		seen[fmt.Sprintf("%s#%d", e.Dossier, e.Seq)]++
		numbers[e.Dossier] = true
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("event %s came out %d times", k, n)
		}
	}
	for i := 1; i <= 2*each; i++ {
		found := false
		for n := range numbers {
			found = found || strings.HasPrefix(n, fmt.Sprintf("ОБА3-%d/", i))
		}
		if !found {
			t.Errorf("no dossier numbered %d", i)
		}
	}
	if len(evs) != 2*each*perDossier || len(numbers) != 2*each {
		t.Errorf("%d opening events of %d dossiers; want %d of %d", len(evs), len(numbers), 2*each*perDossier, 2*each)
	}
	fromA, fromB := len(readEvents(t, dataA)), len(readEvents(t, dataB))
	t.Logf("%d dossiers numbered 1 to %d; events published by hub A: %d, by hub B: %d", len(numbers), 2*each, fromA, fromB)
}
