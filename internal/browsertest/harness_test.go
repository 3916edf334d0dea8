package browsertest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// recorder is a testing.TB that keeps the errors reported to it, to check that the harness
// finds what it must find.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// TestHarnessFindsFaults serves pages with known faults and expects the harness to report each:
// an image without text and an unlabelled input for axe-core, a link whose focus is invisible
// and one Tab cannot reach for the keyboard walk, an inline style for the CSP watch.
func TestHarnessFindsFaults(t *testing.T) {
	Chromium(t)
	pages := map[string]string{
		"/axe": `<!DOCTYPE html><html lang="en"><title>t</title><main><img src="/x.png"><input name="q"></main></html>`,
		"/focus": `<!DOCTYPE html><html lang="en"><head><title>t</title><link rel="stylesheet" href="/s.css"></head>` +
			`<main><a href="/a" id="plain">plain</a> <a href="/b" class="nofocus">hidden focus</a> <a href="/c" tabindex="-1">no tab</a><a href="/d" class="gone">gone</a><a href="/e" class="away">away</a></main></html>`,
		"/csp": `<!DOCTYPE html><html lang="en"><title>t</title><main><p style="color:red">inline</p></main></html>`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'")
		if r.URL.Path == "/s.css" {
			w.Header().Set("Content-Type", "text/css")
			io.WriteString(w, `a:focus { outline: 3px solid #fd0 } a.nofocus:focus { outline: none } .gone { display: none } .away { position: absolute; left: -9999px }`)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, pages[r.URL.Path])
	}))
	defer srv.Close()
	ctx := Browser(t)

	for _, tc := range []struct {
		path  string
		check func(testing.TB)
		want  []string
	}{
		{"/axe", func(tb testing.TB) { Axe(tb, ctx) }, []string{"axe image-alt (critical)", "axe label (critical)"}},
		{"/focus", func(tb testing.TB) { Keyboard(tb, ctx) }, []string{`hidden focus</a> looks the same focused as unfocused`, `away</a> is focused outside the window`}},
		{"/csp", func(tb testing.TB) { CSPClean(tb, ctx) }, []string{"Content-Security-Policy violation: style-src-attr inline"}},
	} {
		rec := &recorder{TB: t}
		Open(rec, ctx, srv.URL+tc.path)
		tc.check(rec)
		all := strings.Join(rec.errs, "\n")
		for _, w := range tc.want {
			if !strings.Contains(all, w) {
				t.Errorf("%s: the harness did not report %q; it reported:\n%s", tc.path, w, all)
			}
		}
		if tc.path == "/focus" && (strings.Contains(all, "plain") || strings.Contains(all, "gone") || strings.Contains(all, "no tab")) {
			t.Errorf("/focus: reported a link it should not have:\n%s", all)
		}
	}
}
