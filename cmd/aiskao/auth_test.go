package main

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aiskao/aiskao/admin/ops"
	"github.com/aiskao/aiskao/internal/testpki"
)

// opsTokens maps the address of a running hub's operations API ("http://127.0.0.1:N") to an
// operator's token in its store, which cli sends when its arguments name that address with -ops.
var opsTokens sync.Map

// tokenSeq makes token names unique: a hub started again on the same data has its old tokens.
var tokenSeq atomic.Int64

// createToken runs `aiskao tokens create` in dir (the package's folder when empty) on the store of
// config and data, with env, and returns a new token of role.
func createToken(tb testing.TB, dir, config, data string, env []string, role string) string {
	tb.Helper()
	return newToken(tb, dir, config, data, env, fmt.Sprintf("test-%s-%d", role, tokenSeq.Add(1)), role)
}

// newToken is createToken with the token's name.
func newToken(tb testing.TB, dir, config, data string, env []string, name, role string) string {
	tb.Helper()
	cmd := exec.Command(binary, "tokens", "create", name, "-role", role, "-config", config, "-data", data)
	cmd.Dir, cmd.Env = dir, env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		tb.Fatalf("aiskao tokens create %s -role %s: %v\n%s", name, role, err, stderr.String())
	}
	return strings.TrimSpace(stdout.String())
}

// withOpsToken adds AISKAO_TOKEN to env when args name with -ops a hub whose token is known.
func withOpsToken(env, args []string) []string {
	for i, a := range args {
		if a == "-ops" && i+1 < len(args) {
			if tok, ok := opsTokens.Load(args[i+1]); ok {
				return append(env, "AISKAO_TOKEN="+tok.(string))
			}
		}
	}
	return env
}

// problemOf reads a refusal: its status, WWW-Authenticate and problem-details body.
func problemOf(t *testing.T, resp *http.Response) (int, string, map[string]any) {
	t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var p map[string]any
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("%s %s: Content-Type %q, want application/problem+json; body %s", resp.Request.Method, resp.Request.URL, ct, b)
	} else if err := json.Unmarshal(b, &p); err != nil {
		t.Errorf("problem details are not JSON: %v\n%s", err, b)
	}
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate"), p
}

