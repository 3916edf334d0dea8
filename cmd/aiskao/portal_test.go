package main

import (
	"bytes"
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/aiskao/aiskao/eauth"
	"github.com/aiskao/aiskao/eauth/eauthsim"
	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/account"
	"github.com/aiskao/aiskao/internal/browsertest"
	"github.com/aiskao/aiskao/store"
	"github.com/aiskao/aiskao/store/sqlite"
)

// portalHub starts the demo with its portal on a free port, trusting the simulator sim, and
// returns the portal's address and the hub.
func portalHub(t *testing.T, sim *eauthSimProcess) (string, *hubProc, string) {
	t.Helper()
	portal := freeAddr(t)
	t.Setenv("AISKAO_PORTAL_ADDR", portal)
	t.Setenv("AISKAO_EAUTH_SSO_URL", sim.sso)
	t.Setenv("AISKAO_EAUTH_ENTITY_ID", sim.entity)
	t.Setenv("AISKAO_EAUTH_IDP_CERT", sim.certPath)
	data := t.TempDir()
	h := startHub(t, filepath.Join("..", "..", "configs", "demo.yaml"), data, "", "")
	waitPortal(t, portal)
	return "http://" + portal, h, data
}

// waitPortal waits until the portal at addr answers: serve opens it after the operations API
// says it is ready.
func waitPortal(t *testing.T, addr string) {
	t.Helper()
	waitFor(t, "the portal", 20*time.Second, func() bool {
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
}

// TestPortalStartsWithoutTheIdP: the demo's portal starts before the simulator has written its
// certificate, serves its pages, and refuses sign-in with a page saying so, and the log says why.
func TestPortalStartsWithoutTheIdP(t *testing.T) {
	portal := freeAddr(t)
	t.Setenv("AISKAO_PORTAL_ADDR", portal)
	t.Setenv("AISKAO_EAUTH_IDP_CERT", filepath.Join(t.TempDir(), "not-yet.crt"))
	h := startHub(t, filepath.Join("..", "..", "configs", "demo.yaml"), t.TempDir(), "", "")
	waitPortal(t, portal)
	resp, err := http.Get("http://" + portal + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "удостоверение за семейно положение") {
		t.Errorf("start page: %d\n%s", resp.StatusCode, page)
	}
	req, _ := http.NewRequest("POST", "http://"+portal+"/signin/eauth", strings.NewReader(""))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || !strings.Contains(string(page), "временно не е достъпен") {
		t.Errorf("sign-in without the certificate: %d\n%s", resp.StatusCode, page)
	}
	if log := h.log.String(); !strings.Contains(log, "not-yet.crt") {
		t.Errorf("the log does not say why sign-in is refused:\n%s", log)
	}
}

// TestEauthSimKeepsItsKey: started again on the same -dir, the simulator signs with the same key,
// so that a portal trusting its certificate keeps working.
func TestEauthSimKeepsItsKey(t *testing.T) {
	dir := t.TempDir()
	first := startEauthSimIn(t, dir)
	cert1, _ := os.ReadFile(first.certPath)
	first.cmd.Process.Kill()
	first.cmd.Wait()
	second := startEauthSimIn(t, dir)
	cert2, _ := os.ReadFile(second.certPath)
	if len(cert1) == 0 || !bytes.Equal(cert1, cert2) || !second.pair.Leaf.Equal(first.pair.Leaf) {
		t.Fatal("the simulator made a new key on its second start")
	}
}

// browserDo runs actions in the tab and fails t on an error.
func browserDo(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func evalIn(t *testing.T, ctx context.Context, js string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return s
}

// navigate loads url and checks the answer's policy header and that the page keeps to it.
func navigate(t *testing.T, ctx context.Context, url string, action ...chromedp.Action[chromedp.Void]) int64 {
	t.Helper()
	if len(action) == 0 {
		action = []chromedp.Action[chromedp.Void]{chromedp.Navigate(url)}
	}
	resp, err := chromedp.RunResponse(ctx, action...)
	if err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	if csp, _ := resp.Headers["Content-Security-Policy"].(string); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("%s: Content-Security-Policy %q", resp.URL, csp)
	}
	browsertest.CSPClean(t, ctx)
	return resp.Status
}

// blockScript blocks (or lets again) the shell's script that sends the sign-in form on, to see
// the page as a browser without script does.
func blockScript(t *testing.T, ctx context.Context, base string, block bool) {
	t.Helper()
	var patterns []*network.BlockPattern
	if block {
		patterns = []*network.BlockPattern{{URLPattern: base + "/assets/autosubmit.*", Block: true}}
	}
	browserDo(t, ctx, "block the script", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, network.SetBlockedURLs, network.SetBlockedURLsParams{URLPatterns: patterns})
		return err
	}))
}

