// Package browsertest drives Debian's Chromium through chromedp for the web applications'
// tests: it starts the real binary, loads its pages, runs axe-core on them and fails on any
// WCAG 2.1 A or AA violation, walks each page with the Tab key to check every control is
// reachable with a visible focus, and saves full-page screenshots at desktop and phone widths.
//
// Tests skip with a message when Chromium is not installed, unless the environment variable CI
// is set: there a missing browser fails.
package browsertest

import (
	"bufio"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

//go:embed axe/axe.min.js
var axeSource string

// Widths at which pages are shot: a desktop and a phone (an iPhone 12 to 15 is 390 CSS pixels).
const (
	DesktopWidth = 1280
	PhoneWidth   = 390
)

// Chromium returns the path of the browser: $CHROMIUM if set, else chromium or chromium-browser
// on PATH. It skips t when there is none, and fails it when CI is set.
func Chromium(t testing.TB) string {
	t.Helper()
	if p := chromiumPath(); p != "" {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatal("browsertest: chromium is not installed (apt-get install chromium); CI is set, so the browser tests cannot be skipped")
	}
	t.Skip("browsertest: chromium is not installed (apt-get install chromium, or set CHROMIUM); skipping the browser tests")
	return ""
}

// chromiumPath returns where the browser is, or "".
func chromiumPath() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Wanted reports whether browser tests will run here: Chromium is installed, or CI is set (and
// its absence fails them). A TestMain skips building what only they need when it is false.
func Wanted() bool { return chromiumPath() != "" || os.Getenv("CI") != "" }

// cspWatch collects the Content-Security-Policy violations of every document the tab loads; it
// runs before the page's own content, outside the page's policy.
const cspWatch = `window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sourceFile || '') + ':' + e.lineNumber));`

// Browser starts Chromium headless and returns a context for one tab, which ends with the test.
func Browser(t testing.TB) context.Context {
	t.Helper()
	path := Chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // tests may run as root, where Chromium's sandbox refuses to start
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("font-render-hinting", "none"),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.WindowSize(DesktopWidth, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspWatch}); err != nil {
			return err
		}
		// A headless tab is not the focused window: without this, :focus styles would show only
		// after a key press, and a screenshot would never show where the focus is.
		_, err := cdp.Call(ctx, tg, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true})
		return err
	}))
	if err != nil {
		t.Fatalf("browsertest: start chromium %s: %v", path, err)
	}
	return ctx
}

// Binary builds the command pkg (an import path) into dir and returns the file's path.
func Binary(dir, pkg string) (string, error) {
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("browsertest: go build %s: %w\n%s", pkg, err, b)
	}
	return out, nil
}

var urlPattern = regexp.MustCompile(`https?://[^\s)]+`)

// Start runs bin with args, waits for the first address it prints on stdout (as `aiskao web
// gallery -listen 127.0.0.1:0` does) and returns it; the process is stopped with the test.
func Start(t testing.TB, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("browsertest: start %s: %v", bin, err)
	}
	t.Cleanup(func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() })
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u := urlPattern.FindString(sc.Text()); u != "" {
				found <- u
				break
			}
		}
		io.Copy(io.Discard, out)
	}()
	select {
	case u := <-found:
		return u
	case <-time.After(30 * time.Second):
		t.Fatalf("browsertest: %s %v printed no address in 30s", bin, args)
	}
	return ""
}

// Open loads url in the tab at desktop width and fails t on a CSP violation while loading.
func Open(t testing.TB, ctx context.Context, url string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(DesktopWidth, 900), chromedp.Navigate(url)); err != nil {
		t.Fatalf("browsertest: open %s: %v", url, err)
	}
	CSPClean(t, ctx)
}

