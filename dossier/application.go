package dossier

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aiskao/aiskao/dossier/calendar"
	"github.com/aiskao/aiskao/dossier/ident"
	"github.com/aiskao/aiskao/dossier/service"
	"github.com/aiskao/aiskao/internal/mask"
)

// PartyKind says whether a party is a person or a legal entity.
type PartyKind string

const (
	// Person is a natural person, identified by ЕГН or, for a foreigner, ЛНЧ.
	Person PartyKind = "person"
	// Company is a company, another legal entity or an administration, identified by ЕИК/БУЛСТАТ.
	Company PartyKind = "company"
)

// Party is an applicant or a representative.
type Party struct {
	Kind    PartyKind `json:"kind"`
	EGN     string    `json:"egn,omitempty"`  // a person's ЕГН
	LNC     string    `json:"lnch,omitempty"` // a foreigner's ЛНЧ, instead of an ЕГН
	EIK     string    `json:"eik,omitempty"`  // a company's ЕИК/БУЛСТАТ
	Name    string    `json:"name"`
	Address string    `json:"address,omitempty"` // address for correspondence
	Email   string    `json:"email,omitempty"`
	Phone   string    `json:"phone,omitempty"`
}

// ID is the party's identifier: the ЕГН, ЛНЧ or ЕИК, whichever is given.
func (p Party) ID() string {
	switch {
	case p.EGN != "":
		return p.EGN
	case p.LNC != "":
		return p.LNC
	}
	return p.EIK
}

// String names the party for logs: its kind and identifier with a personal
// number masked, and no name or address.
func (p Party) String() string { return string(p.Kind) + " " + mask.PersonalNumbers(p.ID()) }

// Kinds of documents that the dossier itself makes; an applicant's document
// is of the kind of the checklist item it provides.
const (
	KindResult     = "result"   // the result of the service, or its refusal
	KindNotice     = "notice"   // a notice to the applicant, such as of an irregularity
	KindRegister   = "register" // an answer of a register or another administration
	KindCorrespond = "letter"   // other correspondence
	KindOther      = "other"    // anything else the applicant adds
)

// Document describes a document; its content lives in the document store,
// addressed by ID and checked by SHA256.
type Document struct {
	ID        string `json:"id"`
	Kind      string `json:"kind"` // a checklist item's id, or one of the Kind constants
	Name      string `json:"name"`
	MediaType string `json:"media_type"`
	Size      int64  `json:"size"`
	SHA256    string `json:"sha256"` // lowercase hex
}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// check reports what is wrong with the document, at pointer p.
func (d Document) check(f *fields, p string) {
	if d.ID == "" {
		f.add(p+"/id", "required", "Липсва идентификатор на документа.", "The document has no id.")
	}
	if d.Kind == "" {
		f.add(p+"/kind", "required", "Липсва вид на документа.", "The document has no kind.")
	}
	if d.MediaType == "" {
		f.add(p+"/media_type", "required", "Липсва тип на съдържанието.", "The document has no media type.")
	}
	if d.Size < 0 {
		f.add(p+"/size", "invalid_value", "Размерът не може да е отрицателен.", "The size must not be negative.")
	}
	if !sha256Hex.MatchString(d.SHA256) {
		f.add(p+"/sha256", "invalid_value", "Контролната сума трябва да е SHA-256 с 64 шестнадесетични цифри (малки букви).", "The checksum must be a SHA-256 in 64 lowercase hexadecimal digits.")
	}
}

// DeliveryChoice is how the applicant wants to receive the result.
type DeliveryChoice struct {
	Way     service.Delivery `json:"way"`
	Address string           `json:"address,omitempty"` // for the ways by post
}

// Application is an application (заявление) for a service, from any channel.
type Application struct {
	Service    string          `json:"service"` // the service's СУНАУ identifier
	Channel    service.Channel `json:"channel"`
	ReceivedAt time.Time       `json:"received_at"`
	// Reference is the application's number in the channel it came through,
	// such as the ЕСОЕД document's number or the portal's request id.
	Reference string `json:"reference,omitempty"`
	// Origin identifies the application where it came from, so that the channel can be
	// answered there, such as an ЕСОЕД document's GUID and its sender's identifier and GUID.
	// The channel's connector names and reads its entries; they are not checked.
	Origin    map[string]string `json:"origin,omitempty"`
	Applicant Party             `json:"applicant"`
	// Representative acts for the applicant, when someone does (by a power of attorney).
	Representative *Party     `json:"representative,omitempty"`
	Documents      []Document `json:"documents"`
	// Data holds the form's fields besides the applicant, by the ids of the service's fields.
	Data     map[string]string `json:"data,omitempty"`
	Term     service.TermKind  `json:"term"`
	Delivery DeliveryChoice    `json:"delivery"`
}

