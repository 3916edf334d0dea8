package staff_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/identity"
	"github.com/aiskao/aiskao/identity/account"
	"github.com/aiskao/aiskao/identity/session"
	"github.com/aiskao/aiskao/store"
	"github.com/aiskao/aiskao/store/sqlite"
	"github.com/aiskao/aiskao/web"
	"github.com/aiskao/aiskao/web/staff"
)

// site serves the staff site's own pages over a fresh store, as serve does.
func site(t *testing.T) (*httptest.Server, *account.Service) {
	t.Helper()
	st, err := sqlite.New(sqlite.Config{}, store.Env{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	accounts, err := account.New(st, st, st, st, account.Config{Params: account.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}})
	if err != nil {
		t.Fatal(err)
	}
	sessions := session.New(st, accounts.Principal, session.Config{})
	shell, err := web.New("app.staff", "/", staff.Files)
	if err != nil {
		t.Fatal(err)
	}
	s, err := staff.New(shell, staff.Options{Accounts: accounts, Sessions: sessions, Journal: st})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.Secure(sessions.Middleware(shell.Mux(s.Endpoints(), staff.SignInPath))))
	t.Cleanup(srv.Close)
	return srv, accounts
}

type browser struct {
	t   *testing.T
	c   *http.Client
	url string
}

func (b browser) do(method, path string, form url.Values) (int, string, http.Header) {
	b.t.Helper()
	req, _ := http.NewRequest(method, b.url+path, strings.NewReader(form.Encode()))
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.Header.Get("Content-Security-Policy") != web.CSP {
		b.t.Errorf("%s %s: no Content-Security-Policy", method, path)
	}
	return resp.StatusCode, string(body), resp.Header
}

// wantError checks that the page shows msg beside field and in the summary's link to it.
func wantError(t *testing.T, body, field, msg string) {
	t.Helper()
	if !strings.Contains(body, `id="f-`+field+`-error"`) || !strings.Contains(body, `<a href="#f-`+field+`">`+msg) {
		t.Errorf("no error %q beside %s and in the summary:\n%s", msg, field, body)
	}
}

// TestSignInPages walks the sign-in of a new account with a one-time token, with the pages'
// refusals: empty fields, a wrong password, a weak new password, a step not reached, a
// cross-origin post.
func TestSignInPages(t *testing.T) {
	srv, accounts := site(t)
	token, err := accounts.Create(context.Background(), "test", "vera", "Вера Николова", []identity.Role{identity.Clerk})
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	b := browser{t: t, url: srv.URL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}

	if code, _, h := b.do("GET", "/", nil); code != http.StatusSeeOther || h.Get("Location") != "/signin?return=%2F" {
		t.Errorf("start page without a session: %d %s", code, h.Get("Location"))
	}
	if code, body, _ := b.do("GET", "/signin", nil); code != 200 || !strings.Contains(body, `<html lang="bg">`) || !strings.Contains(body, `autocomplete="current-password"`) {
		t.Errorf("sign-in page: %d\n%s", code, body)
	}
	code, body, _ := b.do("POST", "/signin", url.Values{})
	if code != http.StatusBadRequest {
		t.Errorf("empty: %d, want 400", code)
	}
	wantError(t, body, "name", "Въведете потребителското си име")
	wantError(t, body, "password", "Въведете паролата си")

	code, body, _ = b.do("POST", "/signin?lang=en", url.Values{"name": {"vera"}, "password": {"wrong"}})
	if code != http.StatusUnauthorized {
		t.Errorf("wrong password: %d, want 401", code)
	}
	wantError(t, body, "password", "The user name or the password is not right")
	if !strings.Contains(body, `value="vera"`) {
		t.Error("the name given is not kept after a refusal")
	}

	if code, _, h := b.do("GET", "/signin/password", nil); code != http.StatusSeeOther || h.Get("Location") != "/signin?error=expired" {
		t.Errorf("the new password's page before the step: %d %s", code, h.Get("Location"))
	}
	if code, _, h := b.do("POST", "/signin", url.Values{"name": {"vera"}, "password": {token}}); code != http.StatusSeeOther || h.Get("Location") != "/signin/password" {
		t.Fatalf("token: %d %s", code, h.Get("Location"))
	}
	code, body, _ = b.do("POST", "/signin/password?lang=bg", url.Values{"password": {"vera"}})
	if code != http.StatusBadRequest {
		t.Errorf("weak: %d, want 400", code)
	}
	wantError(t, body, "password", "Паролата не е приета")
	if code, _, h := b.do("POST", "/signin/password", url.Values{"password": {"три думи за парола"}}); code != http.StatusSeeOther || h.Get("Location") != "/" {
		t.Fatalf("new password: %d %s", code, h.Get("Location"))
	}
	if code, body, _ := b.do("GET", "/", nil); code != 200 || !strings.Contains(body, "Добре дошли, Вера Николова") {
		t.Errorf("start page: %d\n%s", code, body)
	}

	req, _ := http.NewRequest("POST", srv.URL+"/signout/everywhere", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site post: %d, want 403", resp.StatusCode)
	}
	if code, _, h := b.do("POST", "/signout/everywhere", nil); code != http.StatusSeeOther || h.Get("Location") != "/signin?done=everywhere" {
		t.Errorf("sign out everywhere: %d %s", code, h.Get("Location"))
	}
	if code, _, _ := b.do("GET", "/", nil); code != http.StatusSeeOther {
		t.Errorf("after signing out everywhere: %d, want 303", code)
	}
}
