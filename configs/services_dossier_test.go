package configs_test

import (
	"testing"
	"time"

	"github.com/aiskao/aiskao/dossier"
	"github.com/aiskao/aiskao/dossier/service"
	"github.com/aiskao/aiskao/regix"
)

// sampleData is a value of each kind of form field that the application checks accept.
var sampleData = map[service.FieldKind]string{
	service.TextField: "Примерно", service.EGNField: "7501020018", service.LNCField: "1234567893",
	service.EIKField: "831641791", service.DateField: "2026-12-04", service.NumberField: "1",
}

// TestServicesCarryDossiers takes a dossier of every catalogue service, under each of its term
// types, from an application at the counter to the last stage: the application the service asks
// for is accepted, each register item is asked for once with every parameter its operation
// requires filled from the application, and the stages all finish.
func TestServicesCarryDossiers(t *testing.T) {
	cat, err := service.LoadDir("services")
	if err != nil {
		t.Fatal(err)
	}
	ops, err := regix.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	sofia, err := time.LoadLocation("Europe/Sofia")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range cat.IDs() {
		s, _ := cat.Latest(id)
		for _, term := range s.Terms {
			t.Run(id+"/"+string(term.Kind), func(t *testing.T) {
				received := time.Date(2026, 12, 4, 9, 30, 0, 0, sofia)
				clerk := dossier.Meta{By: dossier.Actor{Kind: dossier.User, ID: "clerk"}, At: received}
				registers := dossier.Meta{By: dossier.Actor{Kind: dossier.System, ID: "registers"}, At: received}
				d, evs, err := dossier.Open(clerk, dossier.OpenRequest{Service: s, Application: application(s, term.Kind, received), Seq: 1, AccessCode: "23456789AB"})
				if err != nil {
					t.Fatalf("the application is refused: %v", err)
				}
				asked := map[string]int{}
				for round := 0; ; round++ {
					if round > 2*len(s.Stages)+len(s.Checklist) {
						t.Fatalf("the dossier does not move on; tasks: %+v", d.Tasks)
					}
					for _, ev := range evs {
						if req, ok := ev.Data.(*dossier.SystemTaskRequested); ok {
							asked[req.Item]++
							checkRequest(t, s, ops, req)
						}
					}
					evs = nil
					var open []dossier.Task
					for _, task := range d.Tasks {
						if task.Status == dossier.TaskOpen {
							open = append(open, task)
						}
					}
					if len(open) == 0 {
						break
					}
					for _, task := range open {
						var more []dossier.Event
						if task.System {
							answer := dossier.Document{ID: "answer-" + task.Item, Kind: dossier.KindRegister, Name: task.Item + ".xml", MediaType: "application/xml", Size: 1, SHA256: sha}
							more, err = d.CompleteItem(registers, task.Item, dossier.Received, &answer)
						} else {
							more, err = d.CompleteTask(clerk, task.ID, "")
						}
						if err != nil {
							t.Fatalf("task %s (stage %s): %v", task.ID, task.Stage, err)
						}
						evs = append(evs, more...)
					}
				}
				for _, st := range d.Stages {
					if st.Status != dossier.StageDone {
						t.Errorf("stage %s is %s after every task was done", st.ID, st.Status)
					}
				}
				for _, it := range s.Checklist {
					if it.Source == service.FromRegister && asked[it.ID] != 1 {
						t.Errorf("register item %s was asked for %d times, want once", it.ID, asked[it.ID])
					}
				}
				if d.Deadline.IsZero() {
					t.Error("the dossier has no deadline")
				}
			})
		}
	}
}

// sha is a well-formed SHA-256 for the documents of the walk-through.
const sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1ba2b0b822cd15d6c15b0f00a0"

// application is what a person at the counter gives for s: every field, a document for every
// item the applicant brings, term type kind and the first way of delivery the service offers.
func application(s *service.Service, kind service.TermKind, at time.Time) dossier.Application {
	a := dossier.Application{
		Service: s.ID, Channel: service.Counter, ReceivedAt: at, Term: kind,
		Applicant: dossier.Party{Kind: dossier.Person, EGN: "8506258485", Name: "Мария Петрова", Address: "ул. Образцова 1, Примерно"},
		Data:      map[string]string{},
		Delivery:  dossier.DeliveryChoice{Way: s.Deliver[0]},
	}
	if !s.Accepts(service.Counter) {
		a.Channel = s.Apply[0]
	}
	if a.Delivery.Way.NeedsAddress() {
		a.Delivery.Address = a.Applicant.Address
	}
	for _, f := range s.Fields {
		kind := f.Kind
		if kind == "" {
			kind = service.TextField
		}
		a.Data[f.ID] = sampleData[kind]
	}
	for _, it := range s.Checklist {
		if !it.Source.ExOfficio() {
			a.Documents = append(a.Documents, dossier.Document{ID: "doc-" + it.ID, Kind: it.ID, Name: it.ID + ".pdf", MediaType: "application/pdf", Size: 1, SHA256: sha})
		}
	}
	return a
}

// checkRequest checks that a request for a register item names the item's operation and fills
// every parameter the operation requires.
func checkRequest(t *testing.T, s *service.Service, ops *regix.Operations, req *dossier.SystemTaskRequested) {
	t.Helper()
	it, ok := s.Item(req.Item)
	if !ok || it.Source != service.FromRegister {
		return
	}
	if req.Operation != it.Operation {
		t.Errorf("item %s asked of %q, want %q", req.Item, req.Operation, it.Operation)
	}
	op, ok := ops.Lookup(req.Operation)
	if !ok {
		t.Errorf("item %s: no operation %q", req.Item, req.Operation)
		return
	}
	for _, p := range op.Params {
		if p.Required && req.Query[p.Name] == "" {
			t.Errorf("item %s: the request to %s leaves the required %s (%s) empty: %v", req.Item, op.Code, p.Name, p.Label, req.Query)
		}
	}
}
