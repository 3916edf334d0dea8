// Package service describes administrative services (административни
// услуги) as Annex 1 of the Наредба за административното обслужване lists
// them: the name and identifier in СУНАУ, legal basis, provider, procedure,
// the checklist of required documents, forms, term types with their deadline
// and fee, validity of the result, the channels for applying and for
// receiving the result, the appeal procedure and the stages of the internal
// process. Every text is in Bulgarian and English.
//
// A service is versioned: a dossier keeps the version it was opened under, so
// a catalogue may hold several versions of one service. Services are read from
// YAML, one file per service version (see Parse and LoadDir).
package service

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/aiskao/aiskao/dossier/calendar"
	"github.com/aiskao/aiskao/dossier/ident"
	"github.com/aiskao/aiskao/spec"
)

// Text is a text in Bulgarian and in English.
type Text struct {
	BG string `yaml:"bg" json:"bg" doc:"The text in Bulgarian." required:"true"`
	EN string `yaml:"en" json:"en" doc:"The text in English." required:"true"`
}

// In returns the text in lang ("bg" or "en"); Bulgarian for any other.
func (t Text) In(lang string) string {
	if lang == "en" && t.EN != "" {
		return t.EN
	}
	return t.BG
}

// IsZero reports whether both languages are empty.
func (t Text) IsZero() bool { return t.BG == "" && t.EN == "" }

// Money is an amount in euro cents (Bulgaria pays in euro since 1 January
// 2026). In YAML it is written in euro, with at most two decimals: 4, 4.5 or
// "12.50"; in JSON it is the number of cents.
type Money int64

// String writes the amount in euro with two decimals, such as "12.50 EUR".
func (m Money) String() string {
	sign := ""
	if m < 0 {
		sign, m = "-", -m
	}
	return fmt.Sprintf("%s%d.%02d EUR", sign, m/100, m%100)
}

// ParseMoney reads an amount in euro with at most two decimals ("12", "12.5",
// "12.50"); a decimal comma is accepted too.
func ParseMoney(s string) (Money, error) {
	in := strings.TrimSpace(strings.Replace(s, ",", ".", 1))
	whole, frac, hasFrac := strings.Cut(in, ".")
	bad := fmt.Errorf("invalid amount %q: want euro with at most two decimals, such as 12.50", s)
	if whole == "" || len(frac) > 2 || (hasFrac && frac == "") || len(whole) > 12 {
		return 0, bad
	}
	for _, c := range whole + frac {
		if c < '0' || c > '9' {
			return 0, bad
		}
	}
	w, _ := strconv.ParseInt(whole, 10, 64)
	for len(frac) < 2 {
		frac += "0"
	}
	f, _ := strconv.ParseInt(frac, 10, 64)
	return Money(w*100 + f), nil
}

