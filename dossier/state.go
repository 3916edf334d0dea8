package dossier

import (
	"fmt"
	"time"

	"github.com/aiskao/aiskao/dossier/calendar"
	"github.com/aiskao/aiskao/dossier/service"
)

// Status is where a dossier stands.
type Status string

const (
	StatusOpen      Status = "open"          // being worked on
	StatusSuspended Status = "suspended"     // waiting for the applicant or another authority
	StatusIssued    Status = "result_issued" // the result was issued, not yet delivered
	StatusDelivered Status = "delivered"     // the result reached the applicant
	StatusClosed    Status = "closed"        // no command changes it any more
)

// StageStatus is where a stage stands.
type StageStatus string

const (
	StagePending StageStatus = "pending" // its predecessors have not all finished, or it waits to be started
	StageActive  StageStatus = "active"  // started, its task not yet done
	StageDone    StageStatus = "done"    // every task done
)

// TaskStatus is where a task stands.
type TaskStatus string

const (
	TaskOpen TaskStatus = "open" // to do
	TaskDone TaskStatus = "done" // done
)

// ItemStatus is where an ex officio checklist item stands.
type ItemStatus string

const (
	ItemExpected    ItemStatus = "expected"    // brought by the applicant, not yet filed
	ItemPending     ItemStatus = "pending"     // ex officio, not asked for yet
	ItemRequested   ItemStatus = "requested"   // asked for, no answer yet
	ItemReceived    ItemStatus = "received"    // the answer came
	ItemUnavailable ItemStatus = "unavailable" // the register or administration has none
	ItemProvided    ItemStatus = "provided"    // brought by the applicant
)

// Dossier is the state of a dossier, as its events made it. Build it with
// Open or Replay; change it only with its commands.
// A Dossier is not safe for concurrent use: load one per command.
type Dossier struct {
	Number         string           `json:"number"`
	Service        string           `json:"service"`
	ServiceVersion int              `json:"service_version"`
	Plan           Plan             `json:"plan"`
	Application    Application      `json:"application"`
	Status         Status           `json:"status"`
	RegisteredAt   time.Time        `json:"registered_at"`
	Term           service.TermType `json:"term"`
	// Deadline is the last day of the overall term, moved by suspensions;
	// DueAt the moment, for terms in hours.
	Deadline       calendar.Date   `json:"deadline"`
	DueAt          *time.Time      `json:"due_at,omitempty"`
	FeePaid        *FeePaid        `json:"fee_paid,omitempty"`
	Documents      []FiledDocument `json:"documents"`
	Stages         []Stage         `json:"stages"`
	Tasks          []Task          `json:"tasks"`
	Items          []Item          `json:"items"`
	Irregularities []Irregularity  `json:"irregularities,omitempty"`
	Suspensions    []Suspension    `json:"suspensions,omitempty"`
	Result         *Result         `json:"result,omitempty"`
	Delivery       *Delivered      `json:"delivery,omitempty"`
	Closed         *Closed         `json:"closed,omitempty"`
	AccessCodeHash string          `json:"access_code_sha256"`
	// Raised lists the deadline alerts raised, so that each is raised once.
	Raised []Raised `json:"raised,omitempty"`
	// Seq is the number of events applied: the Seq of the last one.
	Seq int `json:"seq"`
}

// FiledDocument is a document in a section of the dossier.
type FiledDocument struct {
	Document
	Section Section   `json:"section"`
	FiledAt time.Time `json:"filed_at"`
	FiledBy Actor     `json:"filed_by"`
}

// Stage is the state of one stage of the process.
type Stage struct {
	ID        string         `json:"id"`
	Status    StageStatus    `json:"status"`
	StartedAt *time.Time     `json:"started_at,omitempty"`
	DoneAt    *time.Time     `json:"done_at,omitempty"`
	Due       *calendar.Date `json:"due,omitempty"`
}

// Task is a piece of work in a stage: for people, or for the system.
type Task struct {
	ID        string           `json:"id"`
	Stage     string           `json:"stage,omitempty"`
	System    bool             `json:"system,omitempty"`
	Item      string           `json:"item,omitempty"` // for a system task: the item it asks for
	Assignee  service.Assignee `json:"assignee"`
	Status    TaskStatus       `json:"status"`
	CreatedAt time.Time        `json:"created_at"`
	DoneAt    *time.Time       `json:"done_at,omitempty"`
	DoneBy    *Actor           `json:"done_by,omitempty"`
	Note      string           `json:"note,omitempty"`
}

// Item is the state of one checklist item.
type Item struct {
	ID       string     `json:"id"`
	Status   ItemStatus `json:"status"`
	Document string     `json:"document,omitempty"`
}

