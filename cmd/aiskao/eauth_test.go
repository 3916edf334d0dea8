package main

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/eauth"
	"github.com/aiskao/aiskao/eauth/eauthsim"
)

var (
	eauthFormAction = regexp.MustCompile(`<form method="post" action="([^"]+)"[^>]*>`)
	eauthHidden     = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// eauthForm reads a page's form as a browser without script sees it: where it posts (resolved
// against base) and its hidden fields.
func eauthForm(t *testing.T, base *url.URL, page []byte) (string, url.Values) {
	t.Helper()
	m := eauthFormAction.FindSubmatch(page)
	if m == nil {
		t.Fatalf("no form in:\n%s", page)
	}
	action, err := base.Parse(html.UnescapeString(string(m[1])))
	if err != nil {
		t.Fatal(err)
	}
	v := url.Values{}
	for _, f := range eauthHidden.FindAllSubmatch(page, -1) {
		v.Set(string(f[1]), html.UnescapeString(string(f[2])))
	}
	return action.String(), v
}

// eauthPost posts v to target and returns the final address, the status and the page.
func eauthPost(t *testing.T, target string, v url.Values) (*url.URL, int, []byte) {
	t.Helper()
	resp, err := http.PostForm(target, v)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.Request.URL, resp.StatusCode, b
}

// eauthSimProcess is a running `aiskao eauth sim`.
type eauthSimProcess struct {
	cmd         *exec.Cmd
	out         *bufio.Reader
	sso, entity string
	certPath    string
	pair        tls.Certificate // its certificate and key, read from -dir
}

// startEauthSim starts `aiskao eauth sim` with a new key written into a temporary folder.
func startEauthSim(t *testing.T, extra ...string) *eauthSimProcess {
	t.Helper()
	return startEauthSimIn(t, t.TempDir(), extra...)
}

// startEauthSimIn starts `aiskao eauth sim -dir dir`.
func startEauthSimIn(t *testing.T, dir string, extra ...string) *eauthSimProcess {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"eauth", "sim", "-listen", "127.0.0.1:0", "-dir", dir}, extra...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	p := &eauthSimProcess{cmd: cmd, out: bufio.NewReader(stdout)}
	lines := map[string]string{}
	for range 5 {
		line, err := p.out.ReadString('\n')
		if err != nil {
			t.Fatalf("simulator output: %v", err)
		}
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ": "); ok {
			lines[k] = v
		}
	}
	p.sso, p.entity, p.certPath = lines["SSO (HTTP-POST)"], lines["entity id"], lines["certificate"]
	if p.sso == "" || p.entity == "" || p.certPath != filepath.Join(dir, "eauth-sim.crt") {
		t.Fatalf("simulator output %q", lines)
	}
	// The service provider trusts the certificate the simulator wrote; the test also loads its
	// key, to sign the wrong responses the simulator's pages never make.
	if p.pair, err = tls.LoadX509KeyPair(p.certPath, filepath.Join(dir, "eauth-sim.key")); err != nil {
		t.Fatal(err)
	}
	return p
}

// eauthServiceProvider is a service provider of package eauth trusting the simulator p, served
// by an httptest server at /login and /acs; *signedIn is set by a sign-in.
func eauthServiceProvider(t *testing.T, p *eauthSimProcess, signedIn **eauth.Person) *httptest.Server {
	t.Helper()
	spKey, spCert, err := eauthsim.NewKey("sp")
	if err != nil {
		t.Fatal(err)
	}
	var h eauth.Handlers
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/login":
			h.Login(w, r)
		case "/acs":
			h.ACS(w, r)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	sp, err := eauth.New(eauth.Config{EntityID: srv.URL + "/metadata", ACSURL: srv.URL + "/acs", IdPSSOURL: p.sso, IdPEntityID: p.entity,
		IdPCertificate: p.pair.Leaf, Key: spKey, Certificate: spCert, Service: "2.16.100.1.1.1.1.13.1.1.1", Provider: "2.16.100.1.1.1.1.13",
		Level: eauth.LevelSubstantial})
	if err != nil {
		t.Fatal(err)
	}
	h = eauth.Handlers{SP: sp, Done: func(w http.ResponseWriter, r *http.Request, p *eauth.Person) {
		*signedIn = p
		w.Write([]byte("Здравейте, " + p.Name))
	}}
	return srv
}

