package dossierconn

import (
	"context"
	"sort"
	"strings"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/dossier"
	"github.com/aiskao/aiskao/dossier/core"
	"github.com/aiskao/aiskao/dossier/service"
)

// Command is the payload of a dossier.Command message: the command's name, the dossier (or the
// message's subject), who acts (default: the system, by the message's source) and the
// command's arguments, of which each command reads its own.
type Command struct {
	Command string         `json:"command"`
	Number  string         `json:"number"`
	By      *dossier.Actor `json:"by"`

	Stage       string                      `json:"stage"`
	Task        string                      `json:"task"`
	Item        string                      `json:"item"`
	ID          string                      `json:"id"`
	Note        string                      `json:"note"`
	Assignee    service.Assignee            `json:"assignee"`
	Document    *dossier.Document           `json:"document"`
	Documents   []dossier.Document          `json:"documents"`
	Section     dossier.Section             `json:"section"`
	ItemOutcome dossier.ItemOutcome         `json:"item_outcome"`
	Notice      *dossier.IrregularityNotice `json:"notice"`
	Authority   string                      `json:"authority"`
	Amount      service.Money               `json:"amount_cents"`
	Reference   string                      `json:"reference"`
	Outcome     dossier.Outcome             `json:"outcome"`
	Way         service.Delivery            `json:"way"`
	Reason      dossier.CloseReason         `json:"reason"`
}

// commands are the commands a dossier.Command runs, by name.
var commands = map[string]func(d *dossier.Dossier, m dossier.Meta, c Command) ([]dossier.Event, error){
	"file_document": func(d *dossier.Dossier, m dossier.Meta, c Command) ([]dossier.Event, error) {
		section := c.Section
		if section == "" {
			section = dossier.Internal
		}
		return d.FileDocument(m, deref(c.Document), section)
	},
	"start_stage": func(d *dossier.Dossier, m dossier.Meta, c Command) ([]dossier.Event, error) {
		return d.StartStage(m, c.Stage)
	},
	"assign_task": func(d *dossier.Dossier, m dossier.Meta, c Command) ([]dossier.Event, error) {
		return d.AssignTask(m, c.Task, c.Assignee)
	},
	"complete_task": func(d *dossier.Dossier, m dossier.Meta, c Command) ([]dossier.Event, error) {
		return d.CompleteTask(m, c.Task, c.Note)
	},
	"request_item": func(d *dossier.Dossier, m dossier.Meta, c Command) ([]dossier.Event, error) {
		return d.RequestItem(m, c.Item)
	},
	"complete_item": func(d *dossier.Dossier, m dossier.Meta, c Command) ([]dossier.Event, error) {
		outcome := c.ItemOutcome
		if outcome == "" {
			outcome = dossier.Received
		}
		return d.CompleteItem(m, c.Item, outcome, c.Document)
	},
	"notify_irregularity": func(d *dossier.Dossier, m dossier.Meta, c Command) ([]dossier.Event, error) {
		return d.NotifyIrregularity(m, *c.Notice)
	},
	"answer_irregularity": func(d *dossier.Dossier, m dossier.Meta, c Command) ([]dossier.Event, error) {
		return d.AnswerIrregularity(m, c.ID, c.Documents)
	},
	"suspend_for_authority": func(d *dossier.Dossier, m dossier.Meta, c Command) ([]dossier.Event, error) {
		return d.SuspendForAuthority(m, c.Authority, c.Note)
	},
	"resume": func(d *dossier.Dossier, m dossier.Meta, c Command) ([]dossier.Event, error) {
		return d.Resume(m)
	},
	"mark_fee_paid": func(d *dossier.Dossier, m dossier.Meta, c Command) ([]dossier.Event, error) {
		return d.MarkFeePaid(m, c.Amount, c.Reference)
	},
	"issue_result": func(d *dossier.Dossier, m dossier.Meta, c Command) ([]dossier.Event, error) {
		return d.IssueResult(m, c.Outcome, deref(c.Document))
	},
	"deliver_result": func(d *dossier.Dossier, m dossier.Meta, c Command) ([]dossier.Event, error) {
		return d.DeliverResult(m, c.Way, c.Reference)
	},
	"close": func(d *dossier.Dossier, m dossier.Meta, c Command) ([]dossier.Event, error) {
		return d.Close(m, c.Reason, c.Note)
	},
}

func deref(d *dossier.Document) dossier.Document {
	if d == nil {
		return dossier.Document{}
	}
	return *d
}

// CommandNames lists the commands a dossier.Command may name.
func CommandNames() []string {
	out := make([]string, 0, len(commands))
	for name := range commands {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// command runs the command a dossier.Command message names.
func (s *sink) command(ctx context.Context, msg *message.Message, cause core.Cause) error {
	var c Command
	if err := decode(msg, &c); err != nil {
		return err
	}
	run, ok := commands[c.Command]
	if !ok {
		return bad("/command: %q is no command; use one of %s", c.Command, strings.Join(CommandNames(), ", "))
	}
	if c.Command == "notify_irregularity" && c.Notice == nil {
		return bad("/notice: notify_irregularity needs the notice")
	}
	num, err := number(msg, c.Number)
	if err != nil {
		return err
	}
	by := systemActor(msg, s.name)
	if c.By != nil {
		by = *c.By
	}
	return s.n.core.Do(ctx, num, cause, func(d *dossier.Dossier) ([]dossier.Event, error) {
		return run(d, s.n.core.Meta(by), c)
	})
}
