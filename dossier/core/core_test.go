package core_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aiskao/aiskao/internal/testpg"

	"github.com/aiskao/aiskao/dossier"
	"github.com/aiskao/aiskao/dossier/core"
	"github.com/aiskao/aiskao/dossier/service"
	"github.com/aiskao/aiskao/dossier/store"
	"github.com/aiskao/aiskao/dossier/store/postgres"
	"github.com/aiskao/aiskao/dossier/store/sqlite"
	"github.com/aiskao/aiskao/envelope"
)

const sum = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

var sofia, _ = time.LoadLocation("Europe/Sofia")

var (
	clerk = dossier.Actor{Kind: dossier.User, ID: "ivanova"}
	regix = dossier.Actor{Kind: dossier.System, ID: "registers"}
)

// backend opens a store on one database, again and again (as after a restart).
type backend struct {
	name string
	open func(t testing.TB) store.Store
}

// backends are the stores the core is tested on: SQLite always, PostgreSQL when reachable (and
// always under CI).
func backends(t testing.TB) []backend {
	t.Helper()
	out := []backend{{"sqlite", func() func(t testing.TB) store.Store {
		path := filepath.Join(t.TempDir(), "aiskao.db")
		return func(t testing.TB) store.Store {
			s, err := sqlite.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return s
		}
	}()}}
	if cfg, ok := pgConfig(t); ok {
		out = append(out, backend{"postgres", func(t testing.TB) store.Store {
			s, err := postgres.New(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return s
		}})
	}
	return out
}

// pgConfig returns a schema of its own on the test server, dropped after the test; false when
// there is no server and CI is not set.
func pgConfig(t testing.TB) (postgres.Config, bool) {
	t.Helper()
	u, err := testpg.Reach()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL is not reachable at %s: %v", testpg.Redact(u), err)
		}
		t.Logf("PostgreSQL is not reachable (set %s); testing SQLite only: %v", testpg.URLVar, err)
		return postgres.Config{}, false
	}
	schema := testpg.Schema(t, "dossier_core_test_")
	return postgres.Config{URL: u, Schema: schema, MaxConns: 8}, true
}

// clock is a settable time.
type clock struct{ t atomic.Pointer[time.Time] }

func newClock(t time.Time) *clock { c := &clock{}; c.set(t); return c }
func (c *clock) set(t time.Time)  { c.t.Store(&t) }
func (c *clock) now() time.Time   { return *c.t.Load() }

