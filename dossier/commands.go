package dossier

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aiskao/aiskao/dossier/calendar"
	"github.com/aiskao/aiskao/dossier/ident"
	"github.com/aiskao/aiskao/dossier/service"
)

// Commands check their arguments and the dossier's state first and return an
// *Error without changing anything when they refuse. When they accept, they
// apply their events to the dossier and return them, for the store to append
// after the dossier's earlier events (an append that fails leaves the dossier
// ahead of the store: reload it).

// batch collects the events of one command, applying each as it is made so
// that later steps see the state the earlier ones left.
type batch struct {
	d   *Dossier
	m   Meta
	out []Event
	err error
}

func (b *batch) add(p Payload) {
	if b.err != nil {
		return
	}
	e := Event{Dossier: b.d.Number, Seq: b.d.Seq + 1, Type: p.EventType(), At: b.m.At, By: b.m.By, Data: p}
	if err := b.d.Apply(e); err != nil {
		b.err = err
		return
	}
	b.out = append(b.out, e)
}

func (b *batch) done() ([]Event, error) {
	if b.err != nil {
		return nil, b.err
	}
	return b.out, nil
}

func checkMeta(m Meta) error {
	if m.At.IsZero() || m.By.Kind == "" || m.By.ID == "" {
		return refuse(Invalid, CodeInvalidInput, "Липсва кой и кога действа.", "Who acts and when is missing.")
	}
	return nil
}

// OpenRequest is what opening a dossier needs.
type OpenRequest struct {
	// Service is the service version the dossier is opened under (usually the latest).
	Service     *service.Service
	Application Application
	// Numbering formats the registration number; the zero Numbering means DefaultNumbering.
	Numbering Numbering
	// Seq is the dossier's sequence number in the service's register, allocated by the store.
	Seq int64
	// AccessCode is the code the applicant follows the dossier with, from
	// NewAccessCode; the dossier keeps only its hash.
	AccessCode string
}

// Open opens a dossier for an application: it checks the application against
// the service (refusing it whole, with every wrong field, when it is not
// valid), gives the dossier its registration number and deadline, files the
// application's documents in the official section and starts the first stages.
func Open(m Meta, req OpenRequest) (*Dossier, []Event, error) {
	if err := checkMeta(m); err != nil {
		return nil, nil, err
	}
	svc := req.Service
	if err := req.Application.Validate(svc); err != nil {
		return nil, nil, err
	}
	var f fields
	if req.Seq < 1 {
		f.add("/seq", "invalid_value", "Поредният номер трябва да е положителен.", "The sequence number must be positive.")
	}
	code := normalizeAccessCode(req.AccessCode)
	if len(code) != AccessCodeLength || strings.Trim(code, accessAlphabet) != "" {
		f.add("/access_code", "invalid_value", "Кодът за достъп не е от NewAccessCode.", "The access code was not made by NewAccessCode.")
	}
	if err := f.err(CodeInvalidInput, "Преписката не може да бъде открита.", "The dossier cannot be opened."); err != nil {
		return nil, nil, err
	}
	numbering := req.Numbering
	if numbering.parts == nil {
		numbering, _ = ParseNumbering(DefaultNumbering)
	}
	term, _ := svc.Term(req.Application.Term)
	// The plan is a copy: the dossier keeps its version whatever becomes of the catalogue's.
	plan := Plan{RegisterIndex: svc.RegisterIndex, Checklist: slices.Clone(svc.Checklist), Deliver: slices.Clone(svc.Deliver), Stages: make([]service.Stage, len(svc.Stages))}
	for i, s := range svc.Stages {
		s.After = slices.Clone(svc.Predecessors(i))
		plan.Stages[i] = s
	}
	opened := &Opened{
		Service: svc.ID, Version: svc.Version, Application: req.Application, Plan: plan, Term: term,
		AccessCodeHash: HashAccessCode(code),
	}
	opened.Deadline, opened.DueAt = overallDeadline(m.cal(), term, m.At, nil)
	d := &Dossier{Number: numbering.Format(svc.RegisterIndex, req.Seq, m.today())}
	b := &batch{d: d, m: m}
	b.add(opened)
	for _, doc := range req.Application.Documents {
		b.add(&DocumentFiled{Document: doc, Section: Official})
	}
	d.advance(b)
	evs, err := b.done()
	if err != nil {
		return nil, nil, err
	}
	return d, evs, nil
}

