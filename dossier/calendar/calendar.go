// Package calendar counts the days of administrative deadlines: dates
// without a time of day, working days by Bulgaria's public holidays, and
// deadlines in working or calendar days with the periods a dossier was
// suspended left out.
package calendar

import (
	"fmt"
	"time"
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

// Calendar knows which days are working days.
type Calendar struct {
	// TODO(calendar): public holidays, Orthodox Easter, moved days per year.
}

// Bulgaria is the calendar of Bulgaria's working days.
func Bulgaria() *Calendar { return &Calendar{} }

// IsWorkingDay reports whether d is a working day.
func (c *Calendar) IsWorkingDay(d Date) bool {
	wd := d.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// Add is the day on which a deadline of n days counted from the day after
// from ends.
func (c *Calendar) Add(from Date, n int, unit Unit) Date {
	return c.Deadline(from, n, unit, nil)
}

// Deadline is Add with the suspended periods' days left out of the count.
func (c *Calendar) Deadline(from Date, n int, unit Unit, suspended []Period) Date {
	d := from
	for counted := 0; counted < n; {
		d = d.AddDays(1)
		if in(d, suspended) {
			continue
		}
		if unit == WorkingDays && !c.IsWorkingDay(d) {
			continue
		}
		counted++
	}
	for !c.IsWorkingDay(d) {
		d = d.AddDays(1)
	}
	return d
}

func in(d Date, ps []Period) bool {
	for _, p := range ps {
		if !d.Before(p.From) && !d.After(p.To) {
			return true
		}
	}
	return false
}