// UnmarshalYAML reads an amount in euro.
func (m *Money) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return errors.New("want an amount in euro, such as 12.50")
	}
	v, err := ParseMoney(n.Value)
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// Service is one version of an administrative service.
type Service struct {
	ID            string     `yaml:"id" json:"id" doc:"Identifier of the service in СУНАУ (the list of unified names of administrative services)." required:"true" example:"2079"`
	URI           string     `yaml:"uri" json:"uri,omitempty" doc:"URI of the service in the register of administrative services, when it has one." example:"ОБА3.44"`
	Version       int        `yaml:"version" json:"version" doc:"Version of this description; a dossier keeps the version it was opened under." required:"true" min:"1"`
	Name          Text       `yaml:"name" json:"name" doc:"Name of the service as in СУНАУ." required:"true"`
	LegalBasis    Text       `yaml:"legal_basis" json:"legal_basis" doc:"Legal basis: the laws and articles the service rests on." required:"true"`
	Provider      Provider   `yaml:"provider" json:"provider" doc:"The authority that provides the service." required:"true"`
	RegisterIndex string     `yaml:"register_index" json:"register_index" doc:"Index of the register its dossiers are entered in; part of their registration numbers." required:"true" example:"ОБА3"`
	Procedure     Text       `yaml:"procedure" json:"procedure" doc:"How the service is provided, as told to applicants." required:"true"`
	Fields        []Field    `yaml:"fields" json:"fields,omitempty" doc:"Data the application form asks for besides the applicant, such as the ЕГН of a deceased person."`
	Checklist     []Item     `yaml:"checklist" json:"checklist" doc:"The documents and data the service needs, each brought by the applicant or obtained ex officio."`
	Forms         []Form     `yaml:"forms" json:"forms,omitempty" doc:"Forms of the application and of its attachments."`
	Terms         []TermType `yaml:"terms" json:"terms" doc:"The term types offered (normal, fast, express), each with its deadline and fee." required:"true" min:"1"`
	Validity      *Validity  `yaml:"validity" json:"validity,omitempty" doc:"How long the result is valid; absent when that is not limited or not applicable."`
	Apply         []Channel  `yaml:"apply" json:"apply" doc:"Channels through which the service may be applied for." required:"true" min:"1"`
	Deliver       []Delivery `yaml:"deliver" json:"deliver" doc:"Ways in which the result may be received." required:"true" min:"1"`
	Appeal        Text       `yaml:"appeal" json:"appeal" doc:"How and before whom the result or a refusal may be appealed." required:"true"`
	Stages        []Stage    `yaml:"stages" json:"stages" doc:"The stages of the internal process, in order." required:"true" min:"1"`
}

// Provider is the authority that provides a service.
type Provider struct {
	Name Text   `yaml:"name" json:"name" doc:"Name of the authority." required:"true"`
	EIK  string `yaml:"eik" json:"eik" doc:"ЕИК/БУЛСТАТ of the administration." required:"true" example:"000695089"`
}

// Validate checks the ЕИК.
func (p Provider) Validate() error {
	if err := ident.ValidateEIK(p.EIK); err != nil {
		return spec.FieldErrorf("eik", "%s", eikDetail(err))
	}
	return nil
}

func eikDetail(err error) string {
	var e *ident.Error
	if errors.As(err, &e) {
		return "not a valid ЕИК: " + e.Detail
	}
	return err.Error()
}

// Source says where a checklist item comes from.
type Source string

const (
	// FromApplicant: the applicant brings or attaches the document.
	FromApplicant Source = "applicant"
	// FromRegister: the administration obtains the data ex officio from a
	// register operation through the registers' data exchange (RegiX).
	FromRegister Source = "register"
	// FromAdministration: the administration asks another administration for
	// it ex officio through ЕСОЕД.
	FromAdministration Source = "administration"
)

// ExOfficio reports whether the administration obtains the item itself.
func (s Source) ExOfficio() bool { return s == FromRegister || s == FromAdministration }

// FieldKind says what a form field holds, and how it is checked.
type FieldKind string

const (
	TextField   FieldKind = "text"   // any text
	EGNField    FieldKind = "egn"    // a valid ЕГН
	LNCField    FieldKind = "lnch"   // a valid ЛНЧ
	EIKField    FieldKind = "eik"    // a valid ЕИК/БУЛСТАТ
	DateField   FieldKind = "date"   // YYYY-MM-DD
	NumberField FieldKind = "number" // a decimal number
)

// Field is a piece of data the application form asks for.
type Field struct {
	ID       string    `yaml:"id" json:"id" doc:"Name of the field in the application's data: lowercase letters, digits and _." required:"true" example:"deceased_egn"`
	Name     Text      `yaml:"name" json:"name" doc:"The field's label." required:"true"`
	Kind     FieldKind `yaml:"kind" json:"kind" doc:"What the field holds, and how it is checked." enum:"text,egn,lnch,eik,date,number" default:"text"`
	Required bool      `yaml:"required" json:"required" doc:"Whether the application must fill it in." default:"false"`
}

// fieldPattern is the rule for field ids.
var fieldPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// Validate checks the field's id.
func (f Field) Validate() error {
	if !fieldPattern.MatchString(f.ID) {
		return spec.FieldErrorf("id", "%q: use lowercase letters, digits and _, starting with a letter", f.ID)
	}
	return nil
}