// overallDeadline is the deadline of term for a dossier registered at reg,
// with the suspended periods left out: the last day, and for terms in hours
// the moment too (moved by the whole days suspended).
func overallDeadline(cal *calendar.Calendar, term service.TermType, reg time.Time, suspended []calendar.Period) (calendar.Date, *time.Time) {
	if term.Hours > 0 {
		days := 0
		for _, p := range suspended {
			days += int(p.To.Time(time.UTC).Sub(p.From.Time(time.UTC)).Hours()/24) + 1
		}
		due := reg.Add(time.Duration(term.Hours)*time.Hour).AddDate(0, 0, days)
		return cal.Deadline(Today(due), 0, calendar.CalendarDays, nil), &due
	}
	return cal.Deadline(Today(reg), term.Days, term.Unit, suspended), nil
}

// periods are the days the dossier was suspended, as the calendar leaves
// them out: from the day after the suspension to the day it ended, both
// included; a suspension that lasts is taken to end on until.
func (d *Dossier) periods(until calendar.Date) []calendar.Period {
	var out []calendar.Period
	for _, s := range d.Suspensions {
		to := until
		if s.To != nil {
			to = Today(*s.To)
		}
		from := Today(s.From).AddDays(1)
		if !to.Before(from) {
			out = append(out, calendar.Period{From: from, To: to})
		}
	}
	return out
}

// advance starts every stage that is ready: pending, started by itself, and
// with all its predecessors done. Nothing starts while the dossier is not open.
func (d *Dossier) advance(b *batch) {
	if d.Status != StatusOpen {
		return
	}
	for _, ps := range d.Plan.Stages {
		if st := d.stage(ps.ID); st.Status == StagePending && !ps.Manual && d.ready(ps) {
			d.start(b, ps)
		}
	}
}

// ready reports whether every predecessor of ps is done.
func (d *Dossier) ready(ps service.Stage) bool {
	for _, a := range ps.After {
		if st := d.stage(a); st == nil || st.Status != StageDone {
			return false
		}
	}
	return true
}

// start starts a stage and makes its task: the system's for an automatic
// stage, else one for its assignee.
func (d *Dossier) start(b *batch, ps service.Stage) {
	started := &StageStarted{Stage: ps.ID}
	if ps.Days > 0 {
		today := b.m.today()
		due := b.m.cal().Deadline(today, ps.Days, ps.Unit, d.periods(today))
		started.Due = &due
	}
	b.add(started)
	if ps.Automatic != nil {
		it, _ := d.planItem(ps.Automatic.Item)
		b.add(d.systemTask(ps.ID, ps.Automatic.Action, it))
		return
	}
	b.add(&TaskCreated{Task: d.nextTask(), Stage: ps.ID, Assignee: ps.Assignee})
}

func (d *Dossier) systemTask(stage string, action service.Action, it service.Item) *SystemTaskRequested {
	return &SystemTaskRequested{Task: d.nextTask(), Stage: stage, Action: action, Item: it.ID, Source: it.Source,
		Operation: it.Operation, EIK: it.EIK, Query: d.Application.query(it)}
}

func (d *Dossier) nextTask() string { return fmt.Sprintf("T%d", len(d.Tasks)+1) }

// finishStage completes stage id when all its tasks are done, and starts
// what follows it.
func (d *Dossier) finishStage(b *batch, id string) {
	st := d.stage(id)
	if st == nil || st.Status != StageActive {
		return
	}
	for _, t := range d.Tasks {
		if t.Stage == id && t.Status != TaskDone {
			return
		}
	}
	b.add(&StageCompleted{Stage: id})
	d.advance(b)
}

// notClosed refuses commands on a closed dossier.
func (d *Dossier) notClosed() error {
	if d.Status == StatusClosed {
		return conflict("Преписката е приключена.", "The dossier is closed.")
	}
	return nil
}