func catalog(t testing.TB) *service.Catalog {
	t.Helper()
	cat, err := service.LoadDir("../service/testdata")
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func newCore(t *testing.T, s store.Store, clk *clock) *core.Core {
	t.Helper()
	c, err := core.New(core.Options{Store: s, Services: catalog(t), Clock: clk.now, ApplicantKey: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func application() dossier.Application {
	return dossier.Application{
		Service:    "2016",
		Channel:    service.Counter,
		ReceivedAt: time.Date(2026, 12, 4, 9, 30, 0, 0, sofia),
		Applicant:  dossier.Party{Kind: dossier.Person, EGN: "8506258485", Name: "Мария Петрова", Address: "ул. Образцова 1, Примерно"},
		Documents:  []dossier.Document{doc("doc-1", "application")},
		Data:       map[string]string{"deceased_egn": "7501020018", "deceased_name": "Петър Петров"},
		Term:       service.Normal,
		Delivery:   dossier.DeliveryChoice{Way: service.PostCorrespondence},
	}
}

func doc(id, kind string) dossier.Document {
	return dossier.Document{ID: id, Kind: kind, Name: id + ".pdf", MediaType: "application/pdf", Size: 2048, SHA256: sum}
}

// drain publishes the outbox and returns what was published.
func drain(t *testing.T, s store.Store) []store.Message {
	t.Helper()
	var got []store.Message
	var mu sync.Mutex
	r := store.NewRelay(s, func(_ context.Context, m store.Message) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, m)
		return nil
	}, store.RelayOptions{})
	if _, err := r.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	return got
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestLifeCycle takes a certificate of heirs from the counter to the end: registered, the
// register checks asked through messages and answered, an irregularity suspends and its answer
// resumes, the result issued and delivered, closed.
func TestLifeCycle(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			clk := newClock(time.Date(2026, 12, 4, 9, 30, 0, 0, sofia))
			c := newCore(t, s, clk)
			reg, err := c.Register(ctx, core.Input{Application: application(), By: clerk}, core.Cause{Inbox: "msg-1", Correlation: "corr-1"})
			must(t, err)
			if reg.Number != "ОБА3-1/04.12.2026" || len(reg.AccessCode) != dossier.AccessCodeLength || reg.Again {
				t.Fatalf("Register = %+v", reg)
			}
			if n, err := c.Find(ctx, core.KeyAccess, dossier.HashAccessCode(reg.AccessCode)); err != nil || n != reg.Number {
				t.Errorf("find by access code = %q, %v", n, err)
			}
			if v, err := c.Public(ctx, reg.Number, strings.ToLower(reg.AccessCode)); err != nil || v.Number != reg.Number {
				t.Errorf("the applicant's view = %+v, %v", v, err)
			}
			for _, tt := range []struct{ number, code string }{{reg.Number, "23456789AB"}, {"ОБА3-99/04.12.2026", reg.AccessCode}} {
				if _, err := c.Public(ctx, tt.number, tt.code); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("the view of %s with code %s = %v, want not found", tt.number, tt.code, err)
				}
			}
			summ, err := s.Summary(ctx, reg.Number)
			must(t, err)
			if summ.State != "open" || !summ.Active || summ.Assignee != "position:front-office-clerk" || summ.Unit != "ОБА3" ||
				summ.Deadline.String() != "2026-12-15" || summ.Applicant != c.ApplicantKey("8506258485") || strings.Contains(summ.Applicant, "8506258485") {
				t.Errorf("summary = %+v", summ)
			}
			msgs := drain(t, s)
			if len(msgs) != 4 || msgs[0].Type != "dossier.opened" || msgs[0].Metadata[envelope.Subject] != reg.Number ||
				msgs[0].Metadata[envelope.CausationID] != "msg-1" || msgs[0].Metadata[envelope.CorrelationID] != "corr-1" {
				t.Fatalf("messages of the registration = %+v", msgs)
			}
			for _, m := range msgs {
				if bytes.Contains(m.Payload, []byte("8506258485")) || bytes.Contains(m.Payload, []byte("Мария")) {
					t.Errorf("%s carries the applicant's personal data: %s", m.Type, m.Payload)
				}
			}

			do := func(inbox string, cmd core.Command) {
				t.Helper()
				clk.set(clk.now().Add(time.Minute))
				must(t, c.Do(ctx, reg.Number, core.Cause{Inbox: inbox, Correlation: "corr-1"}, cmd))
			}
			do("", func(d *dossier.Dossier) ([]dossier.Event, error) {
				return d.CompleteTask(c.Meta(clerk), "T1", "accepted")
			})
			// The two register checks go out as messages for RegiX, with the ЕГН they ask about.
			msgs = drain(t, s)
			var asks []store.Message
			for _, m := range msgs {
				if m.Type == "dossier.system_task_requested" {
					asks = append(asks, m)
				}
			}
			if len(asks) != 2 {
				t.Fatalf("system task requests = %d of %d messages", len(asks), len(msgs))
			}
			for _, m := range asks {
				if m.Metadata[core.MetaPersonalData] != "true" || m.Metadata[core.MetaTask] == "" || m.Metadata[core.MetaItem] == "" ||
					!strings.HasPrefix(m.Metadata[core.MetaOperation], "TechnoLogica.RegiX.GraoNBDAdapter") || !bytes.Contains(m.Payload, []byte("7501020018")) {
					t.Errorf("system task request = %+v %s", m.Metadata, m.Payload)
				}
			}
			// Their answers come back as CompleteItem, each message applied once.
			for i, m := range asks {
				item := m.Metadata[core.MetaItem]
				answer := &dossier.Document{ID: "regix-" + item, Kind: dossier.KindRegister, Name: "answer.xml", MediaType: "application/xml", Size: 900, SHA256: sum}
				for range 2 { // redelivered
					do(fmt.Sprintf("answer-%d", i), func(d *dossier.Dossier) ([]dossier.Event, error) {
						return d.CompleteItem(c.Meta(regix), item, dossier.Received, answer)
					})
				}
			}
			do("irr-1", func(d *dossier.Dossier) ([]dossier.Event, error) {
				return d.NotifyIrregularity(c.Meta(clerk), dossier.IrregularityNotice{LegalGrounds: "чл. 30, ал. 1 АПК", FactualGrounds: "Заявлението не е подписано.", Due: dossier.Today(clk.now()).AddDays(7)})
			})
			summ, err = s.Summary(ctx, reg.Number)
			must(t, err)
			if summ.State != "suspended" {
				t.Errorf("after the irregularity: state %s", summ.State)
			}
			do("irr-answer", func(d *dossier.Dossier) ([]dossier.Event, error) {
				return d.AnswerIrregularity(c.Meta(clerk), "N1", []dossier.Document{doc("signed", "application")})
			})
			d, err := c.Get(ctx, reg.Number)
			must(t, err)
			if d.Status != dossier.StatusOpen || len(d.OpenTasks()) != 1 || d.OpenTasks()[0].Stage != "prepare" {
				t.Fatalf("after the answer: %s, open tasks %+v", d.Status, d.OpenTasks())
			}
			prepare := d.OpenTasks()[0].ID
			do("", func(d *dossier.Dossier) ([]dossier.Event, error) { return d.CompleteTask(c.Meta(clerk), prepare, "") })
			sign := "T" + fmt.Sprint(len(d.Tasks)+1)
			do("", func(d *dossier.Dossier) ([]dossier.Event, error) {
				return d.CompleteTask(c.Meta(clerk), sign, "signed")
			})
			do("", func(d *dossier.Dossier) ([]dossier.Event, error) {
				return d.MarkFeePaid(c.Meta(regix), 205, "epay-1")
			})
			do("", func(d *dossier.Dossier) ([]dossier.Event, error) {
				return d.IssueResult(c.Meta(clerk), dossier.Granted, doc("certificate", ""))
			})
			do("", func(d *dossier.Dossier) ([]dossier.Event, error) {
				return d.DeliverResult(c.Meta(clerk), service.PostCorrespondence, "RR1BG")
			})
			do("", func(d *dossier.Dossier) ([]dossier.Event, error) {
				return d.Close(c.Meta(clerk), dossier.Completed, "")
			})

			summ, err = s.Summary(ctx, reg.Number)
			must(t, err)
			if summ.State != "closed" || summ.Active || !summ.Deadline.IsZero() {
				t.Errorf("closed summary = %+v", summ)
			}
			hist, err := c.History(ctx, reg.Number)
			must(t, err)
			msgs = drain(t, s)
			if len(msgs) == 0 || msgs[len(msgs)-1].Type != "dossier.closed" {
				t.Fatalf("last message = %+v", msgs)
			}
			// Every event went out once, in order: those drained before and these.
			if got := hist[len(hist)-1].Seq; fmt.Sprint(got) != msgs[len(msgs)-1].Metadata[core.MetaSeq] {
				t.Errorf("last event %d, last message %s", got, msgs[len(msgs)-1].Metadata[core.MetaSeq])
			}
			items := 0
			for _, e := range hist {
				if e.Type == "dossier.item_completed" {
					items++
				}
			}
			if items != 2 {
				t.Errorf("redelivered answers completed %d items, want 2", items)
			}
			page, err := c.Tasks(ctx, store.Query{Active: true})
			must(t, err)
			if len(page.Items) != 0 {
				t.Errorf("active dossiers after closing: %+v", page.Items)
			}
		})
	}
}

