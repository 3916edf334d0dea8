package sqlite

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/store"
)

// Config configures the embedded SQLite store.
type Config struct {
	File string `yaml:"file" doc:"Path of the SQLite database file, shared with the embedded transport. Empty means aiskao.db in the data folder; a relative path is taken inside the data folder." example:"/var/lib/aiskao/aiskao.db"`
	// SweepInterval only gives space back: expired keys are ignored at once whether swept or not.
	SweepInterval spec.Duration   `yaml:"sweep_interval" doc:"How often idempotency keys whose time to live has passed are deleted from the file. Expired keys are ignored at once; sweeping gives their space back." default:"1m" example:"10m"`
	MarkBatch     int             `yaml:"mark_batch" doc:"Most idempotency marks written in one transaction. Marks made at the same time share one commit, up to this many." default:"512" min:"1" example:"1024"`
	Retention     store.Retention `yaml:"retention" doc:"How long journal entries and dead letters are kept, and how often the hub prunes them."`
}

// minSweepInterval keeps the sweeper from competing with the writers for the file.
const minSweepInterval = time.Second

// Validate checks what the tags cannot say.
func (c *Config) Validate() error {
	var errs []error
	if c.File != "" && (strings.HasSuffix(c.File, "/") || strings.HasSuffix(c.File, string(os.PathSeparator))) {
		errs = append(errs, spec.FieldErrorf("file", "%q names a folder; give a file, such as %s", c.File, filepath.Join(c.File, "aiskao.db")))
	}
	if c.SweepInterval.D() < minSweepInterval {
		errs = append(errs, spec.FieldErrorf("sweep_interval", "must be at least %v, got %v", minSweepInterval, c.SweepInterval.D()))
	}
	return errors.Join(errs...)
}

// path resolves the database file against the data folder.
func (c Config) path(dataDir string) string {
	switch {
	case c.File == "":
		return filepath.Join(dataDir, "aiskao.db")
	case filepath.IsAbs(c.File):
		return c.File
	default:
		return filepath.Join(dataDir, c.File)
	}
}

// RetentionOptions returns the retention option (see store.Retaining).
func (c Config) RetentionOptions() store.Retention { return c.Retention }
