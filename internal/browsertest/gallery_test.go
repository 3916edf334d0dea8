package browsertest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/aiskao/aiskao/web/gallery"
)

// bin is the aiskao binary TestMain builds: the tests drive the real command.
var bin string

func TestMain(m *testing.M) {
	if !Wanted() {
		os.Exit(m.Run()) // every test skips, saying why
	}
	dir, err := os.MkdirTemp("", "browsertest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin, err = Binary(dir, "github.com/aiskao/aiskao/cmd/aiskao")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// startGallery starts `aiskao web gallery` on a free port and returns its address.
func startGallery(t *testing.T) string {
	t.Helper()
	Chromium(t) // skip before building anything when there is no browser
	return Start(t, bin, "web", "gallery", "-listen", "127.0.0.1:0")
}

// shotName turns a gallery path into a file name.
func shotName(path, lang string) string {
	name := strings.Trim(path, "/")
	if name == "" {
		name = "index"
	}
	return name + "-" + lang
}

func evalString(t *testing.T, ctx context.Context, js string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return s
}

// TestGalleryPages checks every gallery page in both languages: the lang attribute, no
// policy violation, no WCAG 2.1 A or AA violation, every control reachable by Tab with a
// visible focus; and shoots it at desktop and phone widths.
func TestGalleryPages(t *testing.T) {
	base := startGallery(t)
	ctx := Browser(t)
	for _, lang := range []string{"bg", "en"} {
		for _, path := range gallery.Pages {
			t.Run(shotName(path, lang), func(t *testing.T) {
				Open(t, ctx, base+path+"?lang="+lang)
				if got := evalString(t, ctx, "document.documentElement.lang"); got != lang {
					t.Errorf("html lang = %q, want %q", got, lang)
				}
				Axe(t, ctx)
				Keyboard(t, ctx)
				Screenshots(t, ctx, ScreenDir(t), shotName(path, lang))
				if path == "/confirmation" || path == "/check-answers" {
					PrintScreenshot(t, ctx, ScreenDir(t), shotName(path, lang))
				}
			})
		}
	}
}

// TestGalleryQuestionFlow submits the question page empty, then filled: the failed submit
// shows the error summary, focused, linking to every field in error; the filled one leads to
// check answers and the confirmation with its reference number.
func TestGalleryQuestionFlow(t *testing.T) {
	base := startGallery(t)
	ctx := Browser(t)
	for _, lang := range []string{"bg", "en"} {
		t.Run(lang, func(t *testing.T) {
			Open(t, ctx, base+"/question?lang="+lang)
			resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS("form button[type=submit]")))
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != http.StatusUnprocessableEntity {
				t.Errorf("empty submit answered %d, want 422", resp.Status)
			}
			CSPClean(t, ctx)
			// The browser runs autofocus at its next rendering step, a moment after the load.
			got := ""
			for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				if got = evalString(t, ctx, "document.activeElement.id"); got == "error-summary" {
					break
				}
			}
			if got != "error-summary" {
				t.Errorf("focus after a failed submit is on %q, want the error summary", got)
			}
			prefix := map[string]string{"bg": "Грешка: ", "en": "Error: "}[lang]
			if got := evalString(t, ctx, "document.title"); !strings.HasPrefix(got, prefix) {
				t.Errorf("title %q does not start with %q", got, prefix)
			}
			// Every link of the summary names a field that is there and marked invalid.
			bad := evalString(t, ctx, `JSON.stringify([...document.querySelectorAll('.error-summary a')].map(a => a.getAttribute('href').slice(1)).filter(id => { const el = document.getElementById(id); return !el || el.getAttribute('aria-invalid') !== 'true' || !(el.getAttribute('aria-describedby') || el.closest('fieldset')?.getAttribute('aria-describedby') || '').includes('-error'); }))`)
			if bad != "[]" {
				t.Errorf("error summary links to fields missing or not marked: %s", bad)
			}
			if n := evalString(t, ctx, `String(document.querySelectorAll('.error-summary a').length)`); n != "4" {
				t.Errorf("error summary has %s links, want 4 (name, email, delivery, declaration)", n)
			}
			Axe(t, ctx)
			Screenshots(t, ctx, ScreenDir(t), "question-errors-"+lang)

			if err := chromedp.Do(ctx,
				chromedp.SendKeys(chromedp.ID("f-name"), "Мария Иванова"),
				chromedp.SendKeys(chromedp.ID("f-email"), "maria@example.bg"),
				chromedp.Click(chromedp.ID("f-delivery-1")),
				chromedp.Click(chromedp.ID("f-agree")),
			); err != nil {
				t.Fatal(err)
			}
			if resp, err = chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS("form button[type=submit]"))); err != nil {
				t.Fatal(err)
			}
			if resp.Status != http.StatusOK {
				t.Fatalf("filled submit answered %d", resp.Status)
			}
			if got := evalString(t, ctx, "document.querySelector('.summary-list').innerText"); !strings.Contains(got, "maria@example.bg") {
				t.Errorf("check answers does not show the email given: %q", got)
			}
			Axe(t, ctx)
			if _, err = chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS("main form button[type=submit]"))); err != nil {
				t.Fatal(err)
			}
			if got := evalString(t, ctx, "document.querySelector('.panel-ref').innerText"); got != "ЗАО-2026-000123" {
				t.Errorf("confirmation shows reference %q", got)
			}
			CSPClean(t, ctx)
		})
	}
}

