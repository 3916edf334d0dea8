package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/connectors"
	"github.com/aiskao/aiskao/fault"
	"github.com/aiskao/aiskao/transforms"
)

// StepError is the failure of one step or one delivery of a route, named by its place in the
// configuration: "steps[2].json_schema", "steps[1].switch.cases[0].steps[0].xpath", "to[0].outbox".
type StepError struct {
	Step string
	Err  error
}

func (e *StepError) Error() string { return e.Step + ": " + e.Err.Error() }
func (e *StepError) Unwrap() error { return e.Err }

// FailedStep returns the step named by a StepError in err's chain, or "" when there is none.
func FailedStep(err error) string {
	var se *StepError
	if errors.As(err, &se) {
		return se.Step
	}
	return ""
}

// node is one compiled step.
type node struct {
	path  string // place in the configuration, e.g. "steps[2].json_schema"
	step  transforms.Step
	split transforms.Splitter // set when step splits
	sw    *switchNode
}

type switchNode struct {
	cases []switchCase
	def   *branch
}

type switchCase struct {
	cond transforms.Condition
	branch
}

// branch is a switch case's steps and sinks; empty to means the messages go on after the switch.
type branch struct {
	nodes []node
	to    []sinkRef
}

type sinkRef struct {
	path string // "to[0].outbox"
	name string
	sink connectors.Sink
}

// delivery is a message that passed the steps and the sinks it goes to.
type delivery struct {
	msg *transforms.Message
	to  []sinkRef
}

// observer sees every step's result; aiskao try uses it to print them.
type observer func(path string, msgs []*transforms.Message, err error)

// pipeline is a route's compiled steps and sinks.
type pipeline struct {
	route   string
	nodes   []node
	to      []sinkRef
	timeout time.Duration
	metrics *routeMetrics // nil in try
}

// run takes m through the steps and returns where each surviving message goes.
func (p *pipeline) run(ctx context.Context, m *transforms.Message, obs observer) ([]delivery, error) {
	var out []delivery
	rest, err := p.runNodes(ctx, p.nodes, []*transforms.Message{m}, &out, obs)
	if err != nil {
		return nil, err
	}
	for _, r := range rest {
		out = append(out, delivery{msg: r, to: p.to})
	}
	return out, nil
}

// runNodes applies nodes to msgs in order and returns the messages still going on. Messages that
// a switch branch sends to its own sinks are appended to out.
func (p *pipeline) runNodes(ctx context.Context, nodes []node, msgs []*transforms.Message, out *[]delivery, obs observer) ([]*transforms.Message, error) {
	for i := range nodes {
		n := &nodes[i]
		if n.sw != nil {
			var err error
			if msgs, err = p.runSwitch(ctx, n, msgs, out, obs); err != nil {
				return nil, err
			}
			continue
		}
		next := msgs[:0:0]
		for _, m := range msgs {
			start := time.Now()
			produced, err := p.apply(ctx, n, m)
			if p.metrics != nil {
				p.metrics.observeStep(n.path, time.Since(start))
			}
			if err != nil {
				if obs != nil {
					obs(n.path, []*transforms.Message{m}, err)
				}
				return nil, &StepError{Step: n.path, Err: err}
			}
			next = append(next, produced...)
		}
		msgs = next
		if obs != nil {
			obs(n.path, msgs, nil)
		}
		if len(msgs) == 0 {
			return nil, nil
		}
	}
	return msgs, nil
}

// apply runs one step on one message within the route's step timeout. A step's own error is
// permanent (steps are deterministic) unless the step returned a context error of the timeout or
// marked it fault.Retryable (a call out of the hub that may succeed later).
func (p *pipeline) apply(ctx context.Context, n *node, m *transforms.Message) ([]*transforms.Message, error) {
	ctx, cancel := withStepTimeout(ctx, p.timeout)
	defer cancel()
	if n.split != nil {
		kids, err := n.split.Split(ctx, m)
		return kids, classifyStepError(ctx, err)
	}
	if err := n.step.Apply(ctx, m); err != nil {
		return nil, classifyStepError(ctx, err)
	}
	if m.Dropped() {
		return nil, nil
	}
	return []*transforms.Message{m}, nil
}

func classifyStepError(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", err, context.Cause(ctx))
	}
	if fault.IsRetryable(err) {
		return err
	}
	return fault.Permanent(err)
}

func (p *pipeline) runSwitch(ctx context.Context, n *node, msgs []*transforms.Message, out *[]delivery, obs observer) ([]*transforms.Message, error) {
	var goOn []*transforms.Message
	for _, m := range msgs {
		b, label, err := n.sw.pick(m)
		if err != nil {
			return nil, &StepError{Step: n.path, Err: fault.Permanent(err)}
		}
		if obs != nil {
			obs(n.path+" → "+label, []*transforms.Message{m}, nil)
		}
		if b == nil {
			goOn = append(goOn, m)
			continue
		}
		rest, err := p.runNodes(ctx, b.nodes, []*transforms.Message{m}, out, obs)
		if err != nil {
			return nil, err
		}
		if len(b.to) > 0 {
			for _, r := range rest {
				*out = append(*out, delivery{msg: r, to: b.to})
			}
			continue
		}
		goOn = append(goOn, rest...)
	}
	return goOn, nil
}

// pick returns the branch of the first case that matches, the default branch, or nil to go on.
func (s *switchNode) pick(m *transforms.Message) (*branch, string, error) {
	for i := range s.cases {
		ok, err := s.cases[i].cond.Match(m)
		if err != nil {
			return nil, "", fmt.Errorf("cases[%d].when: %w", i, err)
		}
		if ok {
			return &s.cases[i].branch, fmt.Sprintf("cases[%d]", i), nil
		}
	}
	if s.def != nil {
		return s.def, "default", nil
	}
	return nil, "no case matched, going on", nil
}

// deliver sends every delivery to its sinks. Sinks are idempotent by message id, so a retry
// after a partial failure sends again to all of them.
//
// A message going to one sink that takes a stream, whose steps left it a JSON value, is encoded
// as the sink writes it rather than into bytes first: a large document is then held once, as
// the value, not again as its encoding.
func (p *pipeline) deliver(ctx context.Context, ds []delivery) error {
	for _, d := range ds {
		var stream func(io.Writer) error
		var streamTo connectors.StreamSink
		if len(d.to) == 1 {
			if ss, ok := d.to[0].sink.(connectors.StreamSink); ok {
				stream, streamTo = d.msg.PayloadStream(), ss
			}
		}
		var payload []byte
		if stream == nil {
			var err error
			if payload, err = d.msg.Payload(); err != nil {
				return &StepError{Step: "payload", Err: fault.Permanent(err)}
			}
		}
		wm := message.NewMessage(d.msg.ID, payload)
		wm.Metadata = d.msg.Metadata
		for _, s := range d.to {
			start := time.Now()
			sctx, cancel := withStepTimeout(ctx, p.timeout)
			var err error
			if stream != nil {
				err = streamTo.SendStream(sctx, wm, stream)
			} else {
				err = s.sink.Send(sctx, wm)
			}
			cancel()
			if p.metrics != nil {
				p.metrics.observeStep(s.path, time.Since(start))
			}
			if ee := (*transforms.EncodeError)(nil); errors.As(err, &ee) {
				return &StepError{Step: "payload", Err: fault.Permanent(ee)}
			}
			if err != nil {
				return &StepError{Step: s.path, Err: err}
			}
		}
	}
	return nil
}