// QueryApplicant is the Query value that takes the applicant's identifier.
const QueryApplicant = "applicant"

// Field returns the form field id.
func (s *Service) Field(id string) (Field, bool) {
	for _, f := range s.Fields {
		if f.ID == id {
			return f, true
		}
	}
	return Field{}, false
}

// Item is one entry of a service's checklist of required documents.
type Item struct {
	ID        string            `yaml:"id" json:"id" doc:"Identifier of the item within the service; documents name it." required:"true" example:"death-certificate"`
	Name      Text              `yaml:"name" json:"name" doc:"What the document or data is." required:"true"`
	Required  bool              `yaml:"required" json:"required" doc:"Whether the service cannot be provided without it." default:"true"`
	Source    Source            `yaml:"source" json:"source" doc:"Who provides it: the applicant, a register (ex officio through RegiX) or another administration (ex officio through ЕСОЕД)." enum:"applicant,register,administration" default:"applicant"`
	Operation string            `yaml:"operation" json:"operation,omitempty" doc:"For source register: the register operation that gives the data." example:"TechnoLogica.RegiX.GraoNBDAdapter.APIService.INBDAPI.PersonDataSearch"`
	EIK       string            `yaml:"eik" json:"eik,omitempty" doc:"For source administration: ЕИК of the administration that holds the document." example:"000695089"`
	Form      string            `yaml:"form" json:"form,omitempty" doc:"Identifier of the form the document is made on, when there is one."`
	Query     map[string]string `yaml:"query" json:"query,omitempty" doc:"For an ex officio item: the parameters of the request, each mapped to what it takes from the application: applicant (the applicant's ЕГН, ЛНЧ or ЕИК) or the id of one of fields." example:"{EGN: deceased_egn}"`
	Note      *Text             `yaml:"note" json:"note,omitempty" doc:"What the applicant or the clerk should know about the item."`
}

// Validate checks that the item names where it comes from, and only that.
func (it Item) Validate() error {
	var errs []error
	switch it.Source {
	case FromRegister:
		if it.Operation == "" {
			errs = append(errs, spec.FieldErrorf("operation", "a register item names the register operation that gives it"))
		}
	case FromAdministration:
		if err := ident.ValidateEIK(it.EIK); err != nil {
			errs = append(errs, spec.FieldErrorf("eik", "an item from another administration names its ЕИК: %s", eikDetail(err)))
		}
	}
	if it.Source != FromRegister && it.Operation != "" {
		errs = append(errs, spec.FieldErrorf("operation", "only a register item has an operation"))
	}
	if !it.Source.ExOfficio() && len(it.Query) > 0 {
		errs = append(errs, spec.FieldErrorf("query", "only an ex officio item has a query"))
	}
	if it.Source != FromAdministration && it.EIK != "" {
		errs = append(errs, spec.FieldErrorf("eik", "only an item from another administration has an ЕИК"))
	}
	return errors.Join(errs...)
}

// Form is a form of the service: the application or an attachment.
type Form struct {
	ID   string `yaml:"id" json:"id" doc:"Identifier of the form within the service." required:"true" example:"application"`
	Name Text   `yaml:"name" json:"name" doc:"Name of the form." required:"true"`
	URL  string `yaml:"url" json:"url,omitempty" doc:"Where the form can be downloaded."`
}

// TermKind is the nomenclature of term types (0007-000014).
type TermKind string

const (
	// Normal is обикновена услуга.
	Normal TermKind = "normal"
	// Fast is бърза услуга.
	Fast TermKind = "fast"
	// Express is експресна услуга.
	Express TermKind = "express"
)

