package sftpconn

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/connectors/connectortest"
	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/spec"
)

// newTestSink makes a sink of c named out, closed when the test ends.
func newTestSink(t *testing.T, c Config) *sink {
	t.Helper()
	s, err := newSink(&c, connectors.Env{Name: "out"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// newTestSource makes a source of c named in.
func newTestSource(t *testing.T, c Config) *source {
	t.Helper()
	src, err := newSource(&c, connectors.Env{Name: "in"})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func TestConfig(t *testing.T) {
	connectortest.CheckConfig(t, connectortest.ConfigCase{
		Zero:     &Config{},
		Defaults: func(cfg any) { _ = spec.FillDefaults(cfg) },
		Valid: &Config{Address: "h:22", User: "u", KeyFile: "k", KnownHosts: "kh", Dir: "/in", Timeout: spec.Duration(time.Second),
			Pattern: "*.xml", PollInterval: spec.Duration(time.Second), MaxSize: 1, After: "move", DoneDir: "done", FailedDir: "failed",
			Name: "{{id}}"},
	})
}

func TestConfigRefusals(t *testing.T) {
	base := Config{Address: "h:22", User: "u", KeyFile: "k", KnownHosts: "kh", Dir: "/in"}
	for _, tc := range []struct {
		name, field string
		edit        func(*Config)
	}{
		{"no known hosts", "known_hosts", func(c *Config) { c.KnownHosts = "" }},
		{"both host key choices", "insecure_ignore_host_key", func(c *Config) { c.InsecureIgnoreHostKey = true }},
		{"no way to log in", "key_file", func(c *Config) { c.KeyFile = "" }},
		{"two passwords", "password_file", func(c *Config) { c.Password, c.PasswordFile = "a", "b" }},
		{"no port", "address", func(c *Config) { c.Address = "h" }},
		{"pattern with slash", "pattern", func(c *Config) { c.Pattern = "a/*.xml" }},
		{"unknown after", "after", func(c *Config) { c.After = "keep" }},
		{"bad name", "name", func(c *Config) { c.Name = "{{" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			tc.edit(&c)
			_, err := options(&c)
			if err == nil || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("error %v, want one naming %s", err, tc.field)
			}
		})
	}
}

func TestSourceConformance(t *testing.T) {
	srv := startSSHD(t)
	connectortest.RunSource(t, connectortest.SourceCase{
		Timeout: 20 * time.Second,
		Quiet:   time.Second,
		New: func(t *testing.T) connectortest.SourceFixture {
			dir := srv.folder(t, strings.ReplaceAll(t.Name(), "/", "_"))
			c := srv.config()
			c.Dir, c.PollInterval = dir, spec.Duration(50*time.Millisecond)
			src := newTestSource(t, c)
			return connectortest.SourceFixture{Source: src, Put: func(ctx context.Context, p []byte) error {
				sum := sha256.Sum256(p)
				name := hex.EncodeToString(sum[:8]) + ".xml"
				if _, err := os.Stat(filepath.Join(dir, "done", name)); err == nil {
					return nil
				}
				if err := os.WriteFile(filepath.Join(dir, name), p, 0o644); err != nil {
					return err
				}
				for {
					if _, err := os.Stat(filepath.Join(dir, "done", name)); err == nil {
						return nil
					}
					select {
					case <-ctx.Done():
						_ = os.Remove(filepath.Join(dir, name))
						return ctx.Err()
					case <-time.After(20 * time.Millisecond):
					}
				}
			}}
		},
	})
}

// TestSourceMovesOrDeletes checks a file's message and what becomes of the file after it.
func TestSourceMovesOrDeletes(t *testing.T) {
	srv := startSSHD(t)
	for _, after := range []string{"move", "delete"} {
		t.Run(after, func(t *testing.T) {
			dir := srv.folder(t, after)
			want := []byte("<Заявление/>")
			if err := os.WriteFile(filepath.Join(dir, "a.xml"), want, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "skip.txt"), want, 0o644); err != nil {
				t.Fatal(err)
			}
			c := srv.config()
			c.Dir, c.Pattern, c.After, c.PollInterval = dir, "*.xml", after, spec.Duration(50*time.Millisecond)
			src := newTestSource(t, c)
			got := make(chan *message.Message, 4)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				done <- src.Run(ctx, func(_ context.Context, msgs ...*message.Message) error {
					for _, m := range msgs {
						got <- m
					}
					return nil
				})
			}()
			defer func() { cancel(); <-done }()
			select {
			case m := <-got:
				if !bytes.Equal(m.Payload, want) || m.Metadata.Get(MetaFilename) != "a.xml" ||
					m.Metadata.Get(envelope.ContentType) != "application/xml" {
					t.Fatalf("message %q %v", m.Payload, m.Metadata)
				}
			case <-time.After(15 * time.Second):
				t.Fatal("no message")
			}
			waitFor(t, func() bool {
				_, err := os.Stat(filepath.Join(dir, "a.xml"))
				return errors.Is(err, os.ErrNotExist)
			})
			_, err := os.Stat(filepath.Join(dir, "done", "a.xml"))
			if (after == "move") != (err == nil) {
				t.Fatalf("after %s: done/a.xml: %v", after, err)
			}
			if _, err := os.Stat(filepath.Join(dir, "skip.txt")); err != nil {
				t.Fatalf("a file not matching the pattern was touched: %v", err)
			}
		})
	}
}

// TestSourceKeepsFileWhenNotStored: a file whose message the hub could not store stays.
func TestSourceKeepsFileWhenNotStored(t *testing.T) {
	srv := startSSHD(t)
	srv.put(t, "a.xml", []byte("<a/>"))
	c := srv.config()
	c.PollInterval = spec.Duration(50 * time.Millisecond)
	src := newTestSource(t, c)
	var mu sync.Mutex
	tries := 0
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = src.Run(ctx, func(context.Context, ...*message.Message) error {
		mu.Lock()
		tries++
		mu.Unlock()
		return errors.New("store down")
	})
	if tries < 2 {
		t.Fatalf("emit tried %d times, want the file offered again at later polls", tries)
	}
	if _, err := os.Stat(filepath.Join(srv.dir, "a.xml")); err != nil {
		t.Fatalf("file not kept: %v", err)
	}
}

func TestSinkConformance(t *testing.T) {
	srv := startSSHD(t)
	connectortest.RunSink(t, connectortest.SinkCase{
		Metadata: map[string]string{envelope.ContentType: "application/xml"},
		New: func(t *testing.T) connectortest.SinkFixture {
			dir := srv.folder(t, strings.ReplaceAll(t.Name(), "/", "_"))
			c := srv.config()
			c.Dir = dir
			s := newTestSink(t, c)
			return connectortest.SinkFixture{Sink: s, Delivered: func(t *testing.T) map[string][]byte {
				got := map[string][]byte{}
				entries, _ := os.ReadDir(dir)
				for _, e := range entries {
					if strings.HasPrefix(e.Name(), ".") {
						t.Errorf("temporary file left: %s", e.Name())
						continue
					}
					b, err := os.ReadFile(filepath.Join(dir, e.Name()))
					if err != nil {
						t.Fatal(err)
					}
					got[strings.TrimSuffix(e.Name(), ".xml")] = b
				}
				return got
			}}
		},
	})
}

func TestSinkNameTemplate(t *testing.T) {
	srv := startSSHD(t)
	c := srv.config()
	c.Name = `{{meta "subject"}}-{{id}}{{ext}}`
	s := newTestSink(t, c)
	msg := message.NewMessage("m1", []byte(`{"a":1}`))
	msg.Metadata.Set(envelope.ContentType, "application/json")
	msg.Metadata.Set("subject", "АИС/1")
	for range 2 { // the second write replaces the first
		if err := s.Send(context.Background(), msg); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(filepath.Join(srv.dir, "АИС_1-m1.json"))
	if err != nil || string(b) != `{"a":1}` {
		t.Fatalf("file %q, %v", b, err)
	}
}

// TestWrongHostKeyRefused: a server whose key is not the one in known_hosts is refused before
// logging in, by both the sink and the source.
func TestWrongHostKeyRefused(t *testing.T) {
	srv := startSSHD(t)
	other := startSSHD(t) // its known_hosts names another key for another port
	kh, err := os.ReadFile(other.knownHosts)
	if err != nil {
		t.Fatal(err)
	}
	// The same address with the other server's key.
	_, port, _ := strings.Cut(srv.addr, ":")
	line := strings.Replace(string(kh), other.addr[len("127.0.0.1:"):], port, 1)
	bad := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(bad, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	c := srv.config()
	c.KnownHosts = bad
	s := newTestSink(t, c)
	err = s.Send(context.Background(), message.NewMessage("m1", []byte("x")))
	if err == nil || !strings.Contains(err.Error(), "key mismatch") {
		t.Fatalf("error %v, want a host key mismatch", err)
	}
	// A host missing from known_hosts is refused too.
	empty := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	c.KnownHosts = empty
	s2, err := newSink(&c, connectors.Env{Name: "out"})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if err := s2.Send(context.Background(), message.NewMessage("m1", []byte("x"))); err == nil || !strings.Contains(err.Error(), "unknown") {
		t.Fatalf("error %v, want an unknown host refused", err)
	}
	entries, _ := os.ReadDir(srv.dir)
	if len(entries) != 0 {
		t.Fatalf("files written despite the refused host key: %v", entries)
	}
}

func TestWrongPasswordRefused(t *testing.T) {
	srv := startSSHD(t)
	c := srv.config()
	c.KeyFile = ""
	c.Password = "not-the-password"
	s := newTestSink(t, c)
	err := s.Send(context.Background(), message.NewMessage("m1", []byte("x")))
	if err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("error %v, want the login refused", err)
	}
	if strings.Contains(err.Error(), "not-the-password") {
		t.Fatalf("the error shows the password: %v", err)
	}
}

func TestInsecureIgnoreHostKeyWarns(t *testing.T) {
	srv := startSSHD(t)
	c := srv.config()
	c.KnownHosts, c.InsecureIgnoreHostKey = "", true
	var logs bytes.Buffer
	s, err := newSink(&c, connectors.Env{Name: "out", Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !strings.Contains(logs.String(), "insecure_ignore_host_key") || !strings.Contains(logs.String(), "WARN") {
		t.Fatalf("no warning logged: %s", logs.String())
	}
	if err := s.Send(context.Background(), message.NewMessage("m1", []byte("x"))); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSourceRestartKeepsID: a source stopped after the hub stored a file's message but before
// the file was moved offers it again after a restart under the same id, which the routes'
// idempotency drops; a file that changed meanwhile is a new message.
func TestSourceRestartKeepsID(t *testing.T) {
	srv := startSSHD(t)
	srv.put(t, "a.xml", []byte("<a/>"))
	c := srv.config()
	c.PollInterval = spec.Duration(50 * time.Millisecond)
	first := func() string {
		src := newTestSource(t, c)
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		var id string
		_ = src.Run(ctx, func(_ context.Context, msgs ...*message.Message) error {
			id = msgs[0].UUID
			cancel() // the hub stops right after storing: the file is not moved
			return context.Canceled
		})
		return id
	}
	id1 := first()
	if _, err := os.Stat(filepath.Join(srv.dir, "a.xml")); err != nil {
		t.Fatalf("file moved though the source stopped: %v", err)
	}
	if id2 := first(); id1 == "" || id2 != id1 {
		t.Fatalf("ids %q and %q: want the same id after a restart", id1, id2)
	}
	srv.put(t, "a.xml", []byte("<a>changed</a>"))
	if id3 := first(); id3 == id1 {
		t.Fatal("a changed file kept its id")
	}
}

func TestWrongPasswordFileRefused(t *testing.T) {
	srv := startSSHD(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte("wrong\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := srv.config()
	c.KeyFile, c.PasswordFile = "", "pw"
	src, err := newSource(&c, connectors.Env{Name: "in", BaseDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	src.log = slog.New(slog.NewTextHandler(&logs, nil))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = src.Run(ctx, func(context.Context, ...*message.Message) error { t.Error("emitted"); return nil })
	if !strings.Contains(logs.String(), "unable to authenticate") || strings.Contains(logs.String(), "wrong") {
		t.Fatalf("logs %s: want the login refused, without the password", logs.String())
	}
}

func TestMissingSecretFiles(t *testing.T) {
	c := Config{Address: "h:22", User: "u", KeyFile: "nokey", KnownHosts: "nohosts", Dir: "/in"}
	if _, err := newSink(&c, connectors.Env{Name: "out", BaseDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "key_file") {
		t.Fatalf("error %v, want key_file named", err)
	}
	// A check reads no secrets, but does read known_hosts.
	if _, err := newSink(&c, connectors.Env{Name: "out", BaseDir: t.TempDir(), Check: true}); err == nil || !strings.Contains(err.Error(), "known_hosts") {
		t.Fatalf("error %v, want known_hosts named", err)
	}
}

// TestSinkReconnects: a session the server dropped while idle is replaced without failing the
// delivery.
func TestSinkReconnects(t *testing.T) {
	srv := startSSHD(t)
	c := srv.config()
	s := newTestSink(t, c)
	if err := s.Send(context.Background(), message.NewMessage("m1", []byte("1"))); err != nil {
		t.Fatal(err)
	}
	_ = s.c.ssh.Close() // as a server closing an idle connection
	if err := s.Send(context.Background(), message.NewMessage("m2", []byte("2"))); err != nil {
		t.Fatalf("send after the connection dropped: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(srv.dir, "m2.bin")); err != nil || string(b) != "2" {
		t.Fatalf("m2.bin %q, %v", b, err)
	}
}

func TestSourceTooLarge(t *testing.T) {
	srv := startSSHD(t)
	srv.put(t, "big.xml", bytes.Repeat([]byte("x"), 2048))
	c := srv.config()
	c.MaxSize, c.PollInterval = 1024, spec.Duration(50*time.Millisecond)
	src := newTestSource(t, c)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- src.Run(ctx, func(context.Context, ...*message.Message) error { t.Error("emitted"); return nil })
	}()
	waitFor(t, func() bool {
		_, err := os.Stat(filepath.Join(srv.dir, "failed", "big.xml"))
		return err == nil
	})
	cancel()
	<-done
}

// TestSinkHungServer: a server that stops answering does not hold a delivery past its context.
func TestSinkHungServer(t *testing.T) {
	srv := startSSHD(t)
	c := srv.config()
	s := newTestSink(t, c)
	if err := s.Send(context.Background(), message.NewMessage("m1", []byte("1"))); err != nil {
		t.Fatal(err)
	}
	// Stop the session processes of the test's own sshd: the write then waits on the network.
	pids := descendants(srv.pid)
	if len(pids) == 0 {
		t.Skip("no session process of sshd found in /proc")
	}
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGSTOP)
	}
	defer func() {
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGCONT)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	res := make(chan error, 1)
	go func() { res <- s.Send(ctx, message.NewMessage("m2", []byte("2"))) }()
	select {
	case err := <-res:
		if err == nil {
			t.Fatal("delivered to a stopped server")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the delivery outlived its context by 10 s")
	}
}

// descendants returns the ids of the processes below pid, from /proc.
func descendants(pid int) []int {
	children := map[int][]int{}
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		id, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", d.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so read after the last ')'.
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		children[ppid] = append(children[ppid], id)
	}
	var out []int
	var walk func(int)
	walk = func(p int) {
		for _, c := range children[p] {
			out = append(out, c)
			walk(c)
		}
	}
	walk(pid)
	return out
}

// SendStream writes what the stream writes, in pieces; a stream that fails part way leaves
// neither the file nor its temporary one, and its error reaches the caller.
func TestSinkSendStream(t *testing.T) {
	srv := startSSHD(t)
	c := srv.config()
	s := newTestSink(t, c)
	var _ connectors.StreamSink = s
	big := bytes.Repeat([]byte("QUJD"), 100_000)
	msg := message.NewMessage("m1", nil)
	msg.Metadata.Set(envelope.ContentType, "application/json")
	err := s.SendStream(context.Background(), msg, func(w io.Writer) error {
		for p := big; len(p) > 0; p = p[min(len(p), 10_000):] {
			if _, err := w.Write(p[:min(len(p), 10_000)]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(srv.dir, "m1.json")); err != nil || !bytes.Equal(b, big) {
		t.Fatalf("file of %d bytes, %v; want the %d bytes streamed", len(b), err, len(big))
	}
	msg = message.NewMessage("m2", nil)
	msg.Metadata.Set(envelope.ContentType, "application/json")
	err = s.SendStream(context.Background(), msg, func(w io.Writer) error {
		if _, err := w.Write(big); err != nil {
			return err
		}
		return errors.New("no JSON form")
	})
	if err == nil || !strings.Contains(err.Error(), "no JSON form") {
		t.Fatalf("a failing stream: %v; want its error", err)
	}
	entries, _ := os.ReadDir(srv.dir)
	for _, e := range entries {
		if e.Name() != "m1.json" {
			t.Errorf("left %s after a failed stream", e.Name())
		}
	}
}
