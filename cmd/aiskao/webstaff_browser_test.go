package main

// The staff site through the real binary and a real Chromium: signing in with a local account,
// its one-time token, the second factor and a new password; every error beside its field and
// in the summary; the lock-out; the administration's screens; a wrong role refused on every
// route; sign-out; a cross-origin form refused; axe-core, the keyboard walk and screenshots of
// every page in both languages.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/account"
	"github.com/aiskao/aiskao/identity/httpauth"
	"github.com/aiskao/aiskao/identity/oidc/oidctest"
	"github.com/aiskao/aiskao/internal/browsertest"
	"github.com/aiskao/aiskao/internal/testpg"
	"github.com/aiskao/aiskao/store"
	"github.com/aiskao/aiskao/store/sqlite"
	"github.com/aiskao/aiskao/web"
)

// staffUser creates an account with roles through `aiskao users` and returns its one-time
// token and, when totp, the secret of its second factor.
func staffUser(t testing.TB, config, data, name, fullName, roles string, totp bool) (token, secret string) {
	t.Helper()
	args := []string{"users", "create", name, "-role", roles, "-full-name", fullName, "-config", config, "-data", data}
	if strings.Contains(roles, "clerk") {
		args = append(args, "-unit", "front-office", "-position", "front-office.desk-1")
	}
	out, code := cli(t, args...)
	if code != 0 {
		t.Fatalf("users create %s: exit %d\n%s", name, code, out)
	}
	token = strings.TrimSpace(strings.SplitN(out, "\n", 2)[0])
	if !totp {
		return token, ""
	}
	out, code = cli(t, "users", "totp", name, "-config", config, "-data", data)
	if code != 0 {
		t.Fatalf("users totp %s: exit %d\n%s", name, code, out)
	}
	u, err := url.Parse(strings.TrimSpace(strings.SplitN(out, "\n", 2)[0]))
	if err != nil || u.Query().Get("secret") == "" {
		t.Fatalf("users totp %s printed no otpauth URI:\n%s", name, out)
	}
	return token, u.Query().Get("secret")
}

