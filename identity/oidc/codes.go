package oidc

import "net/http"

// Code names why a single sign-on was refused, for the page that tells the person.
type Code string

// The refusals of a single sign-on.
const (
	// CodeState: the browser came back without the sign-in it started here, or with one used
	// or expired.
	CodeState Code = "sso_state"
	// CodeProvider: the provider refused the sign-in or the code.
	CodeProvider Code = "sso_provider"
	// CodeToken: the ID token was not valid (signature, issuer, audience, expiry, nonce).
	CodeToken Code = "sso_token"
	// CodeNotAllowed: the person's e-mail domain or subject is not among those allowed.
	CodeNotAllowed Code = "sso_not_allowed"
	// CodeNoRole: none of the person's groups gives a role here.
	CodeNoRole Code = "sso_no_role"
	// CodeRefused: the person's account is disabled.
	CodeRefused Code = "sso_refused"
	// CodeUnavailable: the hub could not finish the sign-in; trying again later may work.
	CodeUnavailable Code = "sso_unavailable"
)

var messages = map[Code][2]string{
	CodeState: {"Входът не е започнат от този браузър или е изтекъл. Започнете отново.",
		"The sign-in was not started in this browser, or it has expired. Start again."},
	CodeProvider: {"Доставчикът на самоличност отказа входа.",
		"The identity provider refused the sign-in."},
	CodeToken: {"Отговорът на доставчика на самоличност не е валиден.",
		"The identity provider's answer is not valid."},
	CodeNotAllowed: {"Вашият адрес на електронна поща или профил няма достъп до системата.",
		"Your e-mail address or account is not allowed to sign in here."},
	CodeNoRole: {"Нямате роля в системата: групите ви при доставчика на самоличност не дават достъп. Обърнете се към администратора.",
		"You have no role here: none of your groups at the identity provider gives access. Ask your administrator."},
	CodeRefused: {"Профилът ви е спрян. Обърнете се към администратора.",
		"Your account is disabled. Ask your administrator."},
	CodeUnavailable: {"Входът не е достъпен; опитайте по-късно.",
		"Sign-in is not available; try again later."},
}

// Message says what the code means in lang ("bg" or "en"; anything else is Bulgarian).
func (c Code) Message(lang string) string {
	m, ok := messages[c]
	if !ok {
		m = messages[CodeUnavailable]
	}
	if lang == "en" {
		return m[1]
	}
	return m[0]
}

// Status is the HTTP status that answers the refusal.
func (c Code) Status() int {
	switch c {
	case CodeUnavailable:
		return http.StatusServiceUnavailable
	case CodeState:
		return http.StatusBadRequest
	}
	return http.StatusForbidden
}
