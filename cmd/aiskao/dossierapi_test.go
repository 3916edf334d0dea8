package main

// The dossier core's JSON API served by the dossier connector of the real binary: the catalogue
// is open, everything else needs a token of a role that may, an application posted with one
// opens a dossier whose first task shows in the task list.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The API is served whether the connector is a route's source and sink (events) or a sink only.
func TestDossierAPIThroughBinary(t *testing.T) {
	for _, events := range []bool{true, false} {
		t.Run(fmt.Sprintf("source=%v", events), func(t *testing.T) { dossierAPIThroughBinary(t, events) })
	}
}

func dossierAPIThroughBinary(t *testing.T, events bool) {
	apiAddr := freeAddr(t)
	t.Setenv("AISKAO_DOSSIER_API_ADDR", apiAddr)
	data := t.TempDir()
	api := `    api: { listen: "${AISKAO_DOSSIER_API_ADDR}", auth: { type: api_key } }`
	h := startHub(t, dossierConfigOn(t, events, api), data, "", "")
	base := "http://" + apiAddr + "/api/v1"
	call := func(method, path, token, body string, want int) map[string]any {
		t.Helper()
		var b []byte
		if body != "" {
			b = []byte(body)
		}
		resp := do(t, method, base+path, token, "application/json", b)
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, raw)
		}
		var out map[string]any
		_ = json.Unmarshal(raw, &out)
		return out
	}

	call("GET", "/services/2016", "", "", http.StatusOK)
	call("GET", "/tasks", "", "", http.StatusUnauthorized)
	app := strings.TrimSuffix(strings.TrimPrefix(dossierApplication, `{"application": `), "}")
	call("POST", "/applications", "", app, http.StatusUnauthorized)
	call("POST", "/applications", "wrong-token", app, http.StatusUnauthorized)

	reg := call("POST", "/applications", h.sendToken, app, http.StatusCreated)
	number, _ := reg["number"].(string)
	if !strings.HasPrefix(number, "ОБА3-1/") || reg["access_code"] == "" {
		t.Fatalf("registered: %v", reg)
	}
	// The integrator may not read the task lists' personal data; the operator sees the task.
	page := call("GET", "/tasks?assignee=position:front-office-clerk", h.opsToken, "", http.StatusOK)
	items, _ := page["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["number"] != number {
		t.Fatalf("task list: %v", page)
	}
	d := call("GET", "/dossiers/"+url.PathEscape(number), h.opsToken, "", http.StatusOK)
	if d["number"] != number {
		t.Errorf("dossier: %v", d)
	}
	h.signal(syscall.SIGTERM)
	h.wait(30 * time.Second)
}
