package api

import (
	"errors"
	"net/http"

	"github.com/aiskao/aiskao/dossier"
	"github.com/aiskao/aiskao/dossier/calendar"
	"github.com/aiskao/aiskao/dossier/core"
	"github.com/aiskao/aiskao/dossier/service"
	"github.com/aiskao/aiskao/identity"
)

// command runs on the loaded dossier with the meta of the request's caller.
type command func(d *dossier.Dossier, m dossier.Meta) ([]dossier.Event, error)

// run runs cmd on the dossier the path names and answers the dossier as it is afterwards. The
// domain names wrong fields by its own pointers; rename maps those that the request's body
// spells otherwise. The answer shows personal data as a read does, masked when the read cannot
// be journaled.
//
// Commands take no Idempotency-Key: the core records a message it refused as consumed, so a
// retry under the same key would be answered as done; a command retried after it was applied
// is refused by the dossier's state instead (409), which tells the caller as much.
func (a *api) run(w http.ResponseWriter, r *http.Request, rename map[string]string, cmd command) {
	number := r.PathValue("number")
	by := actor(r)
	err := a.opt.Core.Do(r.Context(), number, core.Cause{}, func(d *dossier.Dossier) ([]dossier.Event, error) {
		return cmd(d, a.opt.Core.Meta(by))
	})
	var derr *dossier.Error
	if errors.As(err, &derr) && len(rename) > 0 {
		for i, f := range derr.Fields {
			if to, ok := rename[f.Pointer]; ok {
				derr.Fields[i].Pointer = to
			}
		}
	}
	if err != nil {
		a.dossierError(w, r, number, err)
		return
	}
	d, err := a.opt.Core.Get(r.Context(), number)
	if err != nil {
		a.dossierError(w, r, number, err)
		return
	}
	// The command is done: when the read cannot be journaled, the answer shows the dossier
	// masked rather than refusing, which would invite a retry of a command already applied.
	personal := principal(r).Can(identity.PersonalDataRead) && a.journal(r, number) == nil
	writeJSON(w, http.StatusOK, viewOf(d, personal))
}

// completeTaskRequest completes a task for people.
type completeTaskRequest struct {
	Note string `json:"note"`
}

func (a *api) completeTask(w http.ResponseWriter, r *http.Request) {
	var req completeTaskRequest
	if !a.decode(w, r, &req, true) {
		return
	}
	task := r.PathValue("task")
	a.run(w, r, nil, func(d *dossier.Dossier, m dossier.Meta) ([]dossier.Event, error) {
		return d.CompleteTask(m, task, req.Note)
	})
}

// assignTaskRequest gives a task to a user or a position.
type assignTaskRequest struct {
	Assignee service.Assignee `json:"assignee"`
}

func (a *api) assignTask(w http.ResponseWriter, r *http.Request) {
	var req assignTaskRequest
	if !a.decode(w, r, &req, false) {
		return
	}
	task := r.PathValue("task")
	a.run(w, r, nil, func(d *dossier.Dossier, m dossier.Meta) ([]dossier.Event, error) {
		return d.AssignTask(m, task, req.Assignee)
	})
}

// fileDocumentRequest files a document's metadata in a section; its content is in the
// document store, addressed by its id and checked by its SHA-256.
type fileDocumentRequest struct {
	Document dossier.Document `json:"document"`
	Section  dossier.Section  `json:"section"`
}

func (a *api) fileDocument(w http.ResponseWriter, r *http.Request) {
	var req fileDocumentRequest
	if !a.decode(w, r, &req, false) {
		return
	}
	a.run(w, r, nil, func(d *dossier.Dossier, m dossier.Meta) ([]dossier.Event, error) {
		return d.FileDocument(m, req.Document, req.Section)
	})
}

// completeItemRequest records the answer for an ex officio checklist item, from a register or
// another administration.
type completeItemRequest struct {
	Outcome  dossier.ItemOutcome `json:"outcome"`
	Document *dossier.Document   `json:"document"`
}

func (a *api) completeItem(w http.ResponseWriter, r *http.Request) {
	var req completeItemRequest
	if !a.decode(w, r, &req, false) {
		return
	}
	item := r.PathValue("item")
	a.run(w, r, nil, func(d *dossier.Dossier, m dossier.Meta) ([]dossier.Event, error) {
		return d.CompleteItem(m, item, req.Outcome, req.Document)
	})
}

// irregularityRequest is a notice of irregularity; due is a date, YYYY-MM-DD.
type irregularityRequest struct {
	LegalGrounds   string            `json:"legal_grounds"`
	FactualGrounds string            `json:"factual_grounds"`
	Due            string            `json:"due"`
	Notice         *dossier.Document `json:"notice"`
}