// TestRefused: a bad application is refused whole with the field named, and takes no number.
func TestRefused(t *testing.T) {
	ctx := context.Background()
	b := backends(t)[0]
	s := b.open(t)
	c := newCore(t, s, newClock(time.Date(2026, 12, 4, 9, 30, 0, 0, sofia)))
	tests := []struct {
		name    string
		change  func(a *dossier.Application)
		pointer string
	}{
		{"unknown service", func(a *dossier.Application) { a.Service = "9999" }, "/service"},
		{"invalid ЕГН", func(a *dossier.Application) { a.Applicant.EGN = "8506258484" }, "/applicant/egn"},
		{"term not offered", func(a *dossier.Application) { a.Term = "urgent" }, "/term"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := application()
			tt.change(&app)
			_, err := c.Register(ctx, core.Input{Application: app}, core.Cause{Inbox: "bad-" + tt.name})
			var derr *dossier.Error
			if !errors.As(err, &derr) || derr.Field(tt.pointer) == nil {
				t.Fatalf("Register = %v, want a refusal naming %s", err, tt.pointer)
			}
		})
	}
	reg, err := c.Register(ctx, core.Input{Application: application()}, core.Cause{})
	must(t, err)
	if reg.Number != "ОБА3-1/04.12.2026" {
		t.Errorf("the first good application got %s: a refused one took a number", reg.Number)
	}
	if msgs := drain(t, s); len(msgs) != 4 {
		t.Errorf("%d messages; refusals wrote some", len(msgs))
	}
}

