package fileconn

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/internal/bytesize"
	"github.com/aiskao/aiskao/internal/filedrop"
)

// MetaFilename is the metadata name holding the base name of the file a message came from.
const MetaFilename = filedrop.MetaFilename

// Folders under dir that taken files are moved to.
const (
	doneDir   = "done"
	failedDir = "failed"
)

// idSpace is the namespace of the ids of taken files.
var idSpace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("urn:aiskao:connector:file"))

// fileID names a taken file (filedrop.ID) by its time to the nanosecond, as the file system
// keeps it.
func fileID(connector, name string, st filedrop.Stat) string {
	return filedrop.ID(idSpace, connector, name, st.Size, st.Mod.UnixNano())
}

type source struct {
	name string
	cfg  Config
	dir  string
	log  *slog.Logger

	running atomic.Bool

	// Owned by the Run goroutine.
	files   filedrop.Tracker
	warned  map[string]bool // files whose failing emit was logged
	dirFail bool            // the folder could not be read at the last poll
}

func newSource(cfg any, env connectors.Env) (*source, error) {
	c, err := options(cfg)
	if err != nil {
		return nil, fmt.Errorf("file source %s: %w", env.Name, err)
	}
	c.Dir = dirOf(c, env)
	if env.Check {
		return &source{name: env.Name, cfg: c, dir: c.Dir, log: env.Log()}, nil // a check creates no folder
	}
	for _, d := range []string{c.Dir, filepath.Join(c.Dir, doneDir), filepath.Join(c.Dir, failedDir)} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("file source %s: %w", env.Name, err)
		}
	}
	return &source{name: env.Name, cfg: c, dir: c.Dir, log: env.Log()}, nil
}

// Run polls the folder until ctx is done.
func (s *source) Run(ctx context.Context, emit connectors.Emit) error {
	if !s.running.CompareAndSwap(false, true) {
		return fmt.Errorf("file source %s: already running", s.name)
	}
	defer s.running.Store(false)
	s.files.Reset()
	s.warned = map[string]bool{}
	tick := time.NewTicker(s.cfg.PollInterval.D())
	defer tick.Stop()
	for {
		s.poll(ctx, emit)
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// poll takes, in name order, the files that did not change since the previous poll.
func (s *source) poll(ctx context.Context, emit connectors.Emit) {
	entries, err := os.ReadDir(s.dir) // sorted by name
	if err != nil {
		if !s.dirFail {
			s.log.Error("cannot read the folder; trying again at every poll", "dir", s.dir, "error", err)
			s.dirFail = true
		}
		return
	}
	s.dirFail = false
	for _, e := range entries {
		if ctx.Err() != nil {
			return
		}
		name := e.Name()
		if !e.Type().IsRegular() || !filedrop.Wanted(s.cfg.Pattern, name) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // gone since the folder was read
		}
		if st := (filedrop.Stat{Size: info.Size(), Mod: info.ModTime()}); s.files.Ready(name, st) {
			s.take(ctx, emit, name, st)
		}
	}
	s.files.Polled()
	for name := range s.warned {
		if !s.files.Seen(name) {
			delete(s.warned, name)
		}
	}
}

// take emits one file and moves it to done/, or to failed/ when it cannot be a message.
func (s *source) take(ctx context.Context, emit connectors.Emit, name string, st filedrop.Stat) {
	path := filepath.Join(s.dir, name)
	limit := int64(s.cfg.MaxSize)
	if st.Size > limit {
		s.fail(name, st, fmt.Sprintf("Файлът е по-голям от %[1]s / file larger than %[1]s (max_size): %[2]d bytes", bytesize.Format(limit), st.Size))
		return
	}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return // taken by someone else
	case err != nil:
		s.fail(name, st, "Файлът не може да бъде прочетен / cannot read file: "+err.Error())
		return
	case int64(len(data)) > limit: // grew after it was seen
		s.fail(name, st, fmt.Sprintf("Файлът е по-голям от %[1]s / file larger than %[1]s (max_size): %[2]d bytes", bytesize.Format(limit), len(data)))
		return
	}

	msg := filedrop.Message(fileID(s.name, name, st), name, data, s.cfg.ContentType, s.cfg.MessageType)
	if err := emit(ctx, msg); err != nil {
		if ctx.Err() == nil && !s.warned[name] {
			s.log.Warn("message not stored; the file stays for the next poll", "file", path, "error", err)
			s.warned[name] = true
		}
		return
	}
	delete(s.warned, name)
	if _, err := move(path, filepath.Join(s.dir, doneDir), name); err != nil {
		s.log.Error("message stored but the file cannot be moved to done/; it is not taken again while unchanged",
			"file", path, "id", msg.UUID, "error", err)
		s.files.Stuck(name, st)
	}
}

// fail moves a file to failed/ and writes the reason beside it.
func (s *source) fail(name string, st filedrop.Stat, reason string) {
	path := filepath.Join(s.dir, name)
	s.log.Warn("file moved to failed/", "file", path, "reason", reason)
	target, err := move(path, filepath.Join(s.dir, failedDir), name)
	if err != nil {
		s.log.Error("cannot move the file to failed/; it is not taken again while unchanged", "file", path, "error", err)
		s.files.Stuck(name, st)
		return
	}
	if err := os.WriteFile(target+".error", []byte(reason+"\n"), 0o640); err != nil {
		s.log.Error("cannot write the reason beside the failed file", "file", target, "error", err)
	}
}

// move renames path into dir under name, or under name with a number when that is taken, and
// returns the new path.
func move(path, dir, name string) (string, error) {
	free, err := filedrop.FreeName(name, func(n string) (bool, error) {
		_, err := os.Lstat(filepath.Join(dir, n))
		return !errors.Is(err, fs.ErrNotExist), nil
	})
	if err != nil {
		return "", fmt.Errorf("%w in %s", err, dir)
	}
	target := filepath.Join(dir, free)
	if err := os.Rename(path, target); err != nil {
		return "", err
	}
	return target, nil
}
