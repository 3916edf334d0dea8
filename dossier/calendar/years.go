package calendar

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"

	"github.com/aiskao/aiskao/spec"
)

// years holds the days moved by decision that ship with the program, one file a year, so that
// deadlines count them without any configuration.
//
//go:embed years/*.yaml
var years embed.FS

// Shipped returns the moved days that ship with the program, one Moves a year in year order.
func Shipped() ([]*Moves, error) {
	names, err := fs.Glob(years, "years/*.yaml")
	if err != nil {
		return nil, fmt.Errorf("calendar: shipped years: %w", err)
	}
	sort.Strings(names)
	var out []*Moves
	for _, n := range names {
		b, err := years.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("calendar: shipped years: %w", err)
		}
		m, err := ReadMoves(path.Join("dossier/calendar", n), b)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// Default is Bulgaria's calendar with the shipped moved days and those of extra; a year in extra
// replaces the shipped file of that year, so that a decision the program does not know yet can be
// added by giving that year's whole file.
func Default(extra ...*Moves) (*Calendar, error) {
	shipped, err := Shipped()
	if err != nil {
		return nil, err
	}
	given := map[int]bool{}
	for _, m := range extra {
		given[m.Year] = true
	}
	var all []*Moves
	for _, m := range shipped {
		if !given[m.Year] {
			all = append(all, m)
		}
	}
	return BulgariaWith(append(all, extra...)...)
}

// loadFiles reads the moved days of files, gathering every file's errors.
func loadFiles(files []string) ([]*Moves, error) {
	var all []*Moves
	var errs spec.Errors
	for _, f := range files {
		m, err := LoadMoves(f)
		var se spec.Errors
		switch {
		case errors.As(err, &se):
			errs = append(errs, se...)
		case err != nil:
			return nil, err
		default:
			all = append(all, m)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return all, nil
}