func do(t *testing.T, method, url, token, ctype string, body []byte) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestDemoRefusesAnonymousCalls runs the demo through the real binary: its ingress for ЕСОЕД
// messages to other administrations and its operations API refuse anonymous callers (401) and
// callers of the wrong role (403), accept tokens of the right role, and show an auditor a dead
// letter's ЕГН masked. Before, an anonymous POST to /esoed/outgoing was signed with the
// administration's key and sent (issue 17, finding 1), and the operations API answered anyone
// (finding 4).
func TestDemoRefusesAnonymousCalls(t *testing.T) {
	// Applications fail at once, without a register to ask: each becomes a dead letter holding
	// the applicant's ЕГН.
	t.Setenv("AISKAO_REGIX_URL", "http://"+freeAddr(t)+"/RegiX/RegiXEntryPointV2.svc")
	t.Setenv("AISKAO_APPLICATIONS_RETRY_MAX", "1")
	t.Setenv("AISKAO_APPLICATIONS_RETRY_BACKOFF", "10ms")
	config := filepath.Join("..", "..", "configs", "demo.yaml")
	data := t.TempDir()
	h := startHub(t, config, data, "", "")
	env := append(os.Environ(), "AISKAO_HTTP_ADDR="+h.httpAddr, "AISKAO_OPS_ADDR="+h.opsAddr)
	auditor := newToken(t, "", config, data, env, "audit", "auditor")
	// The list names every token and shows no secret.
	if out, code := cli(t, "tokens", "list", "-config", config, "-data", data); code != 0 ||
		!strings.Contains(out, "audit ") || !strings.Contains(out, "auditor") || strings.Contains(out, auditor) || strings.Contains(out, "aiskao_") {
		t.Errorf("tokens list (exit %d):\n%s", code, out)
	}
	outgoing := "http://" + h.httpAddr + "/esoed/outgoing"
	api := "http://" + h.opsAddr + "/api/v1"
	request := readSample(t, "registration-request.xml")

	// Finding 1: an anonymous POST to /esoed/outgoing is refused and nothing is sent.
	status, challenge, p := problemOf(t, do(t, "POST", outgoing, "", "application/xml", request))
	if status != http.StatusUnauthorized || !strings.HasPrefix(challenge, "Bearer ") || p["status"] != float64(401) || p["title"] != "Unauthorized" {
		t.Errorf("anonymous POST to /esoed/outgoing: %d, WWW-Authenticate %q, %v; want 401 with a Bearer challenge", status, challenge, p)
	}
	if status, _, _ := problemOf(t, do(t, "POST", outgoing, "aiskao_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "application/xml", request)); status != http.StatusUnauthorized {
		t.Errorf("POST to /esoed/outgoing with an unknown token: %d, want 401", status)
	}
	if status, _, p := problemOf(t, do(t, "POST", outgoing, h.opsToken, "application/xml", request)); status != http.StatusForbidden {
		t.Errorf("POST to /esoed/outgoing with an operator's token: %d %v, want 403", status, p)
	}
	resp := do(t, "POST", outgoing, h.sendToken, "application/xml", request)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("POST to /esoed/outgoing with an integrator's token: %d, want 202", resp.StatusCode)
	}

	// The demo's other ingress: an anonymous application made the hub query ГРАО and the
	// Търговски регистър about any ЕГН, and anyone could put ЕСОЕД documents into the inbox.
	// Both take integrators only.
	app, err := os.ReadFile(filepath.Join("..", "..", "testdata", "applications", "trade-permit.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		listener, path, ctype string
		body                  []byte
	}{
		{"applications-http", "/applications", "application/json", app},
		{"esoed-http", "/esoed/documents", "application/xml", request},
	} {
		url := "http://" + h.httpAddr + c.path
		status, challenge, p := problemOf(t, do(t, "POST", url, "", c.ctype, c.body))
		if status != http.StatusUnauthorized || !strings.HasPrefix(challenge, "Bearer ") || p["status"] != float64(401) || p["title"] != "Unauthorized" {
			t.Errorf("anonymous POST to %s: %d, WWW-Authenticate %q, %v; want 401 with a Bearer challenge", c.path, status, challenge, p)
		}
		if status, _, p := problemOf(t, do(t, "POST", url, auditor, c.ctype, c.body)); status != http.StatusForbidden {
			t.Errorf("POST to %s with an auditor's token: %d %v, want 403", c.path, status, p)
		}
		if v := metric(t, h.opsAddr, `aiskao_auth_refused_total{listener="`+c.listener+`",reason="missing"}`); v != "1" {
			t.Errorf("aiskao_auth_refused_total for the anonymous POST to %s = %q, want 1", c.path, v)
		}
	}
	// An integrator's document reaches the inbox, alone: the refused ones were never stored.
	resp = do(t, "POST", "http://"+h.httpAddr+"/esoed/documents", h.sendToken, "application/xml", request)
	var accepted struct{ ID string }
	err = json.NewDecoder(resp.Body).Decode(&accepted)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || err != nil || accepted.ID == "" {
		t.Fatalf("POST to /esoed/documents with an integrator's token: %d, id %q, %v; want 202 with an id", resp.StatusCode, accepted.ID, err)
	}
	inbox := filepath.Join(data, "out", "esoed-inbox")
	waitFor(t, "the integrator's document in the inbox", 10*time.Second, func() bool {
		_, err := os.Stat(filepath.Join(inbox, accepted.ID+".json"))
		return err == nil
	})
	if files, _ := filepath.Glob(filepath.Join(inbox, "*.json")); len(files) != 1 {
		t.Errorf("the inbox holds %d documents, want only the integrator's: %v", len(files), files)
	}

	// Finding 4: the operations API refuses anonymous callers and wrong roles.
	for _, c := range []struct{ method, path, token string }{
		{"GET", "/dead-letters", ""}, {"GET", "/journal", ""}, {"GET", "/openapi.yaml", ""},
		{"POST", "/dead-letters/x/replay", ""}, {"DELETE", "/dead-letters/x", ""},
		{"GET", "/dead-letters", h.sendToken}, {"POST", "/dead-letters/x/replay", auditor}, {"DELETE", "/dead-letters/x", auditor},
	} {
		want := http.StatusUnauthorized
		if c.token != "" {
			want = http.StatusForbidden
		}
		if status, _, _ := problemOf(t, do(t, c.method, api+c.path, c.token, "", nil)); status != want {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, status, want)
		}
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		resp := do(t, "GET", "http://"+h.opsAddr+path, "", "", nil)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s without a token: %d, want 200 (probes and metrics stay open)", path, resp.StatusCode)
		}
	}
	if v := metric(t, h.opsAddr, `aiskao_auth_refused_total{listener="esoed-outgoing-http",reason="missing"}`); v != "1" {
		t.Errorf("aiskao_auth_refused_total for the anonymous POST = %q, want 1", v)
	}
	if v := metric(t, h.opsAddr, `aiskao_auth_refused_total{listener="ops",reason="forbidden"}`); v != "3" {
		t.Errorf("aiskao_auth_refused_total of the ops API's 403s = %q, want 3", v)
	}

	// An application becomes a dead letter; the auditor sees its ЕГН masked, the operator not.
	var egn struct {
		Application struct {
			Applicant struct{ EGN string } `json:"applicant"`
		} `json:"application"`
	}
	if err := json.Unmarshal(app, &egn); err != nil || len(egn.Application.Applicant.EGN) != 10 {
		t.Fatalf("sample application: ЕГН %q, %v", egn.Application.Applicant.EGN, err)
	}
	full := egn.Application.Applicant.EGN
	masked := "******" + full[6:]
	resp = do(t, "POST", "http://"+h.httpAddr+"/applications", h.sendToken, "application/json", app)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /applications: %d", resp.StatusCode)
	}
	c := &ops.Client{BaseURL: "http://" + h.opsAddr, Token: auditor}
	var id string
	waitFor(t, "the application's dead letter", 20*time.Second, func() bool {
		dls, err := c.List(t.Context(), "applications", 1)
		if err != nil {
			t.Fatalf("list as auditor: %v", err)
		}
		if len(dls) == 1 {
			id = dls[0].ID
		}
		return id != ""
	})
	d, err := c.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(d.Payload, []byte(full)) || !bytes.Contains(d.Payload, []byte(masked)) {
		t.Errorf("auditor sees the payload:\n%s\nwant %s masked as %s", d.Payload, full, masked)
	}
	out, code := cli(t, "dead-letters", "-ops", "http://"+h.opsAddr, "show", id)
	if code != 0 || !strings.Contains(out, full) {
		t.Errorf("operator's dead-letters show (exit %d) lacks the ЕГН in full:\n%s", code, out)
	}
	// Without a token the CLI is refused and says so.
	cmd := exec.Command(binary, "dead-letters", "-ops", "http://"+h.opsAddr, "list")
	cmd.Env = append(os.Environ(), "AISKAO_TOKEN=")
	b, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(b), "401") {
		t.Errorf("dead-letters list without a token: %v\n%s", err, b)
	}

	// The operator deletes it; the journal names who did.
	if out, code := cli(t, "dead-letters", "-ops", "http://"+h.opsAddr, "delete", id); code != 0 {
		t.Fatalf("delete: exit %d\n%s", code, out)
	}
	es := entries(t, "http://"+h.opsAddr, "deadletter.deleted")
	if len(es) != 1 || !strings.HasPrefix(es[0].Actor, "token:test-operator-") || es[0].Subject != "dead letter "+id {
		t.Errorf("journal of the deletion: %+v", es)
	}

	// A revoked token is refused at once, by the running hub.
	if out, code := cli(t, "tokens", "-config", config, "-data", data, "revoke", "audit"); code != 0 {
		t.Fatalf("tokens revoke: exit %d\n%s", code, out)
	}
	if status, _, p := problemOf(t, do(t, "GET", api+"/journal", auditor, "", nil)); status != http.StatusUnauthorized || p["detail"] != "the API token has been revoked" {
		t.Errorf("GET /journal with a revoked token: %d %v, want 401", status, p)
	}
}

