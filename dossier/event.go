package dossier

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/aiskao/aiskao/dossier/calendar"
	"github.com/aiskao/aiskao/dossier/service"
)

// Event is one change of a dossier. A dossier's events, in order, are the
// source of its state (Replay) and of the journal the regulation asks for
// (Describe). Events are JSON with a stable type name; the connector
// publishes them with Dossier as the CloudEvents subject and Type as the
// CloudEvents type. A store appending events keeps (Dossier, Seq) unique, so
// that of two commands run on the same state only the first is stored.
//
// Events hold personal data (the application in Opened, the query of a
// system task): they are for the store and for systems entitled to it, not
// for logs.
type Event struct {
	Dossier string    `json:"dossier"` // the registration number
	Seq     int       `json:"seq"`     // 1 for the first event of a dossier, then one more for each
	Type    string    `json:"type"`    // Data's EventType, such as "dossier.opened"
	At      time.Time `json:"at"`
	By      Actor     `json:"by"`
	Data    Payload   `json:"data"`
}

// Payload is what an event says happened; each kind has its own type.
type Payload interface {
	// EventType is the stable name of the event, such as "dossier.opened".
	EventType() string
}

// payloads maps each event type to a new value of its payload, for decoding.
var payloads = map[string]func() Payload{}

func register(fs ...func() Payload) {
	for _, f := range fs {
		payloads[f().EventType()] = f
	}
}

func init() {
	register(
		func() Payload { return &Opened{} },
		func() Payload { return &DocumentFiled{} },
		func() Payload { return &StageStarted{} },
		func() Payload { return &TaskCreated{} },
		func() Payload { return &SystemTaskRequested{} },
		func() Payload { return &TaskAssigned{} },
		func() Payload { return &TaskCompleted{} },
		func() Payload { return &StageCompleted{} },
		func() Payload { return &ItemCompleted{} },
		func() Payload { return &IrregularityNotified{} },
		func() Payload { return &IrregularityAnswered{} },
		func() Payload { return &Suspended{} },
		func() Payload { return &Resumed{} },
		func() Payload { return &FeePaid{} },
		func() Payload { return &ResultIssued{} },
		func() Payload { return &ResultDelivered{} },
		func() Payload { return &Closed{} },
		func() Payload { return &DeadlineNear{} },
		func() Payload { return &DeadlineMissed{} },
	)
}

