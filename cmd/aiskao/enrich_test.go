package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aiskao/aiskao/connectors/regix/regixsim"
	"github.com/aiskao/aiskao/store"
)

// startSim runs `aiskao regix sim` on a free port and returns its address.
func startSim(t *testing.T) string {
	t.Helper()
	addr := freeAddr(t)
	var log lockedBuffer
	cmd := exec.Command(binary, "regix", "sim", "-listen", addr)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("simulator log:\n%s", log.String())
		}
	})
	waitFor(t, "the simulator", 10*time.Second, func() bool {
		resp, err := http.Get("http://" + addr + regixsim.SimControlPath)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return addr
}

func setSimMode(t *testing.T, addr string, mode regixsim.Mode) {
	t.Helper()
	resp, err := http.Post("http://"+addr+regixsim.SimControlPath+"?mode="+string(mode), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("setting the simulator's mode: %s", resp.Status)
	}
}

// postApplication posts an application to the demo's applications endpoint, with the hub's
// integrator token, and returns its message id.
func postApplication(t *testing.T, h *hubProc, body []byte) string {
	t.Helper()
	resp := do(t, http.MethodPost, "http://"+h.httpAddr+"/applications", h.sendToken, "application/json", body)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var r struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(raw, &r)
	if resp.StatusCode != http.StatusAccepted || r.ID == "" {
		t.Fatalf("post: %s %s", resp.Status, raw)
	}
	return r.ID
}

// TestDemoEnrichesApplicationsFromTheRegisters runs the demo's applications route against the
// register simulator: an application comes out with the applicant's names from ГРАО and the
// company's name from the Търговски регистър; when the registers answer with an error, the
// application is retried and becomes a dead letter carrying the register's error text. Every call
// is in the journal, the ЕГН masked.
func TestDemoEnrichesApplicationsFromTheRegisters(t *testing.T) {
	sim := startSim(t)
	t.Setenv("AISKAO_REGIX_URL", "http://"+sim+"/RegiX/RegiXEntryPointV2.svc")
	t.Setenv("AISKAO_APPLICATIONS_RETRY_MAX", "2")
	t.Setenv("AISKAO_APPLICATIONS_RETRY_BACKOFF", "100ms")
	data := t.TempDir()
	h := startHub(t, filepath.Join("..", "..", "configs", "demo.yaml"), data, "", "")
	ops := "http://" + h.opsAddr
	sample, err := os.ReadFile(filepath.Join("..", "..", "testdata", "applications", "trade-permit.json"))
	if err != nil {
		t.Fatal(err)
	}

	checkEnrichedApplication(t, h, data, sample)

	// The registers fail: retried, then a dead letter with the register's error text.
	setSimMode(t, sim, regixsim.ModeHasError)
	failing := bytes.Replace(sample, []byte(`"94-00-17"`), []byte(`"94-00-18"`), 1)
	failedID := postApplication(t, h, failing)
	var dls []store.DeadLetter
	waitFor(t, "a dead letter of the applications route", 30*time.Second, func() bool {
		listed, code := cli(t, "dead-letters", "-ops", ops, "-json", "list", "-route", "applications")
		if code != 0 {
			return false
		}
		dls = nil
		return json.Unmarshal([]byte(listed), &dls) == nil && len(dls) > 0
	})
	d := dls[0]
	if d.MessageID != failedID || d.Step != "steps[3].enrich" || d.Attempts != 3 {
		t.Errorf("dead letter: message %s, step %s, attempts %d; want %s, steps[3].enrich, 3", d.MessageID, d.Step, d.Attempts, failedID)
	}
	if !strings.Contains(d.Error, regixsim.SimErrorText) || !strings.Contains(d.Error, "PersonDataSearch") {
		t.Errorf("dead letter's error lacks the register's text %q:\n%s", regixsim.SimErrorText, d.Error)
	}
	if _, err := os.Stat(filepath.Join(data, "out", "applications", failedID+".json")); err == nil {
		t.Error("the failed application was written out")
	}

	// The journal: the first application's two calls and the second's three failed ones.
	listed, code := cli(t, "journal", "-ops", ops, "-kind", "regix.call", "-json")
	if code != 0 {
		t.Fatalf("aiskao journal: exit %d\n%s", code, listed)
	}
	var entries []store.JournalEntry
	if err := json.Unmarshal([]byte(listed), &entries); err != nil {
		t.Fatalf("journal is not JSON: %v\n%s", err, listed)
	}
	count := map[string]int{}
	for _, e := range entries {
		count[e.Dossier+" "+e.Subject+" "+e.Result]++
		if e.LegalBasis != "чл. 13, ал. 1 от Наредбата за административното обслужване" || e.Actor != "aiskao-hub" || e.Route != "applications" {
			t.Errorf("journal entry %+v", e)
		}
		if strings.Contains(e.Detail["parameters"]+e.Detail["error"], "8506258485") {
			t.Errorf("journal entry holds the ЕГН in the clear: %v", e.Detail)
		}
	}
	want := map[string]int{
		"94-00-17 grao-nbd/PersonDataSearch ok":             1,
		"94-00-17 av-tr/GetActualState ok":                  1,
		"94-00-18 grao-nbd/PersonDataSearch register_error": 3,
	}
	for k, n := range want {
		if count[k] != n {
			t.Errorf("journal: %d entries %q, want %d (all: %v)", count[k], k, n, count)
		}
	}
	if strings.Contains(h.log.String(), "8506258485") {
		t.Error("the hub's log holds the ЕГН in the clear")
	}
}

// checkEnrichedApplication posts the sample application to the demo's applications route and
// checks what the route writes out: the applicant's names from ГРАО, the company from the
// Търговски регистър, and the application's own data.
func checkEnrichedApplication(t *testing.T, h *hubProc, data string, sample []byte) {
	t.Helper()
	id := postApplication(t, h, sample)
	out := filepath.Join(data, "out", "applications", id+".json")
	raw := waitFile(t, out, out, 15*time.Second)
	var got struct {
		Application struct {
			Number    string `json:"number"`
			Registers struct {
				GRAO struct {
					PersonNames struct{ FirstName, SurName, FamilyName string }
				} `json:"grao"`
				CommercialRegister struct {
					Company string
					UIC     string
				} `json:"commercial_register"`
			} `json:"registers"`
		} `json:"application"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, raw)
	}
	a := got.Application
	if n := a.Registers.GRAO.PersonNames; n.FirstName != "Ивелина" || n.SurName != "Георгиева" || n.FamilyName != "Димитрова" {
		t.Errorf("names from ГРАО = %+v\n%s", n, raw)
	}
	if c := a.Registers.CommercialRegister; c.Company != "ТехноЛогика" || c.UIC != "201593301" {
		t.Errorf("company from the Търговски регистър = %+v\n%s", c, raw)
	}
	if a.Number != "94-00-17" {
		t.Errorf("the application's own data is lost: number %q", a.Number)
	}
}
