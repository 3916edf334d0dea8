// Package calendar counts the days of administrative deadlines: dates
// without a time of day, working days by Bulgaria's public holidays, and
// deadlines in working or calendar days with the periods a dossier was
// suspended left out.
package calendar

import (
	"fmt"
	"sync"
	"time"

	"gopkg.in/yaml.v3"
)

// Date is a day in the civil calendar, without a time of day or a zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate reads a date written as 2006-01-02.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("calendar: date %q: want YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

// DateOf is the day on which t falls in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// Time is the start of the day in loc.
func (d Date) Time(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// String writes the date as 2006-01-02.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// AddDays is the date n days after d (before it when n is negative).
func (d Date) AddDays(n int) Date { return DateOf(d.Time(time.UTC).AddDate(0, 0, n)) }

// Weekday is d's day of the week.
func (d Date) Weekday() time.Weekday { return d.Time(time.UTC).Weekday() }

// Compare returns -1, 0 or +1 as d is before, the same as or after e.
func (d Date) Compare(e Date) int { return d.Time(time.UTC).Compare(e.Time(time.UTC)) }

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.Compare(e) < 0 }

// After reports whether d is after e.
func (d Date) After(e Date) bool { return d.Compare(e) > 0 }

// MarshalText writes the date as 2006-01-02.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads a date written as 2006-01-02.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// UnmarshalYAML reads a date written as 2006-01-02 from a YAML scalar.
func (d *Date) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("want a date written as YYYY-MM-DD")
	}
	return d.UnmarshalText([]byte(n.Value))
}

// Unit says how a deadline counts its days.
type Unit string

const (
	// WorkingDays counts only the days that are neither weekends nor days off.
	WorkingDays Unit = "working"
	// CalendarDays counts every day; a deadline that ends on a day off ends
	// on the next working day.
	CalendarDays Unit = "calendar"
)

// Period is a run of days, both ends included, such as a suspension.
type Period struct {
	From Date
	To   Date
}

// Contains reports whether d is in the period, ends included.
func (p Period) Contains(d Date) bool { return !d.Before(p.From) && !d.After(p.To) }

// Calendar knows which days are working days: weekends, the official holidays of the Labour
// Code with its rule for holidays on a weekend, and the days moved by decisions of the Council of
// Ministers it was given. The zero Calendar is Bulgaria(). A Calendar is safe for use by
// several goroutines.
type Calendar struct {
	decided map[Date]Day // days off added and weekend days made working, by date

	mu    sync.Mutex
	years map[int]map[Date]Day // statutory days off of each year asked about
}

// Bulgaria is the calendar of Bulgaria's working days by the Labour Code alone, without days
// moved by decision (see BulgariaWith and Load for those).
func Bulgaria() *Calendar { return &Calendar{years: map[int]map[Date]Day{}} }

// BulgariaWith is Bulgaria's calendar with the days moved by decision that moves list. A date
// set by more than one of them is an error naming both places.
func BulgariaWith(moves ...*Moves) (*Calendar, error) {
	c := Bulgaria()
	c.decided = map[Date]Day{}
	where := map[Date]string{}
	for _, m := range moves {
		for _, mv := range m.Days {
			if prev, dup := where[mv.Day.Date]; dup {
				return nil, fmt.Errorf("calendar: %s: %s is already moved in %s", mv.Pos, mv.Day.Date, prev)
			}
			where[mv.Day.Date] = mv.Pos
			c.decided[mv.Day.Date] = mv.Day
		}
	}
	return c, nil
}

// statutory is the days off of year by the law alone, computed once a year.
func (c *Calendar) statutory(year int) map[Date]Day {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.years == nil { // a zero Calendar works as Bulgaria()
		c.years = map[int]map[Date]Day{}
	}
	y, ok := c.years[year]
	if !ok {
		y = statutoryYear(year)
		c.years[year] = y
	}
	return y
}

// Explain says what d is: a weekend day, a holiday, a substitute day off, a day moved by decision
// (off, or a weekend day made working); ok is false for an ordinary weekday.
func (c *Calendar) Explain(d Date) (day Day, ok bool) {
	if day, ok := c.decided[d]; ok {
		return day, true
	}
	if day, ok := c.statutory(d.Year)[d]; ok {
		return day, true
	}
	if isWeekend(d) {
		return Day{Date: d, Kind: Weekend, Name: weekdayName(d), Source: "КТ чл. 153"}, true
	}
	return Day{}, false
}

