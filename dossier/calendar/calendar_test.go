package calendar

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func date(t testing.TB, s string) Date {
	t.Helper()
	d, err := ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestOrthodoxEaster(t *testing.T) {
	// Easter Sunday as the Bulgarian Orthodox Church kept it.
	for year, want := range map[int]string{
		2010: "2010-04-04", // the same day as the Western Easter
		2016: "2016-05-01",
		2017: "2017-04-16",
		2019: "2019-04-28",
		2020: "2020-04-19",
		2021: "2021-05-02",
		2022: "2022-04-24",
		2023: "2023-04-16",
		2024: "2024-05-05",
		2025: "2025-04-20",
		2026: "2026-04-12",
		2027: "2027-05-02",
		2028: "2028-04-16",
		2100: "2100-05-02", // the Julian–Gregorian difference grows to 14 days
	} {
		if got := OrthodoxEaster(year); got.String() != want {
			t.Errorf("OrthodoxEaster(%d) = %s, want %s", year, got, want)
		}
		if got := OrthodoxEaster(year); got.Weekday() != time.Sunday {
			t.Errorf("OrthodoxEaster(%d) = %s is a %s", year, got, got.Weekday())
		}
	}
}

// TestOrthodoxEasterAgainstDateutil compares OrthodoxEaster with the dates another
// implementation gives for four centuries.
func TestOrthodoxEasterAgainstDateutil(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "orthodox-easter.txt"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(raw), "\n") {
		var year int
		var want string
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		if _, err := fmt.Sscan(line, &year, &want); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if got := OrthodoxEaster(year).String(); got != want {
			t.Errorf("OrthodoxEaster(%d) = %s, want %s", year, got, want)
		}
		n++
	}
	if n != 400 {
		t.Errorf("compared %d years, want 400", n)
	}
}

