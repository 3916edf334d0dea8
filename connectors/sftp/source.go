package sftpconn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"path"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/internal/filedrop"
)

// MetaFilename is the metadata name holding the base name of the remote file a message came from.
const MetaFilename = filedrop.MetaFilename

// idSpace is the namespace of the ids of taken files.
var idSpace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("urn:aiskao:connector:sftp"))

// fileID names a taken file (filedrop.ID) by its time in seconds, as SFTP gives it.
func fileID(connector, name string, st filedrop.Stat) string {
	return filedrop.ID(idSpace, connector, name, st.Size, st.Mod.Unix())
}

type source struct {
	name string
	cfg  Config
	d    *dialer
	log  *slog.Logger

	running atomic.Bool

	mu sync.Mutex // guards c against the closing when Run's context ends

	// Owned by the Run goroutine.
	c      *conn
	files  filedrop.Tracker
	warned bool // the last failure to reach the server was logged
}

func newSource(cfg any, env connectors.Env) (*source, error) {
	d, log, err := setUp(cfg, env, "source")
	if err != nil {
		return nil, err
	}
	return &source{name: env.Name, cfg: d.cfg, d: d, log: log}, nil
}

// Run polls the remote folder until ctx is done.
func (s *source) Run(ctx context.Context, emit connectors.Emit) error {
	if !s.running.CompareAndSwap(false, true) {
		return fmt.Errorf("sftp source %s: already running", s.name)
	}
	defer s.running.Store(false)
	s.files.Reset()
	defer s.drop()
	// A server that stops answering would hold an SFTP call forever: the end of ctx closes the
	// connection under it.
	stop := context.AfterFunc(ctx, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.c != nil {
			_ = s.c.ssh.Close()
		}
	})
	defer stop()
	tick := time.NewTicker(s.cfg.PollInterval.D())
	defer tick.Stop()
	for {
		if err := s.poll(ctx, emit); err != nil && ctx.Err() == nil {
			if !s.warned {
				s.log.Error("cannot read the remote folder; trying again at every poll", "address", s.cfg.Address, "dir", s.cfg.Dir, "error", err)
				s.warned = true
			}
			s.drop()
		} else if err == nil && s.warned {
			s.log.Info("the remote folder is readable again", "address", s.cfg.Address, "dir", s.cfg.Dir)
			s.warned = false
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func (s *source) drop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c != nil {
		s.c.close()
		s.c = nil
	}
}

// poll takes, in name order, the files that did not change since the previous poll. An error
// means the connection is no longer usable.
func (s *source) poll(ctx context.Context, emit connectors.Emit) error {
	if s.c == nil {
		c, err := s.d.dial(ctx)
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.c = c
		s.mu.Unlock()
	}
	entries, err := s.c.sftp.ReadDir(s.cfg.Dir)
	if err != nil {
		return fmt.Errorf("read %s: %w", s.cfg.Dir, err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	defer s.files.Polled()
	for _, e := range entries {
		if ctx.Err() != nil {
			return nil
		}
		name := e.Name()
		if !e.Mode().IsRegular() || !filedrop.Wanted(s.cfg.Pattern, name) {
			continue
		}
		if st := (filedrop.Stat{Size: e.Size(), Mod: e.ModTime()}); s.files.Ready(name, st) {
			if err := s.take(ctx, emit, name, st); err != nil {
				return err
			}
		}
	}
	return nil
}

// take emits one file, then moves or deletes it. It returns an error only when the connection
// failed; a message the hub did not store leaves the file for the next poll.
func (s *source) take(ctx context.Context, emit connectors.Emit, name string, st filedrop.Stat) error {
	p := path.Join(s.cfg.Dir, name)
	limit := int64(s.cfg.MaxSize)
	if st.Size > limit {
		s.log.Warn("file larger than max_size moved to the failed folder", "file", p, "size", st.Size, "max_size", limit)
		return s.moveTo(p, name, st, s.cfg.FailedDir)
	}
	data, err := s.read(p, limit)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil // taken by someone else
	case errors.Is(err, errTooLarge):
		s.log.Warn("file larger than max_size moved to the failed folder", "file", p, "max_size", limit)
		return s.moveTo(p, name, st, s.cfg.FailedDir)
	case err != nil:
		return fmt.Errorf("read %s: %w", p, err)
	}

	msg := filedrop.Message(fileID(s.name, name, st), name, data, s.cfg.ContentType, s.cfg.MessageType)
	if err := emit(ctx, msg); err != nil {
		if ctx.Err() == nil {
			s.log.Warn("message not stored; the file stays for the next poll", "file", p, "error", err)
		}
		return nil
	}
	if s.cfg.After == "delete" {
		if err := s.c.sftp.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.log.Error("message stored but the file cannot be deleted; it is not taken again while unchanged", "file", p, "id", msg.UUID, "error", err)
			s.files.Stuck(name, st)
		}
		return nil
	}
	return s.moveTo(p, name, st, s.cfg.DoneDir)
}

var errTooLarge = errors.New("larger than max_size")

// read reads at most limit bytes of p.
func (s *source) read(p string, limit int64) ([]byte, error) {
	f, err := s.c.sftp.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, errTooLarge
	}
	return data, nil
}

// moveTo renames the file into folder (relative to dir), under a numbered name when its own is
// taken. A file that cannot be moved is remembered so as not to be taken again while unchanged.
func (s *source) moveTo(p, name string, st filedrop.Stat, folder string) error {
	dir := remote(s.cfg.Dir, folder)
	if err := s.c.sftp.MkdirAll(dir); err != nil {
		s.log.Error("cannot create the folder; the file is not taken again while unchanged", "dir", dir, "error", err)
		s.files.Stuck(name, st)
		return nil
	}
	free, err := filedrop.FreeName(name, func(n string) (bool, error) {
		target := path.Join(dir, n)
		if _, err := s.c.sftp.Lstat(target); errors.Is(err, fs.ErrNotExist) {
			return false, nil
		} else if err != nil {
			return false, fmt.Errorf("stat %s: %w", target, err)
		}
		return true, nil
	})
	if errors.Is(err, filedrop.ErrNoFreeName) {
		s.log.Error("no free name in the folder; the file is not taken again while unchanged", "file", p, "dir", dir)
		s.files.Stuck(name, st)
		return nil
	} else if err != nil {
		return err
	}
	target := path.Join(dir, free)
	if err := s.c.sftp.Rename(p, target); err != nil {
		s.log.Error("cannot move the file; it is not taken again while unchanged", "file", p, "to", target, "error", err)
		s.files.Stuck(name, st)
	}
	return nil
}
