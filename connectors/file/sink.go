package fileconn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/fault"
	"github.com/aiskao/aiskao/internal/filename"
)

type sink struct {
	name  string
	dir   string
	names *filename.Template
	mode  os.FileMode
	fsync bool
	// unnamed tells whether, with fsync, files are made unnamed and linked in (unnamedDurable).
	unnamed bool
	// fsSync, when set, makes files durable by syncs of the whole file system shared between
	// the writes (sync: filesystem), through fsDir, the folder kept open; otherwise each file is
	// synced and linked in, and the folder synced once, in groups (fileSync); a file that
	// replaces a name, or is written where unnamed files are not durable (unnamed false), is
	// written under a temporary name, synced, renamed and the folder synced, in the same groups.
	fsSync   *groupSyncer
	fsDir    *os.File
	fileSync *fileSyncer
	dirSync  *groupSyncer
	closed   atomic.Bool
}

func newSink(cfg any, env connectors.Env) (*sink, error) {
	c, err := options(cfg)
	if err != nil {
		return nil, fmt.Errorf("file sink %s: %w", env.Name, err)
	}
	c.Dir = dirOf(c, env)
	if env.Check {
		return &sink{name: env.Name, dir: c.Dir}, nil // a check creates no folder
	}
	if err := os.MkdirAll(c.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("file sink %s: %w", env.Name, err)
	}
	if n, err := removeStale(c.Dir, time.Now()); err != nil {
		env.Log().Warn("file sink could not remove the temporary files left by writes that stopped", "sink", env.Name, "dir", c.Dir, "error", err)
	} else if n > 0 {
		env.Log().Info("file sink removed the temporary files left by writes that stopped", "sink", env.Name, "dir", c.Dir, "files", n)
	}
	mode, _ := parseMode(c.Mode) // checked by Validate
	s := &sink{name: env.Name, dir: c.Dir, mode: os.FileMode(mode), fsync: c.Fsync, dirSync: newDirSyncer(c.Dir)}
	s.fileSync = newFileSyncer(s.dirSync)
	switch {
	case c.Fsync && c.Sync == SyncFilesystem && canSyncFS:
		if s.fsDir, err = os.Open(c.Dir); err != nil {
			return nil, fmt.Errorf("file sink %s: %w", env.Name, err)
		}
		s.fsSync = newFSSyncer(s.fsDir, env.Log().With("sink", env.Name, "dir", c.Dir))
		env.Log().Info("file sink syncs the whole file system once for the files written at once", "sink", env.Name, "dir", c.Dir, "sync", c.Sync)
	case c.Fsync:
		var why string
		if s.unnamed, why = unnamedDurable(c.Dir); !s.unnamed {
			env.Log().Info("file sink writes each file under a temporary name and renames it", "sink", env.Name, "dir", c.Dir, "because", why)
		}
	}
	s.names, _ = filename.Parse(c.Name) // checked by Validate
	return s, nil
}

// Temporary files are named tempPrefix + random + tempSuffix.
const (
	tempPrefix = ".aiskao-"
	tempSuffix = ".tmp"
)

// staleAfter is how old a temporary file must be for a starting sink to remove it. A write holds
// one for milliseconds; a younger one may be another process's write under way in a folder
// processes share.
const staleAfter = 10 * time.Minute

// removeStale removes the temporary files that writes stopped midway (a killed process, a power
// cut) left in dir, those older than staleAfter at now, and returns how many it removed.
func removeStale(dir string, now time.Time) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(name, tempPrefix) || !strings.HasSuffix(name, tempSuffix) {
			continue
		}
		info, err := e.Info()
		if err != nil || now.Sub(info.ModTime()) < staleAfter {
			continue // gone meanwhile, or perhaps a write under way
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return n, err
		}
		n++
	}
	return n, nil
}

// Send writes msg to its file atomically; see the package documentation.
func (s *sink) Send(ctx context.Context, msg *message.Message) error {
	return s.send(ctx, msg, bytesOf(msg.Payload))
}

// SendStream writes msg to its file as Send does, with the payload write writes: a document a
// step made is encoded into the file, never whole in memory. A write that fails leaves no file.
func (s *sink) SendStream(ctx context.Context, msg *message.Message, write func(io.Writer) error) error {
	return s.send(ctx, msg, content(write))
}

func (s *sink) send(ctx context.Context, msg *message.Message, data content) error {
	if s.closed.Load() {
		return fmt.Errorf("file sink %s: send after close", s.name)
	}
	name, err := s.names.Name(msg, false)
	if err != nil {
		return fault.Permanent(fmt.Errorf("file sink %s: %w", s.name, err))
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("file sink %s: %w", s.name, err)
	}
	if err := s.write(name, data); err != nil {
		return fmt.Errorf("file sink %s: write %s: %w", s.name, filepath.Join(s.dir, name), err)
	}
	return nil
}

// content writes a file's bytes: a payload at hand, or one encoded as it is written.
type content func(io.Writer) error

// bytesOf is the content of data.
func bytesOf(data []byte) content {
	return func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}
}

