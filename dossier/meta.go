package dossier

import (
	"time"
	_ "time/tzdata" // Europe/Sofia wherever the binary runs

	"github.com/aiskao/aiskao/dossier/calendar"
)

// sofia is the zone in which the days of deadlines are counted.
var sofia = mustZone("Europe/Sofia")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err) // embedded by time/tzdata: cannot happen
	}
	return loc
}

// Today is the date in Bulgaria at t.
func Today(t time.Time) calendar.Date { return calendar.DateOf(t.In(sofia)) }

// ActorKind says who acts.
type ActorKind string

const (
	// User is a member of staff, by user name.
	User ActorKind = "user"
	// Applicant is the applicant or their representative, online.
	Applicant ActorKind = "applicant"
	// System is the system itself or a system connected to it (a register,
	// ЕСОЕД, the payment provider), by the connector's name.
	System ActorKind = "system"
)

// Actor is who did something.
type Actor struct {
	Kind ActorKind `json:"kind"`
	ID   string    `json:"id"`
}

// Meta is what every command is given besides its arguments: who acts,
// when, and the calendar deadlines are counted by.
type Meta struct {
	By Actor
	At time.Time
	// Calendar counts deadlines; nil means calendar.Bulgaria().
	Calendar *calendar.Calendar
}

func (m Meta) cal() *calendar.Calendar {
	if m.Calendar == nil {
		return calendar.Bulgaria()
	}
	return m.Calendar
}

func (m Meta) today() calendar.Date { return Today(m.At) }
