package dossier

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/aiskao/aiskao/dossier/calendar"
	"github.com/aiskao/aiskao/dossier/service"
)

// states builds dossiers at the points the command tests start from.
var states = map[string]func(t *testing.T) *Dossier{
	"open": func(t *testing.T) *Dossier { d, _ := open(t); return d },
	// register done; the two register checks asked for
	"checking": func(t *testing.T) *Dossier {
		d, _ := open(t)
		must(t)(d.CompleteTask(meta(clerk, at(4, 10, 0)), "T1", ""))
		return d
	},
	"irregularity": func(t *testing.T) *Dossier {
		d, _ := open(t)
		must(t)(d.NotifyIrregularity(meta(clerk, at(4, 11, 0)), IrregularityNotice{LegalGrounds: "a", FactualGrounds: "b", Due: date(11)}))
		return d
	},
	"authority": func(t *testing.T) *Dossier {
		d, _ := open(t)
		must(t)(d.SuspendForAuthority(meta(clerk, at(4, 11, 0)), "000695089", "waiting"))
		return d
	},
	"stages done": func(t *testing.T) *Dossier {
		d, _ := open(t)
		finish(t, d)
		return d
	},
	"issued":    issued,
	"delivered": delivered,
	"closed": func(t *testing.T) *Dossier {
		d := delivered(t)
		must(t)(d.Close(meta(clerk, at(7, 10, 1)), Completed, ""))
		return d
	},
}

func issued(t *testing.T) *Dossier {
	d, _ := open(t)
	finish(t, d)
	must(t)(d.MarkFeePaid(meta(clerk, at(7, 9, 0)), 205, "p1"))
	must(t)(d.IssueResult(meta(clerk, at(7, 9, 1)), Granted, doc("result", KindResult)))
	return d
}

func delivered(t *testing.T) *Dossier {
	d := issued(t)
	must(t)(d.DeliverResult(meta(clerk, at(7, 10, 0)), service.AtCounter, ""))
	return d
}

func date(day int) calendar.Date { return calendar.Date{Year: 2026, Month: 12, Day: day} }

