package calendar

import (
	"strings"
	"time"
)

// Name is a name in Bulgarian and in English.
type Name struct {
	BG string `json:"bg"`
	EN string `json:"en"`
}

// String writes the name as "BG / EN".
func (n Name) String() string { return n.BG + " / " + n.EN }

// fixedHoliday is an official holiday on the same date every year.
type fixedHoliday struct {
	month time.Month
	day   int
	name  Name
}

// fixedHolidays are the official holidays of the Labour Code (Кодекс на труда), чл. 154, ал. 1,
// that fall on the same date every year and are days off for everyone. 1 November (Ден на
// народните будители) is an official holiday too, but the article makes it a day off only for
// schools ("неприсъствен за всички учебни заведения"), so administrations work on it and it is
// not listed here.
func fixedHolidays() []fixedHoliday {
	return []fixedHoliday{
		{time.January, 1, Name{"Нова година", "New Year's Day"}},
		{time.March, 3, Name{"Ден на Освобождението на България от османско иго", "Liberation Day"}},
		{time.May, 1, Name{"Ден на труда и на международната работническа солидарност", "Labour Day"}},
		{time.May, 6, Name{"Гергьовден, Ден на храбростта и Българската армия", "St George's Day, Day of the Bulgarian Army"}},
		{time.May, 24, Name{"Ден на светите братя Кирил и Методий, на българската азбука, просвета и култура и на славянската книжовност", "Day of Saints Cyril and Methodius, of the Bulgarian alphabet, education and culture"}},
		{time.September, 6, Name{"Ден на Съединението", "Unification Day"}},
		{time.September, 22, Name{"Ден на Независимостта на България", "Independence Day"}},
		{time.December, 24, Name{"Бъдни вечер", "Christmas Eve"}},
		{time.December, 25, Name{"Рождество Христово", "Christmas Day"}},
		{time.December, 26, Name{"Рождество Христово", "Christmas Day (second day)"}},
	}
}

// OrthodoxEaster is the date of Easter Sunday of the Bulgarian Orthodox Church in year, in the
// Gregorian calendar. It uses Meeus' algorithm for the Julian Easter and adds the difference
// between the Julian and the Gregorian calendars in March and April of that year (13 days from
// 1900 to 2099). Years before 1583, when the Gregorian calendar began, give the Julian date.
func OrthodoxEaster(year int) Date {
	a, b, c := year%4, year%7, year%19
	d := (19*c + 15) % 30
	e := (2*a + 4*b - d + 34) % 7
	month := time.Month((d + e + 114) / 31)
	day := (d+e+114)%31 + 1
	julian := Date{year, month, day}
	if year < 1583 {
		return julian
	}
	return julian.AddDays(year/100 - year/400 - 2)
}

// easterDays are Велики петък, Велика събота and Великден (Sunday and Monday), which чл. 154,
// ал. 1 makes official holidays, by their distance from Easter Sunday.
func easterDays() []struct {
	offset int
	name   Name
} {
	return []struct {
		offset int
		name   Name
	}{
		{-2, Name{"Велики петък", "Good Friday"}},
		{-1, Name{"Велика събота", "Holy Saturday"}},
		{0, Name{"Великден", "Easter Sunday"}},
		{1, Name{"Великден (понеделник)", "Easter Monday"}},
	}
}

// Kind says why a day is not a working day, or that a weekend day is one.
type Kind string

const (
	// Weekend is a Saturday or a Sunday (Кодекс на труда, чл. 153).
	Weekend Kind = "weekend"
	// PublicHoliday is an official holiday of чл. 154, ал. 1.
	PublicHoliday Kind = "holiday"
	// Substitute is a working day made a day off because a holiday fell on a weekend
	// (чл. 154, ал. 2).
	Substitute Kind = "substitute"
	// DecreedOff is a day made a day off by a decision of the Council of Ministers.
	DecreedOff Kind = "decreed-off"
	// DecreedWorking is a weekend day made a working day by a decision of the Council of
	// Ministers (a day "отработван").
	DecreedWorking Kind = "decreed-working"
)

