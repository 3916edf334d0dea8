package dossier

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aiskao/aiskao/dossier/calendar"
	"github.com/aiskao/aiskao/dossier/service"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var (
	clerk   = Actor{Kind: User, ID: "ivanova"}
	mayor   = Actor{Kind: User, ID: "mayor"}
	regix   = Actor{Kind: System, ID: "registers"}
	citizen = Actor{Kind: Applicant, ID: "portal"}
)

// at is a moment in Sofia on a day of December 2026.
func at(day, hour, minute int) time.Time { return time.Date(2026, 12, day, hour, minute, 0, 0, sofia) }

func meta(by Actor, t time.Time) Meta { return Meta{By: by, At: t} }

func doc(id, kind string) Document {
	return Document{ID: id, Kind: kind, Name: id + ".pdf", MediaType: "application/pdf", Size: 2048, SHA256: sum}
}

// code is the access code the fixed randomness gives.
const code = "23456789AB"

// open opens a dossier for the certificate of heirs on Friday 4 December 2026.
func open(t testing.TB) (*Dossier, []Event) {
	t.Helper()
	num, err := ParseNumbering("{index}-{seq}/{date:02.01.2006}")
	if err != nil {
		t.Fatal(err)
	}
	d, evs, err := Open(meta(clerk, at(4, 9, 30)), OpenRequest{Service: heirs(t), Application: goodApplication(), Numbering: num, Seq: 17, AccessCode: code})
	if err != nil {
		t.Fatal(err)
	}
	return d, evs
}

// step runs a command that must be accepted and adds its events to all.
func step(t testing.TB, all *[]Event, evs []Event, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) == 0 {
		t.Fatal("an accepted command gave no events")
	}
	*all = append(*all, evs...)
}

// scenario takes the certificate of heirs from the counter to the end,
// through parallel register checks and an irregularity, and returns the
// dossier and its history.
func scenario(t testing.TB) (*Dossier, []Event) {
	t.Helper()
	d, all := open(t)
	do := func(evs []Event, err error) { t.Helper(); step(t, &all, evs, err) }
	deadlines := Actor{Kind: System, ID: "deadlines"}
	// register is due on Monday, one working day away: not near on the day it starts
	if evs, err := d.RaiseDeadlines(meta(deadlines, at(4, 9, 31)), 1); err != nil || len(evs) != 0 {
		t.Fatalf("alerts on the day the stage started: %v, %v", evs, err)
	}
	do(d.AssignTask(meta(clerk, at(4, 9, 32)), "T1", service.Assignee{User: "ivanova"}))
	do(d.CompleteTask(meta(clerk, at(4, 10, 0)), "T1", "accepted"))
	do(d.CompleteItem(meta(regix, at(4, 10, 1)), "deceased-data", Received, &Document{ID: "regix-1", Kind: "deceased-data", Name: "PersonDataSearch.xml", MediaType: "application/xml", Size: 900, SHA256: sum}))
	do(d.NotifyIrregularity(meta(clerk, at(7, 11, 0)), IrregularityNotice{
		LegalGrounds: "чл. 30, ал. 1 АПК", FactualGrounds: "Заявлението не е подписано.",
		Due: calendar.Date{Year: 2026, Month: 12, Day: 14}, Notice: &Document{ID: "notice-1", Kind: KindNotice, Name: "Уведомление.pdf", MediaType: "application/pdf", Size: 300, SHA256: sum},
	}))
	do(d.CompleteItem(meta(regix, at(7, 12, 0)), "relations", Unavailable, nil))
	do(d.AnswerIrregularity(meta(citizen, at(9, 15, 0)), "N1", []Document{doc("signed-application", "application")}))
	do(d.MarkFeePaid(meta(Actor{Kind: System, ID: "epay"}, at(9, 15, 5)), 205, "epay-4711"))
	do(d.RequestItem(meta(clerk, at(10, 9, 0)), "relations")) // asked again: the first answer had none
	do(d.CompleteItem(meta(regix, at(10, 9, 1)), "relations", Received, &Document{ID: "regix-2", Kind: "relations", Name: "RelationsSearch.xml", MediaType: "application/xml", Size: 1200, SHA256: sum}))
	do(d.CompleteTask(meta(clerk, at(10, 10, 0)), "T4", ""))
	do(d.RaiseDeadlines(meta(deadlines, at(14, 8, 0)), 3)) // signing was due on the 11th; the whole on the 17th
	do(d.CompleteTask(meta(mayor, at(14, 10, 0)), "T6", "signed"))
	do(d.IssueResult(meta(clerk, at(14, 10, 5)), Granted, doc("certificate", "")))
	do(d.DeliverResult(meta(clerk, at(15, 9, 0)), service.PostCorrespondence, "RR123456789BG"))
	do(d.Close(meta(clerk, at(15, 9, 1)), Completed, ""))
	return d, all
}

