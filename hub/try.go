package hub

import (
	"context"
	"fmt"
	"maps"

	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/fault"
	"github.com/aiskao/aiskao/routes"
	"github.com/aiskao/aiskao/transforms"
)

// Snapshot is a message as a step left it.
type Snapshot struct {
	ID       string            `json:"id"`
	Metadata map[string]string `json:"metadata"`
	Payload  []byte            `json:"payload"`
}

// TraceStep is what one step did to the messages it got.
type TraceStep struct {
	Step     string     `json:"step"`
	Messages []Snapshot `json:"messages,omitempty"`
	Error    string     `json:"error,omitempty"`
}

// Delivery is a message that went through the steps, and the sinks it would go to.
type Delivery struct {
	Message Snapshot `json:"message"`
	To      []string `json:"to"`
}

// Trace is the record of one message pushed through one route without side effects: no
// transport, no store, no sink is touched.
type Trace struct {
	Route      string      `json:"route"`
	Steps      []TraceStep `json:"steps"`
	Deliveries []Delivery  `json:"deliveries,omitempty"`
	// Error and FailedStep are set when the message would become a dead letter.
	Error      string `json:"error,omitempty"`
	FailedStep string `json:"failed_step,omitempty"`
	Permanent  bool   `json:"permanent,omitempty"` // the error would not be retried
}

// Try pushes one message through one route of cfg and records every step's output and where the
// message would go. A step failure is reported in the trace, not as an error; the error is for a
// route that does not exist or cannot be built.
func Try(ctx context.Context, cfg *routes.Config, route string, payload []byte, metadata map[string]string, opts Options) (*Trace, error) {
	opts.defaults()
	var r *routes.Route
	for i := range cfg.Routes {
		if cfg.Routes[i].Name == route {
			r = &cfg.Routes[i]
		}
	}
	if r == nil {
		names := make([]string, len(cfg.Routes))
		for i, x := range cfg.Routes {
			names[i] = x.Name
		}
		return nil, fmt.Errorf("%w: %q (configured: %v)", ErrUnknownRoute, route, names)
	}
	p, err := newPipeline(*r, opts, nil, nil, nil)
	if err != nil {
		return nil, positioned(err, *r) // at the step, as serve and validate report it
	}
	md := maps.Clone(metadata)
	if md == nil {
		md = map[string]string{}
	}
	id := md["id"]
	delete(md, "id")
	if id == "" {
		id = "try-0001"
	}
	md[envelope.Route] = route
	md[envelope.Source] = r.From
	if md[envelope.CorrelationID] == "" {
		md[envelope.CorrelationID] = id
	}
	md[envelope.Attempt] = "1"
	t := &Trace{Route: route}
	obs := func(path string, msgs []*transforms.Message, err error) {
		ts := TraceStep{Step: path}
		if err != nil {
			ts.Error = err.Error()
		}
		for _, m := range msgs {
			ts.Messages = append(ts.Messages, snapshot(m))
		}
		t.Steps = append(t.Steps, ts)
	}
	ds, err := p.run(ctx, transforms.NewMessage(id, md, payload), obs)
	if err != nil {
		t.Error = err.Error()
		t.FailedStep = FailedStep(err)
		t.Permanent = fault.IsPermanent(err)
		return t, nil
	}
	for _, d := range ds {
		to := make([]string, len(d.to))
		for i, s := range d.to {
			to[i] = s.name
		}
		t.Deliveries = append(t.Deliveries, Delivery{Message: snapshot(d.msg), To: to})
	}
	return t, nil
}

func snapshot(m *transforms.Message) Snapshot {
	p, err := m.Payload()
	if err != nil {
		p = []byte("<" + err.Error() + ">")
	}
	return Snapshot{ID: m.ID, Metadata: maps.Clone(m.Metadata), Payload: p}
}
