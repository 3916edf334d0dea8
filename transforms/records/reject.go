package records

import (
	"context"
	"errors"

	"github.com/aiskao/aiskao/transforms"
)

func init() {
	transforms.Register(transforms.Factory{
		Name: "record_reject",
		Doc: "Fails the message of a rejected record (made by csv or fixed_width with bad_records: " +
			"reject, recognised by its metadata record_error or by its payload {\"rejected_record\": ...}), " +
			"with the record number, line, field, value and reason as the error, so that it becomes a dead " +
			"letter of its own; every other message passes unchanged. Put it in a route that takes the " +
			"records one by one (from a spool the file route writes them to), since a route keeps one dead " +
			"letter per message it takes.",
		Config: &RejectOptions{},
		New: func(any, transforms.Env) (transforms.Step, error) {
			return rejectStep{}, nil
		},
	})
}

// RejectOptions configures record_reject, which has no options.
type RejectOptions struct{}

// Validate accepts the empty options.
func (*RejectOptions) Validate() error { return nil }

type rejectStep struct{}

// Apply fails a rejected record's message.
func (rejectStep) Apply(_ context.Context, m *transforms.Message) error {
	reason, err := rejection(m)
	if err != nil {
		return err
	}
	if reason != "" {
		return errors.New("rejected " + reason)
	}
	return nil
}