// TestDays checks single days: weekends, each fixed holiday, the Easter days, and the days off
// for holidays on a weekend (чл. 154, ал. 2), Christmas included.
func TestDays(t *testing.T) {
	c := Bulgaria()
	for _, tc := range []struct {
		date    string
		working bool
		kind    Kind   // "" for an ordinary weekday
		name    string // part of the English name, if any
	}{
		{"2026-12-07", true, "", ""}, // Monday
		{"2026-12-05", false, Weekend, "Saturday"},
		{"2026-12-06", false, Weekend, "Sunday"},
		// Each fixed holiday, in 2025 where none falls on a weekend but 24 May and 6 September.
		{"2025-01-01", false, PublicHoliday, "New Year"},
		{"2025-03-03", false, PublicHoliday, "Liberation"},
		{"2025-05-01", false, PublicHoliday, "Labour Day"},
		{"2025-05-06", false, PublicHoliday, "St George"},
		{"2025-05-24", false, PublicHoliday, "Cyril and Methodius"},
		{"2025-09-06", false, PublicHoliday, "Unification"},
		{"2025-09-22", false, PublicHoliday, "Independence"},
		{"2025-12-24", false, PublicHoliday, "Christmas Eve"},
		{"2025-12-25", false, PublicHoliday, "Christmas Day"},
		{"2025-12-26", false, PublicHoliday, "Christmas Day"},
		// 1 November is a day off for schools only.
		{"2027-11-01", true, "", ""},
		// Easter: Good Friday, Holy Saturday, Sunday and Monday, across years.
		{"2024-05-03", false, PublicHoliday, "Good Friday"},
		{"2024-05-04", false, PublicHoliday, "Holy Saturday"},
		{"2024-05-05", false, PublicHoliday, "Easter Sunday"},
		{"2024-05-06", false, PublicHoliday, "Easter Monday; St George"}, // both on one day
		{"2024-05-07", true, "", ""},                                     // no day off for the coincidence
		{"2025-04-18", false, PublicHoliday, "Good Friday"},
		{"2025-04-21", false, PublicHoliday, "Easter Monday"},
		{"2025-04-22", true, "", ""},
		{"2026-04-10", false, PublicHoliday, "Good Friday"},
		{"2026-04-13", false, PublicHoliday, "Easter Monday"},
		{"2027-04-30", false, PublicHoliday, "Good Friday"},
		{"2027-05-03", false, PublicHoliday, "Easter Monday"},
		{"2023-04-14", false, PublicHoliday, "Good Friday"},
		{"2023-04-17", false, PublicHoliday, "Easter Monday"},
		// A holiday on a Saturday: the next working day is off.
		{"2023-05-06", false, PublicHoliday, "St George"},
		{"2023-05-08", false, Substitute, "St George"},
		{"2022-01-01", false, PublicHoliday, "New Year"},
		{"2022-01-03", false, Substitute, "New Year"},
		// ... on a Sunday.
		{"2024-03-03", false, PublicHoliday, "Liberation"},
		{"2024-03-04", false, Substitute, "Liberation"},
		{"2026-05-25", false, Substitute, "Cyril and Methodius"},
		{"2026-09-07", false, Substitute, "Unification"},
		{"2024-09-23", false, Substitute, "Independence"},
		// The day off skips Easter Monday: 1 May 2021 was a Saturday, 3 May Easter Monday.
		{"2021-05-03", false, PublicHoliday, "Easter Monday"},
		{"2021-05-04", false, Substitute, "Labour Day"},
		{"2021-05-05", true, "", ""},
		// Easter Sunday is always a Sunday and Holy Saturday a Saturday: no day off for them.
		{"2026-04-14", true, "", ""},
		// Christmas: one of 24–26 December on a weekend gives one day, two give two.
		{"2026-12-26", false, PublicHoliday, "Christmas"}, // Saturday
		{"2026-12-28", false, Substitute, "Christmas"},
		{"2026-12-29", true, "", ""},
		{"2023-12-24", false, PublicHoliday, "Christmas Eve"}, // Sunday
		{"2023-12-27", false, Substitute, "Christmas Eve"},
		{"2023-12-28", true, "", ""},
		{"2021-12-27", false, Substitute, "Christmas"}, // Fri–Sun
		{"2021-12-28", false, Substitute, "Christmas"},
		{"2021-12-29", true, "", ""},
		{"2022-12-27", false, Substitute, "Christmas Eve, Christmas"}, // Sat–Mon
		{"2022-12-28", false, Substitute, "Christmas"},
		{"2022-12-29", true, "", ""},
		{"2027-12-27", false, Substitute, "Christmas"},
		{"2027-12-28", false, Substitute, "Christmas"},
		// Before ал. 2 came into force (1 January 2017) a holiday on a weekend gave nothing.
		{"2016-05-02", false, PublicHoliday, "Easter Monday"},
		{"2016-05-03", true, "", ""}, // 1 May 2016 was a Sunday
		{"2016-05-24", false, PublicHoliday, "Cyril"},
	} {
		d := date(t, tc.date)
		if got := c.IsWorkingDay(d); got != tc.working {
			t.Errorf("IsWorkingDay(%s %s) = %v, want %v", tc.date, d.Weekday(), got, tc.working)
		}
		day, ok := c.Explain(d)
		if ok != (tc.kind != "") || day.Kind != tc.kind {
			t.Errorf("Explain(%s) = %v %q, want %q", tc.date, ok, day.Kind, tc.kind)
			continue
		}
		if !strings.Contains(day.Name.EN, tc.name) {
			t.Errorf("Explain(%s) name %q, want it to contain %q", tc.date, day.Name.EN, tc.name)
		}
		if ok && day.Name.BG == "" {
			t.Errorf("Explain(%s) has no Bulgarian name", tc.date)
		}
		_, isHoliday := c.Holiday(d)
		if isHoliday != (tc.kind == PublicHoliday) {
			t.Errorf("Holiday(%s) = %v, want %v", tc.date, isHoliday, tc.kind == PublicHoliday)
		}
	}
}

// TestHolidaysOfAYear checks a whole year's list against the published days off of 2026 (by the
// law alone, without the decision about 2 January).
func TestHolidaysOfAYear(t *testing.T) {
	var got []string
	for _, d := range Bulgaria().Holidays(2026) {
		got = append(got, d.Date.String())
	}
	want := []string{
		"2026-01-01", "2026-03-03", "2026-04-10", "2026-04-11", "2026-04-12", "2026-04-13",
		"2026-05-01", "2026-05-06", "2026-05-24", "2026-05-25", "2026-09-06", "2026-09-07",
		"2026-09-22", "2026-12-24", "2026-12-25", "2026-12-26", "2026-12-28",
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("Holidays(2026):\n got %v\nwant %v", got, want)
	}
}