// TestRedelivered: a registration and a command redelivered under the same message id change
// nothing the second time.
func TestRedelivered(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			c := newCore(t, s, newClock(time.Date(2026, 12, 4, 9, 30, 0, 0, sofia)))
			first, err := c.Register(ctx, core.Input{Application: application()}, core.Cause{Inbox: "esoed-1"})
			must(t, err)
			again, err := c.Register(ctx, core.Input{Application: application()}, core.Cause{Inbox: "esoed-1"})
			must(t, err)
			if !again.Again || again.Number != first.Number || again.AccessCode != "" {
				t.Errorf("redelivered registration = %+v, first %+v", again, first)
			}
			for range 3 {
				must(t, c.Do(ctx, first.Number, core.Cause{Inbox: "file-1"}, func(d *dossier.Dossier) ([]dossier.Event, error) {
					return d.FileDocument(c.Meta(clerk), doc("letter-"+fmt.Sprint(d.Seq), dossier.KindCorrespond), dossier.Internal)
				}))
			}
			err = c.Do(ctx, first.Number, core.Cause{Inbox: "bad-1"}, func(d *dossier.Dossier) ([]dossier.Event, error) {
				return d.CompleteTask(c.Meta(clerk), "T99", "")
			})
			var derr *dossier.Error
			if !errors.As(err, &derr) || derr.Kind != dossier.NotFound {
				t.Errorf("a command on a task the dossier lacks = %v, want its refusal", err)
			}
			hist, err := c.History(ctx, first.Number)
			must(t, err)
			if n := countType(hist, "dossier.document_filed"); n != 2 { // the application's and the letter
				t.Errorf("%d documents filed, want 2", n)
			}
			if msgs := drain(t, s); len(msgs) != len(hist) {
				t.Errorf("%d messages for %d events", len(msgs), len(hist))
			}
		})
	}
}

func countType(evs []dossier.Event, typ string) int {
	n := 0
	for _, e := range evs {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// TestConcurrent: commands on one dossier from many goroutines all land, one after the other,
// by retrying on conflicts.
func TestConcurrent(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			c := newCore(t, s, newClock(time.Date(2026, 12, 4, 9, 30, 0, 0, sofia)))
			reg, err := c.Register(ctx, core.Input{Application: application()}, core.Cause{})
			must(t, err)
			const n = 8
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs <- c.Do(ctx, reg.Number, core.Cause{Inbox: fmt.Sprintf("letter-%d", i)}, func(d *dossier.Dossier) ([]dossier.Event, error) {
						return d.FileDocument(c.Meta(clerk), doc(fmt.Sprintf("letter-%d", i), dossier.KindCorrespond), dossier.Internal)
					})
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				must(t, err)
			}
			hist, err := c.History(ctx, reg.Number)
			must(t, err)
			if got := countType(hist, "dossier.document_filed"); got != n+1 {
				t.Errorf("%d documents filed, want %d", got, n+1)
			}
		})
	}
}

