package fileconn

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/internal/filedrop"
	"github.com/aiskao/aiskao/internal/filename"
	"github.com/aiskao/aiskao/spec"
)

// Config is the options of a file connector. Dir is shared; the source and the sink each read
// their own options and ignore the others'.
type Config struct {
	Dir string `yaml:"dir" doc:"Folder that files are taken from (source) or written to (sink); a relative folder is inside the hub's data folder (-data); created when missing." required:"true" example:"/var/lib/aiskao/inbox"`

	Pattern      string        `yaml:"pattern" doc:"Source: glob of the file names taken, matched against the base name." default:"*" example:"*.xml"`
	PollInterval spec.Duration `yaml:"poll_interval" doc:"Source: how often the folder is read." default:"1s" example:"5s"`
	MaxSize      spec.ByteSize `yaml:"max_size" doc:"Source: largest file taken; larger ones go to failed/." default:"10MiB" min:"1" example:"512KiB"`
	ContentType  string        `yaml:"content_type" doc:"Source: datacontenttype of the messages; empty guesses it from the extension (.xml, .json)." example:"application/xml"`
	MessageType  string        `yaml:"message_type" doc:"Source: value of the envelope's type; empty leaves it unset." example:"register.Export"`

	Name  string `yaml:"name" doc:"Sink: template of the file name: {{id}} the message id, {{meta \"key\"}} a metadata value, {{ext}} .xml, .json or .bin from the content type." default:"{{id}}{{ext}}" example:"{{meta \"subject\"}}-{{id}}.xml"`
	Mode  string `yaml:"mode" doc:"Sink: permissions of written files, in octal." default:"0640" example:"0600"`
	Fsync bool   `yaml:"fsync" doc:"Sink: sync each file and the folder to disk before the message counts as delivered; off is faster and loses the last files on a power cut." default:"true"`
	Sync  string `yaml:"sync" doc:"Sink, with fsync: how the files reach the disk. file: each file is synced, then its folder, the folder's syncs shared between files written at once. filesystem: the files written at once share one sync of the whole file system (syncfs), many times cheaper under load on disks where each sync waits for the device; it also writes out other programs' unsaved data on that file system, so use it where the folder is on a volume of the hub's own. Linux only; elsewhere it works as file." default:"file" example:"filesystem"`
}

// The values of Config.Sync.
const (
	SyncFile       = "file"
	SyncFilesystem = "filesystem"
)

// Validate checks the options after defaults (spec.Options applies them from the tags).
func (c *Config) Validate() error {
	var errs []error
	add := func(field, format string, args ...any) { errs = append(errs, spec.FieldErrorf(field, format, args...)) }
	if c.Dir != "" && strings.TrimSpace(c.Dir) == "" {
		add("dir", "is blank: name the folder of the files")
	}
	if err := filedrop.CheckPattern(c.Pattern, `/\`); err != nil {
		add("pattern", "%v", err)
	}
	if c.PollInterval <= 0 {
		add("poll_interval", "must be more than 0, such as 1s")
	}
	if c.MaxSize < 1 {
		add("max_size", "must be at least 1 byte")
	}
	if err := filedrop.CheckContentType(c.ContentType); err != nil {
		add("content_type", "%v", err)
	}
	if _, err := filename.Parse(c.Name); err != nil {
		add("name", "%v", err)
	}
	if _, err := parseMode(c.Mode); err != nil {
		add("mode", "%v", err)
	}
	if c.Sync != SyncFile && c.Sync != SyncFilesystem {
		add("sync", "%q is not file or filesystem", c.Sync)
	}
	return errors.Join(errs...)
}

func parseMode(s string) (uint32, error) {
	m, err := strconv.ParseUint(s, 8, 32)
	if err != nil || m > 0o777 || m&0o600 != 0o600 {
		return 0, fmt.Errorf("%q is not an octal mode that lets the owner read and write, such as 0640", s)
	}
	return uint32(m), nil
}

// dirOf returns the connector's folder: a relative dir is inside the hub's data folder, so that a
// configuration works the same wherever the hub is started from.
func dirOf(c Config, env connectors.Env) string {
	if filepath.IsAbs(c.Dir) || env.DataDir == "" {
		return c.Dir
	}
	return filepath.Join(env.DataDir, c.Dir)
}