// moved is a calendar with the days of testdata/moved.yaml: 2026-03-02 off and 2026-03-14
// (a Saturday) working.
func moved(t *testing.T) *Calendar {
	t.Helper()
	c, err := Load(filepath.Join("testdata", "moved.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDeadlines(t *testing.T) {
	law := Bulgaria()
	shipped, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	mv := moved(t)
	p := func(from, to string) Period { return Period{date(t, from), date(t, to)} }
	for _, tc := range []struct {
		name      string
		cal       *Calendar
		from      string
		n         int
		unit      Unit
		suspended []Period
		want      string
	}{
		{"one working day from a Thursday", law, "2026-12-03", 1, WorkingDays, nil, "2026-12-04"},
		{"over a weekend", law, "2026-12-03", 2, WorkingDays, nil, "2026-12-07"},
		{"from a Saturday", law, "2026-12-05", 1, WorkingDays, nil, "2026-12-07"},
		{"zero from a working day", law, "2026-12-03", 0, WorkingDays, nil, "2026-12-03"},
		{"zero from a Saturday", law, "2026-12-05", 0, WorkingDays, nil, "2026-12-07"},
		{"negative is zero", law, "2026-12-03", -3, CalendarDays, nil, "2026-12-03"},
		{"over Christmas 2026", law, "2026-12-23", 1, WorkingDays, nil, "2026-12-29"},
		{"over Easter 2026", law, "2026-04-09", 1, WorkingDays, nil, "2026-04-14"},
		{"over Christmas 2022, two days for the weekend", law, "2022-12-23", 1, WorkingDays, nil, "2022-12-29"},
		{"14 working days over Easter and May 2025", law, "2025-04-15", 14, WorkingDays, nil, "2025-05-09"},
		{"2025 has 249 working days by the law alone", law, "2025-01-01", 250, WorkingDays, nil, "2026-01-02"},
		{"large N (checked with an independent count)", law, "2026-01-01", 5000, WorkingDays, nil, "2046-01-31"},
		{"calendar days ending on a working day", law, "2026-12-01", 7, CalendarDays, nil, "2026-12-08"},
		{"calendar days ending on a Saturday", law, "2026-11-28", 7, CalendarDays, nil, "2026-12-07"},
		{"calendar days ending on Christmas Eve", law, "2026-12-17", 7, CalendarDays, nil, "2026-12-29"},
		{"calendar days ending on Good Friday", law, "2026-04-03", 7, CalendarDays, nil, "2026-04-14"},
		{"calendar days ending on a substitute day", law, "2026-09-04", 3, CalendarDays, nil, "2026-09-08"},
		{"calendar days run through days off", law, "2026-12-22", 8, CalendarDays, nil, "2026-12-30"},
		{"decreed day off, by the law alone", law, "2025-12-30", 1, WorkingDays, nil, "2025-12-31"},
		{"decreed days off of the shipped files", shipped, "2025-12-30", 1, WorkingDays, nil, "2026-01-05"},
		{"decreed day off counted over", mv, "2026-02-27", 1, WorkingDays, nil, "2026-03-04"},
		{"decreed working Saturday counts", mv, "2026-03-13", 1, WorkingDays, nil, "2026-03-14"},
		{"calendar days ending on a decreed working Saturday", mv, "2026-03-07", 7, CalendarDays, nil, "2026-03-14"},
		{"calendar days ending on a decreed day off", mv, "2026-02-23", 7, CalendarDays, nil, "2026-03-04"},
		{"suspension in working days, ends excluded", law, "2026-12-01", 5, WorkingDays,
			[]Period{p("2026-12-03", "2026-12-04")}, "2026-12-10"},
		{"suspension of one day", law, "2026-12-01", 1, WorkingDays,
			[]Period{p("2026-12-02", "2026-12-02")}, "2026-12-03"},
		{"suspension over a weekend costs its working days only", law, "2026-12-03", 3, WorkingDays,
			[]Period{p("2026-12-04", "2026-12-07")}, "2026-12-10"},
		{"suspension in calendar days", law, "2026-12-01", 7, CalendarDays,
			[]Period{p("2026-12-03", "2026-12-05")}, "2026-12-11"},
		{"suspension before the start counts for nothing", law, "2026-12-01", 7, CalendarDays,
			[]Period{p("2026-11-20", "2026-12-01")}, "2026-12-08"},
		{"overlapping suspensions", law, "2026-12-01", 7, CalendarDays,
			[]Period{p("2026-12-05", "2026-12-06"), p("2026-12-03", "2026-12-05")}, "2026-12-14"},
		{"suspension over the nominal end", law, "2026-12-01", 3, CalendarDays,
			[]Period{p("2026-12-04", "2026-12-09")}, "2026-12-10"},
		{"end on a Saturday, then suspended Monday", law, "2026-11-28", 7, CalendarDays,
			[]Period{p("2026-12-07", "2026-12-08")}, "2026-12-09"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.cal.Deadline(date(t, tc.from), tc.n, tc.unit, tc.suspended)
			if got.String() != tc.want {
				t.Errorf("Deadline(%s, %d %s, %v) = %s %s, want %s", tc.from, tc.n, tc.unit, tc.suspended, got, got.Weekday(), tc.want)
			}
			if tc.unit == WorkingDays && tc.n > 0 && len(tc.suspended) == 0 {
				if got := tc.cal.WorkingDaysBetween(date(t, tc.from), got); got != tc.n {
					t.Errorf("WorkingDaysBetween(from, deadline) = %d, want %d", got, tc.n)
				}
			}
			if tc.suspended == nil {
				if add := tc.cal.Add(date(t, tc.from), tc.n, tc.unit); add != got {
					t.Errorf("Add = %s, Deadline = %s", add, got)
				}
			}
		})
	}
}

// TestTerms checks the deadlines of the Наредба and of the irregularity notice.
func TestTerms(t *testing.T) {
	c := Bulgaria()
	for _, tc := range []struct {
		name string
		term Term
		from string
		want string
	}{
		{"answer in 7 days", AnswerTerm(false), "2026-11-30", "2026-12-07"},
		{"answer in 7 days ending on a Sunday", AnswerTerm(false), "2026-11-29", "2026-12-07"},
		{"answer in 7 days over Christmas", AnswerTerm(false), "2026-12-19", "2026-12-29"},
		{"answer in 14 days with a check on the spot", AnswerTerm(true), "2026-11-30", "2026-12-14"},
		{"answer in 14 days ending on the day off for 6 September", AnswerTerm(true), "2026-08-24", "2026-09-08"},
		{"irregularity fixed in 7 days", IrregularityTerm(), "2026-04-06", "2026-04-14"},
		{"irregularity notice in 3 days", IrregularityNoticeTerm(), "2026-12-02", "2026-12-07"},
	} {
		if got := c.Due(date(t, tc.from), tc.term, nil); got.String() != tc.want {
			t.Errorf("%s: Due(%s, %+v) = %s, want %s", tc.name, tc.from, tc.term, got, tc.want)
		}
	}
	if AnswerTerm(false).Unit != CalendarDays || AnswerTerm(true).Days != 14 {
		t.Errorf("AnswerTerm: %+v %+v", AnswerTerm(false), AnswerTerm(true))
	}
}

func TestTrace(t *testing.T) {
	c := Bulgaria()
	end, skipped := c.Trace(date(t, "2026-12-23"), 2, WorkingDays,
		[]Period{{date(t, "2026-12-29"), date(t, "2026-12-29")}})
	if end.String() != "2026-12-31" {
		t.Errorf("end %s, want 2026-12-31", end)
	}
	var got []string
	for _, s := range skipped {
		kind := string(s.Kind)
		if kind == "" {
			kind = "suspended"
		}
		got = append(got, s.Date.String()+" "+kind)
	}
	want := "2026-12-24 holiday 2026-12-25 holiday 2026-12-26 holiday 2026-12-27 weekend 2026-12-28 substitute 2026-12-29 suspended"
	if strings.Join(got, " ") != want {
		t.Errorf("skipped %q, want %q", strings.Join(got, " "), want)
	}
	if last := skipped[len(skipped)-1]; !strings.Contains(last.Why.BG, "спрян") {
		t.Errorf("suspended day's reason %v", last.Why)
	}
}

func TestNextAndBetween(t *testing.T) {
	c := &Calendar{} // the zero Calendar is Bulgaria()
	for _, tc := range []struct{ from, next string }{
		{"2026-12-03", "2026-12-04"},
		{"2026-12-04", "2026-12-07"},
		{"2026-12-23", "2026-12-29"},
		{"2026-04-09", "2026-04-14"},
	} {
		if got := c.Next(date(t, tc.from)); got.String() != tc.next {
			t.Errorf("Next(%s) = %s, want %s", tc.from, got, tc.next)
		}
	}
	for _, tc := range []struct {
		from, to string
		want     int
	}{
		{"2026-12-04", "2026-12-04", 0},
		{"2026-12-04", "2026-12-03", 0},
		{"2026-12-04", "2026-12-07", 1},
		{"2025-12-31", "2026-12-31", 249}, // 2026's working days by the law alone
		{"2024-12-31", "2025-12-31", 249},
	} {
		if got := c.WorkingDaysBetween(date(t, tc.from), date(t, tc.to)); got != tc.want {
			t.Errorf("WorkingDaysBetween(%s, %s) = %d, want %d", tc.from, tc.to, got, tc.want)
		}
	}
}

// TestAddProperties checks Add against WorkingDaysBetween and the calendar itself over many
// starting days and lengths: the end is a working day, exactly n working days lie between, and
// one fewer day ends earlier.
func TestAddProperties(t *testing.T) {
	c := moved(t)
	start := date(t, "2020-12-20")
	for i := 0; i < 2300; i += 3 {
		from := start.AddDays(i)
		for _, n := range []int{1, 2, 5, 7, 14, 30} {
			end := c.Add(from, n, WorkingDays)
			if !c.IsWorkingDay(end) {
				t.Fatalf("Add(%s, %d) = %s, not a working day", from, n, end)
			}
			if got := c.WorkingDaysBetween(from, end); got != n {
				t.Fatalf("WorkingDaysBetween(%s, Add(%s, %d) = %s) = %d", from, from, n, end, got)
			}
			if prev := c.Add(from, n-1, WorkingDays); n > 1 && !prev.Before(end) {
				t.Fatalf("Add(%s, %d) = %s is not before Add(.., %d) = %s", from, n-1, prev, n, end)
			}
			cal := c.Add(from, n, CalendarDays)
			if !c.IsWorkingDay(cal) || cal.Before(from.AddDays(n)) {
				t.Fatalf("Add(%s, %d calendar) = %s", from, n, cal)
			}
			// Moved to the next working day: no working day between the nominal end and it.
			if nominal := from.AddDays(n); cal != nominal && c.WorkingDaysBetween(nominal, cal) != 1 {
				t.Fatalf("Add(%s, %d calendar) = %s skips a working day after %s", from, n, cal, nominal)
			}
		}
	}
}

// TestSuspensionProperty checks that a suspension of k working days inside a working-day
// deadline moves its end by exactly k working days.
func TestSuspensionProperty(t *testing.T) {
	c := Bulgaria()
	start := date(t, "2025-11-01")
	for i := 0; i < 400; i += 5 {
		from := start.AddDays(i)
		for _, k := range []int{1, 3, 10} {
			s := c.Next(from)
			e := c.Add(s, k-1, WorkingDays)
			got := c.Deadline(from, 20, WorkingDays, []Period{{s, e}})
			if want := c.Add(from, 20+k, WorkingDays); got != want {
				t.Fatalf("from %s suspended %s..%s: %s, want %s", from, s, e, got, want)
			}
		}
	}
}

func TestParseDate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // "" for an error
	}{
		{"2026-12-05", "2026-12-05"},
		{"2024-02-29", "2024-02-29"},
		{"2025-02-29", ""},
		{"2026-13-01", ""},
		{"05.12.2026", ""},
		{"2026-12-5", ""},
		{"", ""},
	} {
		d, err := ParseDate(tc.in)
		if (err == nil) != (tc.want != "") || (err == nil && d.String() != tc.want) {
			t.Errorf("ParseDate(%q) = %s, %v; want %q", tc.in, d, err, tc.want)
		}
		if err != nil && !strings.Contains(err.Error(), "YYYY-MM-DD") {
			t.Errorf("ParseDate(%q) error %q does not say the form", tc.in, err)
		}
	}
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2026-12-05", "0001-01-01", "9999-12-31", "2024-02-29", "x", ""} {
		f.Add(s)
	}
	c := Bulgaria()
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		if err != nil {
			return
		}
		if d.String() != s {
			t.Fatalf("ParseDate(%q) = %s: not written back as read", s, d)
		}
		// Every date the parser takes has a working day after it within three weeks.
		if next := c.Next(d); next.After(d.AddDays(21)) {
			t.Fatalf("Next(%s) = %s", d, next)
		}
	})
}

// TestConcurrentUse asks one calendar about many years at once; run with -race.
func TestConcurrentUse(t *testing.T) {
	c := Bulgaria()
	done := make(chan int)
	for g := 0; g < 8; g++ {
		go func(g int) {
			n := 0
			for y := 2000; y < 2040; y++ {
				n += c.WorkingDaysBetween(Date{y + g%2, time.January, 1}, Date{y + g%2, time.December, 31})
			}
			done <- n
		}(g)
	}
	sums := map[int]int{}
	for g := 0; g < 8; g++ {
		sums[<-done]++
	}
	if len(sums) != 2 {
		t.Errorf("goroutines over the same years disagree: %v", sums)
	}
}
