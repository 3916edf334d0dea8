package signin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/account"
	"github.com/aiskao/aiskao/identity/session"
	"github.com/aiskao/aiskao/identity/signin"
	"github.com/aiskao/aiskao/store"
	"github.com/aiskao/aiskao/store/sqlite"
)

type app struct {
	srv *httptest.Server
	svc *account.Service
	st  *sqlite.Store
}

// newApp serves the sign-in routes and GET /work, which needs tasks.work, behind the session
// middleware.
func newApp(t *testing.T) app {
	st, err := sqlite.New(sqlite.Config{}, store.Env{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	svc, err := account.New(st, st, st, st, account.Config{Params: account.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		FailFloor: time.Millisecond, MaxFailures: 3})
	if err != nil {
		t.Fatal(err)
	}
	m := session.New(st, svc.Principal, session.Config{})
	mux := http.NewServeMux()
	mux.Handle("/signin", signin.New(svc, m, st, signin.Pages{}))
	mux.Handle("/signin/", signin.New(svc, m, st, signin.Pages{}))
	mux.Handle("/signout", signin.New(svc, m, st, signin.Pages{}))
	mux.Handle("/signout/", signin.New(svc, m, st, signin.Pages{}))
	mux.Handle("GET /work", session.Require(identity.TasksWork, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := identity.FromContext(r.Context())
		_, _ = io.WriteString(w, p.Name+" "+strings.Join(p.Positions, ","))
	})))
	srv := httptest.NewServer(m.Middleware(mux))
	t.Cleanup(srv.Close)
	return app{srv: srv, svc: svc, st: st}
}

