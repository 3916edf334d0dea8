// Package esoedstep holds the esoed_status step, which turns a received ЕСОЕД registration or
// status request into the status response (DocumentStatusResponse) an administration sends
// back through an esoed sink when the document's status changes, per the СЕОС specification
// v1.1 (ЗР.1–ЗР.9: registered, refused, stopped, closed).
package esoedstep

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"text/template"
	"time"

	"github.com/google/uuid"

	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/esoed"
	"github.com/aiskao/aiskao/fault"
	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/transforms"
)

func init() {
	transforms.Register(transforms.Factory{
		Name: "esoed_status",
		Doc: "Replaces an ЕСОЕД registration request or status request (the XML payload, as an esoed " +
			"source hands it on) with the status response that tells its sender the document's status: a " +
			"new MessageGUID, sender and recipient swapped, the document's GUID, the status, and the number " +
			"the document is registered under here, unsigned (the esoed sink signs it). Registered, stopped, " +
			"closed and already-received documents carry the number made by the number template, dated the " +
			"day the message reached the hub; the other statuses repeat the sender's number. Sent through an " +
			"esoed sink, the response also becomes the status the endpoint answers status requests with " +
			"(ПС.1–ПС.7). The metadata type becomes esoed.DocumentStatusResponse and esoed_status the status.",
		Config: &Options{},
		New:    New,
	})
}

// Statuses that name the document by its number here, not by the sender's (ЗР.1, ЗР.7–ЗР.9).
var ownNumber = map[string]bool{
	esoed.StatusRegistered: true, esoed.StatusStopped: true, esoed.StatusClosed: true, esoed.StatusAlreadyReceived: true,
}

// maxDelay bounds delay: the step holds the message, and one of the route's consumers, meanwhile.
const maxDelay = 10 * time.Minute

// Options configures esoed_status.
type Options struct {
	Status          string        `yaml:"status" doc:"The status told (DocRegStatus)." required:"true" enum:"DS_WAIT_REGISTRATION,DS_REGISTERED,DS_STOPPED,DS_CLOSED,DS_NOT_FOUND,DS_ALREADY_RECEIVED,DS_REJECTED"`
	Number          string        `yaml:"number" doc:"DS_REGISTERED, DS_STOPPED, DS_CLOSED, DS_ALREADY_RECEIVED: Go text/template of the number the document is registered under here. It sees .number (the sender's number, empty when it gave none), .guid (the document's GUID without braces), .meta (the metadata) and .date (the registration date, 2006-01-02). Empty: the document keeps the sender's number and date, which the specification allows." example:"ПД-94-{{slice .guid 0 8}}"`
	RejectionReason string        `yaml:"rejection_reason" doc:"DS_REJECTED: why registration was refused (RejectionReason); required with it, not allowed with another status." example:"Непълен комплект документи"`
	ExpectCloseDays int           `yaml:"expect_close_days" doc:"DS_REGISTERED: the expected date work on the document ends (DocExpectCloseDate), this many days after the registration date; 0 writes none." min:"0" max:"3650" example:"14"`
	Delay           spec.Duration `yaml:"delay" doc:"Wait until this long after the message reached the hub before making the response, so that statuses made by several routes from one message reach the other side in order (DS_REGISTERED before DS_CLOSED). The message, and one of the route's consumers, is held meanwhile: for demonstrations and tests; at most 10m, and below the route's timeout." example:"2s"`
}

// Validate checks that the options fit the status.
func (o *Options) Validate() error {
	switch {
	case o.Number != "" && !ownNumber[o.Status]:
		return spec.FieldErrorf("number", "%s repeats the sender's number; number is for DS_REGISTERED, DS_STOPPED, DS_CLOSED and DS_ALREADY_RECEIVED", o.Status)
	case o.Status == esoed.StatusRejected && strings.TrimSpace(o.RejectionReason) == "":
		return spec.FieldErrorf("rejection_reason", "required with DS_REJECTED: the sender is told why")
	case o.Status != esoed.StatusRejected && o.RejectionReason != "":
		return spec.FieldErrorf("rejection_reason", "only with DS_REJECTED")
	case o.ExpectCloseDays != 0 && o.Status != esoed.StatusRegistered:
		return spec.FieldErrorf("expect_close_days", "only with DS_REGISTERED")
	case o.Delay < 0 || o.Delay.D() > maxDelay:
		return spec.FieldErrorf("delay", "must be 0 to %v", maxDelay)
	}
	if o.Number != "" {
		if _, err := template.New("number").Option("missingkey=zero").Parse(o.Number); err != nil {
			return spec.FieldErrorf("number", "%v", err)
		}
	}
	return nil
}