func (a *api) notifyIrregularity(w http.ResponseWriter, r *http.Request) {
	var req irregularityRequest
	if !a.decode(w, r, &req, false) {
		return
	}
	due, err := calendar.ParseDate(req.Due)
	if err != nil {
		invalid(w, r, field("/due", "invalid_value", "Датата трябва да е във вида ГГГГ-ММ-ДД.", "The date must be written YYYY-MM-DD."))
		return
	}
	n := dossier.IrregularityNotice{LegalGrounds: req.LegalGrounds, FactualGrounds: req.FactualGrounds, Due: due, Notice: req.Notice}
	a.run(w, r, nil, func(d *dossier.Dossier, m dossier.Meta) ([]dossier.Event, error) {
		return d.NotifyIrregularity(m, n)
	})
}

// answerRequest is the applicant's answer to an irregularity: the documents that remove it.
type answerRequest struct {
	Documents []dossier.Document `json:"documents"`
}

func (a *api) answerIrregularity(w http.ResponseWriter, r *http.Request) {
	var req answerRequest
	if !a.decode(w, r, &req, true) {
		return
	}
	id := r.PathValue("id")
	a.run(w, r, nil, func(d *dossier.Dossier, m dossier.Meta) ([]dossier.Event, error) {
		return d.AnswerIrregularity(m, id, req.Documents)
	})
}

// paymentRequest records the fee paid, in euro cents.
type paymentRequest struct {
	Amount    service.Money `json:"amount_cents"`
	Reference string        `json:"reference"`
}

func (a *api) markFeePaid(w http.ResponseWriter, r *http.Request) {
	var req paymentRequest
	if !a.decode(w, r, &req, false) {
		return
	}
	a.run(w, r, map[string]string{"/amount": "/amount_cents"}, func(d *dossier.Dossier, m dossier.Meta) ([]dossier.Event, error) {
		return d.MarkFeePaid(m, req.Amount, req.Reference)
	})
}

// resultRequest issues the result, or a refusal.
type resultRequest struct {
	Outcome  dossier.Outcome  `json:"outcome"`
	Document dossier.Document `json:"document"`
}

func (a *api) issueResult(w http.ResponseWriter, r *http.Request) {
	var req resultRequest
	if !a.decode(w, r, &req, false) {
		return
	}
	a.run(w, r, nil, func(d *dossier.Dossier, m dossier.Meta) ([]dossier.Event, error) {
		return d.IssueResult(m, req.Outcome, req.Document)
	})
}

// deliveryRequest records that the result reached the applicant.
type deliveryRequest struct {
	Way       service.Delivery `json:"way"`
	Reference string           `json:"reference"`
}

func (a *api) deliverResult(w http.ResponseWriter, r *http.Request) {
	var req deliveryRequest
	if !a.decode(w, r, &req, false) {
		return
	}
	a.run(w, r, nil, func(d *dossier.Dossier, m dossier.Meta) ([]dossier.Event, error) {
		return d.DeliverResult(m, req.Way, req.Reference)
	})
}

// closeRequest closes the dossier.
type closeRequest struct {
	Reason dossier.CloseReason `json:"reason"`
	Note   string              `json:"note"`
}

func (a *api) close(w http.ResponseWriter, r *http.Request) {
	var req closeRequest
	if !a.decode(w, r, &req, false) {
		return
	}
	a.run(w, r, nil, func(d *dossier.Dossier, m dossier.Meta) ([]dossier.Event, error) {
		return d.Close(m, req.Reason, req.Note)
	})
}

func (a *api) startStage(w http.ResponseWriter, r *http.Request) {
	var req struct{}
	if !a.decode(w, r, &req, true) {
		return
	}
	stage := r.PathValue("stage")
	a.run(w, r, nil, func(d *dossier.Dossier, m dossier.Meta) ([]dossier.Event, error) {
		return d.StartStage(m, stage)
	})
}

func (a *api) requestItem(w http.ResponseWriter, r *http.Request) {
	var req struct{}
	if !a.decode(w, r, &req, true) {
		return
	}
	item := r.PathValue("item")
	a.run(w, r, nil, func(d *dossier.Dossier, m dossier.Meta) ([]dossier.Event, error) {
		return d.RequestItem(m, item)
	})
}

// suspendRequest suspends the dossier while another authority, named by its ЕИК, answers.
type suspendRequest struct {
	Authority string `json:"authority"`
	Note      string `json:"note"`
}

func (a *api) suspend(w http.ResponseWriter, r *http.Request) {
	var req suspendRequest
	if !a.decode(w, r, &req, false) {
		return
	}
	a.run(w, r, nil, func(d *dossier.Dossier, m dossier.Meta) ([]dossier.Event, error) {
		return d.SuspendForAuthority(m, req.Authority, req.Note)
	})
}

func (a *api) resume(w http.ResponseWriter, r *http.Request) {
	var req struct{}
	if !a.decode(w, r, &req, true) {
		return
	}
	a.run(w, r, nil, func(d *dossier.Dossier, m dossier.Meta) ([]dossier.Event, error) {
		return d.Resume(m)
	})
}