// Irregularity is a notice of an irregularity and its answer.
type Irregularity struct {
	IrregularityNotified
	NotifiedAt time.Time  `json:"notified_at"`
	AnsweredAt *time.Time `json:"answered_at,omitempty"`
}

// Suspension is a time the dossier's deadlines did not run.
type Suspension struct {
	Suspended
	From time.Time  `json:"from"`
	To   *time.Time `json:"to,omitempty"` // nil while it lasts
}

// Raised is an alert raised about a deadline.
type Raised struct {
	Alert
	State DeadlineState `json:"state"` // Near or Missed
	At    time.Time     `json:"at"`
}

// Result is the issued result.
type Result struct {
	ResultIssued
	IssuedAt time.Time `json:"issued_at"`
}

// Delivered is the delivery of the result.
type Delivered struct {
	ResultDelivered
	At time.Time `json:"at"`
}

// Replay rebuilds a dossier from its events, which must begin with Opened
// and follow each other without gaps.
func Replay(events []Event) (*Dossier, error) {
	if len(events) == 0 {
		return nil, fmt.Errorf("dossier: replay: no events")
	}
	d := &Dossier{}
	if err := d.Apply(events...); err != nil {
		return nil, err
	}
	return d, nil
}

// Apply applies events, which must follow the dossier's last one, to its state.
func (d *Dossier) Apply(events ...Event) error {
	for _, e := range events {
		if e.Seq != d.Seq+1 {
			return fmt.Errorf("dossier: apply event %s of %s: seq %d after %d", e.Type, e.Dossier, e.Seq, d.Seq)
		}
		if d.Seq > 0 && e.Dossier != d.Number {
			return fmt.Errorf("dossier: apply event %d: it is of %s, not %s", e.Seq, e.Dossier, d.Number)
		}
		if e.Data == nil || e.Type != e.Data.EventType() {
			return fmt.Errorf("dossier: apply event %d of %s: type %q does not match its data", e.Seq, e.Dossier, e.Type)
		}
		if err := d.apply(e); err != nil {
			return fmt.Errorf("dossier: apply event %d (%s) of %s: %w", e.Seq, e.Type, e.Dossier, err)
		}
		d.Seq = e.Seq
	}
	return nil
}

// apply changes the state by one event. It checks only what it needs to
// find its way; commands have checked the rest.
func (d *Dossier) apply(e Event) error {
	at := e.At
	if _, opened := e.Data.(*Opened); opened != (d.Seq == 0) {
		return fmt.Errorf("only the first event opens a dossier")
	}
	switch p := e.Data.(type) {
	case *Opened:
		d.Number = e.Dossier
		d.Service, d.ServiceVersion = p.Service, p.Version
		d.Plan, d.Application, d.Term = p.Plan, p.Application, p.Term
		d.Status, d.RegisteredAt = StatusOpen, at
		d.Deadline, d.DueAt = p.Deadline, p.DueAt
		d.AccessCodeHash = p.AccessCodeHash
		d.Documents, d.Tasks = []FiledDocument{}, []Task{}
		d.Stages = make([]Stage, len(p.Plan.Stages))
		for i, s := range p.Plan.Stages {
			d.Stages[i] = Stage{ID: s.ID, Status: StagePending}
		}
		d.Items = make([]Item, len(p.Plan.Checklist))
		for i, it := range p.Plan.Checklist {
			d.Items[i] = Item{ID: it.ID, Status: ItemPending}
			if !it.Source.ExOfficio() {
				d.Items[i].Status = ItemExpected
			}
		}
	case *DocumentFiled:
		d.Documents = append(d.Documents, FiledDocument{Document: p.Document, Section: p.Section, FiledAt: at, FiledBy: e.By})
		if it := d.item(p.Document.Kind); it != nil && it.Status == ItemExpected {
			it.Status, it.Document = ItemProvided, p.Document.ID
		}
	case *StageStarted:
		s := d.stage(p.Stage)
		if s == nil {
			return fmt.Errorf("no stage %q", p.Stage)
		}
		s.Status, s.StartedAt, s.Due = StageActive, &at, p.Due
	case *TaskCreated:
		d.Tasks = append(d.Tasks, Task{ID: p.Task, Stage: p.Stage, Assignee: p.Assignee, Status: TaskOpen, CreatedAt: at})
	case *SystemTaskRequested:
		d.Tasks = append(d.Tasks, Task{ID: p.Task, Stage: p.Stage, System: true, Item: p.Item, Status: TaskOpen, CreatedAt: at})
		if it := d.item(p.Item); it != nil {
			it.Status = ItemRequested
		}
	case *TaskAssigned:
		t := d.task(p.Task)
		if t == nil {
			return fmt.Errorf("no task %q", p.Task)
		}
		t.Assignee = p.Assignee
	case *TaskCompleted:
		t := d.task(p.Task)
		if t == nil {
			return fmt.Errorf("no task %q", p.Task)
		}
		by := e.By
		t.Status, t.DoneAt, t.DoneBy, t.Note = TaskDone, &at, &by, p.Note
	case *StageCompleted:
		s := d.stage(p.Stage)
		if s == nil {
			return fmt.Errorf("no stage %q", p.Stage)
		}
		s.Status, s.DoneAt = StageDone, &at
	case *ItemCompleted:
		it := d.item(p.Item)
		if it == nil {
			return fmt.Errorf("no item %q", p.Item)
		}
		it.Status, it.Document = ItemReceived, p.Document
		if p.Outcome == Unavailable {
			it.Status = ItemUnavailable
		}
	case *IrregularityNotified:
		d.Irregularities = append(d.Irregularities, Irregularity{IrregularityNotified: *p, NotifiedAt: at})
	case *IrregularityAnswered:
		ir := d.irregularity(p.ID)
		if ir == nil {
			return fmt.Errorf("no irregularity %q", p.ID)
		}
		ir.AnsweredAt = &at
	case *Suspended:
		d.Suspensions = append(d.Suspensions, Suspension{Suspended: *p, From: at})
		d.Status = StatusSuspended
	case *Resumed:
		s := d.suspension()
		if s == nil {
			return fmt.Errorf("the dossier is not suspended")
		}
		s.To = &at
		d.Status = StatusOpen
		d.Deadline, d.DueAt = p.Deadline, p.DueAt
		for id, due := range p.Stages {
			if st := d.stage(id); st != nil {
				due := due
				st.Due = &due
			}
		}
	case *FeePaid:
		fp := *p
		d.FeePaid = &fp
	case *ResultIssued:
		d.Result = &Result{ResultIssued: *p, IssuedAt: at}
		d.Status = StatusIssued
	case *ResultDelivered:
		d.Delivery = &Delivered{ResultDelivered: *p, At: at}
		d.Status = StatusDelivered
	case *DeadlineNear:
		d.Raised = append(d.Raised, Raised{Alert: p.Alert, State: Near, At: at})
	case *DeadlineMissed:
		d.Raised = append(d.Raised, Raised{Alert: p.Alert, State: Missed, At: at})
	case *Closed:
		c := *p
		d.Closed = &c
		d.Status = StatusClosed
	default:
		return fmt.Errorf("unknown event %T", e.Data)
	}
	return nil
}