// CSPClean fails t for every Content-Security-Policy violation of the document in the tab.
func CSPClean(t testing.TB, ctx context.Context) {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__csp || []`))
	if err != nil {
		t.Fatalf("browsertest: read CSP violations: %v", err)
	}
	for _, s := range v {
		t.Errorf("Content-Security-Policy violation: %s", s)
	}
}

// axeResult is the part of axe.run's result a test reports.
type axeResult struct {
	Violations []struct {
		ID     string `json:"id"`
		Impact string `json:"impact"`
		Help   string `json:"help"`
		URL    string `json:"helpUrl"`
		Nodes  []struct {
			Target  []any  `json:"target"`
			Summary string `json:"failureSummary"`
		} `json:"nodes"`
	} `json:"violations"`
	Passes []json.RawMessage `json:"passes"`
}

// WCAG21AA are the axe-core rule tags of WCAG 2.1 levels A and AA.
var WCAG21AA = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa"}

// Axe runs axe-core on the document in the tab and fails t for every WCAG 2.1 A or AA
// violation, with its id, impact, the elements and the help.
func Axe(t testing.TB, ctx context.Context) {
	t.Helper()
	tags, _ := json.Marshal(WCAG21AA)
	// axe-core goes in through the protocol, which the page's policy does not govern.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](axeSource+"\n;undefined")); err != nil {
		t.Fatalf("browsertest: inject axe-core: %v", err)
	}
	script := `(async () => {
const r = await axe.run(document, {runOnly: {type: 'tag', values: ` + string(tags) + `}, resultTypes: ['violations']});
return JSON.stringify({violations: r.violations, passes: r.passes});
})()`
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](script, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("browsertest: run axe-core: %v", err)
	}
	var res axeResult
	if err := json.Unmarshal([]byte(raw), &res); err != nil {
		t.Fatalf("browsertest: read axe-core's result: %v", err)
	}
	if len(res.Passes) == 0 {
		t.Fatal("browsertest: axe-core checked nothing")
	}
	for _, v := range res.Violations {
		var where []string
		for _, n := range v.Nodes {
			where = append(where, fmt.Sprint(n.Target))
		}
		t.Errorf("axe %s (%s): %s\n  at %s\n  %s", v.ID, v.Impact, v.Help, strings.Join(where, ", "), v.URL)
	}
}

// focusProbe marks the page's tabbable elements with data-bt ids and records how each looks
// unfocused. Radios count once a group, as Tab reaches one radio of a group.
const focusProbe = `(() => {
const sig = el => { const s = getComputedStyle(el); return [s.outlineStyle, s.outlineWidth, s.outlineColor, s.boxShadow, s.backgroundColor, s.color].join('|'); };
const sel = 'a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';
const seen = new Set(); const out = [];
document.querySelectorAll(sel).forEach((el, i) => {
  const s = getComputedStyle(el);
  if (s.display === 'none' || s.visibility === 'hidden' || el.tabIndex < 0) return;
  if (el.type === 'radio') { if (seen.has(el.name)) return; seen.add(el.name); el.dataset.btGroup = el.name; }
  el.dataset.bt = i;
  out.push({id: String(i), group: el.type === 'radio' ? el.name : '', what: el.outerHTML.slice(0, 80), sig: sig(el)});
});
if (document.activeElement) document.activeElement.blur();
window.__sig = sig;
return JSON.stringify(out);
})()`

// focusNow describes the focused element: its data-bt id (or its radio group) and how it looks.
const focusNow = `(() => {
const el = document.activeElement;
if (!el || el === document.body) return JSON.stringify({id: ''});
const s = getComputedStyle(el);
const r = el.getBoundingClientRect();
return JSON.stringify({id: el.dataset.bt || '', group: el.type === 'radio' ? el.name : '', what: el.outerHTML.slice(0, 80), sig: window.__sig(el),
  outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2, shadow: s.boxShadow !== 'none',
  inView: r.width > 0 && r.height > 0 && r.right > 0 && r.bottom > 0 && r.left < innerWidth && r.top < innerHeight});
})()`

type focusable struct {
	ID, Group, What, Sig    string
	Outline, Shadow, InView bool
}

// Keyboard presses Tab through the page in the tab from its start and fails t for a control
// Tab does not reach, and for one whose focus is not visible: focused, it must look different
// from unfocused, with an outline of 2px or more or a box shadow, inside the window (a skip
// link must come on screen).
func Keyboard(t testing.TB, ctx context.Context) {
	t.Helper()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](focusProbe))
	if err != nil {
		t.Fatalf("browsertest: list focusable elements: %v", err)
	}
	var want []focusable
	if err := json.Unmarshal([]byte(raw), &want); err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 {
		t.Fatal("browsertest: the page has nothing to focus; not even the skip link")
	}
	reached := map[string]focusable{}
	for range len(want) + 2 {
		if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
			t.Fatalf("browsertest: press Tab: %v", err)
		}
		raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](focusNow))
		if err != nil {
			t.Fatalf("browsertest: read focus: %v", err)
		}
		var f focusable
		if err := json.Unmarshal([]byte(raw), &f); err != nil {
			t.Fatal(err)
		}
		if f.Group != "" {
			f.ID = "radio:" + f.Group
		}
		if f.ID != "" {
			reached[f.ID] = f
		}
	}
	// Leave the page as it opened, not focused wherever the walk ended.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`document.activeElement?.blur(); window.scrollTo(0, 0)`)); err != nil {
		t.Fatalf("browsertest: end the keyboard walk: %v", err)
	}
	for _, w := range want {
		key := w.ID
		if w.Group != "" {
			key = "radio:" + w.Group
		}
		f, ok := reached[key]
		switch {
		case !ok:
			t.Errorf("keyboard: Tab does not reach %s", w.What)
		case f.Sig == w.Sig && w.Group == "":
			t.Errorf("keyboard: %s looks the same focused as unfocused (%s)", w.What, f.Sig)
		case !f.Outline && !f.Shadow:
			t.Errorf("keyboard: %s has no visible focus indicator (%s)", w.What, f.Sig)
		case !f.InView:
			t.Errorf("keyboard: %s is focused outside the window, where nobody sees it", w.What)
		}
	}
}

// Screenshots saves full-page PNGs of the document in the tab at desktop and phone widths in
// dir, as name-desktop.png and name-phone.png, and leaves the tab at desktop width.
func Screenshots(t testing.TB, ctx context.Context, dir, name string) {
	t.Helper()
	// The picture is of the page from its top, with the focus where it is (the error summary
	// after a failed submit).
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`)); err != nil {
		t.Fatalf("browsertest: reset the page before the screenshot: %v", err)
	}
	for _, s := range []struct {
		suffix string
		width  int64
		mobile bool
	}{{"desktop", DesktopWidth, false}, {"phone", PhoneWidth, true}} {
		vp := []chromedp.EmulateViewportOption{chromedp.EmulatePortrait}
		if s.mobile {
			vp = append(vp, chromedp.EmulateMobile)
		}
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(s.width, 800, vp...)); err != nil {
			t.Fatalf("browsertest: set width %d: %v", s.width, err)
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("browsertest: screenshot: %v", err)
		}
		file := filepath.Join(dir, name+"-"+s.suffix+".png")
		if err := os.WriteFile(file, png, 0o644); err != nil {
			t.Fatalf("browsertest: save screenshot: %v", err)
		}
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(DesktopWidth, 900)); err != nil {
		t.Fatal(err)
	}
}

// PrintScreenshot saves a full-page PNG of the document in the tab as printed (print media, A4
// width) in dir as name-print.png, for the pages people print: a receipt, a dossier's summary.
func PrintScreenshot(t testing.TB, ctx context.Context, dir, name string) {
	t.Helper()
	media := func(m string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: m})
			return err
		})
	}
	// 794 CSS pixels is A4's width at 96 dpi.
	if err := chromedp.Do(ctx, media("print"), chromedp.EmulateViewport(794, 1123)); err != nil {
		t.Fatalf("browsertest: print media: %v", err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("browsertest: screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+"-print.png"), png, 0o644); err != nil {
		t.Fatalf("browsertest: save screenshot: %v", err)
	}
	if err := chromedp.Do(ctx, media(""), chromedp.EmulateViewport(DesktopWidth, 900)); err != nil {
		t.Fatal(err)
	}
}

// ScreenDir returns where t saves screenshots: $SCREENSHOTS/<test name> when set (to keep and
// look at them), else the test's artifact folder (kept with go test -artifacts).
func ScreenDir(t *testing.T) string {
	if d := os.Getenv("SCREENSHOTS"); d != "" {
		dir := filepath.Join(d, strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.ArtifactDir()
}