func TestScenario(t *testing.T) {
	d, _ := open(t)
	if d.Number != "ОБА3-17/04.12.2026" {
		t.Errorf("Number = %s", d.Number)
	}
	if want := (calendar.Date{Year: 2026, Month: 12, Day: 15}); d.Deadline != want {
		t.Errorf("Deadline = %s, want %s (7 working days from Friday 4th)", d.Deadline, want)
	}
	if !d.CheckAccessCode(code) || !d.CheckAccessCode("2345-6789-ab") || d.CheckAccessCode("23456789AC") {
		t.Error("the access code is checked wrong")
	}
	if got := d.OpenTasks(); len(got) != 1 || got[0].Stage != "register" || got[0].Assignee.Position != "front-office-clerk" {
		t.Errorf("open tasks = %+v", got)
	}
	if st := d.stage("register"); st.Due == nil || *st.Due != (calendar.Date{Year: 2026, Month: 12, Day: 7}) {
		t.Errorf("register's due = %v, want Monday 7th", st.Due)
	}
	if got := len(d.OfficialSection()); got != 1 {
		t.Errorf("official section has %d documents", got)
	}

	d, all := scenario(t)
	if d.Status != StatusClosed || d.Closed.Reason != Completed {
		t.Errorf("status = %s", d.Status)
	}
	// Suspended on Monday 7th, answered on Wednesday 9th: the 8th and 9th do not count.
	if want := (calendar.Date{Year: 2026, Month: 12, Day: 17}); d.Deadline != want {
		t.Errorf("Deadline after the suspension = %s, want %s", d.Deadline, want)
	}
	var types []string
	for _, e := range all {
		types = append(types, strings.TrimPrefix(e.Type, "dossier."))
	}
	want := "opened document_filed stage_started task_created task_assigned task_completed stage_completed " +
		"stage_started system_task_requested stage_started system_task_requested " + // the two checks run in parallel
		"document_filed item_completed task_completed stage_completed " +
		"document_filed irregularity_notified suspended " +
		"item_completed task_completed stage_completed " + // the answer comes while suspended: prepare waits
		"document_filed irregularity_answered resumed stage_started task_created " +
		"fee_paid system_task_requested document_filed item_completed task_completed " +
		"task_completed stage_completed stage_started task_created deadline_near deadline_missed task_completed stage_completed " +
		"document_filed result_issued result_delivered closed"
	if got := strings.Join(types, " "); got != want {
		t.Errorf("history:\n got %s\nwant %s", got, want)
	}
	if it := d.item("relations"); it.Status != ItemReceived || it.Document != "regix-2" {
		t.Errorf("relations = %s", it.Status)
	}
	if it := d.item("application"); it.Status != ItemProvided || it.Document != "doc-1" {
		t.Errorf("application item = %+v", it)
	}
	var official []string
	for _, doc := range d.OfficialSection() {
		official = append(official, doc.ID)
	}
	if got := strings.Join(official, ","); got != "doc-1,notice-1,signed-application,certificate" {
		t.Errorf("official section = %s (the register's answer belongs to the internal one)", got)
	}
}