// Validate checks the application against svc, the service it asks for,
// and returns nil or an *Error of kind Invalid naming every wrong field by
// JSON pointer: unknown service, channel, term type or delivery way the
// service does not offer, an applicant without a valid identifier, a
// required checklist item the applicant brings with no document for it, a
// malformed document. A nil svc means the service is not known.
func (a *Application) Validate(svc *service.Service) error {
	var f fields
	if svc == nil || svc.ID != a.Service {
		f.add("/service", "unknown_service", "Няма услуга %q.", "There is no service %q.", a.Service)
		return f.err(CodeInvalidApplication, "Заявлението не е редовно.", "The application is not valid.")
	}
	switch {
	case !known(service.Channels(), a.Channel):
		f.add("/channel", "invalid_value", "Няма канал %q.", "There is no channel %q.", a.Channel)
	case !svc.Accepts(a.Channel):
		f.add("/channel", "channel_not_offered", "Услугата не се заявява по канал %q.", "The service cannot be applied for through %q.", a.Channel)
	}
	if a.ReceivedAt.IsZero() {
		f.add("/received_at", "required", "Липсва времето на постъпване.", "The time the application was received is missing.")
	}
	a.Applicant.check(&f, "/applicant")
	if r := a.Representative; r != nil {
		r.check(&f, "/representative")
	}
	seen := map[string]bool{}
	provided := map[string]bool{}
	for i, d := range a.Documents {
		p := fmt.Sprintf("/documents/%d", i)
		d.check(&f, p)
		if d.ID != "" && seen[d.ID] {
			f.add(p+"/id", "duplicate", "Документ %q е приложен два пъти.", "Document %q is attached twice.", d.ID)
		}
		seen[d.ID] = true
		if it, ok := svc.Item(d.Kind); ok {
			if it.Source.ExOfficio() {
				f.addText(p+"/kind", "ex_officio_item", service.Text{
					BG: fmt.Sprintf("„%s“ се събира по служебен път; заявителят не го представя.", it.Name.BG),
					EN: fmt.Sprintf("%q is obtained ex officio; the applicant does not bring it.", it.Name.EN)})
			}
			provided[d.Kind] = true
		} else if d.Kind != "" && d.Kind != KindOther {
			f.add(p+"/kind", "invalid_value", "Услугата няма документ %q в списъка.", "The service's checklist has no item %q.", d.Kind)
		}
	}
	for _, it := range svc.Checklist {
		if it.Required && it.Source == service.FromApplicant && !provided[it.ID] {
			f.addText("/documents", "missing_item", service.Text{
				BG: fmt.Sprintf("Липсва „%s“ (%s).", it.Name.BG, it.ID),
				EN: fmt.Sprintf("%q (%s) is missing.", it.Name.EN, it.ID)})
		}
	}
	a.checkData(&f, svc)
	switch _, ok := svc.Term(a.Term); {
	case a.Term == "":
		f.add("/term", "required", "Изберете вид на услугата (обикновена, бърза, експресна).", "Choose the term type (normal, fast, express).")
	case !ok:
		f.add("/term", "term_not_offered", "Услугата не се предоставя като %q.", "The service is not offered with term type %q.", a.Term)
	}
	switch w := a.Delivery.Way; {
	case w == "":
		f.add("/delivery/way", "required", "Изберете начин за получаване на резултата.", "Choose how to receive the result.")
	case !known(service.Deliveries(), w):
		f.add("/delivery/way", "invalid_value", "Няма начин за получаване %q.", "There is no way of receiving %q.", w)
	case !svc.Delivers(w):
		f.add("/delivery/way", "delivery_not_offered", "Резултатът не се получава по начин %q.", "The result cannot be received by %q.", w)
	case w.NeedsAddress() && a.Delivery.Address == "" && (w != service.PostCorrespondence || a.correspondenceAddress() == ""):
		f.add("/delivery/address", "required", "Посочете адрес за получаване по пощата.", "Give the address to post the result to.")
	}
	return f.err(CodeInvalidApplication, "Заявлението не е редовно.", "The application is not valid.")
}