// Step is a configured esoed_status step.
type Step struct {
	opts   Options
	number *template.Template // nil: the sender's number
	now    func() time.Time
}

// New makes the step from validated options.
func New(cfg any, _ transforms.Env) (transforms.Step, error) {
	o := *cfg.(*Options)
	if err := spec.Validate(o); err != nil {
		return nil, err
	}
	s := &Step{opts: o, now: time.Now}
	if o.Number != "" {
		s.number = template.Must(template.New("number").Option("missingkey=zero").Parse(o.Number))
	}
	return s, nil
}

// Apply replaces the request in the payload with the status response.
func (s *Step) Apply(ctx context.Context, m *transforms.Message) error {
	received := s.now()
	if t, err := time.Parse(time.RFC3339Nano, m.Metadata[envelope.Time]); err == nil {
		received = t
	}
	if wait := time.Until(received.Add(s.opts.Delay.D())); s.opts.Delay > 0 && wait > 0 {
		timer := time.NewTimer(wait)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return fault.Retryable(fmt.Errorf("esoed_status: delay: %w", ctx.Err()))
		}
	}

	raw, err := m.Payload()
	if err != nil {
		return fmt.Errorf("esoed_status: %w", err)
	}
	req, _, err := esoed.ParseMessageWith(bytes.NewReader(raw), esoed.ParseOptions{
		Attachment: func(_ int, _ *esoed.Attachment, content io.Reader) error {
			_, err := io.Copy(io.Discard, content) // only the document's identification is needed
			return err
		},
	})
	if err != nil {
		return fmt.Errorf("esoed_status: the payload is not an ЕСОЕД message: %w", err)
	}
	var asked esoed.DocID
	switch {
	case req.Body.RegistrationRequest != nil:
		asked = req.Body.RegistrationRequest.Document.ID
	case req.Body.StatusRequest != nil:
		asked = req.Body.StatusRequest.DocID
	default:
		return fmt.Errorf("esoed_status: %s concerns no document received; a status response answers %s or %s",
			req.Header.MessageType, esoed.TypeRegistrationRequest, esoed.TypeStatusRequest)
	}

	local := received.In(time.Local)
	regDate := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, time.UTC)
	sr := &esoed.StatusResponse{DocID: asked, Status: s.opts.Status, RejectionReason: s.opts.RejectionReason}
	if s.number != nil {
		senderNumber := ""
		if asked.Number != nil {
			senderNumber = asked.Number.Number
		}
		var b strings.Builder
		if err := s.number.Execute(&b, map[string]any{
			"number": senderNumber, "guid": strings.ToLower(strings.Trim(asked.GUID, "{}")),
			"meta": m.Metadata, "date": regDate.Format(time.DateOnly),
		}); err != nil {
			return fmt.Errorf("esoed_status: number: %w", err)
		}
		n := strings.TrimSpace(b.String())
		if n == "" {
			return fmt.Errorf("esoed_status: number: the template gave an empty number for document %s", asked.GUID)
		}
		sr.DocID = esoed.DocID{Number: &esoed.DocNumber{Number: n, Date: regDate}, GUID: asked.GUID}
	}
	if s.opts.ExpectCloseDays > 0 {
		sr.ExpectCloseDate = regDate.AddDate(0, 0, s.opts.ExpectCloseDays)
	}
	out, err := esoed.Marshal(&esoed.Message{
		Header: esoed.Header{
			MessageDate: s.now(),
			Sender:      req.Header.Recipient,
			Recipient:   req.Header.Sender,
			// A new GUID on every try: a response the other side received before a retry must
			// not make the retry a duplicate (П.9).
			MessageGUID: "{" + uuid.NewString() + "}",
		},
		Body: esoed.Body{StatusResponse: sr},
	}, nil)
	if err != nil {
		return fmt.Errorf("esoed_status: %w", err)
	}
	m.SetPayload(out)
	m.Metadata[envelope.Type] = "esoed.DocumentStatusResponse"
	m.Metadata[envelope.ContentType] = "application/xml"
	m.Metadata["esoed_status"] = s.opts.Status
	return nil
}
