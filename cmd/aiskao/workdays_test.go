package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWorkdaysCLI runs the real binary: the printed day, the -v reasons, the configured
// calendar, calendar days and suspensions, and the errors for bad arguments.
func TestWorkdaysCLI(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("year: 2026\ndays_off:\n  - date: 2026-03-07\n    decision: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	only2026 := filepath.Join(t.TempDir(), "2026.yaml")
	if err := os.WriteFile(only2026, []byte("year: 2026\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string // lines or parts of the output, in order
	}{
		{"over a weekend", []string{"2026-12-04", "1"}, 0, []string{"2026-12-07\n"}},
		{"over Christmas with reasons", []string{"2026-12-23", "1", "-v"}, 0, []string{
			"2026-12-29\n",
			"2026-12-24 Thu  holiday     Бъдни вечер / Christmas Eve",
			"2026-12-27 Sun  weekend     неделя / Sunday",
			"2026-12-28 Mon  substitute  почивен ден вместо Рождество Христово",
		}},
		{"flags before the words", []string{"-v", "2026-04-09", "1"}, 0, []string{"2026-04-14\n", "Good Friday", "Easter Monday"}},
		{"with the shipped decisions", []string{"2025-12-30", "1", "-v"}, 0, []string{
			"2026-01-05\n", "2025-12-31 Wed  decreed-off", "2026-01-02 Fri  decreed-off",
		}},
		{"a year's file replaces the shipped one", []string{"2025-12-30", "1", "-calendar", only2026}, 0, []string{"2026-01-02\n"}},
		{"calendar days", []string{"2026-11-28", "7", "-calendar-days"}, 0, []string{"2026-12-07\n"}},
		{"suspended", []string{"2026-12-01", "5", "-suspend", "2026-12-03..2026-12-04", "-v"}, 0, []string{
			"2026-12-10\n", "2026-12-03 Thu  suspended   спрян срок / deadline suspended",
		}},
		{"zero", []string{"2026-12-05", "0"}, 0, []string{"2026-12-07\n"}},
		{"help", []string{"-h"}, 0, []string{"Usage: aiskao workdays DATE N", "-calendar-days", "-suspend"}},
		{"bad date", []string{"2026-02-30", "1"}, 2, []string{`DATE: calendar: date "2026-02-30": want YYYY-MM-DD`}},
		{"bad N", []string{"2026-12-01", "-1"}, 2, []string{"flag provided but not defined: -1"}},
		{"N not a number", []string{"2026-12-01", "five"}, 2, []string{`N: "five" is not a whole number of days from 0 to 100000`}},
		{"missing N", []string{"2026-12-01"}, 2, []string{"want DATE and N, got 1 argument(s)", "Usage: aiskao workdays"}},
		{"bad suspension", []string{"2026-12-01", "1", "-suspend", "2026-12-05..2026-12-03"}, 2, []string{"2026-12-05..2026-12-03 ends before it starts"}},
		{"bad calendar file", []string{"2026-12-01", "1", "-calendar", bad}, 1, []string{
			"bad.yaml:3:11: days_off[0].date: 2026-03-07 (Saturday) is already a day off: Saturday",
		}},
		{"missing calendar file", []string{"2026-12-01", "1", "-calendar", "nope.yaml"}, 1, []string{"nope.yaml: no such file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, code := cli(t, append([]string{"workdays"}, tc.args...)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s", code, tc.code, out)
			}
			rest := out
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("output lacks %q (in order):\n%s", w, out)
				}
				rest = rest[i+len(w):]
			}
			if tc.code == 0 && tc.name != "help" && !strings.HasPrefix(out, tc.want[0]) {
				t.Errorf("the date is not the first line:\n%s", out)
			}
		})
	}
}

// TestWorkdaysHelp checks that the command is listed and answers help in every form.
func TestWorkdaysHelp(t *testing.T) {
	out, code := cli(t, "help")
	if code != 0 || !strings.Contains(out, "workdays") {
		t.Errorf("help: exit %d, lacks workdays:\n%s", code, out)
	}
	for _, args := range [][]string{{"help", "workdays"}, {"workdays", "--help"}, {"workdays", "2026-12-01", "1", "-help"}} {
		out, code := cli(t, args...)
		if code != 0 || !strings.Contains(out, "-calendar FILE|DIR") {
			t.Errorf("%v: exit %d:\n%s", args, code, out)
		}
	}
}