// Day is what the calendar knows about a day other than an ordinary weekday.
type Day struct {
	Date Date `json:"date"`
	Kind Kind `json:"kind"`
	// Name is the holiday's name, or what the day is in place of ("почивен ден вместо Ден на
	// Съединението"), or the weekday for a weekend.
	Name Name `json:"name"`
	// Source names the decision (for decreed days) or the article of the law.
	Source string `json:"source,omitempty"`
}

// Working reports whether the day is a working day.
func (d Day) Working() bool { return d.Kind == DecreedWorking }

// String writes the day as "2026-04-10 Велики петък / Good Friday".
func (d Day) String() string { return d.Date.String() + " " + d.Name.String() }

// statutoryYear is the days off of year by the Labour Code alone: holidays and substitutes,
// without weekends (which IsWorkingDay knows) and without decisions.
func statutoryYear(year int) map[Date]Day {
	days := map[Date]Day{}
	for _, h := range fixedHolidays() {
		d := Date{year, h.month, h.day}
		days[d] = Day{Date: d, Kind: PublicHoliday, Name: h.name, Source: "КТ чл. 154, ал. 1"}
	}
	easter := OrthodoxEaster(year)
	for _, e := range easterDays() {
		d := easter.AddDays(e.offset)
		name := e.name
		if fixed, ok := days[d]; ok { // Easter Monday on 6 May, as in 2024
			name = Name{name.BG + "; " + fixed.Name.BG, name.EN + "; " + fixed.Name.EN}
		}
		days[d] = Day{Date: d, Kind: PublicHoliday, Name: name, Source: "КТ чл. 154, ал. 1"}
	}
	// чл. 154, ал. 2 (ДВ бр. 105 от 2016 г., from 1 January 2017): "Когато официалните празници
	// по алинея 1, с изключение на Великденските празници, съвпадат със събота и/или неделя,
	// първият или първите два работни дни след тях са неприсъствени." Each run of consecutive
	// holidays (24–26 December is one run, every other fixed holiday a run of its own) gives
	// as many of the first working days after it as it has days on a Saturday or Sunday: one
	// for a single holiday, one or two for Christmas (24–26 December on Fri–Sun or Sat–Mon
	// gives two). The Easter holidays are excluded by the article.
	if year < 2017 {
		return days
	}
	for _, run := range holidayRuns(year) {
		onWeekend := 0
		var holidays Name
		for _, h := range run {
			if isWeekend(h.Date) {
				onWeekend++
				if !strings.Contains(holidays.BG, h.Name.BG) {
					holidays = joinNames(holidays, h.Name)
				}
			}
		}
		d := run[len(run)-1].Date
		for i := 0; i < onWeekend; i++ {
			d = d.AddDays(1)
			for _, taken := days[d]; taken || isWeekend(d); _, taken = days[d] {
				d = d.AddDays(1)
			}
			days[d] = Day{Date: d, Kind: Substitute, Name: Name{
				BG: "почивен ден вместо " + holidays.BG + " (празник в почивен ден)",
				EN: "day off for " + holidays.EN + " (holiday on a weekend)",
			}, Source: "КТ чл. 154, ал. 2"}
		}
	}
	return days
}

// holidayRuns groups year's fixed holidays into runs of consecutive dates, in date order.
func holidayRuns(year int) [][]Day {
	var runs [][]Day
	for _, h := range fixedHolidays() {
		d := Day{Date: Date{year, h.month, h.day}, Kind: PublicHoliday, Name: h.name}
		if n := len(runs); n > 0 && runs[n-1][len(runs[n-1])-1].Date.AddDays(1) == d.Date {
			runs[n-1] = append(runs[n-1], d)
			continue
		}
		runs = append(runs, []Day{d})
	}
	return runs
}

func isWeekend(d Date) bool {
	wd := d.Weekday()
	return wd == time.Saturday || wd == time.Sunday
}

// weekdayName is the Bulgarian and English name of a weekend day.
func weekdayName(d Date) Name {
	if d.Weekday() == time.Saturday {
		return Name{"събота", "Saturday"}
	}
	return Name{"неделя", "Sunday"}
}

// joinNames is a and b as one name, "a; b"; an empty a gives b.
func joinNames(a, b Name) Name {
	if a.BG == "" {
		return b
	}
	return Name{a.BG + ", " + b.BG, a.EN + ", " + b.EN}
}