// mustBeOpen refuses commands that need the dossier worked on: not
// suspended, without a result, not closed.
func (d *Dossier) mustBeOpen() error {
	switch d.Status {
	case StatusOpen:
		return nil
	case StatusSuspended:
		return conflict("Преписката е спряна.", "The dossier is suspended.")
	case StatusClosed:
		return d.notClosed()
	}
	return conflict("Резултатът вече е издаден.", "The result has already been issued.")
}

// checkDocument refuses a malformed document or one whose id the dossier has.
func (d *Dossier) checkDocument(f *fields, p string, doc Document) {
	doc.check(f, p)
	if _, dup := d.Document(doc.ID); dup && doc.ID != "" {
		f.add(p+"/id", "duplicate", "Преписката вече има документ %q.", "The dossier already has a document %q.", doc.ID)
	}
}

// FileDocument files a document in a section of the dossier.
func (d *Dossier) FileDocument(m Meta, doc Document, section Section) ([]Event, error) {
	if err := checkMeta(m); err != nil {
		return nil, err
	}
	if err := d.notClosed(); err != nil {
		return nil, err
	}
	var f fields
	d.checkDocument(&f, "/document", doc)
	if section != Official && section != Internal {
		f.add("/section", "invalid_value", "Разделът трябва да е official или internal.", "The section must be official or internal.")
	}
	if err := f.err(CodeInvalidInput, "Документът не може да бъде заведен.", "The document cannot be filed."); err != nil {
		return nil, err
	}
	b := &batch{d: d, m: m}
	b.add(&DocumentFiled{Document: doc, Section: section})
	return b.done()
}

// StartStage starts a stage that waits to be started by hand (Manual in the
// service) once its predecessors are done; other stages start by themselves.
func (d *Dossier) StartStage(m Meta, stage string) ([]Event, error) {
	if err := checkMeta(m); err != nil {
		return nil, err
	}
	ps, ok := d.planStage(stage)
	if !ok {
		return nil, notFound("Няма етап %q.", "There is no stage %q.", stage)
	}
	if err := d.mustBeOpen(); err != nil {
		return nil, err
	}
	switch st := d.stage(stage); {
	case st.Status != StagePending:
		return nil, conflict("Етап %q вече е започнат.", "Stage %q has already started.", stage)
	case !ps.Manual:
		return nil, conflict("Етап %q започва сам, когато предходните приключат.", "Stage %q starts by itself when those before it finish.", stage)
	case !d.ready(ps):
		return nil, conflict("Етап %q чака %s.", "Stage %q waits for %s.", stage, strings.Join(ps.After, ", "))
	}
	b := &batch{d: d, m: m}
	d.start(b, ps)
	return b.done()
}

// openTask returns the open task id for people, or refuses.
func (d *Dossier) openTask(id string) (*Task, error) {
	t := d.task(id)
	switch {
	case t == nil:
		return nil, notFound("Няма задача %q.", "There is no task %q.", id)
	case t.Status == TaskDone:
		return nil, conflict("Задача %q вече е изпълнена.", "Task %q is already done.", id)
	case t.System:
		return nil, conflict("Задача %q се изпълнява от системата; тя приключва с отговора (CompleteItem).", "Task %q is the system's; it ends with the answer (CompleteItem).", id)
	}
	return t, nil
}

// AssignTask gives an open task to a user or a position.
func (d *Dossier) AssignTask(m Meta, task string, to service.Assignee) ([]Event, error) {
	if err := checkMeta(m); err != nil {
		return nil, err
	}
	if err := d.notClosed(); err != nil {
		return nil, err
	}
	if _, err := d.openTask(task); err != nil {
		return nil, err
	}
	if to.IsZero() || to.Validate() != nil {
		var f fields
		f.add("/assignee", "invalid_value", "Посочете потребител или длъжност, едно от двете.", "Give a user or a position, one of them.")
		return nil, f.err(CodeInvalidInput, "Задачата не може да бъде възложена.", "The task cannot be assigned.")
	}
	b := &batch{d: d, m: m}
	b.add(&TaskAssigned{Task: task, Assignee: to})
	return b.done()
}

