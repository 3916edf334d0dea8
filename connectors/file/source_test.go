package fileconn

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/connectors/connectortest"
	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/internal/filedrop"
	"github.com/aiskao/aiskao/spec"
)

const fastPoll = spec.Duration(2 * time.Millisecond)

func newTestSource(t testing.TB, c Config, env connectors.Env) *source {
	t.Helper()
	if c.Dir == "" {
		c.Dir = t.TempDir()
	}
	if c.PollInterval == 0 {
		c.PollInterval = fastPoll
	}
	if env.Name == "" {
		env.Name = "drop"
	}
	s, err := newSource(&c, env)
	if err != nil {
		t.Fatalf("newSource: %v", err)
	}
	return s
}

// eventually polls cond until it holds or 5 s have passed.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// names returns the names of the files the messages came from.
func names(msgs []*message.Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.Metadata.Get(MetaFilename))
	}
	return out
}

func TestSourceConformance(t *testing.T) {
	connectortest.RunSource(t, connectortest.SourceCase{
		New: func(t *testing.T) connectortest.SourceFixture {
			dir := t.TempDir()
			return connectortest.SourceFixture{
				Source: newTestSource(t, Config{Dir: dir}, connectors.Env{}),
				Put: func(ctx context.Context, p []byte) error {
					sum := sha256.Sum256(p)
					name := hex.EncodeToString(sum[:8]) + ".xml"
					path := filepath.Join(dir, name)
					// Written under a hidden name and renamed, as the source asks of writers:
					// written in place, a poll could read it half written.
					hidden := filepath.Join(dir, "."+name)
					if err := os.WriteFile(hidden, p, 0o644); err != nil {
						return err
					}
					if err := os.Rename(hidden, path); err != nil {
						return err
					}
					for exists(path) {
						select {
						case <-ctx.Done():
							return fmt.Errorf("%s still waiting: %w", filepath.Base(path), ctx.Err())
						case <-time.After(time.Millisecond):
						}
					}
					return nil
				},
			}
		},
	})
}

func TestSourceMovesFiles(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"b.xml":     "<b/>",
		"a.xml":     "<a/>",
		"c.xml":     "<c/>",
		"big.xml":   strings.Repeat("x", 17),
		"note.json": "{\"note\": \"not matched by the pattern\"}",
		".a.xml":    "hidden: being written",
		"d.xml.tmp": "being written",
	}
	for name, content := range files {
		writeFile(t, filepath.Join(dir, name), content)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub.xml"), 0o750); err != nil {
		t.Fatal(err)
	}
	var got connectortest.Collector
	connectortest.Running(t, newTestSource(t, Config{Dir: dir, Pattern: "*.xml", MaxSize: 16, MessageType: "register.Export"}, connectors.Env{}), got.Emit)
	done := func(name string) string { return filepath.Join(dir, "done", name) }
	failed := func(name string) string { return filepath.Join(dir, "failed", name) }
	eventually(t, "three files in done/ and one in failed/", func() bool {
		return exists(done("a.xml")) && exists(done("b.xml")) && exists(done("c.xml")) && exists(failed("big.xml.error"))
	})

	if names := names(got.Messages()); !slices.Equal(names, []string{"a.xml", "b.xml", "c.xml"}) {
		t.Errorf("emitted %v; want a.xml, b.xml, c.xml in that order", names)
	}
	for _, m := range got.Messages() {
		name := m.Metadata.Get(MetaFilename)
		if string(m.Payload) != files[name] {
			t.Errorf("%s: payload %q; want %q", name, m.Payload, files[name])
		}
		if ct := m.Metadata.Get(envelope.ContentType); ct != "application/xml" {
			t.Errorf("%s: datacontenttype %q; want application/xml", name, ct)
		}
		if typ := m.Metadata.Get(envelope.Type); typ != "register.Export" {
			t.Errorf("%s: type %q; want register.Export", name, typ)
		}
	}
	reason, err := os.ReadFile(failed("big.xml.error"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "Файлът е по-голям от 16 bytes / file larger than 16 bytes (max_size): 17 bytes\n"; string(reason) != want {
		t.Errorf("big.xml.error holds %q; want %q", reason, want)
	}
	if !exists(failed("big.xml")) {
		t.Error("big.xml not in failed/")
	}
	for _, name := range []string{"note.json", ".a.xml", "d.xml.tmp", "sub.xml"} {
		if !exists(filepath.Join(dir, name)) {
			t.Errorf("%s was taken; want it left alone", name)
		}
	}
}

func TestSourceNameTaken(t *testing.T) {
	dir := t.TempDir()
	src := newTestSource(t, Config{Dir: dir}, connectors.Env{})
	writeFile(t, filepath.Join(dir, "done", "a.xml"), "old")
	writeFile(t, filepath.Join(dir, "done", "a-1.xml"), "older")
	writeFile(t, filepath.Join(dir, "a.xml"), "new")
	connectortest.Running(t, src, (&connectortest.Collector{}).Emit)
	eventually(t, "done/a-2.xml", func() bool { return exists(filepath.Join(dir, "done", "a-2.xml")) })
	if b, _ := os.ReadFile(filepath.Join(dir, "done", "a.xml")); string(b) != "old" {
		t.Errorf("done/a.xml overwritten with %q", b)
	}
}

// TestSourceWaitsForWriters drives the polls by hand: a file is taken at the first poll that
// sees it unchanged since the previous one.
func TestSourceWaitsForWriters(t *testing.T) {
	dir := t.TempDir()
	src := newTestSource(t, Config{Dir: dir}, connectors.Env{})
	src.warned = map[string]bool{}
	var got connectortest.Collector
	path := filepath.Join(dir, "a.xml")
	writeFile(t, path, "<a>")
	steps := []struct {
		write string // appended before the poll
		taken bool
	}{
		{"", false},     // first seen
		{"part", false}, // grew
		{"</a>", false}, // grew again
		{"", true},      // unchanged: complete
	}
	for i, st := range steps {
		if st.write != "" {
			f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = f.WriteString(st.write)
			_ = f.Close()
		}
		src.poll(context.Background(), got.Emit)
		if taken := len(got.Messages()) == 1; taken != st.taken {
			t.Fatalf("poll %d: taken %v; want %v", i+1, taken, st.taken)
		}
	}
	if string(got.Messages()[0].Payload) != "<a>part</a>" {
		t.Errorf("payload %q; want the whole file", got.Messages()[0].Payload)
	}
}

// countingHandler counts log records by level.
type countingHandler struct{ warn, errs atomic.Int32 }

func (h *countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countingHandler) Handle(_ context.Context, r slog.Record) error {
	switch {
	case r.Level >= slog.LevelError:
		h.errs.Add(1)
	case r.Level >= slog.LevelWarn:
		h.warn.Add(1)
	}
	return nil
}
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countingHandler) WithGroup(string) slog.Handler      { return h }