// write puts data under name so that the name never shows a partial file; with fsync the file and
// then the folder entry are on disk before it returns. Where the system can create an unnamed file
// in the folder and link it in durably (unnamedDurable), that is one folder operation instead of
// two; elsewhere, and for a name that exists already, a temporary file is renamed into place.
func (s *sink) write(name string, data content) error {
	target := filepath.Join(s.dir, name)
	if s.fsync && s.fsSync == nil {
		// Synced, linked in and the folder synced, in a group with the files written meanwhile.
		var f *os.File
		if s.unnamed {
			var err error
			if f, err = createUnnamed(s.dir, data, s.mode); err != nil {
				return err
			}
		}
		if f != nil {
			linked, err := s.fileSync.do(f, target)
			f.Close()
			if linked || err != nil {
				return err
			}
		}
		// No unnamed files here, or the name exists (a link never replaces one).
		return s.writeGrouped(target, data)
	}
	linked, err := writeLinked(s.dir, target, data, s.mode, nil)
	if err != nil {
		return err
	}
	if !linked {
		if err := s.writeRenamed(target, data); err != nil {
			return err
		}
	}
	if s.fsSync != nil {
		return s.fsSync.sync()
	}
	return nil
}

// writeGrouped writes data to a temporary file, which is synced, renamed to target and the folder
// synced in a group with the files written meanwhile.
func (s *sink) writeGrouped(target string, data content) error {
	f, err := s.createTemp(data)
	if err != nil {
		return err
	}
	defer f.Close()
	renamed, err := s.fileSync.doRename(f, target)
	if !renamed {
		_ = os.Remove(f.Name())
	}
	return err
}

// createTemp makes a temporary file in the sink's folder holding data, with the sink's mode.
func (s *sink) createTemp(data content) (*os.File, error) {
	f, err := os.CreateTemp(s.dir, tempPrefix+"*"+tempSuffix)
	if err != nil {
		return nil, err
	}
	if err = data(f); err == nil {
		err = f.Chmod(s.mode)
	}
	if err != nil {
		_ = f.Close()
		_ = os.Remove(f.Name())
		return nil, err
	}
	return f, nil
}

// writeRenamed writes data to a temporary file and renames it over target, syncing nothing.
func (s *sink) writeRenamed(target string, data content) error {
	f, err := s.createTemp(data)
	if err != nil {
		return err
	}
	if err = f.Close(); err == nil {
		err = os.Rename(f.Name(), target)
	}
	if err != nil {
		_ = os.Remove(f.Name())
	}
	return err
}

// groupSyncer runs a sync (of a folder, of a file system) for the writes that wait for it,
// sharing one among the writes that wait at the same time: under load, one sync covers many
// files.
type groupSyncer struct {
	do   func() error
	mu   sync.Mutex
	cond *sync.Cond
	// done counts finished syncs; running tells whether one is under way. A write waits for a
	// sync that started after its entry was made: the one after the running one.
	done    uint64
	running bool
	err     error
}

// newDirSyncer syncs the entries of dir.
func newDirSyncer(dir string) *groupSyncer {
	return newGroupSyncer(func() error { return syncDir(dir) })
}

// newFSSyncer syncs the whole file system that holds d, an open folder: every file written on it,
// with its folder entry, is then on disk. A sync that takes long is logged (slowSyncWarner).
func newFSSyncer(d *os.File, log *slog.Logger) *groupSyncer {
	return newGroupSyncer(slowSyncWarner(func() error { return syncFS(d) }, slowFSSync, time.Minute, log))
}

// slowFSSync is how long a sync of the file system may take before it is logged.
const slowFSSync = 2 * time.Second

// slowSyncWarner runs do and logs a warning when it took longer than after, at most once every
// quiet: a sync of the whole file system also writes out every other program's unsaved data on
// it, so a large write elsewhere delays the sink's deliveries, and whoever runs the hub is to see
// why they stall.
func slowSyncWarner(do func() error, after, quiet time.Duration, log *slog.Logger) func() error {
	var last time.Time // touched by one sync at a time (groupSyncer runs one)
	return func() error {
		start := time.Now()
		err := do()
		if took := time.Since(start); took > after && (last.IsZero() || start.Sub(last) >= quiet) {
			last = start
			log.Warn("file sink: the sync of the file system was slow; it also writes out what other programs wrote there (sync: filesystem is for a volume of the hub's own)",
				"took", took.Round(time.Millisecond))
		}
		return err
	}
}

func newGroupSyncer(do func() error) *groupSyncer {
	d := &groupSyncer{do: do}
	d.cond = sync.NewCond(&d.mu)
	return d
}

// sync returns once a sync that started after the call has finished, with its error.
func (d *groupSyncer) sync() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	target := d.done + 1
	if d.running {
		target++ // the running sync may have started before this entry was made
	}
	for d.done < target {
		if d.running {
			d.cond.Wait()
			continue
		}
		d.running = true
		d.mu.Unlock()
		err := d.do()
		d.mu.Lock()
		d.running = false
		d.done++
		d.err = err
		d.cond.Broadcast()
		if d.done >= target {
			return err
		}
	}
	return d.err
}

// syncDir makes the entries of dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync folder: %w", err)
	}
	return nil
}

// Close marks the sink closed; Sends after it fail. It can be called more than once.
func (s *sink) Close() error {
	if s.closed.Swap(true) || s.fsDir == nil {
		return nil
	}
	// Writes still under way when the sink closes fail their sync, and their messages are
	// delivered again.
	return s.fsDir.Close()
}