// The operations API over HTTPS, through the real binary: a client certificate that ops.tls.clients
// names reads as its role, an anonymous caller is refused, and the CLI reaches it with -ops-ca and
// a token. Without tls, serve refuses to listen beyond loopback.
func TestOpsOverTLS(t *testing.T) {
	dir, data := t.TempDir(), t.TempDir()
	serverCA, clientCA := testpki.New(t, "ops CA"), testpki.New(t, "clients CA")
	testpki.WritePair(t, serverCA.Issue(t, testpki.Leaf{Subject: pkix.Name{CommonName: "ops"}, Usage: x509.ExtKeyUsageServerAuth,
		IPs: []net.IP{net.ParseIP("127.0.0.1")}}), dir, "ops")
	caFile := serverCA.WriteCA(t, dir, "ops-ca.pem")
	clientCA.WriteCA(t, dir, "clients-ca.pem")
	monitor := clientCA.Issue(t, testpki.Leaf{Subject: pkix.Name{CommonName: "monitoring"}, Usage: x509.ExtKeyUsageClientAuth})
	addr := freeAddr(t)
	config := filepath.Join(dir, "hub.yaml")
	body := `ops:
  listen: ` + addr + `
  tls: { cert: ops.pem, key: ops.key, client_ca: clients-ca.pem, clients: { "CN=monitoring": auditor } }
connectors:
  in: { type: file, dir: in }
  out: { type: file, dir: out }
routes:
  - { name: r, from: in, to: out }
`
	if err := os.WriteFile(config, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	operator := createToken(t, "", config, data, os.Environ(), "operator")
	log := &lockedBuffer{}
	cmd := exec.Command(binary, "serve", "-config", config, "-data", data)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("hub log:\n%s", log.String())
		}
	})
	client := serverCA.Client
	waitFor(t, "the hub ready over HTTPS", 30*time.Second, func() bool {
		resp, err := client(nil).Get("https://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	get := func(c *http.Client) int {
		resp, err := c.Get("https://" + addr + "/api/v1/journal")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := get(client(nil)); s != http.StatusUnauthorized {
		t.Errorf("anonymous over HTTPS: %d, want 401", s)
	}
	if s := get(client(&monitor)); s != http.StatusOK {
		t.Errorf("the monitoring certificate: %d, want 200", s)
	}
	if out, code := cli(t, "journal", "-ops", "https://"+addr, "-ops-ca", caFile, "-token", operator); code != 0 {
		t.Errorf("aiskao journal over HTTPS: exit %d\n%s", code, out)
	}
	if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("plain HTTP to the HTTPS listener: %d, want 400 from the TLS server", resp.StatusCode)
		}
	}

	// Without tls, not beyond loopback.
	open := filepath.Join(dir, "open.yaml")
	if err := os.WriteFile(open, []byte(strings.Replace(strings.Replace(body, addr, "0.0.0.0:"+strings.Split(freeAddr(t), ":")[1], 1),
		"  tls: { cert: ops.pem, key: ops.key, client_ca: clients-ca.pem, clients: { \"CN=monitoring\": auditor } }\n", "", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	out, code := cli(t, "serve", "-config", open, "-data", t.TempDir())
	if code == 0 || !strings.Contains(out, "is not a loopback address and ops.tls has no cert") {
		t.Errorf("serve with ops on 0.0.0.0 without tls: exit %d\n%s", code, out)
	}
}

// aiskao tokens says what is wrong: an unknown role, a name in use, a token that is not there.
func TestTokensCLI(t *testing.T) {
	config, data := filepath.Join("..", "..", "configs", "demo.yaml"), t.TempDir()
	run := func(args ...string) (string, int) {
		return cli(t, append([]string{"tokens", "-config", config, "-data", data}, args...)...)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"create", "ci", "-role", "admin"}, 1, `role "admin" is not one of auditor, integrator, operator`},
		{[]string{"create", "c i", "-role", "auditor"}, 1, "only letters, digits and . - _ @ are allowed"},
		{[]string{"create", "ci", "-role", "integrator"}, 0, "aiskao_"},
		{[]string{"create", "ci", "-role", "auditor"}, 1, "an active token named ci exists"},
		{[]string{"revoke", "nobody"}, 1, "no active token named nobody"},
		{[]string{"revoke", "ci", "-role", "auditor"}, 1, "-role is only for create"},
		{[]string{"revoke", "ci"}, 0, "revoked token ci"},
		{[]string{"list"}, 0, "ci    integrator"},
		{[]string{"rotate"}, 2, "Usage: aiskao tokens"},
	} {
		out, code := run(c.args...)
		if code != c.code || !strings.Contains(out, c.want) {
			t.Errorf("tokens %v: exit %d\n%s\nwant exit %d and %q", c.args, code, out, c.code, c.want)
		}
	}
}
