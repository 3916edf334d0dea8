package core

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/aiskao/aiskao/dossier"
	"github.com/aiskao/aiskao/dossier/store"
	"github.com/aiskao/aiskao/envelope"
)

// Metadata names of the core's messages, besides the envelope's.
const (
	// MetaSeq is the event's place in its dossier's history.
	MetaSeq = "dossier_seq"
	// MetaTask names the task a system task request is for; its answer carries it back.
	MetaTask = "dossier_task"
	// MetaItem names the checklist item a system task request asks for; its answer carries it
	// back.
	MetaItem = "dossier_item"
	// MetaOperation is the register operation a system task request asks for.
	MetaOperation = "dossier_operation"
	// MetaPersonalData is "true" on a message whose payload holds personal data, which the
	// receiving system needs (such as the ЕГН a register is asked about); routes must not copy
	// it anywhere else.
	MetaPersonalData = "personal_data"
)

// Payload is the JSON body of the message an event becomes.
type Payload struct {
	Dossier string    `json:"dossier"`
	Seq     int       `json:"seq"`
	Type    string    `json:"type"`
	At      time.Time `json:"at"`
	// By is who made the change; left out when it was the applicant.
	By   *dossier.Actor `json:"by,omitempty"`
	Data any            `json:"data"`
}

// message is the outbox message of e: type, subject, causation and correlation in its metadata,
// and a payload without personal data except what the receiving system needs.
func message(e dossier.Event, cause Cause) (store.Message, error) {
	data, personal := publicData(e.Data)
	p := Payload{Dossier: e.Dossier, Seq: e.Seq, Type: e.Type, At: e.At.UTC(), Data: data}
	if e.By.Kind != dossier.Applicant {
		by := e.By
		p.By = &by
	}
	body, err := json.Marshal(p)
	if err != nil {
		return store.Message{}, fmt.Errorf("dossier core: message of %s %d: %w", e.Dossier, e.Seq, err)
	}
	md := map[string]string{
		envelope.Type:        e.Type,
		envelope.Subject:     e.Dossier,
		envelope.ContentType: "application/json",
		MetaSeq:              strconv.Itoa(e.Seq),
	}
	if cause.Inbox != "" {
		md[envelope.CausationID] = cause.Inbox
	}
	if cause.Correlation != "" {
		md[envelope.CorrelationID] = cause.Correlation
	}
	if personal {
		md[MetaPersonalData] = "true"
	}
	if st, ok := e.Data.(*dossier.SystemTaskRequested); ok {
		md[MetaTask], md[MetaItem] = st.Task, st.Item
		if st.Operation != "" {
			md[MetaOperation] = st.Operation
		}
	}
	return store.Message{Type: e.Type, Subject: e.Dossier, Payload: body, Metadata: md}, nil
}

// opened is what is published of an Opened event: the application's channel and reference, not
// its parties or data.
type opened struct {
	Service    string     `json:"service"`
	Version    int        `json:"version"`
	Channel    string     `json:"channel"`
	Reference  string     `json:"reference,omitempty"`
	ReceivedAt time.Time  `json:"received_at"`
	Term       string     `json:"term"`
	Deadline   string     `json:"deadline"`
	DueAt      *time.Time `json:"due_at,omitempty"`
	Documents  int        `json:"documents"`
	Applicant  string     `json:"applicant_kind"`
	Delivery   string     `json:"delivery"`
	Stages     []string   `json:"stages"`
}

// publicData is what an event's message says of it, and whether that holds personal data. Free
// texts that may name people (notes, grounds) are left out; a system task keeps its query, for
// the register it is sent to.
func publicData(p dossier.Payload) (any, bool) {
	switch p := p.(type) {
	case *dossier.Opened:
		o := opened{Service: p.Service, Version: p.Version, Channel: string(p.Application.Channel), Reference: p.Application.Reference,
			ReceivedAt: p.Application.ReceivedAt, Term: string(p.Term.Kind), Deadline: p.Deadline.String(), DueAt: p.DueAt,
			Documents: len(p.Application.Documents), Applicant: string(p.Application.Applicant.Kind), Delivery: string(p.Application.Delivery.Way)}
		for _, s := range p.Plan.Stages {
			o.Stages = append(o.Stages, s.ID)
		}
		return o, false
	case *dossier.SystemTaskRequested:
		return p, len(p.Query) > 0
	case *dossier.DocumentFiled:
		// A file's name may name its people; the rest identifies the document.
		d := *p
		d.Document.Name = ""
		return d, false
	case *dossier.TaskCompleted:
		return dossier.TaskCompleted{Task: p.Task}, false
	case *dossier.IrregularityNotified:
		return dossier.IrregularityNotified{ID: p.ID, LegalGrounds: p.LegalGrounds, Due: p.Due, Notice: p.Notice}, false
	case *dossier.Suspended:
		return dossier.Suspended{Reason: p.Reason, Irregularity: p.Irregularity, Authority: p.Authority}, false
	case *dossier.Closed:
		return dossier.Closed{Reason: p.Reason}, false
	}
	return p, false
}