// totpCode is the code of secret at now plus skew steps of 30 seconds.
func totpCode(t testing.TB, secret string, skew int) string {
	t.Helper()
	c, err := account.TOTPCode(secret, time.Now().Add(time.Duration(skew)*30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// startStaff runs the demo with its staff site on a free port and returns the site's address,
// the configuration and the data folder.
func startStaff(t testing.TB) (base, config, data string, hub *hubProc) {
	t.Helper()
	addr := freeAddr(t)
	t.Setenv("AISKAO_STAFF_ADDR", addr)
	config, data = copyDemo(t), t.TempDir()
	hub = startHub(t, config, data, "", "")
	base = "http://" + addr
	waitFor(t, "the staff site", 20*time.Second, func() bool {
		resp, err := http.Get(base + "/signin")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == http.StatusOK
	})
	return base, config, data, hub
}

// page is a tab on the staff site with the checks every page gets.
type page struct {
	t    *testing.T
	ctx  context.Context
	base string
	dir  string
	// walked holds the pages walked with the keyboard already, by shot name without the
	// language: the walk is the same in both.
	walked map[string]bool
}

func (p page) eval(js string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		p.t.Fatalf("evaluate %s: %v", js, err)
	}
	return s
}

// open loads path and checks it.
func (p page) open(path, shot string) {
	p.t.Helper()
	browsertest.Open(p.t, p.ctx, p.base+path)
	p.check(shot)
}

// check runs axe-core and the keyboard walk on the page in the tab and, when shot is not
// empty, saves its screenshots; the page's lang must be the one its name ends with.
func (p page) check(shot string) {
	p.t.Helper()
	browsertest.CSPClean(p.t, p.ctx)
	browsertest.Axe(p.t, p.ctx)
	if shot != "" {
		lang := shot[strings.LastIndex(shot, "-")+1:]
		if name := strings.TrimSuffix(shot, "-"+lang); p.walked == nil || !p.walked[name] {
			browsertest.Keyboard(p.t, p.ctx)
			if p.walked != nil {
				p.walked[name] = true
			}
		}
		if got := p.eval(`document.documentElement.lang`); got != lang {
			p.t.Errorf("%s: html lang %q, want %q", shot, got, lang)
		}
		browsertest.Screenshots(p.t, p.ctx, p.dir, shot)
	}
}

// fill types each value into the field of that id (emptied first).
func (p page) fill(fields ...string) {
	p.t.Helper()
	for i := 0; i+1 < len(fields); i += 2 {
		id, _ := json.Marshal(fields[i])
		if err := chromedp.Do(p.ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById(`+string(id)+`).value = ''`),
			chromedp.SendKeys(chromedp.ID(fields[i]), fields[i+1])); err != nil {
			p.t.Fatalf("fill %s: %v", fields[i], err)
		}
	}
}

// submit presses the first button of the main content's form sel and returns the status.
func (p page) submit(sel string) int64 {
	p.t.Helper()
	resp, err := chromedp.RunResponse(p.ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		p.t.Fatalf("submit %s: %v", sel, err)
	}
	return resp.Status
}

// path is the address of the page in the tab, without the site.
func (p page) path() string {
	return strings.TrimPrefix(p.eval(`location.href`), p.base)
}

// fieldError checks that field's error says want, beside it and in the summary at the top.
func (p page) fieldError(field, want string) {
	p.t.Helper()
	beside := p.eval(`(document.getElementById('` + field + `-error') || {}).textContent || ''`)
	summary := p.eval(`(document.querySelector('.error-summary a[href="#` + field + `"]') || {}).textContent || ''`)
	if !strings.Contains(beside, want) {
		p.t.Errorf("error beside %s = %q, want %q", field, beside, want)
	}
	if !strings.Contains(summary, want) {
		p.t.Errorf("error summary's link to %s = %q, want %q", field, summary, want)
	}
	if got := p.eval(`document.title`); !strings.HasPrefix(got, "Грешка: ") && !strings.HasPrefix(got, "Error: ") {
		p.t.Errorf("title of a failed submit %q does not start with Error", got)
	}
}

// TestStaffSiteInBrowser is the staff site's acceptance through the real binary.
func TestStaffSiteInBrowser(t *testing.T) {
	browsertest.Chromium(t)
	base, config, data, hub := startStaff(t)
	mariaToken, mariaSecret := staffUser(t, config, data, "maria", "Мария Иванова", "clerk", true)
	adminToken, _ := staffUser(t, config, data, "ivan", "Ivan Petrov", "administrator,security_officer", false)
	petarToken, petarSecret := staffUser(t, config, data, "petar", "Petar Georgiev", "expert", true)
	georgiToken, _ := staffUser(t, config, data, "georgi", "Георги Колев", "clerk", false)

	dir := browsertest.ScreenDir(t)
	p := page{t: t, ctx: browsertest.Browser(t), base: base, dir: dir, walked: map[string]bool{}}

	t.Run("clerk signs in with token, code and new password", func(t *testing.T) {
		p := p
		p.t = t
		p.open("/signin?lang=en", "staff-signin-en")
		p.open("/signin?lang=bg", "staff-signin-bg")
		if st := p.submit("main form button"); st != http.StatusBadRequest {
			t.Errorf("empty sign-in: %d, want 400", st)
		}
		p.fieldError("f-name", "Въведете потребителското си име")
		p.fieldError("f-password", "Въведете паролата си")
		p.check("staff-signin-empty-bg")

		p.fill("f-name", "maria", "f-password", "not the password")
		if st := p.submit("main form button"); st != http.StatusUnauthorized {
			t.Errorf("wrong password: %d, want 401", st)
		}
		p.fieldError("f-password", "Потребителското име или паролата не са верни")
		if got := p.eval(`document.getElementById('f-name').value`); got != "maria" {
			t.Errorf("the name given is not kept after a wrong password: %q", got)
		}
		p.check("staff-signin-wrong-bg")

		p.fill("f-name", "maria", "f-password", mariaToken)
		p.submit("main form button")
		if got := p.path(); got != "/signin/totp" {
			t.Fatalf("after the token: at %s, want /signin/totp", got)
		}
		p.check("staff-totp-bg")
		p.fill("f-code", "12345x")
		if st := p.submit("main form button"); st != http.StatusUnauthorized {
			t.Errorf("wrong code: %d, want 401", st)
		}
		p.fieldError("f-code", "Кодът не е верен")
		p.check("staff-totp-wrong-bg")

		p.fill("f-code", totpCode(t, mariaSecret, 0))
		p.submit("main form button")
		if got := p.path(); got != "/signin/password" {
			t.Fatalf("after the code: at %s, want /signin/password", got)
		}
		p.check("staff-password-bg")
		p.fill("f-password", "short")
		if st := p.submit("main form button"); st != http.StatusBadRequest {
			t.Errorf("weak password: %d, want 400", st)
		}
		p.fieldError("f-password", "Паролата не е приета")
		p.check("staff-password-weak-bg")
		p.fill("f-password", "зелена ябълка в градината")
		p.submit("main form button")
		if got := p.path(); got != "/" {
			t.Fatalf("after the new password: at %s, want /", got)
		}
		if h1 := p.eval(`document.querySelector('h1').textContent`); h1 != "Добре дошли, Мария Иванова" {
			t.Errorf("start page's heading %q does not name the person", h1)
		}
		if u := p.eval(`document.querySelector('.header-user').textContent`); u != "Мария Иванова" {
			t.Errorf("header names %q", u)
		}
		p.check("staff-home-bg")
		for _, lang := range []string{"en", "bg"} {
			p.open("/?lang="+lang, "staff-home-"+lang)
			p.open("/clerk/?lang="+lang, "staff-clerk-"+lang)
			p.open("/clerk/register?lang="+lang, "staff-clerk-register-"+lang)
			p.open("/admin/?lang="+lang, "staff-forbidden-"+lang)
			p.open("/no-such-page?lang="+lang, "staff-notfound-"+lang)
		}
		if got := p.eval(`document.querySelector('main h1').textContent`); got == "" {
			t.Error("the page not found has no heading")
		}

		// Sign out: the header's button; the session is gone.
		p.open("/", "")
		p.submit("header form button")
		if got := p.path(); got != "/signin?done=signedout" {
			t.Errorf("after signing out: at %s", got)
		}
		p.check("staff-signedout-bg")
		browsertest.Open(t, p.ctx, base+"/clerk/")
		if got := p.path(); !strings.HasPrefix(got, "/signin?return=") {
			t.Errorf("after signing out /clerk/ is at %s, want the sign-in page", got)
		}
		// Signing in again comes back to the page asked for, with the next code.
		p.fill("f-name", "maria", "f-password", "зелена ябълка в градината")
		p.submit("main form button")
		p.fill("f-code", totpCode(t, mariaSecret, 1))
		p.submit("main form button")
		if got := p.path(); got != "/clerk/" {
			t.Errorf("signed in again: at %s, want /clerk/ asked for before", got)
		}
		// Sign out everywhere, from the start page.
		p.open("/", "")
		p.submit(`main form[action="/signout/everywhere"] button`)
		if got := p.path(); got != "/signin?done=everywhere" {
			t.Errorf("after signing out everywhere: at %s", got)
		}
	})

	t.Run("expert in English with the second factor", func(t *testing.T) {
		p := p
		p.t = t
		p.open("/signin?lang=en", "")
		p.fill("f-name", "petar", "f-password", petarToken)
		p.submit("main form button")
		p.check("staff-totp-en")
		p.fill("f-code", "000000")
		p.submit("main form button")
		p.fieldError("f-code", "The code is not right")
		p.check("staff-totp-wrong-en")
		p.fill("f-code", totpCode(t, petarSecret, 0))
		p.submit("main form button")
		p.check("staff-password-en")
		p.fill("f-password", "petar")
		p.submit("main form button")
		p.fieldError("f-password", "The password is not accepted")
		p.check("staff-password-weak-en")
		p.open("/signin/totp?lang=en", "")
		if got := p.path(); got != "/signin/password" && !strings.HasPrefix(got, "/signin?error=expired") {
			t.Errorf("the code's page at the password step: at %s", got)
		}
	})

	t.Run("lock-out", func(t *testing.T) {
		p := p
		p.t = t
		c := staffClient()
		for range 5 {
			st, _ := jsonPost(t, c, base+"/signin", map[string]string{"name": "someone", "password": "wrong password"})
			if st == http.StatusTooManyRequests {
				break
			}
		}
		p.open("/signin?lang=bg", "")
		p.fill("f-name", "someone", "f-password", "any password at all")
		if st := p.submit("main form button"); st != http.StatusTooManyRequests {
			t.Errorf("locked name: %d, want 429", st)
		}
		p.fieldError("f-password", "входът с това име е заключен")
		p.check("staff-signin-locked-bg")
		p.open("/signin?lang=en", "")
		p.fill("f-name", "someone", "f-password", "any password at all")
		p.submit("main form button")
		p.fieldError("f-password", "signing in with this name is locked")
		p.check("staff-signin-locked-en")
	})

	t.Run("administrator and security officer", func(t *testing.T) {
		p := p
		p.t = t
		p.open("/signin?lang=en", "")
		p.fill("f-name", "ivan", "f-password", adminToken)
		p.submit("main form button")
		p.fill("f-password", "a long enough admin passphrase")
		p.submit("main form button")
		if got := p.path(); got != "/" {
			t.Fatalf("administrator signed in: at %s", got)
		}
		p.open("/admin/accounts/new?lang=en", "staff-admin-new-en")
		p.submit("main form button")
		p.fieldError("f-name", "Enter a user name")
		p.fieldError("f-roles", "Choose at least one role")
		p.check("staff-admin-new-errors-en")
		p.fill("f-name", "elena", "f-full_name", "Elena Dimitrova")
		if err := chromedp.Do(p.ctx, chromedp.Click(chromedp.CSS(`input[name=role][value=clerk]`))); err != nil {
			t.Fatal(err)
		}
		p.submit("main form button")
		if ref := p.eval(`(document.querySelector('.panel-ref') || {}).textContent || ''`); len(ref) != 43 {
			t.Errorf("created: the one-time token shown is %q", ref)
		}
		p.check("staff-admin-created-en")
		p.open("/admin/accounts/elena?lang=en", "staff-admin-account-en")
		p.submit(`main form[action$="/positions"] button`)
		if got := p.path(); got != "/admin/accounts/elena?done=position" {
			t.Errorf("position given: at %s", got)
		}
		if !strings.Contains(p.eval(`document.querySelector('main').textContent`), "front-office.desk-1") {
			t.Error("the account's page does not list the position given")
		}
		p.submit(`main form[action$="/reset"] button`)
		p.check("staff-admin-reset-en")
		p.open("/admin/accounts/elena", "")
		p.submit(`main form[action$="/disable"] button`)
		if got := p.path(); got != "/admin/accounts/elena?done=disabled" {
			t.Errorf("disabled: at %s", got)
		}
		p.check("staff-admin-disabled-en")
		p.submit(`main form[action$="/enable"] button`)
		p.open("/admin/roles/elena", "")
		if err := chromedp.Do(p.ctx, chromedp.Click(chromedp.CSS(`input[name=role][value=clerk]`))); err != nil {
			t.Fatal(err)
		}
		if st := p.submit(`main form[action="/admin/roles/elena"] button`); st != http.StatusBadRequest {
			t.Errorf("no role: %d, want 400", st)
		}
		p.fieldError("f-roles", "Choose at least one role")
		p.check("staff-admin-roles-error-en")
		p.submit(`main form[action="/admin/sessions/elena"] button`)
		if got := p.path(); got != "/admin/roles/elena?done=sessions" {
			t.Errorf("sessions ended: at %s", got)
		}
		for _, lang := range []string{"en", "bg"} {
			p.open("/?lang="+lang, "staff-admin-home-"+lang)
			p.open("/admin/?lang="+lang, "staff-admin-accounts-"+lang)
			p.open("/admin/accounts/new?lang="+lang, "")
			p.open("/admin/accounts/elena?lang="+lang, "")
			p.open("/admin/roles/?lang="+lang, "staff-admin-roles-"+lang)
			p.open("/admin/roles/elena?lang="+lang, "staff-admin-role-"+lang)
			p.open("/admin/accounts/nobody?lang="+lang, "")
		}
		// Every act is in the journal.
		out, code := cli(t, "journal", "-ops", "http://"+hub.opsAddr, "-limit", "1000")
		for _, kind := range []string{"account.created", "account.position_held", "account.password_reset", "account.disabled", "account.enabled", "sessions.revoked", "signin.ok", "signin.failed", "signin.locked", "signout", "signout.everywhere"} {
			if code == 0 && !strings.Contains(out, kind) {
				t.Errorf("the journal has no %s", kind)
			}
		}
		if code != 0 {
			t.Logf("aiskao journal: exit %d: %s", code, out)
		}
	})

	t.Run("a wrong role is refused on every route", func(t *testing.T) {
		c := staffClient()
		signInJSON(t, c, base, "georgi", georgiToken, "", "a clerk's long password")
		for _, e := range staffEndpoints(t) {
			if e.Perm == httpauth.Open || e.Perm == httpauth.AnyPrincipal || identity.Clerk.Grants(e.Perm) {
				continue
			}
			method, path, _ := strings.Cut(e.Pattern, " ")
			path = strings.NewReplacer("{$}", "", "{name}", "georgi").Replace(path)
			req, _ := http.NewRequest(method, base+path, strings.NewReader(""))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("clerk: %s %s answered %d, want 403", method, path, resp.StatusCode)
			}
			if resp.Header.Get("Content-Security-Policy") != web.CSP {
				t.Errorf("%s %s: no Content-Security-Policy", method, path)
			}
		}
	})

	t.Run("CSP on every page", func(t *testing.T) {
		for _, path := range []string{"/signin", "/signin?lang=en", "/signin/totp", "/signin/password", "/", "/clerk/", "/admin/", "/nowhere", web.AssetPrefix + "nothing"} {
			resp, err := http.Get(base + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := resp.Header.Get("Content-Security-Policy"); got != web.CSP {
				t.Errorf("GET %s: Content-Security-Policy %q", path, got)
			}
		}
	})

	t.Run("cross-origin form refused", func(t *testing.T) {
		other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, `<!DOCTYPE html><html lang="en"><title>elsewhere</title><form method="post" action="%s/signin"><input name="name" value="maria"><input name="password" value="x"><button id="go">go</button></form>`, base)
		}))
		defer other.Close()
		if err := chromedp.Do(p.ctx, chromedp.Navigate(other.URL)); err != nil {
			t.Fatal(err)
		}
		resp, err := chromedp.RunResponse(p.ctx, chromedp.Click(chromedp.ID("go")))
		if err != nil {
			t.Fatal(err)
		}
		if resp.Status != http.StatusForbidden {
			t.Errorf("a cross-origin form POST from the browser answered %d, want 403", resp.Status)
		}
		req, _ := http.NewRequest(http.MethodPost, base+"/signout/everywhere", nil)
		req.Header.Set("Origin", "https://evil.example")
		resp2, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp2.Body.Close()
		if resp2.StatusCode != http.StatusForbidden {
			t.Errorf("a POST from another origin answered %d, want 403", resp2.StatusCode)
		}
	})
	if os.Getenv("SCREENSHOTS") != "" {
		t.Logf("screenshots in %s", dir)
	}
}

// staffEndpoints are the staff site's routes, as the binary serves them.
func staffEndpoints(t *testing.T) []httpauth.Endpoint {
	t.Helper()
	st, err := sqlite.New(sqlite.Config{}, store.Env{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	apps, _, _, err := newStaffApps(context.Background(), st, false, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	return apps.Endpoints()
}

// staffClient is a browser without a page: it keeps cookies and does not follow redirects.
func staffClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// jsonPost sends a step of signing in as JSON and returns the status and the answer.
func jsonPost(t testing.TB, c *http.Client, u string, body map[string]string) (int, map[string]string) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, u, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// signInJSON signs name in on c with password (or a one-time token), the code of secret when
// asked, and newPassword when asked for one.
func signInJSON(t testing.TB, c *http.Client, base, name, password, secret, newPassword string) {
	t.Helper()
	st, out := jsonPost(t, c, base+"/signin", map[string]string{"name": name, "password": password})
	for st == http.StatusOK && out["next"] != "done" {
		switch out["next"] {
		case "totp":
			st, out = jsonPost(t, c, base+"/signin/totp", map[string]string{"code": totpCode(t, secret, 0)})
		case "password":
			st, out = jsonPost(t, c, base+"/signin/password", map[string]string{"password": newPassword})
		default:
			t.Fatalf("sign-in of %s: next %q", name, out["next"])
		}
	}
	if st != http.StatusOK {
		t.Fatalf("sign-in of %s: %d %v", name, st, out)
	}
}

// TestStaffSignOutEverywhereAcrossProcesses runs two processes on one PostgreSQL store: a
// session started at one is known at the other, and signing out everywhere at one ends the
// person's sessions at both.
func TestStaffSignOutEverywhereAcrossProcesses(t *testing.T) {
	pg := testpg.URL(t)
	schema := testpg.Schema(t, "aiskao_staff_")
	dir, data := t.TempDir(), t.TempDir()
	config := filepath.Join(dir, "hub.yaml")
	body := `transport: { type: embedded }
store: { type: postgres, url: "` + pg + `", schema: ` + schema + ` }
ops: { listen: "${AISKAO_OPS_ADDR:-127.0.0.1:0}" }
web:
  staff: { listen: "${AISKAO_STAFF_ADDR:-127.0.0.1:0}" }
connectors:
  in: { type: file, dir: in }
  out: { type: file, dir: out }
routes:
  - { name: r, from: in, to: out }
`
	if err := os.WriteFile(config, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	var sites [2]string
	for i := range sites {
		addr := freeAddr(t)
		t.Setenv("AISKAO_STAFF_ADDR", addr)
		startHub(t, config, filepath.Join(data, fmt.Sprint(i)), "", "")
		sites[i] = "http://" + addr
	}
	token, _ := staffUser(t, config, data, "anna", "Анна Стоянова", "clerk", false)
	const password = "a password of her own choosing"
	first, second := staffClient(), staffClient()
	signInJSON(t, first, sites[0], "anna", token, "", password)
	signInJSON(t, second, sites[1], "anna", password, "", "")
	home := func(c *http.Client, site string) int {
		resp, err := c.Get(site + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for i, site := range sites {
		if st := home(first, site); st != http.StatusOK {
			t.Errorf("the session started at process 1, at process %d: %d, want 200", i+1, st)
		}
		if st := home(second, site); st != http.StatusOK {
			t.Errorf("the session started at process 2, at process %d: %d, want 200", i+1, st)
		}
	}
	if st, out := jsonPost(t, first, sites[0]+"/signout/everywhere", nil); st != http.StatusOK {
		t.Fatalf("sign out everywhere at process 1: %d %v", st, out)
	}
	for i, site := range sites {
		if st := home(second, site); st != http.StatusSeeOther {
			t.Errorf("after signing out everywhere, the other session at process %d: %d, want 303 to sign in", i+1, st)
		}
	}
}

// TestStaffSSOInBrowser: with web.staff.oidc the sign-in page offers the organisation's account;
// through a real provider's flow the person lands on the start page named by the provider, and a
// person whose groups give no role is sent back to the sign-in page told why, in their language.
func TestStaffSSOInBrowser(t *testing.T) {
	browsertest.Chromium(t)
	addr := freeAddr(t)
	t.Setenv("AISKAO_STAFF_ADDR", addr)
	base := "http://" + addr
	idp := oidctest.New(t, "aiskao-staff", "a client secret", base+"/sso/callback")
	config, data := copyDemo(t), t.TempDir()
	raw, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	listen := "    listen: ${AISKAO_STAFF_ADDR:-127.0.0.1:8101}\n"
	if !bytes.Contains(raw, []byte(listen)) {
		t.Fatal("the demo's web.staff.listen is not where the test looks for it")
	}
	sso := listen + `    oidc:
      issuer: ` + idp.URL + `
      client_id: aiskao-staff
      client_secret: a client secret
      redirect_url: ` + base + `/sso/callback
      groups:
        front-office: { roles: [clerk] }
`
	if err := os.WriteFile(config, bytes.Replace(raw, []byte(listen), []byte(sso), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	startHub(t, config, data, "", "")
	waitFor(t, "the staff site", 20*time.Second, func() bool {
		resp, err := http.Get(base + "/signin")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == http.StatusOK
	})
	p := page{t: t, ctx: browsertest.Browser(t), base: base, dir: browsertest.ScreenDir(t)}

	idp.SignIn(oidctest.Person{Subject: "248289761001", Email: "nikolay@sofia.bg", EmailVerified: true, Name: "Николай Тодоров", Groups: []string{"front-office"}})
	p.open("/signin?lang=bg", "staff-signin-sso-bg")
	p.open("/signin?lang=en", "staff-signin-sso-en")
	if _, err := chromedp.RunResponse(p.ctx, chromedp.Click(chromedp.CSS(`a[href="/sso/login"]`))); err != nil {
		t.Fatal(err)
	}
	if got := p.path(); got != "/" {
		t.Fatalf("after single sign-on: at %s, want the start page", got)
	}
	if u := p.eval(`document.querySelector('.header-user').textContent`); u != "Николай Тодоров" {
		t.Errorf("header names %q, want the provider's name", u)
	}
	p.check("staff-sso-home-en")
	p.submit("header form button")
	p.check("staff-sso-signedout-en")
	if _, err := chromedp.RunResponse(p.ctx, chromedp.Click(chromedp.CSS(`main a[href^="`+idp.URL+`"]`))); err != nil {
		t.Fatal(err)
	}
	if n := len(idp.Logouts()); n != 1 {
		t.Errorf("the link to sign out at the provider reached its end-session endpoint %d times, want 1", n)
	}
	browsertest.Open(t, p.ctx, base+"/")
	if got := p.path(); !strings.HasPrefix(got, "/signin") {
		t.Errorf("after signing out: / is at %s, want the sign-in page", got)
	}

	idp.SignIn(oidctest.Person{Subject: "248289761002", Email: "guest@sofia.bg", EmailVerified: true, Name: "Гост", Groups: []string{"visitors"}})
	p.open("/signin?lang=en", "")
	resp, err := chromedp.RunResponse(p.ctx, chromedp.Click(chromedp.CSS(`a[href="/sso/login"]`)))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusForbidden {
		t.Errorf("a person without a role: %d, want 403", resp.Status)
	}
	if b := p.eval(`document.querySelector('.banner').textContent`); !strings.Contains(b, "You have no role here") {
		t.Errorf("the refusal says %q", b)
	}
	p.check("staff-sso-norole-en")
}