// TermType is one term type a service offers: its deadline and its fee.
// The deadline is Days in Unit, or Hours for terms published in hours.
type TermType struct {
	Kind  TermKind      `yaml:"kind" json:"kind" doc:"The term type." required:"true" enum:"normal,fast,express"`
	Days  int           `yaml:"days" json:"days,omitempty" doc:"Deadline in days, counted from the day after registration." min:"0"`
	Unit  calendar.Unit `yaml:"unit" json:"unit,omitempty" doc:"How the days are counted." enum:"working,calendar" default:"working"`
	Hours int           `yaml:"hours" json:"hours,omitempty" doc:"Deadline in hours from registration, for terms published in hours (instead of days)." min:"0"`
	Fee   Money         `yaml:"fee" json:"fee_cents" doc:"Fee in euro for this term type." default:"0"`
}

// Validate checks that the deadline is given one way.
func (t TermType) Validate() error {
	if (t.Days > 0) == (t.Hours > 0) {
		return spec.FieldErrorf("days", "give the deadline either in days or in hours")
	}
	if t.Fee < 0 {
		return spec.FieldErrorf("fee", "must not be negative")
	}
	return nil
}

// Validity is how long the result of a service is valid.
type Validity struct {
	Months     int   `yaml:"months" json:"months,omitempty" doc:"Months the result is valid." min:"0"`
	Days       int   `yaml:"days" json:"days,omitempty" doc:"Days the result is valid." min:"0"`
	Indefinite bool  `yaml:"indefinite" json:"indefinite,omitempty" doc:"The result is valid without limit."`
	Note       *Text `yaml:"note" json:"note,omitempty" doc:"Conditions of the validity, such as until a change of the facts it certifies."`
}

// Validate checks that the validity is said one way.
func (v Validity) Validate() error {
	if v.Indefinite == (v.Months > 0 || v.Days > 0) {
		return spec.FieldErrorf("months", "give months or days, or indefinite: true")
	}
	return nil
}

// Channel is a channel through which an application arrives.
type Channel string

const (
	Portal  Channel = "portal"  // the public portal, electronically signed
	Counter Channel = "counter" // the front office's counter
	Post    Channel = "post"    // licensed postal operator
	Email   Channel = "email"   // e-mail, electronically signed
	ESOED   Channel = "esoed"   // from another administration through ЕСОЕД
	Phone   Channel = "phone"   // telephone, where the law allows it
)

// Channels lists every channel, for validation and for documentation.
func Channels() []Channel { return []Channel{Portal, Counter, Post, Email, ESOED, Phone} }

// UnmarshalYAML accepts only the known channels.
func (c *Channel) UnmarshalYAML(n *yaml.Node) error {
	return oneOf(n, (*string)(c), Channels())
}

// Delivery is a way of receiving the result (nomenclature 0007-000013).
type Delivery string

const (
	Electronic         Delivery = "electronic"         // electronically (portal, e-mail, ЕСОЕД)
	AtCounter          Delivery = "counter"            // at the counter of the front office
	AtMunicipality     Delivery = "municipal-counter"  // at the counter of a municipality or mayoralty
	PostCorrespondence Delivery = "post"               // by post to the correspondence address
	PostOtherAddress   Delivery = "post-other-address" // by post to another address the applicant gives
	POBox              Delivery = "po-box"             // to a post office box
)

// Deliveries lists every way of receiving the result.
func Deliveries() []Delivery {
	return []Delivery{Electronic, AtCounter, AtMunicipality, PostCorrespondence, PostOtherAddress, POBox}
}

// NeedsAddress reports whether the applicant must give an address for it.
func (d Delivery) NeedsAddress() bool {
	return d == PostCorrespondence || d == PostOtherAddress || d == POBox
}

// UnmarshalYAML accepts only the known ways.
func (d *Delivery) UnmarshalYAML(n *yaml.Node) error {
	return oneOf(n, (*string)(d), Deliveries())
}

func oneOf[T ~string](n *yaml.Node, out *string, allowed []T) error {
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
		if n.Kind == yaml.ScalarNode && n.Value == string(a) {
			*out = n.Value
			return nil
		}
	}
	return fmt.Errorf("must be one of %s; got %s", strings.Join(names, ", "), spec.Describe(n))
}

// Group is the group a stage belongs to.
type Group string