// TestEauthSimEndToEnd starts `aiskao eauth sim`, runs a service provider of package eauth in the
// test, and signs in by following the forms as a browser without script would; then the refusals.
func TestEauthSimEndToEnd(t *testing.T) {
	proc := startEauthSim(t)
	sso, entity, certPath, pair, out, cmd := proc.sso, proc.entity, proc.certPath, proc.pair, proc.out, proc.cmd
	var signedIn *eauth.Person
	srv := eauthServiceProvider(t, proc, &signedIn)

	// start goes to the login page and on to the simulator's page of persons.
	start := func() (string, url.Values) {
		resp, err := http.Get(srv.URL + "/login")
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		target, v := eauthForm(t, resp.Request.URL, page)
		if target != sso || v.Get("SAMLRequest") == "" {
			t.Fatalf("login form posts to %s, want %s", target, sso)
		}
		at, code, page := eauthPost(t, target, v)
		if code != 200 || !bytes.Contains(page, []byte("Иван Петров Тестов")) || bytes.Contains(page, []byte("<script")) {
			t.Fatalf("persons page %d:\n%s", code, page)
		}
		return eauthForm(t, at, page)
	}
	// choose picks a person (or cancels) and returns the form that goes back to the service.
	choose := func(person, action string) (string, url.Values) {
		target, v := start()
		v.Set("person", person)
		v.Set("action", action)
		at, code, page := eauthPost(t, target, v)
		if code != 200 {
			t.Fatalf("choosing: %d\n%s", code, page)
		}
		back, v := eauthForm(t, at, page)
		if back != srv.URL+"/acs" {
			t.Fatalf("response posted to %s", back)
		}
		return back, v
	}
	refused := func(name string, v url.Values, want eauth.Code) {
		t.Helper()
		_, code, page := eauthPost(t, srv.URL+"/acs", v)
		if code != http.StatusForbidden || !strings.Contains(string(page), want.Message("bg")) || !strings.Contains(string(page), want.Message("en")) {
			t.Errorf("%s: %d %q, want 403 with %q", name, code, page, want.Message("en"))
		}
	}

	acs, v := choose("2", "signin")
	_, code, page := eauthPost(t, acs, v)
	if code != 200 || signedIn == nil || signedIn.EGN != "9007040212" || signedIn.Level != eauth.LevelSubstantial ||
		signedIn.LatinName != "Desislava Nikolova Probna" || string(page) != "Здравейте, Десислава Николова Пробна" {
		t.Fatalf("sign-in: %d %q, person %+v", code, page, signedIn)
	}
	refused("replayed", v, eauth.CodeReplay)

	_, v = choose("0", "signin")
	raw, _ := base64.StdEncoding.DecodeString(v.Get("SAMLResponse"))
	v.Set("SAMLResponse", base64.StdEncoding.EncodeToString(bytes.Replace(raw, []byte("PNOBG-8001010100"), []byte("PNOBG-8511300152"), 1)))
	refused("forged", v, eauth.CodeSignature)

	_, v = choose("0", "cancel")
	refused("cancelled", v, eauth.CodeStatus)

	// Wrong responses to real requests, signed in the test with the simulator's key or another.
	otherKey, otherCert, err := eauthsim.NewKey("intruder")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		faults eauthsim.Faults
		want   eauth.Code
	}{
		{"signed by another key", eauthsim.Faults{Key: otherKey, Cert: otherCert}, eauth.CodeSignature},
		{"past its validity", eauthsim.Faults{Expired: true}, eauth.CodeExpired},
		{"for another audience", eauthsim.Faults{Audience: "https://another.example/metadata"}, eauth.CodeAudience},
		{"unsigned", eauthsim.Faults{Unsigned: true}, eauth.CodeUnsigned},
	} {
		_, v := start()
		req, err := eauthsim.ParseRequest(v.Get("SAMLRequest"))
		if err != nil {
			t.Fatal(err)
		}
		sim, err := eauthsim.New(eauthsim.Config{EntityID: entity, Key: pair.PrivateKey.(crypto.Signer), Certificate: pair.Leaf})
		if err != nil {
			t.Fatal(err)
		}
		xml, err := sim.Response(req, sim.Persons()[0], tt.faults)
		if err != nil {
			t.Fatal(err)
		}
		refused(tt.name, url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString(xml)}}, tt.want)
	}

	// The metadata names the certificate the simulator printed.
	resp, err := http.Get(strings.TrimSuffix(sso, eauthsim.PathSSO) + eauthsim.PathMetadata)
	if err != nil {
		t.Fatal(err)
	}
	md, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	pemCert, _ := os.ReadFile(certPath)
	blk, _ := pem.Decode(pemCert)
	if c, err := x509.ParseCertificate(blk.Bytes); err != nil || !bytes.Contains(md, []byte(base64.StdEncoding.EncodeToString(c.Raw))) {
		t.Errorf("metadata lacks the printed certificate: %v\n%s", err, md)
	}

	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if rest, _ := io.ReadAll(out); !strings.Contains(string(rest), "stopped") {
		t.Errorf("after SIGINT: %q", rest)
	}
}

