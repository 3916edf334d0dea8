package gallery

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aiskao/aiskao/web"
)

func TestCataloguesAgree(t *testing.T) {
	for _, p := range web.CatalogueProblems(os.DirFS(".")) {
		t.Error(p)
	}
}

// TestEveryMessageIDExists looks for the ids the gallery's code and pages name and expects each
// in the shell's or the gallery's catalogue, in both languages.
func TestEveryMessageIDExists(t *testing.T) {
	ids := map[string]bool{}
	for _, lang := range []string{"bg", "en"} {
		for _, dir := range []string{"locales", "../locales"} {
			b, err := os.ReadFile(filepath.Join(dir, lang+".json"))
			if err != nil {
				t.Fatal(err)
			}
			m := map[string]string{}
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			for id := range m {
				ids[lang+":"+id] = true
			}
		}
	}
	used := regexp.MustCompile(`(?:\.T|tr\.T|p\.T)[ (]"([a-z][a-z0-9.]*[a-z0-9])"|\{"[^"]*", "([a-z]+\.[a-z.]+)"\}|task\("([a-z.]+)"`)
	files, _ := filepath.Glob("*.go")
	pages, _ := filepath.Glob("pages/*.html")
	shell, _ := filepath.Glob("../templates/*.html")
	var names []string
	for _, f := range append(append(files, pages...), shell...) {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range used.FindAllStringSubmatch(string(b), -1) {
			names = append(names, m[1]+m[2]+m[3])
		}
	}
	// The ids made at run time.
	for _, s := range append(slices.Clone(services), "gallery.app") {
		names = append(names, s)
	}
	for _, s := range statuses {
		names = append(names, "status."+s)
	}
	for _, id := range []string{"task.applicant", "task.documents", "task.fee", "task.sign"} {
		names = append(names, id+".hint")
	}
	if len(names) < 60 {
		t.Fatalf("found only %d message ids in use: the pattern no longer matches the code", len(names))
	}
	for _, id := range names {
		for _, lang := range []string{"bg", "en"} {
			if !ids[lang+":"+id] {
				t.Errorf("message %q is used but not in the %s catalogue", id, lang)
			}
		}
	}
}

func newGallery(t testing.TB) http.Handler {
	t.Helper()
	h, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func do(h http.Handler, method, target string, form url.Values) (*http.Response, string) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, target, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	b, _ := io.ReadAll(w.Result().Body)
	return w.Result(), string(b)
}

func TestEveryPageInBothLanguages(t *testing.T) {
	h := newGallery(t)
	for _, path := range append(slices.Clone(Pages), "/no-such-page") {
		for _, lang := range []string{"bg", "en"} {
			res, body := do(h, "GET", path+"?lang="+lang, nil)
			want := http.StatusOK
			if path == "/no-such-page" {
				want = http.StatusNotFound
			}
			if res.StatusCode != want {
				t.Errorf("%s %s: %d, want %d", path, lang, res.StatusCode, want)
			}
			if res.Header.Get("Content-Security-Policy") != web.CSP {
				t.Errorf("%s %s: no CSP", path, lang)
			}
			if !strings.Contains(body, `<html lang="`+lang+`">`) {
				t.Errorf("%s %s: not in %s", path, lang, lang)
			}
			// A message id left untranslated shows as itself; ids have dots and no spaces.
			if m := regexp.MustCompile(`>\s*([a-z]+\.[a-z.]+[a-z])\s*<`).FindStringSubmatch(body); m != nil {
				t.Errorf("%s %s: untranslated %q", path, lang, m[1])
			}
		}
	}
}

func TestQuestionValidation(t *testing.T) {
	h := newGallery(t)
	valid := url.Values{"name": {"Мария Иванова"}, "email": {"maria@example.bg"}, "delivery": {"post"}, "agree": {"yes"}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for kk, vv := range valid {
			f[kk] = vv
		}
		f.Set(k, v)
		return f
	}
	for _, tc := range []struct {
		name string
		form url.Values
		errs []string // the fields the summary must link to, in order
	}{
		{"empty", url.Values{}, []string{"f-name", "f-email", "f-delivery-0", "f-agree"}},
		{"bad email", with("email", "maria@"), []string{"f-email"}},
		{"email without domain", with("email", "maria@localhost"), []string{"f-email"}},
		{"name of spaces", with("name", "   "), []string{"f-name"}},
		{"unknown delivery", with("delivery", "pigeon"), []string{"f-delivery-0"}},
		{"details too long", with("details", strings.Repeat("я", maxDetails+1)), []string{"f-details"}},
		{"details at the limit", with("details", strings.Repeat("я", maxDetails)), nil},
		{"valid", valid, nil},
	} {
		res, body := do(h, "POST", "/question?lang=en", tc.form)
		links := regexp.MustCompile(`<li><a href="#([^"]+)">`).FindAllStringSubmatch(body, -1)
		var got []string
		for _, l := range links {
			got = append(got, l[1])
		}
		if !slices.Equal(got, tc.errs) {
			t.Errorf("%s: summary links %v, want %v", tc.name, got, tc.errs)
		}
		switch {
		case tc.errs == nil && (res.StatusCode != 200 || !strings.Contains(body, "Check your answers")):
			t.Errorf("%s: %d, not the check-answers page", tc.name, res.StatusCode)
		case tc.errs != nil && res.StatusCode != http.StatusUnprocessableEntity:
			t.Errorf("%s: %d, want 422", tc.name, res.StatusCode)
		}
	}
}