const (
	Accept  Group = "accept"  // accepting the application and its documents
	Check   Group = "check"   // checking documents and gathering data
	Prepare Group = "prepare" // preparing the result
)

// Stage is one stage of a service's internal process.
type Stage struct {
	ID           string        `yaml:"id" json:"id" doc:"Identifier of the stage within the service." required:"true" example:"check-heirs"`
	Name         Text          `yaml:"name" json:"name" doc:"Name of the stage." required:"true"`
	Group        Group         `yaml:"group" json:"group" doc:"The group of the stage: accepting documents, checking them, preparing the result." required:"true" enum:"accept,check,prepare"`
	After        []string      `yaml:"after" json:"after" doc:"Stages that must finish before this one starts; stages listed with the same predecessors run in parallel. Default: the stage listed before it (none for the first)."`
	Automatic    *Automatic    `yaml:"automatic" json:"automatic,omitempty" doc:"Set when the system does the stage itself, such as a register check."`
	Assignee     Assignee      `yaml:"assignee" json:"assignee" doc:"Who does the stage (required unless automatic)."`
	Days         int           `yaml:"days" json:"days,omitempty" doc:"Term of the stage in days from its start; 0 for none of its own." min:"0"`
	Unit         calendar.Unit `yaml:"unit" json:"unit,omitempty" doc:"How the stage's days are counted." enum:"working,calendar" default:"working"`
	Manual       bool          `yaml:"manual" json:"manual,omitempty" doc:"The stage waits for a clerk to start it (a commission's session, say) instead of starting when its predecessors finish."`
	Commission   bool          `yaml:"commission" json:"commission,omitempty" doc:"The stage is decided by a commission."`
	Instructions *Text         `yaml:"instructions" json:"instructions,omitempty" doc:"Instructions for whoever does the stage."`
}

// Action is what the system does in an automatic stage.
type Action string

// RequestItem asks the register or administration an ex officio checklist
// item comes from, and waits for its answer.
const RequestItem Action = "request-item"

// Automatic says what the system does in an automatic stage.
type Automatic struct {
	Action Action `yaml:"action" json:"action" doc:"What the system does." enum:"request-item" default:"request-item"`
	Item   string `yaml:"item" json:"item" doc:"The ex officio checklist item to obtain." required:"true"`
}

// Assignee is who does a stage or a task: a user, or whoever holds a position.
type Assignee struct {
	User     string `yaml:"user" json:"user,omitempty" doc:"User name of the person." example:"ivanova"`
	Position string `yaml:"position" json:"position,omitempty" doc:"Position of the people who may do it." example:"front-office-clerk"`
}

// IsZero reports whether nobody is named.
func (a Assignee) IsZero() bool { return a.User == "" && a.Position == "" }

// String names the assignee as "user:NAME" or "position:NAME".
func (a Assignee) String() string {
	if a.User != "" {
		return "user:" + a.User
	}
	if a.Position != "" {
		return "position:" + a.Position
	}
	return "nobody"
}

// Validate checks that one of user and position is given.
func (a Assignee) Validate() error {
	if a.User != "" && a.Position != "" {
		return spec.FieldErrorf("user", "give a user or a position, not both")
	}
	return nil
}

// Term returns the term type of kind k, or false when the service does not offer it.
func (s *Service) Term(k TermKind) (TermType, bool) {
	for _, t := range s.Terms {
		if t.Kind == k {
			return t, true
		}
	}
	return TermType{}, false
}

// Item returns the checklist item id.
func (s *Service) Item(id string) (Item, bool) {
	for _, it := range s.Checklist {
		if it.ID == id {
			return it, true
		}
	}
	return Item{}, false
}

// Stage returns the stage id.
func (s *Service) Stage(id string) (Stage, bool) {
	for _, st := range s.Stages {
		if st.ID == id {
			return st, true
		}
	}
	return Stage{}, false
}

// Accepts reports whether applications may arrive through c.
func (s *Service) Accepts(c Channel) bool { return contains(s.Apply, c) }

