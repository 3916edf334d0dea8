// Package feedback holds what people tell an administration besides
// applications: inquiries, signals, proposals, complaints and praise, each
// to be answered within 7 days of its receipt, or 14 where a check on the spot
// or another authority's opinion is needed (Наредба за административното
// обслужване).
package feedback

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aiskao/aiskao/dossier"
	"github.com/aiskao/aiskao/dossier/calendar"
	"github.com/aiskao/aiskao/dossier/service"
)

// Kind is the kind of feedback.
type Kind string

const (
	Inquiry   Kind = "inquiry"   // запитване
	Signal    Kind = "signal"    // сигнал: of an irregularity or an abuse
	Proposal  Kind = "proposal"  // предложение: to improve the service
	Complaint Kind = "complaint" // жалба: about the service received
	Praise    Kind = "praise"    // похвала
)

// Kinds lists every kind.
func Kinds() []Kind { return []Kind{Inquiry, Signal, Proposal, Complaint, Praise} }

// Answer days: the usual deadline, and the longer one.
const (
	AnswerDays         = 7
	ExtendedAnswerDays = 14
)

// Author is who wrote; an anonymous signal is not examined, so a name and a
// way to answer are required.
type Author struct {
	Name    string `json:"name"`
	Email   string `json:"email,omitempty"`
	Address string `json:"address,omitempty"`
	Phone   string `json:"phone,omitempty"`
}

// Feedback is one inquiry, signal, proposal, complaint or praise.
type Feedback struct {
	ID         string          `json:"id"`
	Kind       Kind            `json:"kind"`
	Channel    service.Channel `json:"channel"`
	ReceivedAt time.Time       `json:"received_at"`
	Author     Author          `json:"author"`
	Text       string          `json:"text"`
	// Dossier is the registration number of the dossier it is about, if any.
	Dossier string `json:"dossier,omitempty"`
	// FieldCheck and Opinion extend the deadline to 14 days: a check on the
	// spot, or another authority's opinion, is needed.
	FieldCheck bool    `json:"field_check,omitempty"`
	Opinion    bool    `json:"opinion,omitempty"`
	Answer     *Answer `json:"answer,omitempty"`
}

// Answer is the administration's answer.
type Answer struct {
	Text string        `json:"text"`
	At   time.Time     `json:"at"`
	By   dossier.Actor `json:"by"`
}

// Validate checks the feedback as received, naming every wrong field by
// JSON pointer in a *dossier.Error of kind Invalid.
func (f *Feedback) Validate() error {
	var fs []dossier.FieldError
	add := func(p, code, bg, en string) {
		fs = append(fs, dossier.FieldError{Pointer: p, Code: code, Message: service.Text{BG: bg, EN: en}})
	}
	if !known(Kinds(), f.Kind) {
		add("/kind", "invalid_value", "Видът трябва да е inquiry, signal, proposal, complaint или praise.", "The kind must be inquiry, signal, proposal, complaint or praise.")
	}
	if !known(service.Channels(), f.Channel) {
		add("/channel", "invalid_value", "Неизвестен канал.", "Unknown channel.")
	}
	if f.ReceivedAt.IsZero() {
		add("/received_at", "required", "Липсва времето на постъпване.", "The time of receipt is missing.")
	}
	if strings.TrimSpace(f.Author.Name) == "" {
		add("/author/name", "required", "Анонимни сигнали не се разглеждат: посочете име.", "Anonymous feedback is not examined: give a name.")
	}
	if f.Author.Email == "" && f.Author.Address == "" {
		add("/author/email", "required", "Посочете електронна поща или адрес за отговор.", "Give an e-mail or a postal address for the answer.")
	}
	if strings.TrimSpace(f.Text) == "" {
		add("/text", "required", "Липсва текст.", "The text is missing.")
	}
	if len(fs) == 0 {
		return nil
	}
	return &dossier.Error{Kind: dossier.Invalid, Code: dossier.CodeInvalidInput, Message: service.Text{BG: "Сигналът не е редовен.", EN: "The feedback is not valid."}, Fields: fs}
}

// Days is the answer's deadline in days: 7, or 14 with a check on the spot
// or another authority's opinion.
func (f *Feedback) Days() int {
	if f.FieldCheck || f.Opinion {
		return ExtendedAnswerDays
	}
	return AnswerDays
}

// Due is the last day for the answer: Days calendar days after the day of
// receipt, moved to the next working day when it falls on a day off.
func (f *Feedback) Due(cal *calendar.Calendar) calendar.Date {
	return cal.Add(dossier.Today(f.ReceivedAt), f.Days(), calendar.CalendarDays)
}

// State is how the answer's deadline stands at now, by the rule of the dossiers' deadlines
// (dossier.DeadlineStateAt: near within near working days, never on the day of receipt);
// none once answered.
func (f *Feedback) State(cal *calendar.Calendar, now time.Time, near int) dossier.DeadlineState {
	if f.Answer != nil {
		return ""
	}
	return dossier.DeadlineStateAt(cal, dossier.Today(f.ReceivedAt), f.Due(cal), nil, now, near)
}

// Respond records the answer; feedback is answered once.
func (f *Feedback) Respond(by dossier.Actor, at time.Time, text string) error {
	switch {
	case f.Answer != nil:
		return &dossier.Error{Kind: dossier.Conflict, Code: dossier.CodeNotAllowed, Message: service.Text{BG: "Вече е отговорено.", EN: "It has already been answered."}}
	case strings.TrimSpace(text) == "":
		return &dossier.Error{Kind: dossier.Invalid, Code: dossier.CodeInvalidInput, Message: service.Text{BG: "Липсва отговор.", EN: "The answer is missing."},
			Fields: []dossier.FieldError{{Pointer: "/text", Code: "required", Message: service.Text{BG: "Липсва отговор.", EN: "The answer is missing."}}}}
	case at.Before(f.ReceivedAt):
		return errors.New("feedback: respond: answered before it was received")
	}
	f.Answer = &Answer{Text: text, At: at, By: by}
	return nil
}

func known[T comparable](list []T, x T) bool {
	for _, y := range list {
		if y == x {
			return true
		}
	}
	return false
}

// String names the feedback for logs, without its author.
func (f *Feedback) String() string { return fmt.Sprintf("%s %s", f.Kind, f.ID) }
