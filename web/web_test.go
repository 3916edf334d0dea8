package web

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// TestCataloguesAgree checks that every message id of the shell's catalogues is in both
// languages, and that no message is empty.
func TestCataloguesAgree(t *testing.T) {
	for _, p := range CatalogueProblems(os.DirFS(".")) {
		t.Error(p)
	}
}

func TestCheckCataloguesFindsAGap(t *testing.T) {
	fsys := fstest.MapFS{
		"locales/bg.json": {Data: []byte(`{"a": "А", "b": "Б"}`)},
		"locales/en.json": {Data: []byte(`{"a": "A", "c": ""}`)},
	}
	got := CatalogueProblems(fsys)
	want := []string{`"b" is in bg but not in en`, `"c" is empty in en`, `"c" is in en but not in bg`}
	if !slices.Equal(got, want) {
		t.Errorf("problems = %q, want %q", got, want)
	}
}

func TestRequestLang(t *testing.T) {
	for _, tc := range []struct {
		url, cookie, want string
	}{
		{"/", "", "bg"},
		{"/?lang=en", "", "en"},
		{"/?lang=de", "", "bg"},
		{"/", "en", "en"},
		{"/?lang=bg", "en", "bg"},
		{"/", "xx", "bg"},
	} {
		r := httptest.NewRequest("GET", tc.url, nil)
		r.Header.Set("Accept-Language", "en-GB,en") // never read: Bulgarian until switched
		if tc.cookie != "" {
			r.AddCookie(&http.Cookie{Name: LangCookie, Value: tc.cookie})
		}
		if got := RequestLang(r); got != tc.want {
			t.Errorf("%s cookie %q: lang %q, want %q", tc.url, tc.cookie, got, tc.want)
		}
	}
}

func TestTr(t *testing.T) {
	b, err := NewBundle(fstest.MapFS{"locales/bg.json": {Data: []byte(`{"n": "{{.N}} преписки"}`)}, "locales/en.json": {Data: []byte(`{"n": "{{.N}} dossiers"}`)}})
	if err != nil {
		t.Fatal(err)
	}
	if got := NewTr(b, "en").T("n", "N", 3); got != "3 dossiers" {
		t.Errorf("T = %q", got)
	}
	if got := NewTr(b, "bg").T("skip.link"); got != "Към основното съдържание" {
		t.Errorf("shell message in bg = %q", got)
	}
	if got := NewTr(b, "en").T("no.such.id"); got != "no.such.id" {
		t.Errorf("missing id = %q, want the id", got)
	}
}

// testShell renders one page template with every component, for the tests below.
func testShell(t testing.TB) (*Shell, http.Handler) {
	t.Helper()
	s, err := New("nav.label", "/")
	if err != nil {
		t.Fatal(err)
	}
	pages := fstest.MapFS{"p.html": {Data: []byte(`{{define "content"}}{{template "error-summary" .Data}}<h1>{{.Title}}</h1>{{template "form" .Data}}{{end}}`)}}
	tmpl, err := s.Template(pages, "p.html")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+AssetPrefix, s.Assets().Handler())
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		tr := s.Tr(r)
		f := NewForm(tr, "/", "OK",
			Field{Name: "name", Label: "Name", Hint: "As on your card"},
			Field{Name: "way", Label: "Way", Type: "radios", Options: []Option{{"a", "A"}, {"b", "B"}}})
		code := http.StatusOK
		p := &Page{Tr: tr, Title: "T", User: &User{Name: "Мария Иванова"}}
		if r.Method == http.MethodPost {
			f.Set("name", "Enter your name")
			f.Set("way", "Choose a way")
			code, p.Failed = http.StatusUnprocessableEntity, true
		}
		p.Data = f
		s.Render(w, r, code, tmpl, p)
	})
	return s, Secure(mux)
}