// TestCrashBeforePublishing: the process stops after the commit and before the relay published;
// after the restart the relay publishes each message exactly once.
func TestCrashBeforePublishing(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			c := newCore(t, s, newClock(time.Date(2026, 12, 4, 9, 30, 0, 0, sofia)))
			reg, err := c.Register(ctx, core.Input{Application: application()}, core.Cause{Inbox: "m1"})
			must(t, err)
			must(t, s.Close()) // no relay ran: the messages are only in the outbox

			s = b.open(t)
			hist, err := newCore(t, s, newClock(time.Now())).History(ctx, reg.Number)
			must(t, err)
			msgs := drain(t, s)
			if len(msgs) != len(hist) {
				t.Fatalf("published %d messages for %d events", len(msgs), len(hist))
			}
			seen := map[string]bool{}
			for _, m := range msgs {
				if seen[m.ID] {
					t.Errorf("message %s published twice", m.ID)
				}
				seen[m.ID] = true
			}
			if again := drain(t, s); len(again) != 0 {
				t.Errorf("published %d messages again", len(again))
			}
		})
	}
}

// TestDeadlines: deadline alerts are raised once, however many watchers run.
func TestDeadlines(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			clk := newClock(time.Date(2026, 12, 4, 9, 30, 0, 0, sofia))
			c := newCore(t, s, clk)
			reg, err := c.Register(ctx, core.Input{Application: application()}, core.Cause{})
			must(t, err)
			other, err := c.Register(ctx, core.Input{Application: application()}, core.Cause{})
			must(t, err)
			must(t, c.Do(ctx, other.Number, core.Cause{}, func(d *dossier.Dossier) ([]dossier.Event, error) {
				return d.Close(c.Meta(clerk), dossier.Withdrawn, "")
			}))
			drain(t, s)

			// At once: nothing. The first stage, of one working day, is not near on the day it starts.
			n, err := c.RaiseDeadlines(ctx)
			must(t, err)
			if n != 0 {
				t.Errorf("%d alerts at registration", n)
			}
			// Monday 7th: the first stage's last day is near, before the overall deadline.
			clk.set(time.Date(2026, 12, 7, 8, 0, 0, 0, sofia))
			n, err = c.RaiseDeadlines(ctx)
			must(t, err)
			hist, err := c.History(ctx, reg.Number)
			must(t, err)
			if last, ok := hist[len(hist)-1].Data.(*dossier.DeadlineNear); n != 1 || !ok || last.Kind != dossier.StageTerm || last.Ref != "register" {
				t.Errorf("alerts on the stage's last day: %d, last event %s", n, hist[len(hist)-1].Type)
			}

			// Friday 11th: the overall deadline, Tuesday 15th, is two working days away.
			clk.set(time.Date(2026, 12, 11, 8, 0, 0, 0, sofia))
			watchers := []*core.Core{c, newCore(t, b.open(t), clk), newCore(t, s, clk)}
			var wg sync.WaitGroup
			for _, w := range watchers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := w.RaiseDeadlines(ctx); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			clk.set(time.Date(2026, 12, 16, 8, 0, 0, 0, sofia))
			n, err = c.RaiseDeadlines(ctx)
			must(t, err)
			if n == 0 {
				t.Error("no alert once the deadline passed")
			}
			for _, number := range []string{reg.Number, other.Number} {
				hist, err := c.History(ctx, number)
				must(t, err)
				overall := map[string]int{}
				for _, e := range hist {
					switch p := e.Data.(type) {
					case *dossier.DeadlineNear:
						if p.Kind == dossier.Overall {
							overall[e.Type]++
						}
					case *dossier.DeadlineMissed:
						if p.Kind == dossier.Overall {
							overall[e.Type]++
						}
					}
				}
				want := map[string]int{"dossier.deadline_near": 1, "dossier.deadline_missed": 1}
				if number == other.Number {
					want = map[string]int{}
				}
				if fmt.Sprint(overall) != fmt.Sprint(want) {
					t.Errorf("%s: overall alerts %v, want %v", number, overall, want)
				}
			}
			msgs := drain(t, s)
			if countMsgs(msgs, "dossier.deadline_missed") == 0 || msgs[0].Metadata[envelope.Subject] != reg.Number {
				t.Errorf("alert messages = %+v", msgs)
			}
		})
	}
}

