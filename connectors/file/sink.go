package fileconn

import (
	"context"
	"fmt"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"text/template"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/hub/envelope"
	"github.com/aiskao/aiskao/hub/fault"
)

type sink struct {
	name     string
	dir      string
	template string
	tmpl     *template.Template // nil for the default template, which is built without it
	mode     os.FileMode
	fsync    bool
	closed   atomic.Bool
}

func newSink(cfg any, env connectors.Env) (*sink, error) {
	c, err := options(cfg)
	if err != nil {
		return nil, fmt.Errorf("file sink %s: %w", env.Name, err)
	}
	c.Dir = dirOf(c, env)
	if err := os.MkdirAll(c.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("file sink %s: %w", env.Name, err)
	}
	mode, _ := parseMode(c.Mode) // checked by Validate
	s := &sink{name: env.Name, dir: c.Dir, template: c.Name, mode: os.FileMode(mode), fsync: c.Fsync}
	if c.Name != defaultName {
		s.tmpl, _ = parseName(c.Name) // checked by Validate
	}
	return s, nil
}

// nameFuncs are the functions of name templates, bound to one message; msg is nil when a
// template is only parsed.
func nameFuncs(msg *message.Message, ext string) template.FuncMap {
	return template.FuncMap{
		"id": func() string {
			if msg == nil {
				return ""
			}
			return msg.UUID
		},
		"meta": func(key string) string {
			if msg == nil {
				return ""
			}
			return msg.Metadata.Get(key)
		},
		"ext": func() string { return ext },
	}
}

// Send writes msg to its file atomically; see the package documentation.
func (s *sink) Send(ctx context.Context, msg *message.Message) error {
	if s.closed.Load() {
		return fmt.Errorf("file sink %s: send after close", s.name)
	}
	name, err := s.fileName(msg)
	if err != nil {
		return fault.Permanent(fmt.Errorf("file sink %s: %w", s.name, err))
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("file sink %s: %w", s.name, err)
	}
	if err := s.write(name, msg.Payload); err != nil {
		return fmt.Errorf("file sink %s: write %s: %w", s.name, filepath.Join(s.dir, name), err)
	}
	return nil
}

// fileName runs the name template for msg and makes a safe base name of the result.
func (s *sink) fileName(msg *message.Message) (string, error) {
	ext := extension(msg.Metadata.Get(envelope.ContentType))
	var raw string
	if s.tmpl == nil {
		raw = msg.UUID + ext
	} else {
		var b strings.Builder
		t := template.Must(s.tmpl.Clone()).Funcs(nameFuncs(msg, ext)) // Clone fails only after Execute
		if err := t.Execute(&b, nil); err != nil {
			return "", fmt.Errorf("name template %q for message %s: %w", s.template, msg.UUID, err)
		}
		raw = b.String()
	}
	name := strings.TrimSpace(strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r < 0x20 || r == 0x7f {
			return '_'
		}
		return r
	}, raw))
	switch {
	case name == "" || name == "." || name == "..":
		return "", fmt.Errorf("name template %q gave %q for message %s: not a file name", s.template, raw, msg.UUID)
	case len(name) > 255:
		return "", fmt.Errorf("name template %q gave a name of %d bytes for message %s; at most 255 fit", s.template, len(name), msg.UUID)
	}
	return name, nil
}

// write puts data under name through a temporary file, so that the name never shows a partial
// file; with fsync the file and then the folder entry are on disk before it returns.
func (s *sink) write(name string, data []byte) (err error) {
	f, err := os.CreateTemp(s.dir, ".aiskao-*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Chmod(s.mode); err != nil {
		return err
	}
	if s.fsync {
		if err = f.Sync(); err != nil {
			return err
		}
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, filepath.Join(s.dir, name)); err != nil {
		return err
	}
	if s.fsync {
		return syncDir(s.dir)
	}
	return nil
}

// syncDir makes a rename in dir durable.
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
	s.closed.Store(true)
	return nil
}

// extension returns the file extension for a content type.
func extension(contentType string) string {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return ".json"
	case mt == "application/xml" || mt == "text/xml" || strings.HasSuffix(mt, "+xml"):
		return ".xml"
	}
	return ".bin"
}
