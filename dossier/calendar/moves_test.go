package calendar

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/spec"
)

func TestReadMoves(t *testing.T) {
	m, err := LoadMoves(filepath.Join("testdata", "moved.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Year != 2026 || len(m.Days) != 2 {
		t.Fatalf("got %+v", m)
	}
	off, work := m.Days[0], m.Days[1]
	if off.Day.Date.String() != "2026-03-02" || off.Day.Kind != DecreedOff || off.Day.Source != "test decision" ||
		off.Pos != filepath.Join("testdata", "moved.yaml")+":5" {
		t.Errorf("day off %+v", off)
	}
	if work.Day.Kind != DecreedWorking || !work.Day.Working() || work.Day.Name.BG == "" || work.Day.Name.EN == "" {
		t.Errorf("working day %+v", work)
	}
}

// TestReadMovesErrors maps bad files to the error each must give: file, line and what is wrong.
func TestReadMovesErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"syntax", "year: [2026\n", "f.yaml:1:1: invalid YAML: did not find expected ',' or ']'"},
		{"no year", "days_off: []\n", `f.yaml:1:1: missing required key "year"`},
		{"unknown key", "year: 2026\nholidays: []\n", `f.yaml:2:1: unknown key "holidays"; allowed: year, days_off, working_days`},
		{"bad date", "year: 2026\ndays_off:\n  - date: 2026-02-30\n    decision: x\n",
			`f.yaml:3:11: days_off[0].date: calendar: date "2026-02-30": want YYYY-MM-DD`},
		{"date as a list", "year: 2026\ndays_off:\n  - date: [1]\n    decision: x\n",
			`f.yaml:3:11: days_off[0].date: want a date written as YYYY-MM-DD`},
		{"no decision", "year: 2026\ndays_off:\n  - date: 2026-03-02\n",
			`f.yaml:3:5: days_off[0]: missing required key "decision"`},
		{"other year", "year: 2026\ndays_off:\n  - date: 2025-03-03\n    decision: x\n",
			"f.yaml:3:11: days_off[0].date: 2025-03-03 is not in the year 2026"},
		{"day off on a Saturday", "year: 2026\ndays_off:\n  - date: 2026-03-07\n    decision: x\n",
			"f.yaml:3:11: days_off[0].date: 2026-03-07 (Saturday) is already a day off: Saturday"},
		{"day off on a holiday", "year: 2026\ndays_off:\n  - date: 2026-03-03\n    decision: x\n",
			"days_off[0].date: 2026-03-03 (Tuesday) is already a day off: Liberation Day"},
		{"working weekday", "year: 2026\nworking_days:\n  - date: 2026-03-04\n    decision: x\n",
			"f.yaml:3:11: working_days[0].date: 2026-03-04 is a Wednesday, already a working day"},
		{"working holiday", "year: 2026\nworking_days:\n  - date: 2026-04-11\n    decision: x\n",
			"working_days[0].date: 2026-04-11 is Holy Saturday (holiday), which a decision cannot make a working day"},
		{"twice", "year: 2026\ndays_off:\n  - date: 2026-03-02\n    decision: x\nworking_days:\n  - date: 2026-03-02\n    decision: y\n",
			"f.yaml:6:11: working_days[0].date: 2026-03-02 is already listed in days_off[0]"},
		{"year out of range", "year: 20260\n", "f.yaml:1:7: year:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadMoves("f.yaml", []byte(tc.src))
			if err == nil {
				t.Fatal("no error")
			}
			var se spec.Errors
			if !errors.As(err, &se) {
				t.Errorf("error %T is not spec.Errors", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error:\n%v\nwant it to contain:\n%s", err, tc.want)
			}
		})
	}
}

func TestLoadConflict(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a.yaml", "b.yaml"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("year: 2026\n\ndays_off:\n  - date: 2026-03-02\n    decision: x\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	_, err := Load(dir)
	if err == nil || !strings.Contains(err.Error(), "b.yaml:4: 2026-03-02 is already moved in "+filepath.Join(dir, "a.yaml")+":4") {
		t.Errorf("error %v", err)
	}
	if _, err := Load(filepath.Join(dir, "none.yaml")); err == nil || !strings.Contains(err.Error(), "none.yaml") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no .yaml files") {
		t.Errorf("empty folder: %v", err)
	}
}

// TestShippedCalendars checks the days the shipped decisions moved, and that a given file
// replaces the shipped one of its year.
func TestShippedCalendars(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	// 2026 has 248 working days with 2 January off, as the press counted them (trud.bg,
	// 26 December 2025): the law's 249 less the decision's one, none worked off.
	if n := c.WorkingDaysBetween(date(t, "2025-12-31"), date(t, "2026-12-31")); n != 248 {
		t.Errorf("2026 has %d working days with the decisions, want 248", n)
	}
	for _, d := range []string{"2025-12-31", "2026-01-02"} {
		day, ok := c.Explain(date(t, d))
		if !ok || day.Kind != DecreedOff || !strings.Contains(day.Source, "Министерския съвет") {
			t.Errorf("%s: %+v", d, day)
		}
	}
}

func FuzzReadMoves(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("years", "*.yaml"))
	seeds = append(seeds, filepath.Join("testdata", "moved.yaml"))
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("year: 2026\ndays_off:\n  - date: 2026-02-30\n"))
	f.Add([]byte("year: &a 2026\nworking_days: *a\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ReadMoves("f.yaml", b)
		if err != nil {
			var se spec.Errors
			if !errors.As(err, &se) || len(se) == 0 {
				t.Fatalf("error %T %v is not spec.Errors", err, err)
			}
			for _, e := range se {
				if e.File != "f.yaml" || e.Msg == "" {
					t.Fatalf("error without file or message: %+v", e)
				}
			}
			return
		}
		// What the loader takes, the calendar takes, and each moved day is as configured.
		c, err := BulgariaWith(m)
		if err != nil {
			t.Fatalf("BulgariaWith refused what ReadMoves took: %v", err)
		}
		for _, mv := range m.Days {
			if mv.Day.Date.Year != m.Year || c.IsWorkingDay(mv.Day.Date) != mv.Day.Working() {
				t.Fatalf("moved day %+v in year %d: working %v", mv.Day, m.Year, c.IsWorkingDay(mv.Day.Date))
			}
		}
	})
}
