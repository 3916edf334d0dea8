// Package testsshd starts a real OpenSSH server (Debian's openssh-server) for tests of SFTP
// clients: a non-daemon child on a free port with its own host key, configuration and
// authorized_keys in a temporary folder, stopped when the test ends.
package testsshd

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"testing"
	"time"

	"github.com/aiskao/aiskao/internal/freeport"
	"golang.org/x/crypto/ssh"
)

// Path is where Debian installs sshd.
const Path = "/usr/sbin/sshd"

// Server is an sshd started for one test, serving the local file system.
type Server struct {
	Addr       string // 127.0.0.1:port
	User       string // the account to log in as: the test's own
	Dir        string // an empty folder for the test's files, local and on the server alike
	KeyFile    string // the client's private key (OpenSSH form), authorised on the server
	KnownHosts string // a known_hosts file holding the server's host key
	PID        int    // sshd's process id
}

// WriteKey generates an ed25519 key, writes the private half to path in OpenSSH form and returns
// the public half.
func WriteKey(t *testing.T, path string) ssh.PublicKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

// Start runs sshd in the foreground on a free port with its own host key, configuration and
// authorized_keys in a temporary folder; it is stopped when the test ends.
func Start(t *testing.T) *Server {
	t.Helper()
	if _, err := os.Stat(Path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing; CI must install openssh-server", Path)
		}
		t.Skipf("%s is missing: install openssh-server to run the SFTP tests against a real server", Path)
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	hostPub := WriteKey(t, filepath.Join(tmp, "host_ed25519"))
	clientPub := WriteKey(t, filepath.Join(tmp, "client_ed25519"))
	if err := os.WriteFile(filepath.Join(tmp, "authorized_keys"), ssh.MarshalAuthorizedKey(clientPub), 0o600); err != nil {
		t.Fatal(err)
	}
	// A port no outgoing connection can take before sshd binds it (see package freeport).
	addr, err := freeport.Loopback()
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(addr)
	conf := fmt.Sprintf(`Port %s
ListenAddress 127.0.0.1
HostKey %s
AuthorizedKeysFile %s
PidFile %s
StrictModes no
PermitRootLogin yes
PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
UsePAM no
LogLevel ERROR
Subsystem sftp internal-sftp
`, port, filepath.Join(tmp, "host_ed25519"), filepath.Join(tmp, "authorized_keys"), filepath.Join(tmp, "sshd.pid"))
	if err := os.WriteFile(filepath.Join(tmp, "sshd_config"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("/run/sshd"); err != nil {
		_ = os.MkdirAll("/run/sshd", 0o755) // sshd's privilege separation folder
	}
	cmd := exec.Command(Path, "-f", filepath.Join(tmp, "sshd_config"), "-D", "-e")
	cmd.Stderr = &testWriter{t: t}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sshd: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd does not listen on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	kh := filepath.Join(tmp, "known_hosts")
	line := fmt.Sprintf("[127.0.0.1]:%s %s", port, ssh.MarshalAuthorizedKey(hostPub))
	if err := os.WriteFile(kh, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	files := filepath.Join(tmp, "files")
	if err := os.MkdirAll(files, 0o755); err != nil {
		t.Fatal(err)
	}
	return &Server{Addr: addr, User: u.Username, Dir: files, KeyFile: filepath.Join(tmp, "client_ed25519"), KnownHosts: kh,
		PID: cmd.Process.Pid}
}

type testWriter struct{ t *testing.T }

func (w *testWriter) Write(p []byte) (int, error) {
	w.t.Logf("sshd: %s", p)
	return len(p), nil
}