func (d *Dossier) stage(id string) *Stage {
	for i := range d.Stages {
		if d.Stages[i].ID == id {
			return &d.Stages[i]
		}
	}
	return nil
}

func (d *Dossier) task(id string) *Task {
	for i := range d.Tasks {
		if d.Tasks[i].ID == id {
			return &d.Tasks[i]
		}
	}
	return nil
}

func (d *Dossier) item(id string) *Item {
	for i := range d.Items {
		if d.Items[i].ID == id {
			return &d.Items[i]
		}
	}
	return nil
}

func (d *Dossier) irregularity(id string) *Irregularity {
	for i := range d.Irregularities {
		if d.Irregularities[i].ID == id {
			return &d.Irregularities[i]
		}
	}
	return nil
}

// suspension returns the suspension that lasts, or nil.
func (d *Dossier) suspension() *Suspension {
	if n := len(d.Suspensions); n > 0 && d.Suspensions[n-1].To == nil {
		return &d.Suspensions[n-1]
	}
	return nil
}

// planStage returns the plan of stage id.
func (d *Dossier) planStage(id string) (service.Stage, bool) {
	for _, s := range d.Plan.Stages {
		if s.ID == id {
			return s, true
		}
	}
	return service.Stage{}, false
}

// planItem returns the checklist item id of the plan.
func (d *Dossier) planItem(id string) (service.Item, bool) {
	for _, it := range d.Plan.Checklist {
		if it.ID == id {
			return it, true
		}
	}
	return service.Item{}, false
}

// Document returns the filed document id.
func (d *Dossier) Document(id string) (FiledDocument, bool) {
	for _, doc := range d.Documents {
		if doc.ID == id {
			return doc, true
		}
	}
	return FiledDocument{}, false
}

// OfficialSection lists the documents the applicant sees, in the order filed.
func (d *Dossier) OfficialSection() []FiledDocument {
	var out []FiledDocument
	for _, doc := range d.Documents {
		if doc.Section == Official {
			out = append(out, doc)
		}
	}
	return out
}

// OpenTasks lists the tasks not yet done, people's and the system's.
func (d *Dossier) OpenTasks() []Task {
	var out []Task
	for _, t := range d.Tasks {
		if t.Status == TaskOpen {
			out = append(out, t)
		}
	}
	return out
}