func TestEauthSimUsage(t *testing.T) {
	if out, code := cli(t, "eauth", "sim", "-h"); code != 0 || !strings.Contains(out, "-persons") || !strings.Contains(out, eauthSimAddr) {
		t.Errorf("eauth sim -h: exit %d:\n%s", code, out)
	}
	if out, code := cli(t, "eauth", "sim", "-key", "k.pem"); code != 2 {
		t.Errorf("-key without -cert: exit %d:\n%s", code, out)
	}
	persons := filepath.Join(t.TempDir(), "p.yaml")
	os.WriteFile(persons, []byte("persons:\n  - egn: \"8001010101\"\n    name: X\n"), 0o644)
	if out, code := cli(t, "eauth", "sim", "-persons", persons, "-listen", "127.0.0.1:0"); code == 0 || !strings.Contains(out, "ЕГН") {
		t.Errorf("a persons file with a bad ЕГН: exit %d:\n%s", code, out)
	}
}

// TestEauthSimEncrypted: with -encrypt the simulator encrypts the assertion to the certificate in
// the request's signature, and the service provider decrypts it.
func TestEauthSimEncrypted(t *testing.T) {
	proc := startEauthSim(t, "-encrypt")
	var signedIn *eauth.Person
	srv := eauthServiceProvider(t, proc, &signedIn)
	resp, err := http.Get(srv.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	target, v := eauthForm(t, resp.Request.URL, page)
	at, _, page := eauthPost(t, target, v)
	target, v = eauthForm(t, at, page)
	v.Set("person", "1")
	v.Set("action", "signin")
	at, _, page = eauthPost(t, target, v)
	acs, v := eauthForm(t, at, page)
	raw, _ := base64.StdEncoding.DecodeString(v.Get("SAMLResponse"))
	if !bytes.Contains(raw, []byte("EncryptedAssertion")) || bytes.Contains(raw, []byte("8511300152")) {
		t.Fatalf("response not encrypted:\n%s", raw)
	}
	if _, code, page := eauthPost(t, acs, v); code != 200 || signedIn == nil || signedIn.EGN != "8511300152" {
		t.Fatalf("sign-in: %d %q, person %+v", code, page, signedIn)
	}
}