func get(t *testing.T, h http.Handler, r *http.Request) (*http.Response, string) {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	res := w.Result()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestSecurityHeadersOnEveryAnswer(t *testing.T) {
	s, h := testShell(t)
	for _, path := range []string{"/", "/anything", s.Assets().URL("app.css"), AssetPrefix + "nope.css"} {
		res, _ := get(t, h, httptest.NewRequest("GET", path, nil))
		for name, want := range map[string]string{
			"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
		} {
			if got := res.Header.Get(name); got != want {
				t.Errorf("%s: %s = %q, want %q", path, name, got, want)
			}
		}
		if !strings.Contains(res.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("%s: CSP lacks frame-ancestors 'none'", path)
		}
		if res.Header.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS sent over plain HTTP", path)
		}
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.TLS = &tls.ConnectionState{}
	if res, _ := get(t, h, r); !strings.HasPrefix(res.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Error("no HSTS over TLS")
	}
}

func TestNothingInline(t *testing.T) {
	_, h := testShell(t)
	_, body := get(t, h, httptest.NewRequest("GET", "/", nil))
	if bad := regexp.MustCompile(`<script|<style|\sstyle=|\son[a-z]+=`).FindString(body); bad != "" {
		t.Errorf("page holds %q, which the CSP would block", bad)
	}
}

func TestCrossOriginPostRefused(t *testing.T) {
	_, h := testShell(t)
	for _, tc := range []struct {
		name   string
		header map[string]string
		want   int
	}{
		{"cross-site fetch", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"same-site other origin", map[string]string{"Sec-Fetch-Site": "same-site"}, http.StatusForbidden},
		{"other Origin, no Sec-Fetch-Site", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"same origin", map[string]string{"Sec-Fetch-Site": "same-origin"}, http.StatusUnprocessableEntity},
		{"no browser headers", nil, http.StatusUnprocessableEntity},
	} {
		r := httptest.NewRequest("POST", "http://portal.example/", strings.NewReader(url.Values{"name": {""}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range tc.header {
			r.Header.Set(k, v)
		}
		res, _ := get(t, h, r)
		if res.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, res.StatusCode, tc.want)
		}
		if res.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("%s: no CSP on the answer", tc.name)
		}
	}
}

func TestFailedSubmitPage(t *testing.T) {
	_, h := testShell(t)
	r := httptest.NewRequest("POST", "/?lang=en", strings.NewReader(""))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, body := get(t, h, r)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", res.StatusCode)
	}
	for _, want := range []string{
		`<title>Error: T – Main navigation</title>`,
		`id="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex="-1" autofocus`,
		`<h2 class="error-summary-title" id="error-summary-title">There is a problem</h2>`,
		`<li><a href="#f-name">Enter your name</a></li>`,
		`<li><a href="#f-way-0">Choose a way</a></li>`,
		`aria-describedby="f-name-hint f-name-error" aria-invalid="true"`,
		`<p id="f-name-error" class="error-message"><span class="visually-hidden">Error:</span> Enter your name</p>`,
		`<fieldset class="fieldset" aria-describedby=" f-way-0-error">`,
		`id="f-way-0" name="way" value="a" aria-invalid="true"`,
		`<html lang="en">`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Index(body, "error-summary") > strings.Index(body, "<h1>") {
		t.Error("the error summary is not above the heading")
	}
}

func TestLayout(t *testing.T) {
	s, h := testShell(t)
	res, body := get(t, h, httptest.NewRequest("GET", "/x?a=1&lang=en", nil))
	for _, want := range []string{
		`<a class="skip-link" href="#main">Skip to main content</a>`,
		`<main id="main" class="main" tabindex="-1">`,
		`<span class="header-user">Мария Иванова</span>`,
		`<form method="post" action="/sign-out" class="inline-form"><button type="submit" class="button-link">Sign out</button></form>`,
		`<a class="lang-switch" href="/x?a=1&amp;lang=bg" hreflang="bg" lang="bg">Български</a>`,
		`<link rel="stylesheet" href="` + s.Assets().URL("app.css") + `">`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	var lang *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == LangCookie {
			lang = c
		}
	}
	if lang == nil || lang.Value != "en" || !lang.HttpOnly || lang.SameSite != http.SameSiteLaxMode {
		t.Errorf("the switch did not remember English: %+v", lang)
	}
	if res.Header.Get("Content-Language") != "en" {
		t.Errorf("Content-Language %q", res.Header.Get("Content-Language"))
	}
}

func TestAssets(t *testing.T) {
	s, h := testShell(t)
	u := s.Assets().URL("app.css")
	if !strings.HasPrefix(u, "/assets/app.") || len(u) != len("/assets/app.0123456789.css") {
		t.Fatalf("asset URL %q has no content hash", u)
	}
	res, body := get(t, h, httptest.NewRequest("GET", u, nil))
	if res.StatusCode != 200 || !strings.Contains(body, ":focus") {
		t.Fatalf("asset: %d", res.StatusCode)
	}
	if got := res.Header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
		t.Errorf("Cache-Control %q", got)
	}
	if got := res.Header.Get("Content-Type"); !strings.HasPrefix(got, "text/css") {
		t.Errorf("Content-Type %q", got)
	}
	if res, _ := get(t, h, httptest.NewRequest("GET", "/assets/app.css", nil)); res.StatusCode != 404 {
		t.Errorf("the unhashed name is served (%d): a browser would keep an old copy a year", res.StatusCode)
	}
}