func TestSourceEmitFailureLeavesFile(t *testing.T) {
	dir := t.TempDir()
	var logs countingHandler
	src := newTestSource(t, Config{Dir: dir}, connectors.Env{Logger: slog.New(&logs)})
	writeFile(t, filepath.Join(dir, "a.xml"), "<a/>")
	var calls atomic.Int32
	connectortest.Running(t, src, func(context.Context, ...*message.Message) error {
		calls.Add(1)
		return errors.New("store unavailable")
	})
	eventually(t, "three attempts", func() bool { return calls.Load() >= 3 })
	if !exists(filepath.Join(dir, "a.xml")) || exists(filepath.Join(dir, "done", "a.xml")) {
		t.Error("file moved although its message was not stored")
	}
	if n := logs.warn.Load(); n != 1 {
		t.Errorf("%d warnings for one file failing %d times; want 1", n, calls.Load())
	}
}

func TestSourceUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads files whatever their mode")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "secret.xml")
	writeFile(t, path, "<a/>")
	if err := os.Chmod(path, 0); err != nil {
		t.Fatal(err)
	}
	connectortest.Running(t, newTestSource(t, Config{Dir: dir}, connectors.Env{}), (&connectortest.Collector{}).Emit)
	errFile := filepath.Join(dir, "failed", "secret.xml.error")
	eventually(t, "failed/secret.xml.error", func() bool { return exists(errFile) })
	if b, _ := os.ReadFile(errFile); !strings.HasPrefix(string(b), "Файлът не може да бъде прочетен / cannot read file: ") {
		t.Errorf("reason %q", b)
	}
}

func TestFileIDIsStableForOneTakeOnly(t *testing.T) {
	now := time.Now()
	a := fileID("in", "x.xml", filedrop.Stat{Size: 10, Mod: now})
	if a != fileID("in", "x.xml", filedrop.Stat{Size: 10, Mod: now}) {
		t.Error("the same file taken again got another id")
	}
	for _, other := range []string{
		fileID("in", "x.xml", filedrop.Stat{Size: 10, Mod: now.Add(time.Second)}),
		fileID("in", "y.xml", filedrop.Stat{Size: 10, Mod: now}),
		fileID("in2", "x.xml", filedrop.Stat{Size: 10, Mod: now}),
		fileID("in", "x.xml", filedrop.Stat{Size: 11, Mod: now}),
	} {
		if other == a {
			t.Error("a different file got the same id")
		}
	}
}