func must(t *testing.T) func([]Event, error) {
	return func(_ []Event, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// finish does every stage of a fresh dossier.
func finish(t *testing.T, d *Dossier) {
	t.Helper()
	m := meta(clerk, at(4, 12, 0))
	must(t)(d.CompleteTask(m, "T1", ""))
	must(t)(d.CompleteItem(m, "deceased-data", Received, &Document{ID: "r1", Kind: "deceased-data", Name: "x", MediaType: "application/xml", SHA256: sum}))
	must(t)(d.CompleteItem(m, "relations", Received, &Document{ID: "r2", Kind: "relations", Name: "x", MediaType: "application/xml", SHA256: sum}))
	must(t)(d.CompleteTask(m, "T4", ""))
	must(t)(d.CompleteTask(m, "T5", ""))
}

func TestCommands(t *testing.T) {
	m := meta(clerk, at(7, 9, 0))
	tests := []struct {
		name  string
		state string
		run   func(d *Dossier) ([]Event, error)
		// want is the refusal's kind and code, or the types of the events
		// given, space separated, for an accepted command.
		kind Kind
		code string
		want string
	}{
		{"file official", "open", func(d *Dossier) ([]Event, error) { return d.FileDocument(m, doc("x", KindOther), Official) }, "", "", "document_filed"},
		{"file into no section", "open", func(d *Dossier) ([]Event, error) { return d.FileDocument(m, doc("x", KindOther), "drawer") }, Invalid, CodeInvalidInput, ""},
		{"file a document twice", "open", func(d *Dossier) ([]Event, error) { return d.FileDocument(m, doc("doc-1", KindOther), Internal) }, Invalid, CodeInvalidInput, ""},
		{"file when closed", "closed", func(d *Dossier) ([]Event, error) { return d.FileDocument(m, doc("x", KindOther), Official) }, Conflict, CodeNotAllowed, ""},
		{"file while suspended", "irregularity", func(d *Dossier) ([]Event, error) { return d.FileDocument(m, doc("x", KindOther), Internal) }, "", "", "document_filed"},

		{"assign", "open", func(d *Dossier) ([]Event, error) { return d.AssignTask(m, "T1", service.Assignee{User: "petrov"}) }, "", "", "task_assigned"},
		{"assign to nobody", "open", func(d *Dossier) ([]Event, error) { return d.AssignTask(m, "T1", service.Assignee{}) }, Invalid, CodeInvalidInput, ""},
		{"assign to both", "open", func(d *Dossier) ([]Event, error) {
			return d.AssignTask(m, "T1", service.Assignee{User: "a", Position: "b"})
		}, Invalid, CodeInvalidInput, ""},
		{"assign unknown task", "open", func(d *Dossier) ([]Event, error) { return d.AssignTask(m, "T9", service.Assignee{User: "a"}) }, NotFound, CodeNotFound, ""},
		{"assign a system task", "checking", func(d *Dossier) ([]Event, error) { return d.AssignTask(m, "T2", service.Assignee{User: "a"}) }, Conflict, CodeNotAllowed, ""},
		{"assign a done task", "checking", func(d *Dossier) ([]Event, error) { return d.AssignTask(m, "T1", service.Assignee{User: "a"}) }, Conflict, CodeNotAllowed, ""},

		{"complete starts the parallel stages", "open", func(d *Dossier) ([]Event, error) { return d.CompleteTask(m, "T1", "") }, "", "",
			"task_completed stage_completed stage_started system_task_requested stage_started system_task_requested"},
		{"complete twice", "checking", func(d *Dossier) ([]Event, error) { return d.CompleteTask(m, "T1", "") }, Conflict, CodeNotAllowed, ""},
		{"complete a system task", "checking", func(d *Dossier) ([]Event, error) { return d.CompleteTask(m, "T2", "") }, Conflict, CodeNotAllowed, ""},
		{"complete while suspended", "irregularity", func(d *Dossier) ([]Event, error) { return d.CompleteTask(m, "T1", "") }, Conflict, CodeNotAllowed, ""},
		{"complete unknown", "open", func(d *Dossier) ([]Event, error) { return d.CompleteTask(m, "T7", "") }, NotFound, CodeNotFound, ""},

		{"start an automatic stage by hand", "open", func(d *Dossier) ([]Event, error) { return d.StartStage(m, "check-deceased") }, Conflict, CodeNotAllowed, ""},
		{"start a started stage", "open", func(d *Dossier) ([]Event, error) { return d.StartStage(m, "register") }, Conflict, CodeNotAllowed, ""},
		{"start unknown stage", "open", func(d *Dossier) ([]Event, error) { return d.StartStage(m, "party") }, NotFound, CodeNotFound, ""},

		{"request an item", "open", func(d *Dossier) ([]Event, error) { return d.RequestItem(m, "relations") }, "", "", "system_task_requested"},
		{"request an item asked for", "checking", func(d *Dossier) ([]Event, error) { return d.RequestItem(m, "relations") }, Conflict, CodeNotAllowed, ""},
		{"request the applicant's item", "open", func(d *Dossier) ([]Event, error) { return d.RequestItem(m, "application") }, Invalid, CodeInvalidInput, ""},
		{"request while suspended for an authority", "authority", func(d *Dossier) ([]Event, error) { return d.RequestItem(m, "relations") }, "", "", "system_task_requested"},
		{"request when issued", "issued", func(d *Dossier) ([]Event, error) { return d.RequestItem(m, "relations") }, Conflict, CodeNotAllowed, ""},

		{"answer of a register", "checking", func(d *Dossier) ([]Event, error) {
			return d.CompleteItem(m, "relations", Received, &Document{ID: "r", Kind: "relations", Name: "x", MediaType: "application/xml", SHA256: sum})
		}, "", "", "document_filed item_completed task_completed stage_completed"},
		{"register has none", "checking", func(d *Dossier) ([]Event, error) { return d.CompleteItem(m, "relations", Unavailable, nil) }, "", "", "item_completed task_completed stage_completed"},
		{"received without a document", "checking", func(d *Dossier) ([]Event, error) { return d.CompleteItem(m, "relations", Received, nil) }, Invalid, CodeInvalidInput, ""},
		{"answer not asked for", "open", func(d *Dossier) ([]Event, error) { return d.CompleteItem(m, "relations", Unavailable, nil) }, Conflict, CodeNotAllowed, ""},
		{"answer for no item", "open", func(d *Dossier) ([]Event, error) { return d.CompleteItem(m, "x", Unavailable, nil) }, NotFound, CodeNotFound, ""},

		{"notify irregularity", "open", func(d *Dossier) ([]Event, error) {
			return d.NotifyIrregularity(m, IrregularityNotice{LegalGrounds: "a", FactualGrounds: "b", Due: date(14)})
		}, "", "", "irregularity_notified suspended"},
		{"notify without grounds", "open", func(d *Dossier) ([]Event, error) {
			return d.NotifyIrregularity(m, IrregularityNotice{Due: date(14)})
		}, Invalid, CodeInvalidInput, ""},
		{"notify with a past deadline", "open", func(d *Dossier) ([]Event, error) {
			return d.NotifyIrregularity(m, IrregularityNotice{LegalGrounds: "a", FactualGrounds: "b", Due: date(7)})
		}, Invalid, CodeInvalidInput, ""},
		{"notify twice", "irregularity", func(d *Dossier) ([]Event, error) {
			return d.NotifyIrregularity(m, IrregularityNotice{LegalGrounds: "a", FactualGrounds: "b", Due: date(14)})
		}, Conflict, CodeNotAllowed, ""},

		{"answer irregularity", "irregularity", func(d *Dossier) ([]Event, error) {
			return d.AnswerIrregularity(m, "N1", []Document{doc("fix", KindOther)})
		}, "", "",
			"document_filed irregularity_answered resumed"},
		{"answer unknown irregularity", "irregularity", func(d *Dossier) ([]Event, error) { return d.AnswerIrregularity(m, "N2", nil) }, NotFound, CodeNotFound, ""},
		{"answer with a document twice", "irregularity", func(d *Dossier) ([]Event, error) {
			return d.AnswerIrregularity(m, "N1", []Document{doc("fix", KindOther), doc("fix", KindOther)})
		}, Invalid, CodeInvalidInput, ""},
		{"resume an irregularity", "irregularity", func(d *Dossier) ([]Event, error) { return d.Resume(m) }, Conflict, CodeNotAllowed, ""},

		{"suspend for an authority", "open", func(d *Dossier) ([]Event, error) { return d.SuspendForAuthority(m, "000695089", "") }, "", "", "suspended"},
		{"suspend for a bad ЕИК", "open", func(d *Dossier) ([]Event, error) { return d.SuspendForAuthority(m, "000695088", "") }, Invalid, CodeInvalidInput, ""},
		{"suspend twice", "authority", func(d *Dossier) ([]Event, error) { return d.SuspendForAuthority(m, "000695089", "") }, Conflict, CodeNotAllowed, ""},
		{"resume", "authority", func(d *Dossier) ([]Event, error) { return d.Resume(m) }, "", "", "resumed"},
		{"resume a closed dossier", "closed", func(d *Dossier) ([]Event, error) { return d.Resume(m) }, Conflict, CodeNotAllowed, ""},
		{"answer on a closed dossier", "closed", func(d *Dossier) ([]Event, error) { return d.AnswerIrregularity(m, "N1", nil) }, Conflict, CodeNotAllowed, ""},
		{"resume an open dossier", "open", func(d *Dossier) ([]Event, error) { return d.Resume(m) }, Conflict, CodeNotAllowed, ""},

		{"pay", "open", func(d *Dossier) ([]Event, error) { return d.MarkFeePaid(m, 205, "p") }, "", "", "fee_paid"},
		{"pay the wrong amount", "open", func(d *Dossier) ([]Event, error) { return d.MarkFeePaid(m, 200, "p") }, Invalid, CodeInvalidInput, ""},
		{"pay twice", "issued", func(d *Dossier) ([]Event, error) { return d.MarkFeePaid(m, 205, "p") }, Conflict, CodeNotAllowed, ""},

		{"issue before the stages", "open", func(d *Dossier) ([]Event, error) { return d.IssueResult(m, Granted, doc("res", "")) }, Conflict, CodeNotAllowed, ""},
		{"issue unpaid", "stages done", func(d *Dossier) ([]Event, error) { return d.IssueResult(m, Granted, doc("res", "")) }, Conflict, CodeNotAllowed, ""},
		{"refuse at any stage", "open", func(d *Dossier) ([]Event, error) { return d.IssueResult(m, Refused, doc("res", "")) }, "", "", "document_filed result_issued"},
		{"issue while suspended", "irregularity", func(d *Dossier) ([]Event, error) { return d.IssueResult(m, Refused, doc("res", "")) }, Conflict, CodeNotAllowed, ""},
		{"issue a document of another kind", "open", func(d *Dossier) ([]Event, error) { return d.IssueResult(m, Refused, doc("res", KindNotice)) }, Invalid, CodeInvalidInput, ""},
		{"issue twice", "issued", func(d *Dossier) ([]Event, error) { return d.IssueResult(m, Refused, doc("res", "")) }, Conflict, CodeNotAllowed, ""},

		{"deliver", "issued", func(d *Dossier) ([]Event, error) { return d.DeliverResult(m, service.PostCorrespondence, "RR1") }, "", "", "result_delivered"},
		{"deliver a way not offered", "issued", func(d *Dossier) ([]Event, error) { return d.DeliverResult(m, service.POBox, "") }, Invalid, CodeInvalidInput, ""},
		{"deliver before issuing", "open", func(d *Dossier) ([]Event, error) { return d.DeliverResult(m, service.AtCounter, "") }, Conflict, CodeNotAllowed, ""},
		{"deliver twice", "delivered", func(d *Dossier) ([]Event, error) { return d.DeliverResult(m, service.AtCounter, "") }, Conflict, CodeNotAllowed, ""},

		{"close completed", "delivered", func(d *Dossier) ([]Event, error) { return d.Close(m, Completed, "") }, "", "", "closed"},
		{"close completed undelivered", "issued", func(d *Dossier) ([]Event, error) { return d.Close(m, Completed, "") }, Conflict, CodeNotAllowed, ""},
		{"withdraw", "open", func(d *Dossier) ([]Event, error) { return d.Close(m, Withdrawn, "by letter") }, "", "", "closed"},
		{"terminate before the deadline", "irregularity", func(d *Dossier) ([]Event, error) { return d.Close(m, Terminated, "") }, Conflict, CodeNotAllowed, ""},
		{"terminate after the deadline", "irregularity", func(d *Dossier) ([]Event, error) { return d.Close(meta(clerk, at(14, 9, 0)), Terminated, "") }, "", "", "closed"},
		{"terminate without an irregularity", "open", func(d *Dossier) ([]Event, error) { return d.Close(m, Terminated, "") }, Conflict, CodeNotAllowed, ""},
		{"close for no reason", "open", func(d *Dossier) ([]Event, error) { return d.Close(m, "bored", "") }, Invalid, CodeInvalidInput, ""},
		{"close twice", "closed", func(d *Dossier) ([]Event, error) { return d.Close(m, Withdrawn, "") }, Conflict, CodeNotAllowed, ""},
		{"raise a near deadline", "open", func(d *Dossier) ([]Event, error) { return d.RaiseDeadlines(m, 2) }, "", "", "deadline_near"},
		{"raise it once", "open", func(d *Dossier) ([]Event, error) {
			if _, err := d.RaiseDeadlines(m, 2); err != nil {
				return nil, err
			}
			return d.RaiseDeadlines(meta(clerk, at(7, 15, 0)), 2)
		}, "", "", ""},
		{"missed after near", "open", func(d *Dossier) ([]Event, error) {
			if _, err := d.RaiseDeadlines(m, 2); err != nil {
				return nil, err
			}
			return d.RaiseDeadlines(meta(clerk, at(8, 9, 0)), 2)
		}, "", "", "deadline_missed"},
		{"nothing raised while suspended", "authority", func(d *Dossier) ([]Event, error) { return d.RaiseDeadlines(meta(clerk, at(8, 9, 0)), 2) }, "", "", ""},
		{"no actor", "open", func(d *Dossier) ([]Event, error) { return d.Close(Meta{At: m.At}, Withdrawn, "") }, Invalid, CodeInvalidInput, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := states[tt.state](t)
			before := stateJSON(t, d)
			evs, err := tt.run(d)
			if tt.kind != "" {
				var e *Error
				if !errors.As(err, &e) || e.Kind != tt.kind || e.Code != tt.code {
					t.Fatalf("got %v, %v; want a refusal %s/%s", evs, err, tt.kind, tt.code)
				}
				if stateJSON(t, d) != before {
					t.Error("the refused command changed the dossier")
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			var types []string
			for i, e := range evs {
				types = append(types, strings.TrimPrefix(e.Type, "dossier."))
				if e.Seq != d.Seq-len(evs)+i+1 || e.Dossier != d.Number || e.By != m.By {
					t.Errorf("event %d: seq %d, dossier %s, by %v", i, e.Seq, e.Dossier, e.By)
				}
			}
			if got := strings.Join(types, " "); got != tt.want {
				t.Errorf("events = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestOpenRefusesBadInput(t *testing.T) {
	good := OpenRequest{Service: heirs(t), Application: goodApplication(), Seq: 1, AccessCode: code}
	tests := []struct {
		name    string
		change  func(r *OpenRequest)
		pointer string
	}{
		{"invalid ЕГН", func(r *OpenRequest) { r.Application.Applicant.EGN = "8506258484" }, "/applicant/egn"},
		{"unknown service", func(r *OpenRequest) { r.Service = nil }, "/service"},
		{"term not offered", func(r *OpenRequest) { r.Application.Term = "slow" }, "/term"},
		{"missing item", func(r *OpenRequest) { r.Application.Documents = nil }, "/documents"},
		{"no sequence", func(r *OpenRequest) { r.Seq = 0 }, "/seq"},
		{"guessable access code", func(r *OpenRequest) { r.AccessCode = "0000000000" }, "/access_code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := good
			r.Application = goodApplication()
			tt.change(&r)
			d, evs, err := Open(meta(clerk, at(4, 9, 0)), r)
			var e *Error
			if !errors.As(err, &e) || e.Kind != Invalid || e.Field(tt.pointer) == nil || d != nil || evs != nil {
				t.Fatalf("Open = %v, %d events, %v; want a refusal naming %s", d, len(evs), err, tt.pointer)
			}
		})
	}
	d, _, err := Open(meta(clerk, at(4, 9, 0)), good)
	if err != nil || d.Number != "ОБА3-1/04.12.2026" {
		t.Errorf("the default numbering gave %v, %v", d, err)
	}
}

func TestNumbering(t *testing.T) {
	on := date(5)
	tests := []struct {
		pattern, want, err string
	}{
		{"{index}-{seq}/{date:02.01.2006}", "ОБА3-17/05.12.2026", ""},
		{"{index}/{year}/{seq:6}", "ОБА3/2026/000017", ""},
		{"{seq}", "17", ""},
		{"№ {seq:2}-{date:2006}", "№ 17-2026", ""},
		{"{index}", "", "must hold {seq} once"},
		{"{seq}-{seq}", "", "it holds it 2 times"},
		{"{index}-{seq", "", "a { without its }"},
		{"{index}}-{seq}", "", "a } without its {"},
		{"{idx}-{seq}", "", "unknown placeholder {idx}"},
		{"{seq:0}", "", "the width must be a number from 1 to 18"},
		{"{seq}/{date}", "", "{date} needs a layout"},
		{"{seq}/{date:dd.mm.yyyy}", "", "holds no part of a date"},
		{"{year:2}-{seq}", "", "{year} takes no argument"},
	}
	for _, tt := range tests {
		n, err := ParseNumbering(tt.pattern)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseNumbering(%q) = %v, want an error saying %q", tt.pattern, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseNumbering(%q): %v", tt.pattern, err)
			continue
		}
		if got := n.Format("ОБА3", 17, on); got != tt.want {
			t.Errorf("%q gives %q, want %q", tt.pattern, got, tt.want)
		}
	}
}

func TestAccessCode(t *testing.T) {
	c, err := NewAccessCode(bytes.NewReader([]byte{0, 1, 31, 32, 255, 8, 9, 10, 11, 12}))
	if err != nil {
		t.Fatal(err)
	}
	if c != "23Z2ZABCDE" {
		t.Errorf("code = %s", c)
	}
	if _, err := NewAccessCode(bytes.NewReader([]byte{1, 2})); err == nil {
		t.Error("a short read gave a code")
	}
	if HashAccessCode("23z2-zabc de") != HashAccessCode(c) {
		t.Error("typing is not forgiven")
	}
	d := &Dossier{AccessCodeHash: HashAccessCode(c)}
	if !d.CheckAccessCode("23z2zabcde") || d.CheckAccessCode("23Z2ZABCDF") || d.CheckAccessCode("") {
		t.Error("CheckAccessCode is wrong")
	}
	if (&Dossier{}).CheckAccessCode("") {
		t.Error("a dossier without a code accepted the empty one")
	}
}

func TestDeadlines(t *testing.T) {
	cal := calendar.Bulgaria()
	d, _ := open(t) // Friday 4 December: overall due Tuesday 15th; register due Monday 7th
	show := func(ds []Deadline) string {
		var parts []string
		for _, x := range ds {
			parts = append(parts, string(x.Kind)+":"+x.Ref+":"+x.Due.String()+":"+string(x.State))
		}
		return strings.Join(parts, " ")
	}
	tests := []struct {
		now  func() (*Dossier, []Deadline)
		want string
	}{
		// The register stage of one working day is not near on the day it starts, but on its last.
		{func() (*Dossier, []Deadline) { return d, d.Deadlines(cal, at(4, 12, 0), 2) }, "overall::2026-12-15:running stage:register:2026-12-07:running"},
		{func() (*Dossier, []Deadline) { return d, d.Deadlines(cal, at(7, 8, 0), 2) }, "overall::2026-12-15:running stage:register:2026-12-07:near"},
		{func() (*Dossier, []Deadline) { return d, d.Deadlines(cal, at(8, 12, 0), 2) }, "overall::2026-12-15:running stage:register:2026-12-07:missed"},
		{func() (*Dossier, []Deadline) { return d, d.Deadlines(cal, at(11, 12, 0), 2) }, "overall::2026-12-15:near stage:register:2026-12-07:missed"},
		{func() (*Dossier, []Deadline) { return d, d.Deadlines(cal, at(16, 0, 1), 2) }, "overall::2026-12-15:missed stage:register:2026-12-07:missed"},
		{func() (*Dossier, []Deadline) {
			s := states["irregularity"](t) // notified Friday 4th, due Friday 11th
			return s, s.Deadlines(cal, at(14, 9, 0), 2)
		}, "overall::2026-12-15:stopped stage:register:2026-12-07:stopped irregularity:N1:2026-12-11:missed"},
		{func() (*Dossier, []Deadline) { s := states["issued"](t); return s, s.Deadlines(cal, at(30, 9, 0), 2) }, ""},
		{func() (*Dossier, []Deadline) { // refused with stages still running: none of theirs matter
			s, _ := open(t)
			must(t)(s.IssueResult(meta(clerk, at(4, 10, 0)), Refused, doc("refusal", "")))
			return s, s.Deadlines(cal, at(30, 9, 0), 2)
		}, ""},
	}
	for i, tt := range tests {
		_, ds := tt.now()
		if got := show(ds); got != tt.want {
			t.Errorf("%d: deadlines\n got %s\nwant %s", i, got, tt.want)
		}
	}
}

// TestSuspensionMovesDeadlines: the days after the notice up to the answer
// do not count, for the overall term and for a running stage's.
func TestSuspensionMovesDeadlines(t *testing.T) {
	d, _ := open(t) // overall due Tuesday 15th, register due Monday 7th
	must(t)(d.SuspendForAuthority(meta(clerk, at(4, 11, 0)), "000695089", ""))
	must(t)(d.Resume(meta(clerk, at(9, 16, 0)))) // 5th to 9th left out: Mon 7 to Wed 9 are three working days
	if d.Deadline != date(18) {
		t.Errorf("overall = %s, want 2026-12-18", d.Deadline)
	}
	if st := d.stage("register"); *st.Due != date(10) {
		t.Errorf("register = %s, want 2026-12-10", st.Due)
	}
	// A suspension lifted the same day leaves the deadlines as they were.
	must(t)(d.SuspendForAuthority(meta(clerk, at(10, 9, 0)), "000695089", ""))
	must(t)(d.Resume(meta(clerk, at(10, 17, 0))))
	if d.Deadline != date(18) {
		t.Errorf("overall after a same-day suspension = %s", d.Deadline)
	}
}

// TestHoursTerm: an express term in hours is due at its moment, moved by
// the days suspended.
func TestHoursTerm(t *testing.T) {
	a := goodApplication()
	a.Term = service.Express // 24 hours
	d, _, err := Open(meta(clerk, at(4, 9, 30)), OpenRequest{Service: heirs(t), Application: a, Seq: 2, AccessCode: code})
	if err != nil {
		t.Fatal(err)
	}
	if d.DueAt == nil || !d.DueAt.Equal(at(5, 9, 30)) || d.Deadline != date(7) {
		t.Fatalf("due %v, deadline %s; want Saturday 5th 09:30, counted on Monday 7th", d.DueAt, d.Deadline)
	}
	if ds := d.Deadlines(calendar.Bulgaria(), at(5, 10, 0), 0); ds[0].State != Missed {
		t.Errorf("after the hour: %+v", ds[0])
	}
	must(t)(d.SuspendForAuthority(meta(clerk, at(4, 10, 0)), "000695089", ""))
	must(t)(d.Resume(meta(clerk, at(6, 10, 0)))) // the 5th and 6th left out
	if !d.DueAt.Equal(at(7, 9, 30)) {
		t.Errorf("due after suspension = %v", d.DueAt)
	}
}
