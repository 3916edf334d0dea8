package dossier

import (
	"time"

	"github.com/aiskao/aiskao/dossier/calendar"
	"github.com/aiskao/aiskao/dossier/service"
)

// PublicView is what the applicant sees of a dossier online, with its number
// and access code: its progress and its official section, never the
// internal one, the assignees or the notes of the staff.
type PublicView struct {
	Number         string          `json:"number"`
	Service        string          `json:"service"`
	Status         Status          `json:"status"`
	RegisteredAt   time.Time       `json:"registered_at"`
	Deadline       calendar.Date   `json:"deadline"`
	DueAt          *time.Time      `json:"due_at,omitempty"`
	Fee            service.Money   `json:"fee_cents"`
	FeePaid        bool            `json:"fee_paid"`
	Stages         []PublicStage   `json:"stages"`
	Documents      []FiledDocument `json:"documents"` // the official section
	Irregularities []Irregularity  `json:"irregularities,omitempty"`
	Result         *Result         `json:"result,omitempty"`
	Delivery       *Delivered      `json:"delivery,omitempty"`
	Closed         *Closed         `json:"closed,omitempty"`
}

// PublicStage is a stage as the applicant sees it.
type PublicStage struct {
	Name   service.Text `json:"name"`
	Status StageStatus  `json:"status"`
	DoneAt *time.Time   `json:"done_at,omitempty"`
}

// Public is the dossier as its applicant sees it.
func (d *Dossier) Public() PublicView {
	v := PublicView{
		Number: d.Number, Service: d.Service, Status: d.Status, RegisteredAt: d.RegisteredAt,
		Deadline: d.Deadline, DueAt: d.DueAt, Fee: d.Term.Fee, FeePaid: d.FeePaid != nil,
		Documents: d.OfficialSection(), Irregularities: d.Irregularities,
		Result: d.Result, Delivery: d.Delivery, Closed: d.Closed,
	}
	if v.Documents == nil {
		v.Documents = []FiledDocument{}
	}
	for i, st := range d.Stages {
		v.Stages = append(v.Stages, PublicStage{Name: d.Plan.Stages[i].Name, Status: st.Status, DoneAt: st.DoneAt})
	}
	return v
}