// TestGoldenHistory keeps the JSON of the scenario's events: the store
// persists them and the connector publishes them, so their shape is a contract.
func TestGoldenHistory(t *testing.T) {
	_, all := scenario(t)
	got, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	const golden = "testdata/heirs-history.golden.json"
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the history differs from %s; if the change is meant, run go test -update and review the diff", golden)
	}
	var decoded []Event
	if err := json.Unmarshal(want, &decoded); err != nil {
		t.Fatal(err)
	}
	again, _ := json.MarshalIndent(decoded, "", "  ")
	if !bytes.Equal(append(again, '\n'), want) {
		t.Error("the golden history does not survive decoding and encoding")
	}
}

func stateJSON(t testing.TB, d *Dossier) string {
	t.Helper()
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkReplay asserts that the events rebuild d, in memory and after a trip through JSON.
func checkReplay(t testing.TB, d *Dossier, all []Event) {
	t.Helper()
	r, err := Replay(all)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r, d) {
		t.Fatalf("Replay differs from the state built step by step:\n%s\n%s", stateJSON(t, r), stateJSON(t, d))
	}
	b, err := json.Marshal(all)
	if err != nil {
		t.Fatal(err)
	}
	var decoded []Event
	if err := json.Unmarshal(b, &decoded); err != nil {
		t.Fatal(err)
	}
	r2, err := Replay(decoded)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := stateJSON(t, r2), stateJSON(t, d); a != b {
		t.Fatalf("Replay of the JSON events differs:\n%s\n%s", a, b)
	}
}

func TestReplayScenario(t *testing.T) {
	d, all := scenario(t)
	checkReplay(t, d, all)
}

// TestReplayProperty runs random commands on dossiers: whatever is accepted,
// Replay of the events gives the state the commands built step by step, and
// whatever is refused changes nothing and is a typed *Error.
func TestReplayProperty(t *testing.T) {
	svc := heirs(t)
	for walk := 0; walk < 150; walk++ {
		r := rand.New(rand.NewPCG(uint64(walk), 7))
		now := at(4, 9, 0)
		a := goodApplication()
		a.Term = []service.TermKind{service.Normal, service.Fast, service.Express}[r.IntN(3)]
		d, all, err := Open(meta(clerk, now), OpenRequest{Service: svc, Application: a, Seq: int64(walk + 1), AccessCode: code})
		if err != nil {
			t.Fatal(err)
		}
		docs := 0
		newDoc := func(kind string) Document { docs++; return doc(fmt.Sprintf("d%d", docs), kind) }
		pick := func(ids ...string) string { return ids[r.IntN(len(ids))] }
		for i := 0; i < 40; i++ {
			now = now.Add(time.Duration(r.IntN(30)) * time.Hour)
			m := meta(clerk, now)
			var tasks, stages, irrs []string
			for _, tk := range d.Tasks {
				tasks = append(tasks, tk.ID)
			}
			for _, st := range d.Stages {
				stages = append(stages, st.ID)
			}
			for _, ir := range d.Irregularities {
				irrs = append(irrs, ir.ID)
			}
			tasks, irrs = append(tasks, "T99"), append(irrs, "N9")
			items := []string{"application", "power-of-attorney", "deceased-data", "relations", "nothing"}
			before := stateJSON(t, d)
			var evs []Event
			switch r.IntN(15) {
			case 0:
				evs, err = d.FileDocument(m, newDoc(KindOther), []Section{Official, Internal, "secret"}[r.IntN(3)])
			case 1:
				evs, err = d.AssignTask(m, pick(tasks...), service.Assignee{User: "petrov"})
			case 2, 3, 4:
				evs, err = d.CompleteTask(m, pick(tasks...), "")
			case 5:
				evs, err = d.StartStage(m, pick(stages...))
			case 6:
				evs, err = d.RequestItem(m, pick(items...))
			case 7, 8:
				dc := newDoc(KindRegister)
				evs, err = d.CompleteItem(meta(regix, now), pick(items...), []ItemOutcome{Received, Unavailable}[r.IntN(2)], &dc)
			case 9:
				evs, err = d.NotifyIrregularity(m, IrregularityNotice{LegalGrounds: "x", FactualGrounds: "y", Due: Today(now).AddDays(r.IntN(10) - 2)})
			case 10:
				evs, err = d.AnswerIrregularity(meta(citizen, now), pick(irrs...), []Document{newDoc(KindOther)})
			case 11:
				if r.IntN(2) == 0 {
					evs, err = d.SuspendForAuthority(m, "000695089", "")
				} else {
					evs, err = d.Resume(m)
				}
			case 12:
				if r.IntN(2) == 0 {
					evs, err = d.MarkFeePaid(m, d.Term.Fee, "p")
				} else {
					evs, err = d.IssueResult(m, []Outcome{Granted, Refused}[r.IntN(2)], newDoc(KindResult))
				}
			case 13:
				if r.IntN(2) == 0 {
					evs, err = d.DeliverResult(m, service.PostCorrespondence, "")
				} else {
					evs, err = d.Close(m, []CloseReason{Completed, Withdrawn, Terminated}[r.IntN(3)], "")
				}
			case 14:
				evs, err = d.RaiseDeadlines(meta(Actor{Kind: System, ID: "deadlines"}, now), r.IntN(3))
			}
			if err != nil {
				var e *Error
				if !errors.As(err, &e) || e.Message.BG == "" || e.Message.EN == "" {
					t.Fatalf("walk %d step %d: refusal %v is not a typed *Error with both languages", walk, i, err)
				}
				if stateJSON(t, d) != before {
					t.Fatalf("walk %d step %d: a refused command (%v) changed the dossier", walk, i, err)
				}
				continue
			}
			all = append(all, evs...)
		}
		checkReplay(t, d, all)
	}
}