func countMsgs(msgs []store.Message, typ string) int {
	n := 0
	for _, m := range msgs {
		if m.Type == typ {
			n++
		}
	}
	return n
}

// TestMoreMessages: the messages Options.Messages adds are written in the change's commit, with
// the change's subject, causation and correlation.
func TestMoreMessages(t *testing.T) {
	ctx := context.Background()
	s := backends(t)[0].open(t)
	c, err := core.New(core.Options{Store: s, Services: catalog(t), Clock: newClock(time.Date(2026, 12, 4, 9, 30, 0, 0, sofia)).now,
		ApplicantKey: []byte("0123456789abcdef"),
		Messages: func(d *dossier.Dossier, evs []dossier.Event) ([]store.Message, error) {
			if evs[0].Type != "dossier.opened" {
				return nil, nil
			}
			return []store.Message{{Type: "channel.Registered", Payload: []byte(d.Number)}}, nil
		}})
	must(t, err)
	reg, err := c.Register(ctx, core.Input{Application: application()}, core.Cause{Inbox: "m1", Correlation: "c1"})
	must(t, err)
	var got []store.Message
	for _, m := range drain(t, s) {
		if m.Type == "channel.Registered" {
			got = append(got, m)
		}
	}
	if len(got) != 1 || string(got[0].Payload) != reg.Number || got[0].Metadata[envelope.Subject] != reg.Number ||
		got[0].Metadata[envelope.Type] != "channel.Registered" || got[0].Metadata[envelope.CausationID] != "m1" || got[0].Metadata[envelope.CorrelationID] != "c1" {
		t.Errorf("added messages = %+v", got)
	}
}

// TestIrregularityDeadline: the applicant's deadline to remove an irregularity is watched while
// the dossier is suspended, though the dossier's own deadlines stand still.
func TestIrregularityDeadline(t *testing.T) {
	ctx := context.Background()
	s := backends(t)[0].open(t)
	clk := newClock(time.Date(2026, 12, 4, 9, 30, 0, 0, sofia))
	c := newCore(t, s, clk)
	reg, err := c.Register(ctx, core.Input{Application: application()}, core.Cause{})
	must(t, err)
	must(t, c.Do(ctx, reg.Number, core.Cause{}, func(d *dossier.Dossier) ([]dossier.Event, error) {
		return d.CompleteTask(c.Meta(clerk), "T1", "")
	}))
	must(t, c.Do(ctx, reg.Number, core.Cause{}, func(d *dossier.Dossier) ([]dossier.Event, error) {
		return d.NotifyIrregularity(c.Meta(clerk), dossier.IrregularityNotice{LegalGrounds: "чл. 30 АПК", FactualGrounds: "Липсва подпис.", Due: dossier.Today(clk.now()).AddDays(7)})
	}))
	clk.set(time.Date(2026, 12, 10, 8, 0, 0, 0, sofia)) // the 11th is the last day
	n, err := c.RaiseDeadlines(ctx)
	must(t, err)
	hist, err := c.History(ctx, reg.Number)
	must(t, err)
	last, ok := hist[len(hist)-1].Data.(*dossier.DeadlineNear)
	if n != 1 || !ok || last.Kind != dossier.IrregularityTerm {
		t.Errorf("alerts: %d, last event %s", n, hist[len(hist)-1].Type)
	}
}