// TestPortalInBrowser is the citizens' sign-in through the real binary, `aiskao eauth sim` and
// Chromium: every page of the portal and of the sign-in in both languages checked by axe-core,
// walked with the keyboard and shot; a citizen signs in over real signed SAML and sees their
// name; five wrong responses (four made by the simulator's page, a replay) are each refused with
// their reason; a person whose roles lack a
// page's permission gets 403; sign-out ends the session.
func TestPortalInBrowser(t *testing.T) {
	browsertest.Chromium(t)
	sim := startEauthSim(t)
	base, _, data := portalHub(t, sim)
	ctx := browsertest.Browser(t)
	shots := browsertest.ScreenDir(t)
	check := func(t *testing.T, name string) {
		t.Helper()
		browsertest.Axe(t, ctx)
		browsertest.Keyboard(t, ctx)
		browsertest.Screenshots(t, ctx, shots, name)
	}
	simKey := sim.pair.PrivateKey.(crypto.Signer)
	inProcess, err := eauthsim.New(eauthsim.Config{EntityID: sim.entity, Key: simKey, Certificate: sim.pair.Leaf})
	if err != nil {
		t.Fatal(err)
	}
	// respondHere starts a sign-in with the script blocked, builds the response to its request in
	// the test, and posts it to the portal from this browser, as the identity provider's page
	// would; it returns the response posted.
	respondHere := func(t *testing.T, lang string, faults eauthsim.Faults, edit func([]byte) []byte, resp string) string {
		t.Helper()
		blockScript(t, ctx, base, true)
		defer blockScript(t, ctx, base, false)
		navigate(t, ctx, base+"/signin?lang="+lang)
		navigate(t, ctx, base+"/signin/eauth", chromedp.Click(chromedp.CSS("main form button")))
		if resp == "" {
			req, err := eauthsim.ParseRequest(evalIn(t, ctx, `document.querySelector('input[name=SAMLRequest]').value`))
			if err != nil {
				t.Fatal(err)
			}
			xml, err := inProcess.Response(req, inProcess.Persons()[0], faults)
			if err != nil {
				t.Fatal(err)
			}
			if edit != nil {
				xml = edit(xml)
			}
			resp = base64.StdEncoding.EncodeToString(xml)
		}
		js, _ := json.Marshal(resp)
		post := `(() => { const f = document.querySelector('main form'); f.action = '/saml/acs';
f.querySelector('input[name=SAMLRequest]').name = 'SAMLResponse'; f.querySelector('input[name=SAMLResponse]').value = ` + string(js) + `; })()`
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](post)); err != nil {
			t.Fatal(err)
		}
		navigate(t, ctx, base+"/saml/acs", chromedp.Click(chromedp.CSS("main form button")))
		return resp
	}

	for _, lang := range []string{"bg", "en"} {
		t.Run(lang, func(t *testing.T) {
			navigate(t, ctx, base+"/?lang="+lang)
			if got := evalIn(t, ctx, "document.documentElement.lang"); got != lang {
				t.Errorf("lang %q", got)
			}
			check(t, "portal-start-"+lang)
			navigate(t, ctx, base+"/signin?lang="+lang)
			check(t, "portal-signin-"+lang)

			// The page that carries the request, as a browser without script sees it.
			blockScript(t, ctx, base, true)
			navigate(t, ctx, base+"/signin/eauth", chromedp.Click(chromedp.CSS("main form button")))
			if got := evalIn(t, ctx, `document.querySelector('main form').action`); got != sim.sso {
				t.Errorf("the form goes to %q, want %q", got, sim.sso)
			}
			check(t, "portal-redirect-"+lang)
			blockScript(t, ctx, base, false)

			// With script, the sign-in goes straight on to the simulator's page of persons.
			navigate(t, ctx, base+"/signin?lang="+lang)
			browserDo(t, ctx, "sign in", chromedp.Click(chromedp.CSS("main form button")), chromedp.WaitVisible(chromedp.ID("person-2")))
			browserDo(t, ctx, "choose a person", chromedp.Click(chromedp.ID("person-2")))
			navigate(t, ctx, sim.sso, chromedp.Click(chromedp.CSS(`button[value=signin]`)))
			if status := navigate(t, ctx, base+"/saml/acs", chromedp.Click(chromedp.CSS("form button"))); status != 200 {
				t.Fatalf("after sign-in: status %d", status)
			}
			if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasSuffix(loc, "/account") {
				t.Fatalf("after sign-in at %s", loc)
			}
			body := evalIn(t, ctx, `document.body.innerText`)
			if !strings.Contains(body, "Десислава Николова Пробна") || strings.Contains(body, "9007040212") {
				t.Fatalf("account page:\n%s", body)
			}
			check(t, "portal-account-"+lang)
			navigate(t, ctx, base+"/dossiers")
			check(t, "portal-dossiers-"+lang)

			// Sign-out ends the session: the account page sends to sign in again.
			navigate(t, ctx, base+"/", chromedp.Click(chromedp.CSS("header form button")))
			if got := evalIn(t, ctx, `document.querySelector('.banner') ? document.querySelector('.banner').innerText : ''`); got == "" {
				t.Error("no banner after sign-out")
			}
			navigate(t, ctx, base+"/account")
			if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.Contains(loc, "/signin?return=%2Faccount") {
				t.Errorf("after sign-out /account went to %s", loc)
			}

			// The five refusals, each with its reason on the shell's page: four chosen on the
			// simulator's page, the fifth a good response posted a second time.
			good := respondHere(t, lang, eauthsim.Faults{}, nil, "")
			navigate(t, ctx, base+"/", chromedp.Click(chromedp.CSS("header form button"))) // sign out again
			for _, tc := range []struct {
				name, fault string
				want        eauth.Code
			}{
				{"forged", eauthsim.FaultForged, eauth.CodeSignature},
				{"replayed", "", eauth.CodeReplay},
				{"another-key", eauthsim.FaultOtherKey, eauth.CodeSignature},
				{"expired", eauthsim.FaultExpired, eauth.CodeExpired},
				{"audience", eauthsim.FaultAudience, eauth.CodeAudience},
			} {
				t.Run(tc.name, func(t *testing.T) {
					if tc.fault == "" {
						respondHere(t, lang, eauthsim.Faults{}, nil, good)
					} else {
						navigate(t, ctx, base+"/signin?lang="+lang)
						browserDo(t, ctx, "sign in", chromedp.Click(chromedp.CSS("main form button")), chromedp.WaitVisible(chromedp.ID("person-0")))
						browserDo(t, ctx, "choose the response", chromedp.Click(chromedp.CSS(`input[value="`+tc.fault+`"]`)))
						navigate(t, ctx, sim.sso, chromedp.Click(chromedp.CSS(`button[value=signin]`)))
						navigate(t, ctx, base+"/saml/acs", chromedp.Click(chromedp.CSS("form button")))
					}
					if got := evalIn(t, ctx, `document.querySelector('.refusal-reason').innerText`); got != tc.want.Message(lang) {
						t.Errorf("reason %q, want %q", got, tc.want.Message(lang))
					}
					if tc.name == "forged" {
						check(t, "portal-refused-"+lang)
					}
					navigate(t, ctx, base+"/account")
					if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.Contains(loc, "/signin") {
						t.Errorf("signed in after a refusal: at %s", loc)
					}
				})
			}
		})
	}

	// A person whose roles lack a page's permission gets the 403 page: the test takes the
	// citizen's role away in the store behind the running hub.
	respondHere(t, "en", eauthsim.Faults{}, nil, "")
	st, err := sqlite.New(sqlite.Config{}, store.Env{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	name := account.CitizenName("PNOBG-8001010100")
	a, err := st.AccountByName(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	was := a.Updated
	a.Roles, a.Updated = []identity.Role{identity.Auditor}, time.Now()
	if err := st.UpdateAccount(context.Background(), a, was); err != nil {
		t.Fatal(err)
	}
	if status := navigate(t, ctx, base+"/dossiers"); status != 403 {
		t.Errorf("/dossiers without dossiers.read_own: %d, want 403", status)
	}
	if got := evalIn(t, ctx, `document.querySelector('h1').innerText`); got != "You cannot open this page" {
		t.Errorf("403 page: %q", got)
	}
	check(t, "portal-forbidden-en")
	if status := navigate(t, ctx, base+"/account"); status != 200 {
		t.Errorf("/account, for any signed-in person: %d", status)
	}
}

// TestScaleOutPortalSignIn: two processes on RabbitMQ and PostgreSQL behind one public address;
// a sign-in started on the second is completed on the first (where the identity provider posts),
// the session is seen by both, and sign-out on one ends it on the other.
func TestScaleOutPortalSignIn(t *testing.T) {
	sim := startEauthSim(t)
	portalA, portalB := freeAddr(t), freeAddr(t)
	d := newDeployment(t, scaleConfig, scaleRoutes, "AISKAO_EAUTH_SSO_URL="+sim.sso, "AISKAO_EAUTH_ENTITY_ID="+sim.entity,
		"AISKAO_EAUTH_IDP_CERT="+sim.certPath, "AISKAO_PORTAL_URL=http://"+portalA)
	d.start("hub-a", "AISKAO_PORTAL_ADDR="+portalA)
	d.start("hub-b", "AISKAO_PORTAL_ADDR="+portalB)
	waitPortal(t, portalA)
	waitPortal(t, portalB)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	post := func(target string, v url.Values) (*url.URL, int, []byte) {
		t.Helper()
		resp, err := c.PostForm(target, v)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.Request.URL, resp.StatusCode, b
	}
	get := func(target string) (string, int, string) {
		t.Helper()
		resp, err := c.Get(target)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.Request.URL.Path, resp.StatusCode, string(b)
	}
	at, code, page := post("http://"+portalB+"/signin/eauth", url.Values{})
	if code != 200 {
		t.Fatalf("start on the second process: %d\n%s", code, page)
	}
	target, v := eauthForm(t, at, page)
	at, _, page = post(target, v)
	target, v = eauthForm(t, at, page)
	v.Set("person", "1")
	v.Set("action", "signin")
	at, _, page = post(target, v)
	acs, v := eauthForm(t, at, page)
	if acs != "http://"+portalA+"/saml/acs" {
		t.Fatalf("the identity provider posts to %s", acs)
	}
	if at, code, page := post(acs, v); code != 200 || at.Path != "/account" || !bytes.Contains(page, []byte("Мария Георгиева Примерна")) {
		t.Fatalf("completed on the first process: %d at %s\n%s", code, at, page)
	}
	if path, code, body := get("http://" + portalB + "/account"); code != 200 || path != "/account" || !strings.Contains(body, "Мария Георгиева Примерна") {
		t.Fatalf("the second process does not see the session: %d at %s", code, path)
	}
	if _, code, _ := post("http://"+portalB+"/signout", url.Values{}); code != 200 {
		t.Fatalf("sign-out: %d", code)
	}
	if path, _, _ := get("http://" + portalA + "/account"); path != "/signin" {
		t.Errorf("after sign-out on the second process the first shows %s", path)
	}
}
