package calendar

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/aiskao/aiskao/spec"
)

// Moves are the days of one year that decisions of the Council of Ministers moved: working days
// made days off and weekend days made working days. The Labour Code's holidays and its rule for
// holidays on a weekend need no configuration; only these decisions do.
type Moves struct {
	Year int
	// Days are the moved days in date order, each a DecreedOff or a DecreedWorking Day.
	Days []Move
}

// Move is one moved day and where it was configured.
type Move struct {
	Day Day
	// Pos is "file:line" of the day's entry, for errors that name it.
	Pos string
}

// movesFile is the YAML form of a year's moved days.
type movesFile struct {
	Year        int        `yaml:"year" doc:"The year the decisions move days in; every date must be in it." required:"true" min:"1900" max:"9999" example:"2026"`
	DaysOff     []movedDay `yaml:"days_off" doc:"Working days made days off."`
	WorkingDays []movedDay `yaml:"working_days" doc:"Saturdays (or Sundays) made working days, usually to work off a day off."`
}

// movedDay is one entry of days_off or working_days.
type movedDay struct {
	Date     Date   `yaml:"date" doc:"The day, as YYYY-MM-DD." required:"true" example:"2026-01-02"`
	Decision string `yaml:"decision" doc:"The decision that moved the day, as published (number, date, Държавен вестник issue)." required:"true"`
	Name     string `yaml:"name" doc:"What the day is, in Bulgarian; by default \"почивен ден по решение на Министерския съвет\" or \"работен ден по решение на Министерския съвет\"."`
	NameEN   string `yaml:"name_en" doc:"What the day is, in English."`
}

// Validate checks what the tags cannot: the dates are in the year, each moved once, a day off
// was a working day and a working day was a weekend day that is not a holiday.
func (f *movesFile) Validate() error {
	var errs []error
	law := Bulgaria()
	seen := map[Date]string{}
	check := func(key string, list []movedDay, off bool) {
		for i, m := range list {
			field := fmt.Sprintf("%s[%d].date", key, i)
			d := m.Date
			if d.Year != f.Year {
				errs = append(errs, spec.FieldErrorf(field, "%s is not in the year %d", d, f.Year))
				continue
			}
			if prev, dup := seen[d]; dup {
				errs = append(errs, spec.FieldErrorf(field, "%s is already listed in %s", d, prev))
				continue
			}
			seen[d] = fmt.Sprintf("%s[%d]", key, i)
			day, special := law.Explain(d)
			switch {
			case off && special:
				errs = append(errs, spec.FieldErrorf(field, "%s (%s) is already a day off: %s", d, weekday(d), day.Name.EN))
			case !off && !special:
				errs = append(errs, spec.FieldErrorf(field, "%s is a %s, already a working day: only a weekend day can be made one", d, weekday(d)))
			case !off && day.Kind != Weekend:
				errs = append(errs, spec.FieldErrorf(field, "%s is %s (%s), which a decision cannot make a working day", d, day.Name.EN, day.Kind))
			}
		}
	}
	check("days_off", f.DaysOff, true)
	check("working_days", f.WorkingDays, false)
	return errors.Join(errs...)
}

func weekday(d Date) string { return d.Weekday().String() }

// ReadMoves reads a year's moved days from YAML. file names the source in errors, which are
// spec.Errors giving file, line and column and what is wrong.
//
//	year: 2026
//	days_off:
//	  - date: 2026-01-02
//	    decision: "Решение на Министерския съвет от 19 ноември 2025 г."
//	working_days:
//	  - date: 2026-01-17
//	    decision: "..."
func ReadMoves(file string, data []byte) (*Moves, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, spec.Errors{syntaxError(file, err)}
	}
	var root *yaml.Node
	if len(doc.Content) > 0 {
		root = doc.Content[0]
	}
	var f movesFile
	if errs := spec.Decode(file, root, "", &f); len(errs) > 0 {
		return nil, errs
	}
	m := &Moves{Year: f.Year}
	add := func(key string, list []movedDay, kind Kind, name Name) {
		items := spec.Lookup(root, key)
		for i, e := range list {
			n := name
			if e.Name != "" {
				n.BG = e.Name
			}
			if e.NameEN != "" {
				n.EN = e.NameEN
			}
			pos := file
			if items != nil && i < len(items.Content) {
				pos = fmt.Sprintf("%s:%d", file, items.Content[i].Line)
			}
			m.Days = append(m.Days, Move{Day: Day{Date: e.Date, Kind: kind, Name: n, Source: e.Decision}, Pos: pos})
		}
	}
	add("days_off", f.DaysOff, DecreedOff, Name{"почивен ден по решение на Министерския съвет", "day off by decision of the Council of Ministers"})
	add("working_days", f.WorkingDays, DecreedWorking, Name{"работен ден по решение на Министерския съвет", "working day by decision of the Council of Ministers"})
	sort.Slice(m.Days, func(i, j int) bool { return m.Days[i].Day.Date.Before(m.Days[j].Day.Date) })
	return m, nil
}

// syntaxError places a YAML syntax error at its line when the parser gave one.
func syntaxError(file string, err error) spec.Error {
	e := spec.Error{File: file, Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	var line int
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if _, scanErr := fmt.Sscanf(msg, "line %d:", &line); scanErr == nil && line > 0 {
		e.Line, e.Col = line, 1
		e.Msg = "invalid YAML: " + strings.TrimSpace(msg[strings.Index(msg, ":")+1:])
	}
	return e
}

// LoadMoves reads a year's moved days from a YAML file.
func LoadMoves(file string) (*Moves, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("calendar: %w", err)
	}
	return ReadMoves(file, data)
}

// Load is Default with the moved days of the files named; a folder stands for its .yaml and .yml
// files. A year in the files replaces the shipped file of that year; a date moved in two of the
// files is an error naming both.
func Load(paths ...string) (*Calendar, error) {
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("calendar: %w", err)
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		var in []string
		for _, pattern := range []string{"*.yaml", "*.yml"} {
			m, _ := filepath.Glob(filepath.Join(p, pattern))
			in = append(in, m...)
		}
		if len(in) == 0 {
			return nil, fmt.Errorf("calendar: %s: no .yaml files in the folder", p)
		}
		sort.Strings(in)
		files = append(files, in...)
	}
	all, err := loadFiles(files)
	if err != nil {
		return nil, err
	}
	return Default(all...)
}