// TestGalleryLanguageSwitch follows the switch link and expects the next pages, without the
// query, to stay in the language chosen.
func TestGalleryLanguageSwitch(t *testing.T) {
	base := startGallery(t)
	ctx := Browser(t)
	Open(t, ctx, base+"/table?lang=bg")
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS("a.lang-switch"))); err != nil {
		t.Fatal(err)
	}
	if got := evalString(t, ctx, "document.documentElement.lang"); got != "en" {
		t.Fatalf("after the switch lang = %q, want en", got)
	}
	Open(t, ctx, base+"/tasks")
	if got := evalString(t, ctx, "document.documentElement.lang"); got != "en" {
		t.Errorf("the next page forgot the language: lang = %q", got)
	}
	if got := evalString(t, ctx, "document.querySelector('h1').innerText"); got != "Your application" {
		t.Errorf("h1 = %q", got)
	}
}

// TestGallerySorting sorts the table by a heading link and pages through it.
func TestGallerySorting(t *testing.T) {
	base := startGallery(t)
	ctx := Browser(t)
	Open(t, ctx, base+"/table?lang=en&status=done")
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`th[aria-sort] a[href*="sort=number"]`))); err != nil {
		t.Fatal(err)
	}
	got := evalString(t, ctx, `JSON.stringify([document.querySelector('th[aria-sort=ascending]')?.innerText, [...document.querySelectorAll('tbody tr')].map(r => r.cells[2].innerText)])`)
	if !strings.HasPrefix(got, `["Number`) || strings.Contains(got, "In progress") {
		t.Errorf("sorted by number and filtered to completed, got %s", got)
	}
	first := evalString(t, ctx, `document.querySelector('tbody tr td').innerText`)
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`th[aria-sort=ascending] a`))); err != nil {
		t.Fatal(err)
	}
	if got := evalString(t, ctx, `document.querySelector('th[aria-sort=descending]')?.innerText || ''`); !strings.HasPrefix(got, "Number") {
		t.Errorf("the second click did not sort descending: %q", got)
	}
	if last := evalString(t, ctx, `document.querySelector('tbody tr td').innerText`); last <= first {
		t.Errorf("descending order starts with %s, ascending with %s", last, first)
	}
}

// TestCrossOriginPostRefused posts the gallery's form from a page of another origin through
// a real browser, and from a client claiming another origin; both are refused with 403, while
// the same form from the gallery itself is taken.
func TestCrossOriginPostRefused(t *testing.T) {
	base := startGallery(t)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!DOCTYPE html><html lang="en"><title>elsewhere</title><form method="post" action="%s/question"><input name="name" value="x"><button id="go">go</button></form>`, base)
	}))
	defer other.Close()
	ctx := Browser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(other.URL)); err != nil {
		t.Fatal(err)
	}
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("go")))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusForbidden {
		t.Errorf("a cross-origin form POST from the browser answered %d, want 403", resp.Status)
	}

	req, _ := http.NewRequest(http.MethodPost, base+"/question", strings.NewReader("name=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("a POST with Sec-Fetch-Site: cross-site answered %d, want 403", res.StatusCode)
	}
	if res.Header.Get("Content-Security-Policy") == "" {
		t.Error("the refusal has no Content-Security-Policy")
	}
}
