package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aiskao/aiskao/internal/testsshd"
)

// sftpConfig takes the partner's files from their SFTP server into a local folder, and sends the
// files of a local folder to their server.
const sftpConfig = `
transport: { type: embedded }
store: { type: sqlite }
ops: { listen: "${AISKAO_OPS_ADDR}" }
connectors:
  partner:
    { type: sftp, address: "@ADDR@", user: "@USER@", key_file: "@KEY@", known_hosts: "@KH@", dir: "@IN@", pattern: "*.xml", poll_interval: 100ms }
  inbox: { type: file, dir: inbox, name: '{{meta "filename"}}' }
  outbox: { type: file, dir: outbox, pattern: "*.xml", poll_interval: 100ms }
  partner-up:
    { type: sftp, address: "@ADDR@", user: "@USER@", key_file: "@KEY@", known_hosts: "@KH@", dir: "@UP@", name: '{{meta "filename"}}' }
routes:
  - { name: partner-in, from: partner, to: inbox }
  - { name: partner-out, from: outbox, to: partner-up }
`

// TestSFTPThroughTheBinary: files on a real sshd reach the hub's folder byte for byte, each once,
// with the hub killed with SIGKILL while taking them; files dropped locally reach the server.
func TestSFTPThroughTheBinary(t *testing.T) {
	srv := testsshd.Start(t)
	in, up := filepath.Join(srv.Dir, "in"), filepath.Join(srv.Dir, "up")
	for _, d := range []string{in, up} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	const n = 40
	want := map[string]string{}
	for i := range n {
		name := fmt.Sprintf("doc-%03d.xml", i)
		want[name] = fmt.Sprintf("<Документ номер=\"%d\">%s</Документ>\n", i, strings.Repeat("Ж", i*50))
		if err := os.WriteFile(filepath.Join(in, name), []byte(want[name]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	config := filepath.Join(dir, "sftp.yaml")
	text := strings.NewReplacer("@ADDR@", srv.Addr, "@USER@", srv.User, "@KEY@", srv.KeyFile, "@KH@", srv.KnownHosts,
		"@IN@", in, "@UP@", up).Replace(sftpConfig)
	if err := os.WriteFile(config, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	inbox := filepath.Join(data, "inbox")
	count := func(d string) int {
		entries, _ := os.ReadDir(d)
		c := 0
		for _, e := range entries {
			if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".xml") {
				c++
			}
		}
		return c
	}

	h := startHub(t, config, data, "", "")
	waitFor(t, "the first files", 60*time.Second, func() bool { return count(inbox) >= 3 })
	h.signal(syscall.SIGKILL)
	h.wait(10 * time.Second)
	if got := count(inbox); got >= n {
		t.Logf("all %d files were taken before the kill; the restart checks nothing is repeated", got)
	}
	h = startHub(t, config, data, "", "")
	waitFor(t, "every file", 60*time.Second, func() bool { return count(inbox) == n && count(in) == 0 })
	waitFor(t, "every file in done/", 60*time.Second, func() bool { return count(filepath.Join(in, "done")) == n })
	for name, body := range want {
		got, err := os.ReadFile(filepath.Join(inbox, name))
		if err != nil || string(got) != body {
			t.Errorf("%s: %d bytes, %v; want the %d bytes sent", name, len(got), err, len(body))
		}
		if _, err := os.Stat(filepath.Join(in, "done", name)); err != nil {
			t.Errorf("%s not in done/ under its own name: %v", name, err)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(in, "failed")); len(entries) != 0 {
		t.Errorf("files failed: %v", entries)
	}

	outbox := filepath.Join(data, "outbox")
	for i := range 5 {
		name := fmt.Sprintf("answer-%d.xml", i)
		tmp := filepath.Join(outbox, "."+name)
		if err := os.WriteFile(tmp, []byte(want[fmt.Sprintf("doc-%03d.xml", i)]), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(outbox, name)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the answers on the server", 60*time.Second, func() bool { return count(up) == 5 })
	entries, _ := os.ReadDir(up)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file left on the server: %s", e.Name())
		}
	}
	for i := range 5 {
		got, err := os.ReadFile(filepath.Join(up, fmt.Sprintf("answer-%d.xml", i)))
		if err != nil || string(got) != want[fmt.Sprintf("doc-%03d.xml", i)] {
			t.Errorf("answer-%d.xml: %q, %v", i, got, err)
		}
	}
	_ = h
}

// TestSFTPWrongHostKeyThroughTheBinary: a server whose host key is not the one in known_hosts
// gets nothing from the hub and takes nothing from it; the hub's log says why.
func TestSFTPWrongHostKeyThroughTheBinary(t *testing.T) {
	srv, other := testsshd.Start(t), testsshd.Start(t)
	in := filepath.Join(srv.Dir, "in")
	if err := os.MkdirAll(in, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(in, "doc.xml"), []byte("<doc/>"), 0o644); err != nil {
		t.Fatal(err)
	}
	// srv's address with other's key.
	kh, err := os.ReadFile(other.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	wrong := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(wrong, []byte(strings.Replace(string(kh), other.Addr[strings.LastIndex(other.Addr, ":"):], srv.Addr[strings.LastIndex(srv.Addr, ":"):], 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	config := filepath.Join(dir, "sftp.yaml")
	text := strings.NewReplacer("@ADDR@", srv.Addr, "@USER@", srv.User, "@KEY@", srv.KeyFile, "@KH@", wrong,
		"@IN@", in, "@UP@", srv.Dir).Replace(sftpConfig)
	if err := os.WriteFile(config, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	h := startHub(t, config, data, "", "")
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(h.log.String(), "key mismatch") {
		if time.Now().After(deadline) {
			t.Fatalf("no host key mismatch in the hub's log:\n%s", h.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(in, "doc.xml")); err != nil {
		t.Fatalf("the file was taken from a server with the wrong key: %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Join(data, "inbox")); len(entries) != 0 {
		t.Fatalf("files arrived from a server with the wrong key: %v", entries)
	}
}
