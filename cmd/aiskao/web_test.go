package main

import (
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/web"
)

// TestWebGalleryServesAndStops: aiskao web gallery listens, answers its pages in both languages
// with the security headers, refuses a cross-origin POST, and stops on SIGTERM with exit 0.
func TestWebGalleryServesAndStops(t *testing.T) {
	cmd := exec.Command(binary, "web", "gallery", "-listen", "127.0.0.1:0")
	line, err := startReadLine(t, cmd)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`listening on (http://\S+)`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("no address in %q", line)
	}
	for _, tc := range []struct{ path, want string }{
		{"/question", `<html lang="bg">`},
		{"/question?lang=en", `<html lang="en">`},
	} {
		resp, err := http.Get(m[1] + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), tc.want) {
			t.Errorf("%s: %d, want 200 and %s", tc.path, resp.StatusCode, tc.want)
		}
		if resp.Header.Get("Content-Security-Policy") != web.CSP {
			t.Errorf("%s: CSP %q", tc.path, resp.Header.Get("Content-Security-Policy"))
		}
	}
	req, _ := http.NewRequest("POST", m[1]+"/question", strings.NewReader("name=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://elsewhere.example")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin POST: %d, want 403", resp.StatusCode)
	}
	stopCleanly(t, cmd)
}

// TestWebGalleryHelp: `web gallery -h` exits 0 and shows -listen with its default; a stray
// word is a usage error.
func TestWebGalleryHelp(t *testing.T) {
	if out, code := cli(t, "web", "gallery", "-h"); code != 0 || !strings.Contains(out, "-listen") || !strings.Contains(out, webGalleryAddr) {
		t.Errorf("web gallery -h: exit %d, want 0 and -listen with its default:\n%s", code, out)
	}
	if out, code := cli(t, "web", "-h"); code != 0 || !strings.Contains(out, "aiskao web gallery") {
		t.Errorf("web -h: exit %d:\n%s", code, out)
	}
	if out, code := cli(t, "web", "gallery", "extra"); code != 2 {
		t.Errorf("web gallery extra: exit %d, want 2:\n%s", code, out)
	}
}
