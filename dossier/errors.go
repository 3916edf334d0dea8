package dossier

import (
	"fmt"
	"strings"

	"github.com/aiskao/aiskao/dossier/service"
)

// Kind classifies a refusal, so that the API can answer with the right status.
type Kind string

const (
	// Invalid: the input is wrong (an API answers 422).
	Invalid Kind = "invalid"
	// Conflict: the command is not allowed in the dossier's state (409).
	Conflict Kind = "conflict"
	// NotFound: the command names a stage, task, item, irregularity or
	// document the dossier does not have (404).
	NotFound Kind = "not_found"
)

// FieldError is what is wrong with one field of the input.
type FieldError struct {
	// Pointer names the field as a JSON pointer (RFC 6901) into the input,
	// such as "/applicant/egn" or "/documents/2/sha256".
	Pointer string `json:"pointer"`
	// Code is a stable name of the problem, such as "invalid_egn".
	Code string `json:"code"`
	// Message says what is wrong, in Bulgarian and English.
	Message service.Text `json:"message"`
}

// Error is a refused command or input: its kind, a stable code, a message in
// Bulgarian and English and, for bad input, every field that is wrong.
type Error struct {
	Kind    Kind         `json:"kind"`
	Code    string       `json:"code"`
	Message service.Text `json:"message"`
	Fields  []FieldError `json:"fields,omitempty"`
}

// Error gives the code, the English message and each field's problem.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "dossier: %s: %s", e.Code, e.Message.EN)
	for i, f := range e.Fields {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %s", f.Pointer, f.Message.EN)
	}
	return b.String()
}

// Field returns the problem with the field at pointer, or nil.
func (e *Error) Field(pointer string) *FieldError {
	for i := range e.Fields {
		if e.Fields[i].Pointer == pointer {
			return &e.Fields[i]
		}
	}
	return nil
}

// Codes of refusals; stable, for clients.
const (
	CodeInvalidApplication = "invalid_application" // see Fields
	CodeInvalidInput       = "invalid_input"       // see Fields
	CodeNotAllowed         = "not_allowed"         // the dossier's state does not allow the command
	CodeNotFound           = "not_found"
)

func refuse(kind Kind, code, bg, en string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: service.Text{BG: fmt.Sprintf(bg, args...), EN: fmt.Sprintf(en, args...)}}
}

// conflict refuses a command the dossier's state does not allow.
func conflict(bg, en string, args ...any) *Error {
	return refuse(Conflict, CodeNotAllowed, bg, en, args...)
}

// notFound refuses a command naming what the dossier does not have.
func notFound(bg, en string, args ...any) *Error {
	return refuse(NotFound, CodeNotFound, bg, en, args...)
}

// fields gathers field errors; Err returns nil when there were none.
type fields struct{ list []FieldError }

func (f *fields) add(pointer, code, bg, en string, args ...any) {
	f.list = append(f.list, FieldError{Pointer: pointer, Code: code, Message: service.Text{BG: fmt.Sprintf(bg, args...), EN: fmt.Sprintf(en, args...)}})
}

func (f *fields) addText(pointer, code string, msg service.Text) {
	f.list = append(f.list, FieldError{Pointer: pointer, Code: code, Message: msg})
}

func (f *fields) err(code, bg, en string) error {
	if len(f.list) == 0 {
		return nil
	}
	return &Error{Kind: Invalid, Code: code, Message: service.Text{BG: bg, EN: en}, Fields: f.list}
}