func TestReplayRefusesBrokenHistories(t *testing.T) {
	_, all := scenario(t)
	tests := map[string][]Event{
		"empty":           nil,
		"without opened":  all[1:],
		"gap":             append(append([]Event{}, all[:3]...), all[4:]...),
		"opened twice":    {all[0], func() Event { e := all[0]; e.Seq = 2; return e }()},
		"another dossier": {all[0], func() Event { e := all[1]; e.Dossier = "X-1"; return e }()},
		"type not data":   {all[0], func() Event { e := all[1]; e.Type = "dossier.closed"; return e }()},
	}
	for name, evs := range tests {
		if _, err := Replay(evs); err == nil {
			t.Errorf("%s: Replay accepted it", name)
		}
	}
	if err := json.Unmarshal([]byte(`{"dossier":"X","seq":1,"type":"dossier.exploded","data":{}}`), new(Event)); err == nil || !strings.Contains(err.Error(), `unknown type "dossier.exploded"`) {
		t.Errorf("unknown type: %v", err)
	}
}

func TestEventTypesAreStable(t *testing.T) {
	want := "dossier.closed dossier.deadline_missed dossier.deadline_near dossier.document_filed dossier.fee_paid dossier.irregularity_answered dossier.irregularity_notified " +
		"dossier.item_completed dossier.opened dossier.result_delivered dossier.result_issued dossier.resumed dossier.stage_completed " +
		"dossier.stage_started dossier.suspended dossier.system_task_requested dossier.task_assigned dossier.task_completed dossier.task_created"
	if got := strings.Join(EventTypes(), " "); got != want {
		t.Errorf("EventTypes:\n got %s\nwant %s", got, want)
	}
}

// FuzzReplay feeds the store's side of the contract: whatever bytes come
// back, decoding and replaying them gives an error or a dossier, never a panic.
func FuzzReplay(f *testing.F) {
	_, all := scenario(f)
	b, err := json.Marshal(all)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`[{"dossier":"X","seq":1,"type":"dossier.resumed","data":{}}]`))
	f.Add([]byte(`[{"dossier":"X","seq":1,"type":"dossier.opened","data":{"plan":{"stages":[{"id":"a"}]}}},{"dossier":"X","seq":2,"type":"dossier.stage_started","data":{"stage":"b"}}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var evs []Event
		if json.Unmarshal(data, &evs) != nil {
			return
		}
		d, err := Replay(evs)
		if err == nil {
			_ = d.Public()
			_ = d.Deadlines(calendar.Bulgaria(), at(20, 9, 0), 2)
			for _, e := range evs {
				_ = Describe(e)
			}
		}
	})
}
