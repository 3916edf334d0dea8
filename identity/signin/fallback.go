package signin

import (
	"html/template"
	"net/http"
)

// fallback is the plainest page of each step, for an application that renders none of its own
// (the web shell's pages replace it): a form, no script, no style.
var fallback = template.Must(template.New("").Parse(`<!doctype html>
<html lang="bg"><head><meta charset="utf-8"><title>Вход / Sign in</title></head>
<body><main><h1>Вход / Sign in</h1>
{{if .Error}}<p role="alert">{{.Error}}</p>{{end}}
<form method="post" action="{{.Action}}">
{{range .Fields}}<p><label>{{.Label}} <input name="{{.Name}}" type="{{.Type}}" autocomplete="{{.Auto}}" required></label></p>
{{end}}<p><button type="submit">Продължи / Continue</button></p>
</form></main></body></html>
`))

type field struct{ Label, Name, Type, Auto string }

// steps are the fallback pages' forms, by the path they are served at.
var steps = map[string]struct {
	action string
	fields []field
}{
	"/signin": {"/signin", []field{
		{"Потребител / User name", "name", "text", "username"},
		{"Парола / Password", "password", "password", "current-password"}}},
	"/signin/totp":     {"/signin/totp", []field{{"Код / Code", "code", "text", "one-time-code"}}},
	"/signin/password": {"/signin/password", []field{{"Нова парола / New password", "password", "password", "new-password"}}},
}

// errorTexts are what the fallback says of each error code; a code it does not know shows
// nothing, so that nothing of the URL is echoed.
var errorTexts = map[string]string{
	"refused":       "Името, паролата или кодът не са верни. / The name, password or code is not right.",
	"locked":        "Твърде много неуспешни опити; опитайте по-късно. / Too many failed attempts; try again later.",
	"expired":       "Влезте отново. / Sign in again.",
	"weak_password": "Паролата не е приета: поне 12 знака, без потребителското име. / Password refused: at least 12 characters, not the user name.",
	"bad_request":   "Заявката не може да бъде прочетена. / The request could not be read.",
	"unavailable":   "Входът не е достъпен; опитайте по-късно. / Sign-in is not available; try again later.",
}

// page serves the fallback form of the step at r's path.
func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	s := steps[r.URL.Path]
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = fallback.Execute(w, map[string]any{"Action": s.action, "Fields": s.fields, "Error": errorTexts[r.URL.Query().Get("error")]})
}