// CompleteTask marks a task for people done; when it was its stage's last,
// the stage is done and the stages waiting for it start.
func (d *Dossier) CompleteTask(m Meta, task, note string) ([]Event, error) {
	if err := checkMeta(m); err != nil {
		return nil, err
	}
	t, err := d.openTask(task)
	if err != nil {
		return nil, err
	}
	if err := d.mustBeOpen(); err != nil {
		return nil, err
	}
	b := &batch{d: d, m: m}
	stage := t.Stage
	b.add(&TaskCompleted{Task: task, Note: note})
	d.finishStage(b, stage)
	return b.done()
}

// RequestItem asks, outside an automatic stage, for an ex officio checklist
// item not yet asked for (or asked again after an answer without it): a
// system task the connector carries out.
func (d *Dossier) RequestItem(m Meta, item string) ([]Event, error) {
	if err := checkMeta(m); err != nil {
		return nil, err
	}
	it, ok := d.planItem(item)
	if !ok {
		return nil, notFound("Няма документ %q в списъка.", "There is no checklist item %q.", item)
	}
	if !it.Source.ExOfficio() {
		return nil, refuse(Invalid, CodeInvalidInput, "„%s“ се представя от заявителя.", "%q is brought by the applicant.", it.ID)
	}
	if d.Status != StatusOpen && d.Status != StatusSuspended {
		return nil, d.mustBeOpen()
	}
	if st := d.item(item).Status; st != ItemPending && st != ItemUnavailable {
		return nil, conflict("„%s“ вече е поискан.", "%q has already been asked for.", item)
	}
	b := &batch{d: d, m: m}
	b.add(d.systemTask("", service.RequestItem, it))
	return b.done()
}

// CompleteItem records the answer for an ex officio item that was asked
// for: the document with the data (filed in the internal section) or that
// there is none. The system tasks that asked for it are done, and so are
// their stages when nothing else is left in them. The answer is taken while
// the dossier is suspended too; stages then wait for it to resume.
func (d *Dossier) CompleteItem(m Meta, item string, outcome ItemOutcome, doc *Document) ([]Event, error) {
	if err := checkMeta(m); err != nil {
		return nil, err
	}
	if _, ok := d.planItem(item); !ok {
		return nil, notFound("Няма документ %q в списъка.", "There is no checklist item %q.", item)
	}
	if d.Status != StatusOpen && d.Status != StatusSuspended {
		return nil, d.mustBeOpen()
	}
	if d.item(item).Status != ItemRequested {
		return nil, conflict("„%s“ не е поискан.", "%q was not asked for.", item)
	}
	var f fields
	if outcome != Received && outcome != Unavailable {
		f.add("/outcome", "invalid_value", "Резултатът трябва да е received или unavailable.", "The outcome must be received or unavailable.")
	}
	if doc != nil {
		d.checkDocument(&f, "/document", *doc)
	}
	if outcome == Received && doc == nil {
		f.add("/document", "required", "Приложете получения документ или данни.", "Attach the document or data received.")
	}
	if err := f.err(CodeInvalidInput, "Отговорът не може да бъде записан.", "The answer cannot be recorded."); err != nil {
		return nil, err
	}
	b := &batch{d: d, m: m}
	done := &ItemCompleted{Item: item, Outcome: outcome}
	if doc != nil {
		b.add(&DocumentFiled{Document: *doc, Section: Internal})
		done.Document = doc.ID
	}
	b.add(done)
	var stages []string
	for _, t := range d.Tasks {
		if t.System && t.Item == item && t.Status == TaskOpen {
			b.add(&TaskCompleted{Task: t.ID, Note: string(outcome)})
			stages = append(stages, t.Stage)
		}
	}
	for _, s := range stages {
		d.finishStage(b, s)
	}
	return b.done()
}

// IrregularityNotice is what a notice of irregularity says.
type IrregularityNotice struct {
	LegalGrounds   string        `json:"legal_grounds"`    // the provisions the application does not meet
	FactualGrounds string        `json:"factual_grounds"`  // what is wrong or missing
	Due            calendar.Date `json:"due"`              // the last day to remove it
	Notice         *Document     `json:"notice,omitempty"` // the notice sent, filed in the official section
}

