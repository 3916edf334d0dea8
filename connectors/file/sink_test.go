package fileconn

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/connectors/connectortest"
	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/fault"
	"github.com/aiskao/aiskao/spec"
)

func newTestSink(t testing.TB, c Config) *sink {
	t.Helper()
	if c.Dir == "" {
		c.Dir = t.TempDir()
	}
	s, err := newSink(&c, connectors.Env{Name: "out"})
	if err != nil {
		t.Fatalf("newSink: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// files returns the visible files of dir by name.
func files(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

// syncModes are the sink's ways of making files durable, and none.
var syncModes = []struct {
	name  string
	fsync bool
	sync  string
}{{"fsync", true, SyncFile}, {"syncfs", true, SyncFilesystem}, {"nofsync", false, SyncFile}}

func TestSinkConformance(t *testing.T) {
	for _, mode := range syncModes {
		t.Run(mode.name, func(t *testing.T) {
			connectortest.RunSink(t, connectortest.SinkCase{
				Metadata: map[string]string{envelope.ContentType: "application/xml"},
				New: func(t *testing.T) connectortest.SinkFixture {
					dir := t.TempDir()
					return connectortest.SinkFixture{
						Sink: newTestSink(t, Config{Dir: dir, Fsync: mode.fsync, Sync: mode.sync}),
						Delivered: func(t *testing.T) map[string][]byte {
							out := map[string][]byte{}
							for name, b := range files(t, dir) {
								out[strings.TrimSuffix(name, ".xml")] = b
							}
							return out
						},
					}
				},
			})
		})
	}
}

func TestSinkNames(t *testing.T) {
	tests := []struct {
		template string
		ctype    string
		meta     map[string]string
		want     string // file name, or the error
	}{
		{template: "", ctype: "application/json; charset=utf-8", want: "m1.json"},
		{template: "", ctype: "text/xml", want: "m1.xml"},
		{template: "", ctype: "application/soap+xml", want: "m1.xml"},
		{template: "", ctype: "", want: "m1.bin"},
		{template: `{{meta "subject"}}-{{id}}{{ext}}`, ctype: "application/xml", meta: map[string]string{"subject": "АИС/2024\\1"},
			want: "АИС_2024_1-m1.xml"},
		{template: `{{meta "filename"}}`, meta: map[string]string{"filename": "../../etc/passwd"}, want: ".._.._etc_passwd"},
		{template: `{{meta "filename"}}`, meta: map[string]string{"filename": "a\nb\x00"}, want: "a_b_"},
		{template: `{{meta "missing"}}`,
			want: `file sink out: name template "{{meta \"missing\"}}" gave "" for message m1: not a file name`},
		{template: `{{meta "filename"}}`, meta: map[string]string{"filename": ".."},
			want: `file sink out: name template "{{meta \"filename\"}}" gave ".." for message m1: not a file name`},
		{template: `{{meta "filename"}}`, meta: map[string]string{"filename": strings.Repeat("я", 128)},
			want: `file sink out: name template "{{meta \"filename\"}}" gave a name of 256 bytes for message m1; at most 255 fit`},
	}
	for _, tt := range tests {
		t.Run(tt.template+" "+tt.want, func(t *testing.T) {
			dir := t.TempDir()
			s := newTestSink(t, Config{Dir: dir, Name: tt.template})
			msg := message.NewMessage("m1", []byte("x"))
			if tt.ctype != "" {
				msg.Metadata.Set(envelope.ContentType, tt.ctype)
			}
			for k, v := range tt.meta {
				msg.Metadata.Set(k, v)
			}
			err := s.Send(context.Background(), msg)
			if strings.HasPrefix(tt.want, "file sink") {
				if err == nil || err.Error() != tt.want || !fault.IsPermanent(err) {
					t.Fatalf("error %v (permanent %v); want permanent %s", err, fault.IsPermanent(err), tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := files(t, dir)
			if _, ok := got[tt.want]; !ok || len(got) != 1 {
				t.Errorf("files %v; want only %s", keys(got), tt.want)
			}
		})
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestSinkModeAndOverwrite(t *testing.T) {
	dir := t.TempDir()
	s := newTestSink(t, Config{Dir: dir, Mode: "0600", Fsync: true})
	for _, p := range []string{"first, longer content", "second"} {
		if err := s.Send(context.Background(), message.NewMessage("m1", []byte(p))); err != nil {
			t.Fatal(err)
		}
	}
	got := files(t, dir)
	if len(got) != 1 || string(got["m1.bin"]) != "second" {
		t.Errorf("files %q; want m1.bin holding the second write", got)
	}
	info, err := os.Stat(filepath.Join(dir, "m1.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("mode %v; want 0600", info.Mode().Perm())
	}
	s = newTestSink(t, Config{Dir: dir})
	if err := s.Send(context.Background(), message.NewMessage("m2", []byte("x"))); err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(filepath.Join(dir, "m2.bin")); info.Mode().Perm() != 0o640 {
		t.Errorf("default mode %v; want 0640", info.Mode().Perm())
	}
}

// TestSinkAtomic reads the file while it is rewritten: every read sees one whole version.
func TestSinkAtomic(t *testing.T) {
	dir := t.TempDir()
	s := newTestSink(t, Config{Dir: dir})
	const size = 256 << 10
	versions := [][]byte{bytes.Repeat([]byte("a"), size), bytes.Repeat([]byte("b"), size)}
	if err := s.Send(context.Background(), message.NewMessage("m", versions[0])); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var reads atomic.Int32
	var readerGone atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		defer readerGone.Store(true)
		for !stop.Load() {
			b, err := os.ReadFile(filepath.Join(dir, "m.bin"))
			if err != nil {
				t.Errorf("read while rewriting: %v", err)
				return
			}
			if !bytes.Equal(b, versions[0]) && !bytes.Equal(b, versions[1]) {
				t.Errorf("read a partial file of %d bytes", len(b))
				return
			}
			reads.Add(1)
		}
	})
	for i := range 40 {
		if err := s.Send(context.Background(), message.NewMessage("m", versions[i%2])); err != nil {
			t.Fatal(err)
		}
	}
	for reads.Load() < 10 && !readerGone.Load() { // let the reader overlap some writes
		if err := s.Send(context.Background(), message.NewMessage("m", versions[1])); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if got := files(t, dir); len(got) != 1 {
		t.Errorf("files %v left; want only m.bin", keys(got))
	}
}

func TestSinkWriteFailureRetryable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	s := newTestSink(t, Config{Dir: dir})
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	err := s.Send(context.Background(), message.NewMessage("m", []byte("x")))
	if err == nil || fault.IsPermanent(err) || !strings.HasPrefix(err.Error(), "file sink out: write "+filepath.Join(dir, "m.bin")+": ") {
		t.Errorf("Send into a removed folder: %v; want a retryable error naming the file", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), message.NewMessage("m", []byte("x"))); err == nil {
		t.Error("Send after Close succeeded")
	}
}

func TestConfig(t *testing.T) {
	connectortest.CheckConfig(t, connectortest.ConfigCase{
		Zero:     &Config{},
		Defaults: func(c any) { _ = spec.FillDefaults(c) },
		Valid:    &Config{Dir: "in", Pattern: "*.xml", PollInterval: 1, MaxSize: 1, Name: "{{id}}.xml", Mode: "0600", Sync: SyncFilesystem},
	})
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want []string
	}{
		{"zero", Config{}, []string{"dir: is required"}},
		{"blank dir", Config{Dir: " "}, []string{"dir: is blank: name the folder of the files"}},
		{"bad pattern", Config{Dir: "d", Pattern: "[a"}, []string{`pattern: "[a" is not a glob of base names such as *.xml`}},
		{"pattern with folder", Config{Dir: "d", Pattern: "in/*.xml"}, []string{`pattern: "in/*.xml" is not a glob of base names such as *.xml`}},
		{"bad content type", Config{Dir: "d", ContentType: "xml;"}, []string{`content_type: "xml;" is not a media type such as application/xml`}},
		{"bad template", Config{Dir: "d", Name: "{{id"}, []string{`name: template "{{id": 1: unclosed action`}},
		{"unknown function", Config{Dir: "d", Name: "{{uuid}}"}, []string{`name: template "{{uuid}}": 1: function "uuid" not defined`}},
		{"bad mode", Config{Dir: "d", Mode: "0999"}, []string{`mode: "0999" is not an octal mode that lets the owner read and write, such as 0640`}},
		{"mode without write", Config{Dir: "d", Mode: "0444"}, []string{`mode: "0444" is not an octal mode that lets the owner read and write, such as 0640`}},
		{"unknown sync", Config{Dir: "d", Sync: "fdatasync"}, []string{`sync: "fdatasync" is not file or filesystem`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.cfg
			_ = spec.FillDefaults(&c)
			got := connectortest.FieldErrors(t, spec.Validate(&c))
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestRegistered(t *testing.T) {
	f, ok := connectors.Default.Lookup("file")
	if !ok || f.NewSource == nil || f.NewSink == nil {
		t.Fatal("file not registered as source and sink")
	}
	if _, err := f.NewSink(&Config{}, connectors.Env{Name: "out"}); err == nil || err.Error() != "file sink out: dir: is required" {
		t.Errorf("NewSink without dir: %v", err)
	}
}

// BenchmarkFileSink writes 4 kB messages, each under a new id as deliveries do, one at a time and
// from 32 goroutines at once as a route's workers do; the parallel figures show what grouping the
// syncs gains on the disk at hand. cpu-µs/msg is the process's CPU time, user and system.
func BenchmarkFileSink(b *testing.B) {
	payload := bytes.Repeat([]byte("<x>данни</x>"), 4096/17+1)[:4096]
	for _, mode := range []struct {
		name  string
		fsync bool
		sync  string
	}{{"nofsync", false, SyncFile}, {"fsync", true, SyncFile}, {"syncfs", true, SyncFilesystem}} {
		for _, parallel := range []bool{false, true} {
			name := mode.name
			if parallel {
				name += "/parallel=32"
			}
			b.Run(name, func(b *testing.B) {
				s := newTestSink(b, Config{Dir: b.TempDir(), Fsync: mode.fsync, Sync: mode.sync})
				b.SetBytes(int64(len(payload)))
				b.ReportAllocs()
				var n atomic.Int64
				// Each writer reuses one message, so that the figures are the sink's own.
				writer := func(next func() bool) {
					msg := message.NewMessage("", payload)
					msg.Metadata.Set(envelope.ContentType, "application/xml")
					for next() {
						msg.UUID = strconv.FormatInt(n.Add(1), 10)
						if err := s.Send(context.Background(), msg); err != nil {
							b.Error(err)
							return
						}
					}
				}
				cpu0 := cpuTime(b)
				if !parallel {
					writer(b.Loop)
				} else {
					b.SetParallelism(16) // × GOMAXPROCS (2): 32 writers
					b.RunParallel(func(pb *testing.PB) { writer(pb.Next) })
				}
				b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/msg")
			})
		}
	}
}

// cpuTime returns the CPU time the process has used, user and system: on a machine shared with
// other work it varies less than the rate.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// SendStream writes what the stream writes, in every sync mode, new names and names that exist
// (the rename path, which writes the stream again); a stream that fails leaves no file and no
// temporary one, and its error reaches the caller.
func TestSinkSendStream(t *testing.T) {
	for _, mode := range syncModes {
		t.Run(mode.name, func(t *testing.T) {
			dir := t.TempDir()
			s := newTestSink(t, Config{Dir: dir, Fsync: mode.fsync, Sync: mode.sync})
			var _ connectors.StreamSink = s
			big := bytes.Repeat([]byte("QUJD"), 100_000)
			stream := func(parts ...[]byte) func(io.Writer) error {
				return func(w io.Writer) error {
					for _, p := range parts {
						if _, err := w.Write(p); err != nil {
							return err
						}
					}
					return nil
				}
			}
			msg := message.NewMessage("m", nil)
			msg.Metadata.Set(envelope.ContentType, "application/json")
			for _, body := range [][]byte{big, []byte("second, shorter")} {
				if err := s.SendStream(context.Background(), msg, stream(body[:len(body)/2], body[len(body)/2:])); err != nil {
					t.Fatal(err)
				}
				if got := files(t, dir); len(got) != 1 || !bytes.Equal(got["m.json"], body) {
					t.Fatalf("files %v; want m.json with the %d bytes streamed", keys(got), len(body))
				}
			}
			failing := func(w io.Writer) error {
				if _, err := w.Write(big); err != nil {
					return err
				}
				return errors.New("no JSON form")
			}
			for _, id := range []string{"m", "new"} { // a name that exists, and one that does not
				msg := message.NewMessage(id, nil)
				msg.Metadata.Set(envelope.ContentType, "application/json")
				err := s.SendStream(context.Background(), msg, failing)
				if err == nil || !strings.Contains(err.Error(), "no JSON form") {
					t.Fatalf("a failing stream to %s: %v; want its error", id, err)
				}
			}
			if got := files(t, dir); len(got) != 1 || string(got["m.json"]) != "second, shorter" {
				t.Errorf("after failed streams, files %v; want m.json as it was", keys(got))
			}
		})
	}
}

// A starting sink removes the temporary files that writes stopped midway left, and only those:
// not another process's write under way, nor files of other writers.
func TestSinkRemovesStaleTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-time.Hour)
	for name, age := range map[string]time.Time{
		".aiskao-123.tmp":  old,        // left by a write that stopped: removed
		".aiskao-456.tmp":  time.Now(), // perhaps a write under way
		"report.tmp":       old,        // another writer's
		".aiskao-789":      old,
		"m1.json":          old,
		".aiskao-7.tmp.gz": old,
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, age, age); err != nil {
			t.Fatal(err)
		}
	}
	newTestSink(t, Config{Dir: dir, Fsync: true, Sync: SyncFile})
	var left []string
	for name := range files(t, dir) {
		left = append(left, name)
	}
	sort.Strings(left)
	want := []string{".aiskao-456.tmp", ".aiskao-7.tmp.gz", ".aiskao-789", "m1.json", "report.tmp"}
	if !slices.Equal(left, want) {
		t.Fatalf("left %v, want %v", left, want)
	}
}

// The start-up log says how the sink makes its files durable: with sync: filesystem, one sync
// of the file system for a group, whatever the file system (its unnamed files are linked in
// before that sync, so the rename path's line would be wrong).
func TestSinkSaysHowItSyncs(t *testing.T) {
	var logs bytes.Buffer
	s, err := newSink(&Config{Dir: t.TempDir(), Fsync: true, Sync: SyncFilesystem, Mode: "0640", Name: "{{id}}"},
		connectors.Env{Name: "out", Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	text := logs.String()
	if got := strings.Contains(text, "syncs the whole file system"); got != canSyncFS {
		t.Errorf("the log says syncfs %v, want %v:\n%s", got, canSyncFS, text)
	}
	if canSyncFS && strings.Contains(text, "renames") {
		t.Errorf("the log speaks of renames under sync: filesystem:\n%s", text)
	}
}

// A slow sync of the file system is logged with how long it took, once within the quiet time;
// a quick one is not, and the sync's error comes back either way.
func TestSlowSyncOfTheFileSystemIsLogged(t *testing.T) {
	var logs bytes.Buffer
	delay := 30 * time.Millisecond
	failed := errors.New("device gone")
	var result error
	sync := slowSyncWarner(func() error { time.Sleep(delay); return result }, 10*time.Millisecond, time.Hour,
		slog.New(slog.NewTextHandler(&logs, nil)))
	if err := sync(); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(logs.String(), "was slow"); n != 1 {
		t.Fatalf("%d warnings after a slow sync, want 1:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "took=") {
		t.Errorf("the warning does not say how long the sync took:\n%s", logs.String())
	}
	result = failed
	if err := sync(); !errors.Is(err, failed) {
		t.Errorf("sync = %v, want %v", err, failed)
	}
	if n := strings.Count(logs.String(), "was slow"); n != 1 {
		t.Errorf("%d warnings after two slow syncs within the quiet time, want 1", n)
	}

	logs.Reset()
	quick := slowSyncWarner(func() error { return nil }, 10*time.Millisecond, 0, slog.New(slog.NewTextHandler(&logs, nil)))
	if err := quick(); err != nil || logs.Len() != 0 {
		t.Errorf("a quick sync: %v, logged %q", err, logs.String())
	}
}