func TestConfirmRedirects(t *testing.T) {
	h := newGallery(t)
	res, _ := do(h, "POST", "/confirmation", url.Values{"name": {"x"}})
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/confirmation?ref=") {
		t.Fatalf("%d %s", res.StatusCode, res.Header.Get("Location"))
	}
	_, body := do(h, "GET", "/confirmation?ref=ЗАО-2026-000999", nil)
	if !strings.Contains(body, `<strong class="panel-ref">ЗАО-2026-000999</strong>`) {
		t.Error("the panel does not show the reference")
	}
}

func TestTable(t *testing.T) {
	h := newGallery(t)
	rowsOf := func(body string) [][]string {
		var out [][]string
		for _, tr := range regexp.MustCompile(`(?s)<tr><td.*?</tr>`).FindAllString(body, -1) {
			var cells []string
			for _, c := range regexp.MustCompile(`<td[^>]*>([^<]*)</td>`).FindAllStringSubmatch(tr, -1) {
				cells = append(cells, c[1])
			}
			out = append(out, cells)
		}
		return out
	}
	_, body := do(h, "GET", "/table?lang=en&sort=number", nil)
	rows := rowsOf(body)
	if len(rows) != perPage {
		t.Fatalf("%d rows on page 1, want %d", len(rows), perPage)
	}
	if !sort.SliceIsSorted(rows, func(i, j int) bool { return rows[i][0] < rows[j][0] }) {
		t.Errorf("not sorted by number: %v", rows)
	}
	if !strings.Contains(body, `aria-sort="ascending"><a class="sort-link" href="?dir=desc&amp;sort=number">`) {
		t.Error("the sorted column's link does not turn the order")
	}
	_, body = do(h, "GET", "/table?lang=en&sort=days&dir=desc&status=done&page=2", nil)
	rows = rowsOf(body)
	for _, r := range rows {
		if r[2] != "Completed" {
			t.Errorf("filter by status let through %v", r)
		}
	}
	if !strings.Contains(body, `<a href="?dir=desc&amp;page=2&amp;sort=days&amp;status=done" aria-current="page"`) {
		t.Error("pagination lost the filter or the sort, or marks the wrong page")
	}
	_, body = do(h, "GET", "/table?lang=en&q=permit", nil)
	if rows = rowsOf(body); len(rows) == 0 {
		t.Error("search found nothing")
	}
	for _, r := range rows {
		if r[1] != "Building permit" {
			t.Errorf("search let through %v", r)
		}
	}
	_, body = do(h, "GET", "/table?lang=en&page=99", nil)
	if !strings.Contains(body, `aria-current="page" class="current">5<`) || len(rowsOf(body)) != 7 {
		t.Error("a page past the end does not show the last page")
	}
}

// BenchmarkPages renders the gallery's pages for 50 concurrent users and reports the 50th and
// 99th percentile of a page's time (the aim: p99 under 100 ms on a 2-core machine).
func BenchmarkPages(b *testing.B) {
	h := newGallery(b)
	targets := []string{"/?lang=bg", "/question?lang=en", "/check-answers", "/table?sort=service&page=2", "/tasks?lang=en", "/banners"}
	const users = 50
	var mu sync.Mutex
	var times []time.Duration
	b.ResetTimer()
	var wg sync.WaitGroup
	next := make(chan int)
	for range users {
		wg.Go(func() {
			var mine []time.Duration
			for i := range next {
				start := time.Now()
				r := httptest.NewRequest("GET", targets[i%len(targets)], nil)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != 200 {
					b.Errorf("%s: %d", targets[i%len(targets)], w.Code)
				}
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			times = append(times, mine...)
			mu.Unlock()
		})
	}
	for i := range b.N {
		next <- i
	}
	close(next)
	wg.Wait()
	b.StopTimer()
	slices.Sort(times)
	pct := func(p float64) float64 { return float64(times[int(p*float64(len(times)-1))].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