// checkData checks the form's fields against the service's: known, filled
// in when required, and holding what their kind says.
func (a *Application) checkData(f *fields, svc *service.Service) {
	keys := make([]string, 0, len(a.Data))
	for k := range a.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := "/data/" + pointerEscape(k)
		field, ok := svc.Field(k)
		if !ok {
			f.add(p, "unknown_field", "Услугата няма поле %q.", "The service has no field %q.", k)
			continue
		}
		v := a.Data[k]
		switch field.Kind {
		case service.EGNField:
			identErr(f, p, ident.ValidateEGN(v))
		case service.LNCField:
			identErr(f, p, ident.ValidateLNC(v))
		case service.EIKField:
			identErr(f, p, ident.ValidateEIK(v))
		case service.DateField:
			if _, err := calendar.ParseDate(v); err != nil {
				f.add(p, "invalid_value", "Датата трябва да е във вида ГГГГ-ММ-ДД.", "The date must be written YYYY-MM-DD.")
			}
		case service.NumberField:
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				f.add(p, "invalid_value", "Трябва да е число.", "It must be a number.")
			}
		}
	}
	for _, field := range svc.Fields {
		if field.Required && strings.TrimSpace(a.Data[field.ID]) == "" {
			f.addText("/data/"+field.ID, "required", service.Text{
				BG: fmt.Sprintf("Попълнете „%s“.", field.Name.BG),
				EN: fmt.Sprintf("Fill in %q.", field.Name.EN)})
		}
	}
}

// pointerEscape escapes a key for a JSON pointer (RFC 6901).
func pointerEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// query resolves an ex officio item's query against the application.
func (a *Application) query(it service.Item) map[string]string {
	if len(it.Query) == 0 {
		return nil
	}
	out := make(map[string]string, len(it.Query))
	for param, from := range it.Query {
		if from == service.QueryApplicant {
			out[param] = a.Applicant.ID()
		} else {
			out[param] = a.Data[from]
		}
	}
	return out
}

// correspondenceAddress is the representative's address when there is one,
// else the applicant's.
func (a *Application) correspondenceAddress() string {
	if a.Representative != nil && a.Representative.Address != "" {
		return a.Representative.Address
	}
	return a.Applicant.Address
}

func known[T comparable](list []T, x T) bool {
	for _, y := range list {
		if y == x {
			return true
		}
	}
	return false
}

// check reports what is wrong with the party, at pointer p.
func (p Party) check(f *fields, at string) {
	if p.Name == "" {
		f.add(at+"/name", "required", "Липсва име.", "The name is missing.")
	}
	switch p.Kind {
	case Person:
		switch {
		case p.EGN == "" && p.LNC == "":
			f.add(at+"/egn", "required", "Посочете ЕГН или ЛНЧ.", "Give an ЕГН or an ЛНЧ.")
		case p.EGN != "" && p.LNC != "":
			f.add(at+"/lnch", "invalid_value", "Посочете ЕГН или ЛНЧ, не и двете.", "Give an ЕГН or an ЛНЧ, not both.")
		case p.EGN != "":
			identErr(f, at+"/egn", ident.ValidateEGN(p.EGN))
		default:
			identErr(f, at+"/lnch", ident.ValidateLNC(p.LNC))
		}
		if p.EIK != "" {
			f.add(at+"/eik", "invalid_value", "Физическо лице няма ЕИК; посочете юридическото лице като заявител.", "A person has no ЕИК; give the company as the applicant.")
		}
	case Company:
		if p.EIK == "" {
			f.add(at+"/eik", "required", "Посочете ЕИК.", "Give the ЕИК.")
		} else {
			identErr(f, at+"/eik", ident.ValidateEIK(p.EIK))
		}
		if p.EGN != "" || p.LNC != "" {
			f.add(at+"/egn", "invalid_value", "Юридическо лице няма ЕГН.", "A company has no ЕГН.")
		}
	default:
		f.add(at+"/kind", "invalid_value", "Видът на лицето трябва да е person или company.", "The kind must be person or company.")
	}
}

// identErr adds the problem of an identifier check: code "invalid_egn",
// "invalid_lnch" or "invalid_eik", and a message saying which check failed.
func identErr(f *fields, at string, err error) {
	var e *ident.Error
	if err == nil || !errors.As(err, &e) {
		return
	}
	label := map[ident.Kind]string{ident.EGN: "ЕГН", ident.LNC: "ЛНЧ", ident.EIK: "ЕИК"}[e.Kind]
	var msg service.Text
	switch e.Reason {
	case ident.BadLength:
		n := "10"
		if e.Kind == ident.EIK {
			n = "9 или 13"
		}
		msg = service.Text{BG: fmt.Sprintf("%s трябва да има %s цифри.", label, n), EN: fmt.Sprintf("The %s must have %s digits.", label, strings.Replace(n, "или", "or", 1))}
	case ident.NotDigits:
		msg = service.Text{BG: label + " съдържа знак, който не е цифра.", EN: "The " + label + " has a character that is not a digit."}
	case ident.BadChecksum:
		msg = service.Text{BG: "Контролната цифра на " + label + " не съвпада.", EN: "The check digit of the " + label + " is wrong."}
	default:
		msg = service.Text{BG: label + " не съдържа съществуваща дата на раждане.", EN: "The " + label + " does not hold an existing date of birth."}
	}
	f.addText(at, "invalid_"+string(e.Kind), msg)
}