// EventTypes lists the names of every kind of event, for documentation and
// for subscribers.
func EventTypes() []string {
	out := make([]string, 0, len(payloads))
	for t := range payloads {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// UnmarshalJSON decodes an event, its data by its type.
func (e *Event) UnmarshalJSON(b []byte) error {
	type plain Event
	var raw struct {
		plain
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("dossier: event: %w", err)
	}
	mk, ok := payloads[raw.Type]
	if !ok {
		return fmt.Errorf("dossier: event %d of %s: unknown type %q", raw.Seq, raw.Dossier, raw.Type)
	}
	p := mk()
	if err := json.Unmarshal(raw.Data, p); err != nil {
		return fmt.Errorf("dossier: event %d of %s (%s): %w", raw.Seq, raw.Dossier, raw.Type, err)
	}
	*e = Event(raw.plain)
	e.Data = p
	return nil
}

// Section is the section of the dossier a document is filed in.
type Section string

const (
	// Official is the official section: documents the applicant sees online.
	Official Section = "official"
	// Internal is the internal section: working documents of the administration.
	Internal Section = "internal"
)

// Plan is what a dossier keeps of the service version it was opened under,
// so that its process does not change when the service does.
type Plan struct {
	RegisterIndex string             `json:"register_index"`
	Checklist     []service.Item     `json:"checklist"`
	Deliver       []service.Delivery `json:"deliver"`
	// Stages in order, each with After filled in with its predecessors.
	Stages []service.Stage `json:"stages"`
}

// Opened: a dossier was opened for an application; the first event of every dossier.
type Opened struct {
	Service     string           `json:"service"`
	Version     int              `json:"version"` // of the service
	Application Application      `json:"application"`
	Plan        Plan             `json:"plan"`
	Term        service.TermType `json:"term"`
	// Deadline is the last day of the overall term; DueAt the moment, for
	// terms in hours.
	Deadline       calendar.Date `json:"deadline"`
	DueAt          *time.Time    `json:"due_at,omitempty"`
	AccessCodeHash string        `json:"access_code_sha256"`
}

// DocumentFiled: a document was filed in a section of the dossier.
type DocumentFiled struct {
	Document Document `json:"document"`
	Section  Section  `json:"section"`
}

// StageStarted: a stage of the process started.
type StageStarted struct {
	Stage string         `json:"stage"`
	Due   *calendar.Date `json:"due,omitempty"` // the stage's own deadline, when it has one
}

// TaskCreated: a task for people was created in a stage.
type TaskCreated struct {
	Task     string           `json:"task"`
	Stage    string           `json:"stage"`
	Assignee service.Assignee `json:"assignee"`
}

// SystemTaskRequested: the system is to act, such as to ask a register for
// an ex officio checklist item; the connector carries it out and answers with
// CompleteItem.
type SystemTaskRequested struct {
	Task      string         `json:"task"`
	Stage     string         `json:"stage,omitempty"` // empty when a clerk asked outside an automatic stage
	Action    service.Action `json:"action"`
	Item      string         `json:"item"`
	Source    service.Source `json:"source"`
	Operation string         `json:"operation,omitempty"` // the register operation, for source register
	EIK       string         `json:"eik,omitempty"`       // the administration asked, for source administration
	// Query holds the request's parameters, taken from the application as the
	// item's Query says, such as {"EGN": "..."}.
	Query map[string]string `json:"query,omitempty"`
}

// TaskAssigned: a task was given to a user or a position.
type TaskAssigned struct {
	Task     string           `json:"task"`
	Assignee service.Assignee `json:"assignee"`
}

// TaskCompleted: a task was done.
type TaskCompleted struct {
	Task string `json:"task"`
	Note string `json:"note,omitempty"`
}

// StageCompleted: every task of a stage was done.
type StageCompleted struct {
	Stage string `json:"stage"`
}

// ItemOutcome is what came of asking for an ex officio item.
type ItemOutcome string

const (
	Received    ItemOutcome = "received"    // the data or document came
	Unavailable ItemOutcome = "unavailable" // the register or administration has none
)

// ItemCompleted: the answer for an ex officio checklist item came.
type ItemCompleted struct {
	Item     string      `json:"item"`
	Outcome  ItemOutcome `json:"outcome"`
	Document string      `json:"document,omitempty"` // the answer, filed in the internal section
}

// IrregularityNotified: the applicant was told of an irregularity
// (нередовност) and given a deadline to remove it; the dossier is suspended.
type IrregularityNotified struct {
	ID             string        `json:"id"`
	LegalGrounds   string        `json:"legal_grounds"`
	FactualGrounds string        `json:"factual_grounds"`
	Due            calendar.Date `json:"due"`
	Notice         string        `json:"notice,omitempty"` // the notice, filed in the official section
}

// IrregularityAnswered: the applicant removed an irregularity.
type IrregularityAnswered struct {
	ID        string   `json:"id"`
	Documents []string `json:"documents,omitempty"`
}

// SuspendReason says why a dossier is suspended.
type SuspendReason string

const (
	ForIrregularity SuspendReason = "irregularity" // waiting for the applicant
	ForAuthority    SuspendReason = "authority"    // waiting for another authority
)

// Suspended: the dossier's deadlines stopped running.
type Suspended struct {
	Reason       SuspendReason `json:"reason"`
	Irregularity string        `json:"irregularity,omitempty"`
	Authority    string        `json:"authority,omitempty"` // ЕИК of the authority waited for
	Note         string        `json:"note,omitempty"`
}

// Resumed: the dossier's deadlines run again, moved by the days of the suspension.
type Resumed struct {
	Deadline calendar.Date            `json:"deadline"`
	DueAt    *time.Time               `json:"due_at,omitempty"`
	Stages   map[string]calendar.Date `json:"stages,omitempty"` // new deadlines of running stages
}

// FeePaid: the fee was paid.
type FeePaid struct {
	Amount    service.Money `json:"amount_cents"`
	Reference string        `json:"reference"` // the payment provider's or the cash register's
}

// Outcome is what the result grants.
type Outcome string

const (
	Granted Outcome = "granted" // the service was provided
	Refused Outcome = "refused" // a reasoned refusal
)

// ResultIssued: the result (or a refusal) was issued.
type ResultIssued struct {
	Outcome  Outcome `json:"outcome"`
	Document string  `json:"document"` // filed in the official section
}

// ResultDelivered: the result reached the applicant.
type ResultDelivered struct {
	Way       service.Delivery `json:"way"`
	Reference string           `json:"reference,omitempty"` // a postal item's number, a message id
}

// CloseReason says why a dossier was closed.
type CloseReason string

const (
	Completed  CloseReason = "completed"  // the result was delivered
	Withdrawn  CloseReason = "withdrawn"  // the applicant withdrew the application
	Terminated CloseReason = "terminated" // an irregularity was not removed in time
)

// Closed: the dossier was closed; no command changes it afterwards.
type Closed struct {
	Reason CloseReason `json:"reason"`
	Note   string      `json:"note,omitempty"`
}

// Alert names a deadline that came near or was missed.
type Alert struct {
	Kind DeadlineKind  `json:"kind"`
	Ref  string        `json:"ref,omitempty"` // the stage or the irregularity
	Due  calendar.Date `json:"due"`
}

// DeadlineNear: a deadline comes near; raised once per deadline (RaiseDeadlines).
type DeadlineNear struct{ Alert }

// DeadlineMissed: a deadline passed; raised once per deadline (RaiseDeadlines).
type DeadlineMissed struct{ Alert }

// EventType is "dossier.deadline_near".
func (*DeadlineNear) EventType() string { return "dossier.deadline_near" }

// EventType is "dossier.deadline_missed".
func (*DeadlineMissed) EventType() string { return "dossier.deadline_missed" }

// EventType is "dossier.opened".
func (*Opened) EventType() string { return "dossier.opened" }

// EventType is "dossier.document_filed".
func (*DocumentFiled) EventType() string { return "dossier.document_filed" }

// EventType is "dossier.stage_started".
func (*StageStarted) EventType() string { return "dossier.stage_started" }

// EventType is "dossier.task_created".
func (*TaskCreated) EventType() string { return "dossier.task_created" }

// EventType is "dossier.system_task_requested".
func (*SystemTaskRequested) EventType() string { return "dossier.system_task_requested" }

// EventType is "dossier.task_assigned".
func (*TaskAssigned) EventType() string { return "dossier.task_assigned" }

// EventType is "dossier.task_completed".
func (*TaskCompleted) EventType() string { return "dossier.task_completed" }

// EventType is "dossier.stage_completed".
func (*StageCompleted) EventType() string { return "dossier.stage_completed" }

// EventType is "dossier.item_completed".
func (*ItemCompleted) EventType() string { return "dossier.item_completed" }

// EventType is "dossier.irregularity_notified".
func (*IrregularityNotified) EventType() string { return "dossier.irregularity_notified" }

// EventType is "dossier.irregularity_answered".
func (*IrregularityAnswered) EventType() string { return "dossier.irregularity_answered" }

// EventType is "dossier.suspended".
func (*Suspended) EventType() string { return "dossier.suspended" }

// EventType is "dossier.resumed".
func (*Resumed) EventType() string { return "dossier.resumed" }

// EventType is "dossier.fee_paid".
func (*FeePaid) EventType() string { return "dossier.fee_paid" }

// EventType is "dossier.result_issued".
func (*ResultIssued) EventType() string { return "dossier.result_issued" }

// EventType is "dossier.result_delivered".
func (*ResultDelivered) EventType() string { return "dossier.result_delivered" }

// EventType is "dossier.closed".
func (*Closed) EventType() string { return "dossier.closed" }