// client is a browser: it keeps cookies and does not follow redirects.
func client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// post sends a JSON step and returns the status and the answer.
func post(t *testing.T, c *http.Client, u string, body map[string]string) (int, map[string]string) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", u, bytes.NewReader(b))
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

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestSignInFlow(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	tok, err := a.svc.Create(ctx, "cli", "ivanova", "", []identity.Role{identity.Clerk})
	if err != nil {
		t.Fatal(err)
	}
	c := client()
	u := a.srv.URL
	if code, out := post(t, c, u+"/signin", map[string]string{"name": "ivanova", "password": tok}); code != 200 || out["next"] != "password" {
		t.Fatalf("sign-in with the first token: %d %v", code, out)
	}
	if code, _ := get(t, c, u+"/work"); code != http.StatusUnauthorized {
		t.Errorf("before choosing a password: %d, want 401", code)
	}
	if code, out := post(t, c, u+"/signin/password", map[string]string{"password": "short"}); code != 400 || out["code"] != "weak_password" {
		t.Errorf("weak password: %d %v", code, out)
	}
	if code, out := post(t, c, u+"/signin/password", map[string]string{"password": "кон-маса-лампа-7"}); code != 200 || out["next"] != "done" {
		t.Fatalf("new password: %d %v", code, out)
	}
	if code, body := get(t, c, u+"/work"); code != 200 || !strings.HasPrefix(body, "ivanova") {
		t.Errorf("signed in: %d %q", code, body)
	}

	// With a second factor: the password leads to the code, by redirect for a plain form.
	uri, err := a.svc.EnrolTOTP(ctx, "cli", "ivanova")
	if err != nil {
		t.Fatal(err)
	}
	q, _ := url.Parse(uri)
	secret := q.Query().Get("secret")
	c = client()
	resp, err := c.PostForm(u+"/signin", url.Values{"name": {"ivanova"}, "password": {"кон-маса-лампа-7"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signin/totp" {
		t.Fatalf("form sign-in: %d to %q, want 303 to /signin/totp", resp.StatusCode, resp.Header.Get("Location"))
	}
	if code, _ := get(t, c, u+"/work"); code != http.StatusUnauthorized {
		t.Errorf("before the code: %d, want 401", code)
	}
	if code, out := post(t, c, u+"/signin/totp", map[string]string{"code": "000000"}); code != 401 || out["code"] != "refused" {
		t.Errorf("wrong code: %d %v", code, out)
	}
	code6, _ := account.TOTPCode(secret, time.Now())
	if code, out := post(t, c, u+"/signin/totp", map[string]string{"code": code6}); code != 200 || out["next"] != "done" {
		t.Fatalf("right code: %d %v", code, out)
	}
	if code, _ := get(t, c, u+"/work"); code != 200 {
		t.Errorf("after the code: %d", code)
	}
	// The same code in another browser is refused.
	other := client()
	post(t, other, u+"/signin", map[string]string{"name": "ivanova", "password": "кон-маса-лампа-7"})
	if code, out := post(t, other, u+"/signin/totp", map[string]string{"code": code6}); code != 401 {
		t.Errorf("replayed code: %d %v", code, out)
	}
	// A code without a password first is refused.
	if code, _ := post(t, client(), u+"/signin/totp", map[string]string{"code": code6}); code != 401 {
		t.Errorf("code without password: %d", code)
	}
	if code, _ := post(t, c, u+"/signout", nil); code != 200 {
		t.Errorf("sign-out: %d", code)
	}
	if code, _ := get(t, c, u+"/work"); code != http.StatusUnauthorized {
		t.Errorf("after sign-out: %d, want 401", code)
	}
	es, _ := a.st.ListJournal(ctx, store.JournalFilter{Kind: "signout"})
	if len(es) != 1 || es[0].Actor != "person:ivanova" || es[0].Detail["addr"] != "127.0.0.1" {
		t.Errorf("sign-out journaled as %+v", es)
	}
}

// A wrong password of an account and any password of a name that is not one get the same
// answer, and lock alike.
func TestRefusalsAlike(t *testing.T) {
	a := newApp(t)
	if _, err := a.svc.Create(context.Background(), "cli", "petrov", "", []identity.Role{identity.Expert}); err != nil {
		t.Fatal(err)
	}
	var answers [2][]string
	for i, name := range []string{"petrov", "nobody"} {
		for range 4 {
			code, out := post(t, client(), a.srv.URL+"/signin", map[string]string{"name": name, "password": "грешна-парола-1"})
			b, _ := json.Marshal(out)
			answers[i] = append(answers[i], string(rune('0'+code/100))+string(b))
		}
	}
	if strings.Join(answers[0], "\n") != strings.Join(answers[1], "\n") {
		t.Errorf("answers differ:\n%v\n%v", answers[0], answers[1])
	}
	if !strings.Contains(answers[1][3], "too many") {
		t.Errorf("fourth failure: %s, want locked", answers[1][3])
	}
}

// Signing out everywhere from one browser ends the person's sessions in every browser.
func TestSignOutEverywhere(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	tok, err := a.svc.Create(ctx, "cli", "georgiev", "", []identity.Role{identity.Expert})
	if err != nil {
		t.Fatal(err)
	}
	first := client()
	post(t, first, a.srv.URL+"/signin", map[string]string{"name": "georgiev", "password": tok})
	if code, out := post(t, first, a.srv.URL+"/signin/password", map[string]string{"password": "кон-маса-лампа-7"}); code != 200 {
		t.Fatalf("new password: %d %v", code, out)
	}
	second := client()
	if code, out := post(t, second, a.srv.URL+"/signin", map[string]string{"name": "georgiev", "password": "кон-маса-лампа-7"}); code != 200 || out["next"] != "done" {
		t.Fatalf("second sign-in: %d %v", code, out)
	}
	if code, out := post(t, second, a.srv.URL+"/signout/everywhere", nil); code != 200 {
		t.Fatalf("sign-out everywhere: %d %v", code, out)
	}
	for i, c := range []*http.Client{first, second} {
		if code, _ := get(t, c, a.srv.URL+"/work"); code != http.StatusUnauthorized {
			t.Errorf("browser %d after sign-out everywhere: %d, want 401", i+1, code)
		}
	}
	es, _ := a.st.ListJournal(ctx, store.JournalFilter{Kind: "signout.everywhere"})
	if len(es) != 1 || es[0].Actor != "person:georgiev" || es[0].Detail["sessions"] != "2" {
		t.Errorf("journaled as %+v", es)
	}
}

// The fallback pages are forms posting to their step, and show only known error texts.
func TestFallbackPages(t *testing.T) {
	a := newApp(t)
	for path, want := range map[string]string{
		"/signin?error=refused":           `action="/signin"`,
		"/signin/totp":                    `name="code"`,
		"/signin/password?error=<script>": `autocomplete="new-password"`,
	} {
		code, body := get(t, client(), a.srv.URL+path)
		if code != 200 || !strings.Contains(body, want) || strings.Contains(body, "<script") {
			t.Errorf("GET %s: %d\n%s", path, code, body)
		}
	}
	if _, body := get(t, client(), a.srv.URL+"/signin?error=refused"); !strings.Contains(body, "not right") {
		t.Errorf("the error is not shown:\n%s", body)
	}
}

// TestRenderFailures: with RenderFailures a browser's failed step is drawn by the page, told
// which step failed, how and with which status, while a JSON client is answered as before; and
// signing out everywhere leads to its own page.
func TestRenderFailures(t *testing.T) {
	st, err := sqlite.New(sqlite.Config{}, store.Env{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	svc, err := account.New(st, st, st, st, account.Config{Params: account.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		FailFloor: time.Millisecond, MaxFailures: 2})
	if err != nil {
		t.Fatal(err)
	}
	m := session.New(st, svc.Principal, session.Config{})
	var got []signin.Failure
	h := signin.New(svc, m, st, signin.Pages{SignedOutEverywhere: "/bye-everywhere"}).RenderFailures(func(w http.ResponseWriter, r *http.Request, f signin.Failure) {
		got = append(got, f)
		w.WriteHeader(f.Status)
	})
	srv := httptest.NewServer(m.Middleware(h))
	t.Cleanup(srv.Close)
	if _, err := svc.Create(context.Background(), "cli", "petrova", "", []identity.Role{identity.Clerk}); err != nil {
		t.Fatal(err)
	}
	c := client()
	form := func(path string, v url.Values) int {
		resp, err := c.PostForm(srv.URL+path, v)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := form("/signin", url.Values{"name": {"petrova"}, "password": {"wrong"}}); code != http.StatusUnauthorized {
		t.Errorf("wrong password: %d, want 401", code)
	}
	if code := form("/signin/totp", url.Values{"code": {"123456"}}); code != http.StatusUnauthorized {
		t.Errorf("code without a pending sign-in: %d, want 401", code)
	}
	if code, out := post(t, c, srv.URL+"/signin", map[string]string{"name": "petrova", "password": "wrong again"}); code != http.StatusTooManyRequests || out["code"] != "locked" {
		t.Errorf("JSON client, locked: %d %v", code, out)
	}
	want := []signin.Failure{{Path: "/signin", Status: 401, Code: "refused"}, {Path: "/signin/totp", Status: 401, Code: "expired"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("failures rendered %v, want %v", got, want)
	}
	// The lock is per name: another account signs in.
	tok2, err := svc.Create(context.Background(), "cli", "georgieva", "", []identity.Role{identity.Clerk})
	if err != nil {
		t.Fatal(err)
	}
	if code, out := post(t, c, srv.URL+"/signin", map[string]string{"name": "georgieva", "password": tok2}); code != 200 || out["next"] != "password" {
		t.Fatalf("token: %d %v", code, out)
	}
	if code, out := post(t, c, srv.URL+"/signin/password", map[string]string{"password": "a long enough password"}); code != 200 || out["next"] != "done" {
		t.Fatalf("new password: %d %v", code, out)
	}
	resp, err := c.Post(srv.URL+"/signout/everywhere", "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/bye-everywhere" {
		t.Errorf("sign out everywhere: %d to %q, want 303 to /bye-everywhere", resp.StatusCode, resp.Header.Get("Location"))
	}
}
