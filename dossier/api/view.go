package api

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aiskao/aiskao/dossier"
	"github.com/aiskao/aiskao/dossier/calendar"
	"github.com/aiskao/aiskao/dossier/service"
	"github.com/aiskao/aiskao/internal/mask"
)

// dossierView is a dossier as the API shows it: its state, stages, tasks, deadlines, the
// official and the internal section, and the application, with personal data masked unless
// the caller may see it. The hash of the access code is never shown.
type dossierView struct {
	Number         string                  `json:"number"`
	Service        string                  `json:"service"`
	ServiceVersion int                     `json:"service_version"`
	Status         dossier.Status          `json:"status"`
	RegisteredAt   time.Time               `json:"registered_at"`
	Term           service.TermType        `json:"term"`
	Deadline       calendar.Date           `json:"deadline"`
	DueAt          *time.Time              `json:"due_at,omitempty"`
	FeePaid        *dossier.FeePaid        `json:"fee_paid,omitempty"`
	Application    dossier.Application     `json:"application"`
	Masked         bool                    `json:"personal_data_masked"`
	Stages         []stageView             `json:"stages"`
	Tasks          []dossier.Task          `json:"tasks"`
	Items          []dossier.Item          `json:"items"`
	Official       []dossier.FiledDocument `json:"official"`
	Internal       []dossier.FiledDocument `json:"internal"`
	Irregularities []dossier.Irregularity  `json:"irregularities"`
	Suspensions    []dossier.Suspension    `json:"suspensions"`
	Result         *dossier.Result         `json:"result,omitempty"`
	Delivery       *dossier.Delivered      `json:"delivery,omitempty"`
	Closed         *dossier.Closed         `json:"closed,omitempty"`
}

// stageView is a stage with its name and group from the plan.
type stageView struct {
	ID        string              `json:"id"`
	Name      service.Text        `json:"name"`
	Group     service.Group       `json:"group"`
	Automatic bool                `json:"automatic"`
	Status    dossier.StageStatus `json:"status"`
	StartedAt *time.Time          `json:"started_at,omitempty"`
	DoneAt    *time.Time          `json:"done_at,omitempty"`
	Due       *calendar.Date      `json:"due,omitempty"`
}

// viewOf is d as the API shows it; personal data masked unless personal.
func viewOf(d *dossier.Dossier, personal bool) dossierView {
	v := dossierView{
		Number: d.Number, Service: d.Service, ServiceVersion: d.ServiceVersion, Status: d.Status,
		RegisteredAt: d.RegisteredAt, Term: d.Term, Deadline: d.Deadline, DueAt: d.DueAt, FeePaid: d.FeePaid,
		Application: d.Application, Masked: !personal,
		Tasks: nonNil(d.Tasks), Items: nonNil(d.Items), Official: []dossier.FiledDocument{}, Internal: []dossier.FiledDocument{},
		Irregularities: nonNil(d.Irregularities), Suspensions: nonNil(d.Suspensions),
		Result: d.Result, Delivery: d.Delivery, Closed: d.Closed,
	}
	for i, st := range d.Stages {
		ps := d.Plan.Stages[i]
		v.Stages = append(v.Stages, stageView{ID: st.ID, Name: ps.Name, Group: ps.Group, Automatic: ps.Automatic != nil,
			Status: st.Status, StartedAt: st.StartedAt, DoneAt: st.DoneAt, Due: st.Due})
	}
	v.Stages = nonNil(v.Stages)
	for _, doc := range d.Documents {
		if doc.Section == dossier.Official {
			v.Official = append(v.Official, doc)
		} else {
			v.Internal = append(v.Internal, doc)
		}
	}
	v.Application.Documents = nonNil(v.Application.Documents)
	if !personal {
		maskApplication(&v.Application)
		v.maskTexts()
	}
	return v
}

// maskTexts masks the ЕГН and ЛНЧ that staff may have written in the dossier's free texts and
// document names. The slices are copied first: they are the dossier's own.
func (v *dossierView) maskTexts() {
	m := mask.PersonalNumbers
	v.Tasks = slices.Clone(v.Tasks)
	for i := range v.Tasks {
		v.Tasks[i].Note = m(v.Tasks[i].Note)
	}
	v.Irregularities = slices.Clone(v.Irregularities)
	for i := range v.Irregularities {
		ir := &v.Irregularities[i]
		ir.LegalGrounds, ir.FactualGrounds = m(ir.LegalGrounds), m(ir.FactualGrounds)
	}
	v.Suspensions = slices.Clone(v.Suspensions)
	for i := range v.Suspensions {
		v.Suspensions[i].Note = m(v.Suspensions[i].Note)
	}
	if v.Closed != nil {
		c := *v.Closed
		c.Note = m(c.Note)
		v.Closed = &c
	}
	for _, docs := range [][]dossier.FiledDocument{v.Official, v.Internal} {
		for i := range docs {
			docs[i].Name = m(docs[i].Name) // built by viewOf: not the dossier's own
		}
	}
	v.Application.Documents = slices.Clone(v.Application.Documents)
	for i := range v.Application.Documents {
		v.Application.Documents[i].Name = m(v.Application.Documents[i].Name)
	}
}

// maskApplication hides the application's personal data: ЕГН and ЛНЧ keep their last four
// digits (internal/mask), names become initials, addresses and contacts are left out, and the
// form's data has its personal numbers masked.
func maskApplication(a *dossier.Application) {
	a.Applicant = maskParty(a.Applicant)
	if a.Representative != nil {
		r := maskParty(*a.Representative)
		a.Representative = &r
	}
	a.Data = mask.Map(a.Data)
	a.Delivery.Address = ""
}

// maskParty is p with its personal data masked; a company's ЕИК and name are not personal.
func maskParty(p dossier.Party) dossier.Party {
	out := dossier.Party{Kind: p.Kind, EGN: mask.PersonalNumbers(p.EGN), LNC: mask.PersonalNumbers(p.LNC), EIK: p.EIK, Name: p.Name}
	if p.Kind != dossier.Company {
		out.Name = initials(p.Name)
	}
	return out
}

// initials reduces a name to its initials: "Мария Петрова" becomes "М. П.".
func initials(name string) string {
	var parts []string
	for _, w := range strings.Fields(name) {
		r, _ := utf8.DecodeRuneInString(w)
		parts = append(parts, string(r)+".")
	}
	return strings.Join(parts, " ")
}

// nonNil is s, or an empty slice for nil, so that JSON shows [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
