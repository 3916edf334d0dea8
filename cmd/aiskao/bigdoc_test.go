package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestFiftyMegabyteDocument posts a 50 MB ЕСОЕД document (the sample grown by its attachment) to
// the demo's inbound with max_body raised to 64 MiB, and checks that the real binary delivers it
// with a peak RSS of at most three times its size. It takes some seconds and much memory, so it
// runs only with AISKAO_TEST_BIG_DOCUMENT=1:
//
//	AISKAO_TEST_BIG_DOCUMENT=1 go test -count=1 -run FiftyMegabyte -v ./cmd/aiskao/
func TestFiftyMegabyteDocument(t *testing.T) {
	if os.Getenv("AISKAO_TEST_BIG_DOCUMENT") == "" {
		t.Skip("set AISKAO_TEST_BIG_DOCUMENT=1 to post a 50 MB document to the binary")
	}
	const size = 50 << 20
	doc, err := sizedSample(readSample(t, "registration-request.xml"), size)
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	h := startHub(t, demoWithMaxBody(t, "64MiB"), data, "", "")
	idle := peakRSS(t, h.cmd.Process.Pid)
	start := time.Now()
	status, id, err := h.post(doc)
	if err != nil || status != http.StatusAccepted {
		t.Fatalf("POST of %d bytes: status %d, err %v", len(doc), status, err)
	}
	accepted := time.Since(start)
	out := waitFile(t, "the document delivered", filepath.Join(data, "out", "esoed-inbox", id+".json"), 2*time.Minute)
	rss := peakRSS(t, h.cmd.Process.Pid)
	t.Logf("%d-byte document accepted in %v, delivered (%d bytes of JSON) in %v; peak RSS %d MiB (%.2f× the document; %d MiB before the POST)",
		len(doc), accepted.Round(time.Millisecond), len(out), time.Since(start).Round(time.Millisecond), rss>>20, float64(rss)/float64(len(doc)), idle>>20)
	if rss > 3*int64(len(doc)) {
		t.Errorf("peak RSS %d MiB, want at most %d MiB (3× the document)", rss>>20, 3*len(doc)>>20)
	}
}

// demoWithMaxBody returns a copy of the demo's configuration whose ЕСОЕД inbound takes bodies up
// to maxBody, in a folder that links the files the demo refers to.
func demoWithMaxBody(t *testing.T, maxBody string) string {
	t.Helper()
	src := filepath.Join("..", "..", "configs")
	dir := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == "demo.yaml" {
			continue
		}
		abs, err := filepath.Abs(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(abs, filepath.Join(dir, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(filepath.Join(src, "demo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const at = "    path: /esoed/documents\n"
	if !strings.Contains(string(raw), at) {
		t.Fatalf("the demo has no %q to raise max_body at", strings.TrimSpace(at))
	}
	text := strings.Replace(string(raw), at, at+"    max_body: "+maxBody+"\n", 1)
	file := filepath.Join(dir, "demo.yaml")
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}