// NotifyIrregularity records a notice of irregularity to the applicant; the
// dossier is suspended until the answer (AnswerIrregularity).
func (d *Dossier) NotifyIrregularity(m Meta, n IrregularityNotice) ([]Event, error) {
	if err := checkMeta(m); err != nil {
		return nil, err
	}
	if err := d.mustBeOpen(); err != nil {
		return nil, err
	}
	var f fields
	if strings.TrimSpace(n.LegalGrounds) == "" {
		f.add("/legal_grounds", "required", "Посочете правните основания.", "Give the legal grounds.")
	}
	if strings.TrimSpace(n.FactualGrounds) == "" {
		f.add("/factual_grounds", "required", "Посочете фактическите основания.", "Give the factual grounds.")
	}
	if !n.Due.After(m.today()) {
		f.add("/due", "invalid_value", "Срокът за отстраняване трябва да е след днес.", "The deadline to remove it must be after today.")
	}
	if n.Notice != nil {
		d.checkDocument(&f, "/notice", *n.Notice)
	}
	if err := f.err(CodeInvalidInput, "Уведомлението не може да бъде записано.", "The notice cannot be recorded."); err != nil {
		return nil, err
	}
	id := fmt.Sprintf("N%d", len(d.Irregularities)+1)
	ev := &IrregularityNotified{ID: id, LegalGrounds: n.LegalGrounds, FactualGrounds: n.FactualGrounds, Due: n.Due}
	b := &batch{d: d, m: m}
	if n.Notice != nil {
		b.add(&DocumentFiled{Document: *n.Notice, Section: Official})
		ev.Notice = n.Notice.ID
	}
	b.add(ev)
	b.add(&Suspended{Reason: ForIrregularity, Irregularity: id})
	return b.done()
}

// AnswerIrregularity records the applicant's answer to a notice: its
// documents go to the official section and the dossier resumes, its
// deadlines moved by the days it was suspended.
func (d *Dossier) AnswerIrregularity(m Meta, id string, docs []Document) ([]Event, error) {
	if err := checkMeta(m); err != nil {
		return nil, err
	}
	if err := d.notClosed(); err != nil {
		return nil, err
	}
	ir := d.irregularity(id)
	if ir == nil {
		return nil, notFound("Няма уведомление за нередовност %q.", "There is no irregularity notice %q.", id)
	}
	if ir.AnsweredAt != nil {
		return nil, conflict("Нередовност %q вече е отстранена.", "Irregularity %q has already been answered.", id)
	}
	if s := d.suspension(); d.Status != StatusSuspended || s == nil || s.Irregularity != id {
		return nil, conflict("Преписката не е спряна заради нередовност %q.", "The dossier is not suspended for irregularity %q.", id)
	}
	var f fields
	for i, doc := range docs {
		d.checkDocument(&f, fmt.Sprintf("/documents/%d", i), doc)
		for _, other := range docs[:i] {
			if other.ID == doc.ID {
				f.add(fmt.Sprintf("/documents/%d/id", i), "duplicate", "Документ %q е приложен два пъти.", "Document %q is attached twice.", doc.ID)
			}
		}
	}
	if err := f.err(CodeInvalidInput, "Отговорът не може да бъде записан.", "The answer cannot be recorded."); err != nil {
		return nil, err
	}
	b := &batch{d: d, m: m}
	ans := &IrregularityAnswered{ID: id}
	for _, doc := range docs {
		b.add(&DocumentFiled{Document: doc, Section: Official})
		ans.Documents = append(ans.Documents, doc.ID)
	}
	b.add(ans)
	d.resume(b)
	return b.done()
}

