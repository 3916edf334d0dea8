package sftpconn

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/aiskao/aiskao/internal/testsshd"
)

// server is the test's sshd.
type server struct {
	addr, user, dir, keyFile, knownHosts string
	pid                                  int
}

func startSSHD(t *testing.T) *server {
	t.Helper()
	s := testsshd.Start(t)
	return &server{addr: s.Addr, user: s.User, dir: s.Dir, keyFile: s.KeyFile, knownHosts: s.KnownHosts, pid: s.PID}
}

// config returns options that log in to s with the client key and check its host key.
func (s *server) config() Config {
	return Config{Address: s.addr, User: s.user, KeyFile: s.keyFile, KnownHosts: s.knownHosts, Dir: s.dir}
}

// put writes a file into the server's folder, as a sender dropping it there.
func (s *server) put(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(s.dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// folder makes the folder name in the server's folder and returns its path.
func (s *server) folder(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join(s.dir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