// Holiday is the name of the official holiday on d (чл. 154, ал. 1 of the Labour Code, Easter
// included; 1 November, a day off for schools only, is not one here). It reports false for
// other days, days off in place of a holiday on a weekend included.
func (c *Calendar) Holiday(d Date) (Name, bool) {
	day, ok := c.statutory(d.Year)[d]
	if !ok || day.Kind != PublicHoliday {
		return Name{}, false
	}
	return day.Name, true
}

// Holidays lists the days off and the decreed working days of year other than plain weekends,
// in date order.
func (c *Calendar) Holidays(year int) []Day {
	var out []Day
	for d := (Date{year, time.January, 1}); d.Year == year; d = d.AddDays(1) {
		if day, ok := c.Explain(d); ok && day.Kind != Weekend {
			out = append(out, day)
		}
	}
	return out
}

// IsWorkingDay reports whether d is a working day.
func (c *Calendar) IsWorkingDay(d Date) bool {
	day, special := c.Explain(d)
	return !special || day.Working()
}

// Next is the first working day after d.
func (c *Calendar) Next(d Date) Date {
	d = d.AddDays(1)
	for !c.IsWorkingDay(d) {
		d = d.AddDays(1)
	}
	return d
}

// WorkingDaysBetween counts the working days after from up to and including to: the number
// of working days a deadline counted from the day after from has used by the end of to. It is
// 0 when to is not after from.
func (c *Calendar) WorkingDaysBetween(from, to Date) int {
	n := 0
	for d := from.AddDays(1); !d.After(to); d = d.AddDays(1) {
		if c.IsWorkingDay(d) {
			n++
		}
	}
	return n
}

// Add is the day on which a deadline of n days counted from the day after
// from ends.
func (c *Calendar) Add(from Date, n int, unit Unit) Date {
	return c.Deadline(from, n, unit, nil)
}

// Deadline is Add with the suspended periods' days left out of the count.
//
// The count starts on the day after from (the day of the event that starts a deadline does not
// count). In WorkingDays only working days count; in CalendarDays every day counts, and a
// deadline whose last day is a day off ends on the next working day (the rule of ГПК чл. 60,
// ал. 6, "когато последният ден от срока е неприсъствен, срокът изтича в първия следващ
// присъствен ден", which the courts apply to administrative deadlines as well).
//
// A suspended period leaves all of its days out of the count, both ends included: a dossier
// suspended From a notice To the day the answer arrives counts again from the day after To. A
// deadline whose end falls in a suspension moves past it to the next working day. Periods may
// overlap and come in any order. An n of zero or less gives from itself when it is a working
// day outside every suspension, else the next such day.
func (c *Calendar) Deadline(from Date, n int, unit Unit, suspended []Period) Date {
	end, _ := c.Trace(from, n, unit, suspended)
	return end
}

// Skipped is a day a deadline's count passed over without counting it, and why.
type Skipped struct {
	Date Date `json:"date"`
	// Why is the day's reason: a weekend, a holiday, a day moved by decision, or a suspension.
	Why Name `json:"why"`
	// Kind is the calendar's kind of day; empty for a suspended working day.
	Kind Kind `json:"kind,omitempty"`
}

// Trace is Deadline with the days it passed over without counting them, in date order: for
// working days every day off and every suspended day; for calendar days the suspended days and
// the days off at the end that moved the deadline.
func (c *Calendar) Trace(from Date, n int, unit Unit, suspended []Period) (Date, []Skipped) {
	var skipped []Skipped
	skip := func(d Date) {
		if in(d, suspended) {
			s := Skipped{Date: d, Why: Name{"спрян срок", "deadline suspended"}}
			if day, ok := c.Explain(d); ok && !day.Working() {
				s.Kind = day.Kind
				s.Why = Name{s.Why.BG + "; " + day.Name.BG, s.Why.EN + "; " + day.Name.EN}
			}
			skipped = append(skipped, s)
			return
		}
		day, _ := c.Explain(d)
		skipped = append(skipped, Skipped{Date: d, Why: day.Name, Kind: day.Kind})
	}
	d := from
	for counted := 0; counted < n; {
		d = d.AddDays(1)
		if in(d, suspended) || (unit == WorkingDays && !c.IsWorkingDay(d)) {
			skip(d)
			continue
		}
		counted++
	}
	for !c.IsWorkingDay(d) || in(d, suspended) {
		skip(d)
		d = d.AddDays(1)
	}
	return d, skipped
}

func in(d Date, ps []Period) bool {
	for _, p := range ps {
		if p.Contains(d) {
			return true
		}
	}
	return false
}