// SuspendForAuthority suspends the dossier while another authority, named
// by its ЕИК, gives what the dossier waits for.
func (d *Dossier) SuspendForAuthority(m Meta, authority, note string) ([]Event, error) {
	if err := checkMeta(m); err != nil {
		return nil, err
	}
	if err := d.mustBeOpen(); err != nil {
		return nil, err
	}
	if err := ident.ValidateEIK(authority); err != nil {
		var f fields
		identErr(&f, "/authority", err)
		return nil, f.err(CodeInvalidInput, "Преписката не може да бъде спряна.", "The dossier cannot be suspended.")
	}
	b := &batch{d: d, m: m}
	b.add(&Suspended{Reason: ForAuthority, Authority: authority, Note: note})
	return b.done()
}

// Resume resumes a dossier suspended for another authority; its deadlines
// move by the days it was suspended. A dossier suspended for an
// irregularity resumes with AnswerIrregularity.
func (d *Dossier) Resume(m Meta) ([]Event, error) {
	if err := checkMeta(m); err != nil {
		return nil, err
	}
	if err := d.notClosed(); err != nil {
		return nil, err
	}
	s := d.suspension()
	switch {
	case d.Status != StatusSuspended || s == nil:
		return nil, conflict("Преписката не е спряна.", "The dossier is not suspended.")
	case s.Reason != ForAuthority:
		return nil, conflict("Преписката чака отстраняване на нередовност %q.", "The dossier waits for irregularity %q to be answered.", s.Irregularity)
	}
	b := &batch{d: d, m: m}
	d.resume(b)
	return b.done()
}

// resume ends the suspension that lasts, with the deadlines counted again
// without its days, and starts the stages that became ready meanwhile.
func (d *Dossier) resume(b *batch) {
	today := b.m.today()
	periods := d.periods(today)
	cal := b.m.cal()
	r := &Resumed{Stages: map[string]calendar.Date{}}
	r.Deadline, r.DueAt = overallDeadline(cal, d.Term, d.RegisteredAt, periods)
	for _, st := range d.Stages {
		ps, _ := d.planStage(st.ID)
		if st.Status == StageActive && ps.Days > 0 {
			r.Stages[st.ID] = cal.Deadline(Today(*st.StartedAt), ps.Days, ps.Unit, periods)
		}
	}
	if len(r.Stages) == 0 {
		r.Stages = nil
	}
	b.add(r)
	d.advance(b)
}

// MarkFeePaid records the payment of the fee of the chosen term type.
func (d *Dossier) MarkFeePaid(m Meta, amount service.Money, reference string) ([]Event, error) {
	if err := checkMeta(m); err != nil {
		return nil, err
	}
	if err := d.notClosed(); err != nil {
		return nil, err
	}
	switch {
	case d.Term.Fee == 0:
		return nil, conflict("Услугата е без такса.", "The service has no fee.")
	case d.FeePaid != nil:
		return nil, conflict("Таксата вече е платена (%s).", "The fee has already been paid (%s).", d.FeePaid.Reference)
	}
	var f fields
	if amount != d.Term.Fee {
		f.add("/amount", "wrong_amount", "Платени са %s, таксата е %s.", "%s was paid; the fee is %s.", amount, d.Term.Fee)
	}
	if reference == "" {
		f.add("/reference", "required", "Посочете номера на плащането.", "Give the payment's reference.")
	}
	if err := f.err(CodeInvalidInput, "Плащането не може да бъде записано.", "The payment cannot be recorded."); err != nil {
		return nil, err
	}
	b := &batch{d: d, m: m}
	b.add(&FeePaid{Amount: amount, Reference: reference})
	return b.done()
}

