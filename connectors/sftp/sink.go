package sftpconn

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"path"
	"sync"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/fault"
	"github.com/aiskao/aiskao/internal/filename"
)

type sink struct {
	name  string
	dir   string
	names *filename.Template
	d     *dialer
	log   *slog.Logger

	mu     sync.Mutex
	c      *conn // nil until the first Send, and after a failure
	closed bool
}

func newSink(cfg any, env connectors.Env) (*sink, error) {
	d, log, err := setUp(cfg, env, "sink")
	if err != nil {
		return nil, err
	}
	s := &sink{name: env.Name, dir: d.cfg.Dir, d: d, log: log}
	s.names, _ = filename.Parse(d.cfg.Name) // checked by Validate
	return s, nil
}

// session returns the open session, logging in when there is none; fresh tells which.
func (s *sink) session(ctx context.Context) (c *conn, fresh bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, false, fmt.Errorf("sftp sink %s: send after close", s.name)
	}
	if s.c == nil {
		c, err := s.d.dial(ctx)
		if err != nil {
			return nil, false, fmt.Errorf("sftp sink %s: %w", s.name, err)
		}
		s.c, fresh = c, true
	}
	return s.c, fresh, nil
}

// forget closes c after a failure, unless another Send has replaced it already.
func (s *sink) forget(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c == c {
		s.c = nil
	}
	c.close()
}

// Send writes msg to a temporary name in dir and renames it into place, so that readers of the
// folder never see a partial file; an existing file of the same name is replaced.
func (s *sink) Send(ctx context.Context, msg *message.Message) error {
	return s.send(ctx, msg, func(w io.Writer) error {
		_, err := w.Write(msg.Payload)
		return err
	})
}

// SendStream writes msg as Send does, with the payload write writes: a document a step made is
// encoded into the remote file as it goes, never whole in memory (the client sends a payload in
// packets of 32 KiB, each answered before the next, whether it comes whole or in pieces). A
// write that fails leaves no file.
func (s *sink) SendStream(ctx context.Context, msg *message.Message, write func(io.Writer) error) error {
	return s.send(ctx, msg, write)
}

func (s *sink) send(ctx context.Context, msg *message.Message, content func(io.Writer) error) error {
	name, err := s.names.Name(msg, true)
	if err != nil {
		return fault.Permanent(fmt.Errorf("sftp sink %s: %w", s.name, err))
	}
	target := path.Join(s.dir, name)
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	tmp := path.Join(s.dir, "."+name+"."+hex.EncodeToString(rnd[:])+".tmp")
	for {
		c, fresh, err := s.session(ctx)
		if err != nil {
			return err
		}
		// A server that stops answering would hold the write forever: the end of ctx closes the
		// session under it (other writes on it fail and are retried).
		stop := context.AfterFunc(ctx, func() { _ = c.ssh.Close() })
		err = write(c, tmp, target, content)
		stop()
		if err == nil {
			return nil
		}
		_ = c.sftp.Remove(tmp)
		s.forget(c)
		// A session kept from earlier may have been dropped by the server while idle: one more
		// try on a new one. A new session that fails is the server's answer.
		if fresh || ctx.Err() != nil {
			return fmt.Errorf("sftp sink %s: write %s on %s: %w", s.name, target, s.d.cfg.Address, err)
		}
	}
}

func write(c *conn, tmp, target string, content func(io.Writer) error) error {
	f, err := c.sftp.Create(tmp)
	if err != nil {
		return err
	}
	if err := content(f); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if _, ok := c.sftp.HasExtension("posix-rename@openssh.com"); ok {
		return c.sftp.PosixRename(tmp, target)
	}
	return c.sftp.Rename(tmp, target)
}

// Close ends the session; Sends after it fail.
func (s *sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.c != nil {
		s.c.close()
		s.c = nil
	}
	return nil
}
