// Package migration reads the numbered schema steps a store embeds. Each store applies them its
// own way (its driver, its locking); the naming rule and the checks on the files are here once.
package migration

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Step is one numbered step of a schema.
type Step struct {
	Version int
	Name    string // file name, such as 0001_init.sql
	SQL     string
}

// Load returns the steps in folder dir of fsys in version order. Files are named NNNN_what.sql;
// each number is used once. Numbers may leave gaps, so that steps written side by side can take
// their numbers in advance: stores apply every step not yet recorded, whatever the highest
// recorded number, so a step that fills a gap later is still applied.
func Load(fsys fs.FS, dir string) ([]Step, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var out []Step
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v < 1 {
			return nil, fmt.Errorf("migration file %s: name must start with a version number and an underscore, such as 0002_add_index.sql", e.Name())
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, Step{Version: v, Name: e.Name(), SQL: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("migration file %s: version %d is also used by %s", out[i].Name, out[i].Version, out[i-1].Name)
		}
	}
	return out, nil
}

// Latest returns the highest version of steps, or 0.
func Latest(steps []Step) int {
	if len(steps) == 0 {
		return 0
	}
	return steps[len(steps)-1].Version
}