// IssueResult issues the result, filed in the official section. A result
// granting the service needs every stage done, the fee paid and every
// required ex officio item received; a refusal needs only a dossier being
// worked on.
func (d *Dossier) IssueResult(m Meta, outcome Outcome, doc Document) ([]Event, error) {
	if err := checkMeta(m); err != nil {
		return nil, err
	}
	if err := d.mustBeOpen(); err != nil {
		return nil, err
	}
	var f fields
	if outcome != Granted && outcome != Refused {
		f.add("/outcome", "invalid_value", "Резултатът трябва да е granted или refused.", "The outcome must be granted or refused.")
	}
	if doc.Kind == "" {
		doc.Kind = KindResult
	}
	if doc.Kind != KindResult {
		f.add("/document/kind", "invalid_value", "Документът на резултата е от вид %q.", "The result's document is of kind %q.", KindResult)
	}
	d.checkDocument(&f, "/document", doc)
	if err := f.err(CodeInvalidInput, "Резултатът не може да бъде издаден.", "The result cannot be issued."); err != nil {
		return nil, err
	}
	if outcome == Granted {
		var undone []string
		for _, st := range d.Stages {
			if st.Status != StageDone {
				undone = append(undone, st.ID)
			}
		}
		if len(undone) > 0 {
			return nil, conflict("Етапите %s не са приключени.", "Stages %s are not done.", strings.Join(undone, ", "))
		}
		if d.Term.Fee > 0 && d.FeePaid == nil {
			return nil, conflict("Таксата от %s не е платена.", "The fee of %s has not been paid.", d.Term.Fee)
		}
		for _, it := range d.Plan.Checklist {
			if st := d.item(it.ID).Status; it.Required && it.Source.ExOfficio() && st != ItemReceived {
				return nil, conflict("„%s“ не е получен по служебен път.", "%q has not been obtained ex officio.", it.ID)
			}
		}
	}
	b := &batch{d: d, m: m}
	b.add(&DocumentFiled{Document: doc, Section: Official})
	b.add(&ResultIssued{Outcome: outcome, Document: doc.ID})
	return b.done()
}

// DeliverResult records that the issued result reached the applicant, by
// one of the ways the service offers (the applicant's choice, or another
// one, such as at the counter, when they come for it).
func (d *Dossier) DeliverResult(m Meta, way service.Delivery, reference string) ([]Event, error) {
	if err := checkMeta(m); err != nil {
		return nil, err
	}
	if d.Status != StatusIssued {
		if err := d.notClosed(); err != nil {
			return nil, err
		}
		if d.Status == StatusDelivered {
			return nil, conflict("Резултатът вече е връчен.", "The result has already been delivered.")
		}
		return nil, conflict("Резултатът не е издаден.", "The result has not been issued.")
	}
	if !known(d.Plan.Deliver, way) {
		var f fields
		f.add("/way", "delivery_not_offered", "Резултатът не се получава по начин %q.", "The result cannot be received by %q.", way)
		return nil, f.err(CodeInvalidInput, "Връчването не може да бъде записано.", "The delivery cannot be recorded.")
	}
	b := &batch{d: d, m: m}
	b.add(&ResultDelivered{Way: way, Reference: reference})
	return b.done()
}

// Close closes the dossier: completed once the result was delivered;
// withdrawn by the applicant at any time before; terminated when an
// irregularity was not removed by its deadline.
func (d *Dossier) Close(m Meta, reason CloseReason, note string) ([]Event, error) {
	if err := checkMeta(m); err != nil {
		return nil, err
	}
	if err := d.notClosed(); err != nil {
		return nil, err
	}
	switch reason {
	case Completed:
		if d.Status != StatusDelivered {
			return nil, conflict("Резултатът не е връчен.", "The result has not been delivered.")
		}
	case Withdrawn:
		if d.Status == StatusDelivered {
			return nil, conflict("Резултатът вече е връчен; преписката се приключва като completed.", "The result has been delivered; close the dossier as completed.")
		}
	case Terminated:
		s := d.suspension()
		if s == nil || s.Reason != ForIrregularity {
			return nil, conflict("Преписката не чака отстраняване на нередовност.", "The dossier does not wait for an irregularity to be removed.")
		}
		if ir := d.irregularity(s.Irregularity); !m.today().After(ir.Due) {
			return nil, conflict("Срокът за отстраняване на нередовността изтича на %s.", "The deadline to remove the irregularity ends on %s.", ir.Due)
		}
	default:
		var f fields
		f.add("/reason", "invalid_value", "Причината трябва да е completed, withdrawn или terminated.", "The reason must be completed, withdrawn or terminated.")
		return nil, f.err(CodeInvalidInput, "Преписката не може да бъде приключена.", "The dossier cannot be closed.")
	}
	b := &batch{d: d, m: m}
	b.add(&Closed{Reason: reason, Note: note})
	return b.done()
}