// Delivers reports whether the result may be received by d.
func (s *Service) Delivers(d Delivery) bool { return contains(s.Deliver, d) }

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func contains[T comparable](list []T, x T) bool {
	for _, y := range list {
		if y == x {
			return true
		}
	}
	return false
}

// Predecessors returns the stages that must finish before stage i starts: its
// After, or the stage listed before it.
func (s *Service) Predecessors(i int) []string {
	if len(s.Stages[i].After) > 0 {
		return s.Stages[i].After
	}
	if i == 0 {
		return nil
	}
	return []string{s.Stages[i-1].ID}
}

// Validate checks what the field tags cannot: names that must be unique and
// references between items, forms and stages.
func (s *Service) Validate() error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, spec.FieldErrorf(field, format, args...))
	}
	forms := map[string]bool{}
	for i, f := range s.Forms {
		if forms[f.ID] {
			add(fmt.Sprintf("forms[%d].id", i), "form %q is listed twice", f.ID)
		}
		forms[f.ID] = true
	}
	fieldIDs := map[string]bool{}
	for i, f := range s.Fields {
		if fieldIDs[f.ID] {
			add(fmt.Sprintf("fields[%d].id", i), "field %q is listed twice", f.ID)
		}
		fieldIDs[f.ID] = true
	}
	items := map[string]Item{}
	for i, it := range s.Checklist {
		p := fmt.Sprintf("checklist[%d]", i)
		for _, param := range sortedKeys(it.Query) {
			if v := it.Query[param]; v != QueryApplicant && !fieldIDs[v] {
				add(p+".query."+param, "%q is neither %s nor a field of fields", v, QueryApplicant)
			}
		}
		if _, dup := items[it.ID]; dup {
			add(p+".id", "item %q is listed twice", it.ID)
		}
		items[it.ID] = it
		if it.Form != "" && !forms[it.Form] {
			add(p+".form", "no form %q in forms", it.Form)
		}
	}
	terms := map[TermKind]bool{}
	for i, t := range s.Terms {
		if terms[t.Kind] {
			add(fmt.Sprintf("terms[%d].kind", i), "term type %q is listed twice", t.Kind)
		}
		terms[t.Kind] = true
	}
	for _, l := range []struct {
		name string
		n    int
		dup  func(i, j int) bool
	}{
		{"apply", len(s.Apply), func(i, j int) bool { return s.Apply[i] == s.Apply[j] }},
		{"deliver", len(s.Deliver), func(i, j int) bool { return s.Deliver[i] == s.Deliver[j] }},
	} {
		for i := 0; i < l.n; i++ {
			for j := 0; j < i; j++ {
				if l.dup(i, j) {
					add(fmt.Sprintf("%s[%d]", l.name, i), "listed twice")
				}
			}
		}
	}
	stages := map[string]int{}
	for i, st := range s.Stages {
		p := fmt.Sprintf("stages[%d]", i)
		if _, dup := stages[st.ID]; dup {
			add(p+".id", "stage %q is listed twice", st.ID)
		}
		for j, a := range st.After {
			switch _, ok := stages[a]; {
			case a == st.ID:
				add(fmt.Sprintf("%s.after[%d]", p, j), "a stage cannot wait for itself")
			case !ok:
				add(fmt.Sprintf("%s.after[%d]", p, j), "no stage %q listed before this one; list stages in an order where each comes after those it waits for", a)
			}
		}
		stages[st.ID] = i
		if st.Automatic != nil {
			it, ok := items[st.Automatic.Item]
			switch {
			case !ok:
				add(p+".automatic.item", "no checklist item %q", st.Automatic.Item)
			case !it.Source.ExOfficio():
				add(p+".automatic.item", "item %q is brought by the applicant; the system can request only ex officio items", it.ID)
			}
			if !st.Assignee.IsZero() {
				add(p+".assignee", "an automatic stage is done by the system, not assigned")
			}
		} else if st.Assignee.IsZero() {
			add(p, "no assignee: give the user or position who does the stage")
		}
	}
	return errors.Join(errs...)
}