func TestTableLinks(t *testing.T) {
	tb := Table{Sort: "number", Base: url.Values{"status": {"done"}, "page": {"3"}}}
	for _, tc := range []struct{ key, url, aria string }{
		{"number", "?dir=desc&sort=number&status=done", "ascending"},
		{"date", "?sort=date&status=done", "none"},
	} {
		if got := tb.SortURL(tc.key); got != tc.url {
			t.Errorf("SortURL(%s) = %s, want %s", tc.key, got, tc.url)
		}
		if got := tb.AriaSort(tc.key); got != tc.aria {
			t.Errorf("AriaSort(%s) = %s, want %s", tc.key, got, tc.aria)
		}
	}
	tb.Desc = true
	if got := tb.SortURL("number"); got != "?sort=number&status=done" {
		t.Errorf("descending column sorts ascending next: %s", got)
	}
	p := Pagination{Page: 2, Pages: 3, Base: url.Values{"sort": {"number"}}}
	if p.PrevURL() != "?page=1&sort=number" || p.NextURL() != "?page=3&sort=number" {
		t.Errorf("pagination links %s %s", p.PrevURL(), p.NextURL())
	}
	if l := p.Links(); len(l) != 3 || !l[1].Current || l[0].Current {
		t.Errorf("links %+v", l)
	}
}

func TestCSPFormActionAllowsOnlyTheTargetsOrigin(t *testing.T) {
	got := CSPFormAction("https://eauth.example.bg/SingleSignOnService?x=1", "javascript:alert(1)", "not a url")
	if !strings.Contains(got, "form-action 'self' https://eauth.example.bg;") || strings.Contains(got, "javascript") ||
		strings.Replace(got, " https://eauth.example.bg", "", 1) != CSP {
		t.Errorf("CSPFormAction = %q", got)
	}
}

func TestSecureLetsOnlyTheNamedPatternsTakeCrossSitePosts(t *testing.T) {
	mux := http.NewServeMux()
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("taken")) })
	mux.Handle("POST /acs", ok)
	mux.Handle("POST /form", ok)
	h := Secure(mux, "POST /acs")
	for path, want := range map[string]int{"/acs": 200, "/form": 403} {
		r := httptest.NewRequest("POST", path, strings.NewReader("a=b"))
		r.Header.Set("Sec-Fetch-Site", "cross-site")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != want {
			t.Errorf("cross-site POST %s: %d, want %d", path, w.Code, want)
		}
	}
}
