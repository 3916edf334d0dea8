package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"golang.org/x/text/language"

	"github.com/aiskao/aiskao/dossier"
	"github.com/aiskao/aiskao/dossier/service"
	dstore "github.com/aiskao/aiskao/dossier/store"
)

// problemBase prefixes every problem type: the problem's code follows it.
const problemBase = "urn:aiskao:problem:"

// Problem is an RFC 9457 problem-details body, with the code of the refusal and, for bad
// input, every wrong field.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	// Code is the stable name of the problem, the end of Type.
	Code   string         `json:"code"`
	Errors []ProblemField `json:"errors,omitempty"`
}

// ProblemField is what is wrong with one field of the request.
type ProblemField struct {
	// Pointer names the field as a JSON pointer (RFC 6901) into the request body; "" for the
	// body as a whole.
	Pointer  string `json:"pointer"`
	Code     string `json:"code"`
	DetailBG string `json:"detail_bg"`
	DetailEN string `json:"detail_en"`
}

// Codes of the problems the API itself finds; the domain's come from dossier.Error.
const (
	codeMalformed   = "malformed_body"
	codeTooLarge    = "body_too_large"
	codeMediaType   = "unsupported_media_type"
	codeBadQuery    = "invalid_query"
	codeNoDossier   = "dossier_not_found"
	codeNoService   = "service_not_found"
	codeNoFeedback  = "feedback_not_found"
	codeKeyReused   = "idempotency_key_reused"
	codeInternal    = "internal_error"
	codeUnavailable = "unavailable"
)

var langs = language.NewMatcher([]language.Tag{language.Bulgarian, language.English})

// lang is the language Accept-Language prefers of bg and en; bg when it prefers neither.
func lang(r *http.Request) string {
	tag, _ := language.MatchStrings(langs, r.Header.Get("Accept-Language"))
	if base, _ := tag.Base(); base.String() == "en" {
		return "en"
	}
	return "bg"
}

// writeProblem answers status with a problem whose detail is msg in the request's language.
func writeProblem(w http.ResponseWriter, r *http.Request, status int, code string, msg service.Text, fields []ProblemField) {
	l := lang(r)
	p := Problem{Type: problemBase + code, Title: http.StatusText(status), Status: status, Detail: msg.In(l), Code: code, Errors: fields}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Content-Language", l)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(p) // the status is sent; a failed write means the client went away
}

// writeError answers err: the domain's refusals by their kind, an unknown dossier 404, anything
// else 500, logged (without personal data: errors of the core name numbers and codes only).
func (a *api) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var derr *dossier.Error
	switch {
	case errors.As(err, &derr):
		status := map[dossier.Kind]int{dossier.Invalid: http.StatusUnprocessableEntity, dossier.Conflict: http.StatusConflict, dossier.NotFound: http.StatusNotFound}[derr.Kind]
		if status == 0 {
			status = http.StatusUnprocessableEntity
		}
		var fields []ProblemField
		for _, f := range derr.Fields {
			fields = append(fields, ProblemField{Pointer: f.Pointer, Code: f.Code, DetailBG: f.Message.BG, DetailEN: f.Message.EN})
		}
		writeProblem(w, r, status, derr.Code, derr.Message, fields)
	case errors.Is(err, dstore.ErrNotFound):
		writeProblem(w, r, http.StatusNotFound, codeNoDossier, service.Text{BG: "Няма такава преписка.", EN: "There is no such dossier."}, nil)
	case errors.Is(err, dstore.ErrKeyTaken):
		writeProblem(w, r, http.StatusConflict, dossier.CodeNotAllowed, service.Text{BG: "Идентификаторът вече е на друга преписка.", EN: "The identifier belongs to another dossier."}, nil)
	default:
		a.opt.Log.Error("dossier API request failed", "method", r.Method, "pattern", r.Pattern, "error", err)
		writeProblem(w, r, http.StatusInternalServerError, codeInternal, service.Text{BG: "Вътрешна грешка.", EN: "Internal error."}, nil)
	}
}

// writeJSON answers status with v as JSON; its texts are in both languages.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// invalid answers 422 for fields of the request the API checks itself.
func invalid(w http.ResponseWriter, r *http.Request, fields ...ProblemField) {
	writeProblem(w, r, http.StatusUnprocessableEntity, dossier.CodeInvalidInput, service.Text{BG: "Заявката не е редовна.", EN: "The request is not valid."}, fields)
}

// field is a ProblemField.
func field(pointer, code, bg, en string) ProblemField {
	return ProblemField{Pointer: pointer, Code: code, DetailBG: bg, DetailEN: en}
}
