package hub

import (
	"log/slog"
	"maps"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/transforms"
)

// inlineRoute runs an inline route (routes.Route.Inline) within a source's call: one attempt
// through the steps to the sinks, with the route's metrics, correlation, idempotency and panic
// recovery, but none of the transport's retries, delivery counts or dead letters. What fails
// here is stored in the transport by emit and goes the usual way.
type inlineRoute struct {
	chain   message.HandlerFunc
	log     *slog.Logger
	metrics *routeMetrics
}

// newInlineRoute builds the inline attempt of route over its pipeline p and budget b.
func (e *Engine) newInlineRoute(route string, p *pipeline, b *budget, log *slog.Logger) *inlineRoute {
	run := func(msg *message.Message) ([]*message.Message, error) {
		return nil, e.runInline(p, b, msg)
	}
	chain := measure(p.metrics)(correlation(route)(idempotency(route, e.st, log, e.outage, true)(recoverer(log)(run))))
	return &inlineRoute{chain: chain, log: log, metrics: p.metrics}
}

// deliver makes one attempt at m and reports whether it went through. It works on a copy, so that
// m is stored as received when it did not.
func (r *inlineRoute) deliver(m *message.Message) bool {
	c := message.NewMessage(m.UUID, m.Payload)
	c.Metadata = maps.Clone(m.Metadata)
	c.SetContext(m.Context())
	if _, err := r.chain(c); err != nil {
		r.log.Debug("inline delivery failed; the message goes to the transport", "message_id", m.UUID, "error", err)
		return false
	}
	return true
}

// stored counts n messages whose attempt failed and that the transport now holds: the route
// tries them again.
func (r *inlineRoute) stored(n int) { r.metrics.outcome[OutcomeRetried].Add(float64(n)) }

// runInline takes msg through a route's steps to its sinks on the caller's goroutine, once the
// route's budget of bytes in flight has room for it.
func (e *Engine) runInline(p *pipeline, b *budget, msg *message.Message) error {
	w, err := b.take(msg.Context(), len(msg.Payload))
	if err != nil {
		return err
	}
	defer b.give(w)
	return e.process(p, msg)
}

// process takes msg through p's steps and delivers what comes out.
func (e *Engine) process(p *pipeline, msg *message.Message) error {
	// Steps change metadata; each attempt starts again from the message as received.
	m := transforms.NewMessage(msg.UUID, maps.Clone(msg.Metadata), msg.Payload)
	ds, err := p.run(msg.Context(), m, nil)
	if err != nil {
		return err
	}
	if len(ds) == 0 {
		setOutcome(msg, OutcomeDropped)
		return nil
	}
	return p.deliver(msg.Context(), ds)
}
