package eauth

import (
	"errors"
	"fmt"
)

// Code says why a sign-in was refused, in words a page can show.
type Code string

// The reasons a sign-in is refused.
const (
	CodeMalformed    Code = "malformed"      // not a SAML response this package reads
	CodeTooLarge     Code = "too-large"      // beyond the limits of size, depth or width
	CodeUnsigned     Code = "unsigned"       // no signature covers the assertion
	CodeSignature    Code = "signature"      // the signature does not verify with the configured certificate
	CodeWrapping     Code = "wrapping"       // more than one assertion, or one the signature does not cover
	CodeStatus       Code = "status"         // the identity provider did not succeed
	CodeExpired      Code = "expired"        // outside its validity, beyond the clock skew
	CodeAudience     Code = "audience"       // meant for another service provider
	CodeDestination  Code = "destination"    // sent to another address
	CodeInResponseTo Code = "in-response-to" // answers no request we have open
	CodeReplay       Code = "replay"         // an assertion already used
	CodeBrowser      Code = "browser"        // posted from another browser than the one that started the sign-in
	CodeIdentifier   Code = "identifier"     // no valid personal identifier
	CodeLevel        Code = "level"          // a lower level of assurance than asked for
	CodeCertificate  Code = "certificate"    // no verified client certificate naming a person
	CodeInternal     Code = "internal"       // our side failed (a store, a key)
)

// messages holds, by code, the text in Bulgarian and in English.
var messages = map[Code][2]string{
	CodeMalformed:    {"Отговорът за вход не може да бъде прочетен.", "The sign-in response cannot be read."},
	CodeTooLarge:     {"Отговорът за вход е твърде голям или сложен.", "The sign-in response is too large or too complex."},
	CodeUnsigned:     {"Отговорът за вход не е подписан.", "The sign-in response is not signed."},
	CodeSignature:    {"Подписът на отговора за вход не е валиден или не е на доверения доставчик на идентичност.", "The sign-in response's signature is not valid or not the trusted identity provider's."},
	CodeWrapping:     {"Отговорът за вход съдържа неподписани или повече от едно твърдения.", "The sign-in response holds unsigned or more than one assertion."},
	CodeStatus:       {"Доставчикът на идентичност не потвърди самоличността Ви.", "The identity provider did not confirm your identity."},
	CodeExpired:      {"Отговорът за вход е изтекъл. Влезте отново.", "The sign-in response has expired. Please sign in again."},
	CodeAudience:     {"Отговорът за вход е предназначен за друга услуга.", "The sign-in response is meant for another service."},
	CodeDestination:  {"Отговорът за вход е изпратен на друг адрес.", "The sign-in response was sent to another address."},
	CodeInResponseTo: {"Отговорът за вход не отговаря на започнат от Вас вход. Влезте отново.", "The sign-in response answers no sign-in you started. Please sign in again."},
	CodeReplay:       {"Този отговор за вход вече е използван.", "This sign-in response has already been used."},
	CodeBrowser:      {"Отговорът за вход е изпратен от друг браузър, а не от този, в който започна входът. Влезте отново.", "The sign-in response was sent from another browser than the one the sign-in started in. Please sign in again."},
	CodeIdentifier:   {"Доставчикът на идентичност не даде валиден личен идентификатор.", "The identity provider gave no valid personal identifier."},
	CodeLevel:        {"Нивото на осигуреност на идентификацията е по-ниско от изискваното.", "The identification's level of assurance is lower than required."},
	CodeCertificate:  {"Удостоверението не е проверено или не посочва лице с ЕГН.", "The certificate is not verified or does not name a person by personal number."},
	CodeInternal:     {"Входът не може да бъде завършен поради вътрешна грешка. Опитайте по-късно.", "Sign-in cannot be completed because of an internal error. Please try later."},
}

// Message is the text for code in lang ("bg" or "en"; any other gives Bulgarian).
func (c Code) Message(lang string) string {
	m, ok := messages[c]
	if !ok {
		m = messages[CodeInternal]
	}
	if lang == "en" {
		return m[1]
	}
	return m[0]
}

// Error is a refused sign-in: its Code for the page and the detail for the log.
type Error struct {
	Code Code
	Err  error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return "eauth: " + string(e.Code)
	}
	return fmt.Sprintf("eauth: %s: %v", e.Code, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// CodeOf returns the code of the *Error in err's chain, CodeInternal for any other error.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

func refuse(c Code, format string, args ...any) *Error {
	return &Error{Code: c, Err: fmt.Errorf(format, args...)}
}
