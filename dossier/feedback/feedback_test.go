package feedback

import (
	"errors"
	"testing"
	"time"

	"github.com/aiskao/aiskao/dossier"
	"github.com/aiskao/aiskao/dossier/calendar"
	"github.com/aiskao/aiskao/dossier/service"
)

var sofia, _ = time.LoadLocation("Europe/Sofia")

func at(month time.Month, day, hour int) time.Time {
	return time.Date(2026, month, day, hour, 0, 0, 0, sofia)
}

func good() Feedback {
	return Feedback{ID: "F1", Kind: Complaint, Channel: service.Portal, ReceivedAt: at(12, 1, 10),
		Author: Author{Name: "Иван Иванов", Email: "ivan@example.bg"}, Text: "Чаках два часа на гишето."}
}

func TestDue(t *testing.T) {
	cal := calendar.Bulgaria()
	tests := []struct {
		name     string
		received time.Time
		check    bool
		opinion  bool
		want     calendar.Date
	}{
		{"7 days", at(12, 1, 10), false, false, calendar.Date{Year: 2026, Month: 12, Day: 8}},
		{"ending on a Saturday moves to Monday", at(12, 5, 10), false, false, calendar.Date{Year: 2026, Month: 12, Day: 14}},
		{"received late at night counts its day in Sofia", time.Date(2026, 12, 1, 22, 30, 0, 0, time.UTC), false, false, calendar.Date{Year: 2026, Month: 12, Day: 9}},
		{"14 days with a field check", at(12, 1, 10), true, false, calendar.Date{Year: 2026, Month: 12, Day: 15}},
		{"14 days with another authority's opinion", at(12, 1, 10), false, true, calendar.Date{Year: 2026, Month: 12, Day: 15}},
	}
	for _, tt := range tests {
		f := good()
		f.ReceivedAt, f.FieldCheck, f.Opinion = tt.received, tt.check, tt.opinion
		if got := f.Due(cal); got != tt.want {
			t.Errorf("%s: Due = %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestState(t *testing.T) {
	cal := calendar.Bulgaria()
	f := good() // due Tuesday 8 December
	for _, tt := range []struct {
		now  time.Time
		want dossier.DeadlineState
	}{
		{at(12, 2, 9), dossier.Running},
		{at(12, 4, 9), dossier.Near},
		{at(12, 8, 23), dossier.Near},
		{at(12, 9, 0), dossier.Missed},
	} {
		if got := f.State(cal, tt.now, 2); got != tt.want {
			t.Errorf("State at %s = %s, want %s", tt.now, got, tt.want)
		}
	}
	// Received on Friday 4 December with a short term (7 days, due Friday 11), it is not near on
	// the day of receipt even with a warning as long as the term, as dossiers' deadlines.
	short := good()
	short.ReceivedAt = at(12, 4, 10)
	for _, tt := range []struct {
		now  time.Time
		want dossier.DeadlineState
	}{
		{at(12, 4, 11), dossier.Running},
		{at(12, 10, 9), dossier.Near},
		{at(12, 11, 23), dossier.Near},
		{at(12, 12, 0), dossier.Missed},
	} {
		if got := short.State(cal, tt.now, 10); got != tt.want {
			t.Errorf("State of feedback received on 4 December at %s = %s, want %s", tt.now, got, tt.want)
		}
	}
	if err := f.Respond(dossier.Actor{Kind: dossier.User, ID: "petrova"}, at(12, 3, 9), "Извиняваме се."); err != nil {
		t.Fatal(err)
	}
	if got := f.State(cal, at(12, 9, 0), 2); got != "" {
		t.Errorf("answered feedback is %s", got)
	}
	var e *dossier.Error
	if err := f.Respond(dossier.Actor{Kind: dossier.User, ID: "petrova"}, at(12, 3, 9), "again"); !errors.As(err, &e) || e.Kind != dossier.Conflict {
		t.Errorf("second answer: %v", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		change  func(f *Feedback)
		pointer string
	}{
		{"valid", func(f *Feedback) {}, ""},
		{"unknown kind", func(f *Feedback) { f.Kind = "rant" }, "/kind"},
		{"anonymous", func(f *Feedback) { f.Author.Name = " " }, "/author/name"},
		{"no way to answer", func(f *Feedback) { f.Author.Email = "" }, "/author/email"},
		{"empty", func(f *Feedback) { f.Text = "" }, "/text"},
		{"unknown channel", func(f *Feedback) { f.Channel = "fax" }, "/channel"},
	}
	for _, tt := range tests {
		f := good()
		tt.change(&f)
		err := f.Validate()
		if tt.pointer == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		var e *dossier.Error
		if !errors.As(err, &e) || e.Field(tt.pointer) == nil {
			t.Errorf("%s: Validate = %v, want a problem at %s", tt.name, err, tt.pointer)
		}
	}
}

func TestRespondRefusesEmpty(t *testing.T) {
	f := good()
	var e *dossier.Error
	if err := f.Respond(dossier.Actor{Kind: dossier.User, ID: "x"}, at(12, 2, 9), " "); !errors.As(err, &e) || e.Field("/text") == nil || f.Answer != nil {
		t.Errorf("empty answer: %v", err)
	}
}
