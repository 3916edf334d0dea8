package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/aiskao/aiskao/dossier/calendar"
)

// maxWorkdays bounds N: 100 000 working days are some four centuries, past any real deadline.
const maxWorkdays = 100000

// listFlag collects a repeatable flag's values.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// periodsFlag collects repeated -suspend FROM..TO flags.
type periodsFlag []calendar.Period

func (p *periodsFlag) String() string { return "" }
func (p *periodsFlag) Set(v string) error {
	from, to, ok := strings.Cut(v, "..")
	if !ok {
		from, to = v, v
	}
	a, err := calendar.ParseDate(from)
	if err != nil {
		return err
	}
	b, err := calendar.ParseDate(to)
	if err != nil {
		return err
	}
	if b.Before(a) {
		return fmt.Errorf("%s..%s ends before it starts", a, b)
	}
	*p = append(*p, calendar.Period{From: a, To: b})
	return nil
}

// runWorkdays prints the day a deadline of N days counted from the day after DATE ends.
func runWorkdays(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("workdays", "DATE N [-calendar FILE|DIR]... [-calendar-days] [-suspend FROM..TO]... [-v]", stderr)
	var files listFlag
	fs.Var(&files, "calendar", "YAML file (or folder of them) with days moved by decision of the Council of Ministers (repeatable); the program knows the decisions of the years it ships with, and a file for a year replaces what it knows of that year")
	calendarDays := fs.Bool("calendar-days", false, "count calendar days (a deadline ending on a day off ends on the next working day) instead of working days")
	var suspended periodsFlag
	fs.Var(&suspended, "suspend", "leave the days FROM..TO (both included, YYYY-MM-DD..YYYY-MM-DD, or one day) out of the count (repeatable)")
	verbose := fs.Bool("v", false, "also list the days passed over and why, in Bulgarian and English")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		fmt.Fprintf(stderr, "aiskao workdays: want DATE and N, got %d argument(s)\n", fs.NArg())
		fs.Usage()
		return errUsage
	}
	from, err := calendar.ParseDate(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "aiskao workdays: DATE: %v\n", err)
		return errUsage
	}
	n, err := strconv.Atoi(fs.Arg(1))
	if err != nil || n < 0 || n > maxWorkdays {
		fmt.Fprintf(stderr, "aiskao workdays: N: %q is not a whole number of days from 0 to %d\n", fs.Arg(1), maxWorkdays)
		return errUsage
	}
	cal, err := calendar.Load(files...)
	if err != nil {
		return err
	}
	unit := calendar.WorkingDays
	if *calendarDays {
		unit = calendar.CalendarDays
	}
	end, skipped := cal.Trace(from, n, unit, suspended)
	fmt.Fprintln(stdout, end)
	if *verbose {
		for _, s := range skipped {
			kind := string(s.Kind)
			if kind == "" {
				kind = "suspended"
			}
			fmt.Fprintf(stdout, "  skipped %s %s  %-11s %s\n", s.Date, s.Date.Weekday().String()[:3], kind, s.Why)
		}
	}
	return nil
}
