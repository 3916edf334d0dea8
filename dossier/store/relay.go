package store

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// RelayOptions tune a Relay; zero fields take their defaults.
type RelayOptions struct {
	// Batch is the most messages claimed at once (default 100).
	Batch int
	// Lease is how long a claim keeps other relays off its messages (default 30s). A relay
	// that crashed holding a claim delays those messages by up to this long; one whose
	// publishing takes longer than this may see another relay publish them too.
	Lease time.Duration
	// Interval is how often the outbox is polled when nobody calls Notify (default 1s).
	Interval time.Duration
	// Logger receives publishing failures (default: discarded).
	Logger *slog.Logger
}

// Relay publishes the outbox: it claims unpublished messages in order, hands each to Publish
// and removes it once published. Delivery is at least once: after a crash between publishing
// and marking, the message is published again when its lease ends, so consumers deduplicate by
// Message.ID. Several relays may run on one database; their claims keep them off each other's
// messages and keep each stream's messages in order.
type Relay struct {
	out     Outbox
	publish func(context.Context, Message) error
	opt     RelayOptions
	wake    chan struct{}
}

// NewRelay returns a relay of out's messages to publish.
func NewRelay(out Outbox, publish func(context.Context, Message) error, opt RelayOptions) *Relay {
	if opt.Batch <= 0 {
		opt.Batch = 100
	}
	if opt.Lease <= 0 {
		opt.Lease = 30 * time.Second
	}
	if opt.Interval <= 0 {
		opt.Interval = time.Second
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	return &Relay{out: out, publish: publish, opt: opt, wake: make(chan struct{}, 1)}
}

// Notify wakes the relay at once: the committer calls it after a commit with messages, so
// that they need not wait for the next poll.
func (r *Relay) Notify() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run relays until ctx ends, then returns nil.
func (r *Relay) Run(ctx context.Context) error {
	t := time.NewTicker(r.opt.Interval)
	defer t.Stop()
	for {
		if _, err := r.Drain(ctx); err != nil && ctx.Err() == nil {
			r.opt.Logger.Warn("dossier outbox relay", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-r.wake:
		}
	}
}

// Drain publishes until the outbox holds nothing this relay may claim, and returns how many
// messages it published. A failed publication stops its stream for this round (the stream's
// later messages wait) and is retried on the next.
func (r *Relay) Drain(ctx context.Context) (int, error) {
	total := 0
	for {
		rows, err := r.out.ClaimOutbox(ctx, r.opt.Batch, r.opt.Lease)
		if err != nil {
			return total, fmt.Errorf("dossier relay: claim: %w", err)
		}
		if len(rows) == 0 {
			return total, nil
		}
		var done, back []int64
		var first error
		stopped := map[string]bool{}
		for _, row := range rows {
			if stopped[row.Stream] || ctx.Err() != nil {
				back = append(back, row.Pos)
				continue
			}
			if err := r.publish(ctx, row.Message); err != nil {
				stopped[row.Stream] = true
				back = append(back, row.Pos)
				if first == nil {
					first = fmt.Errorf("dossier relay: publish message %s of %s: %w", row.Message.ID, row.Stream, err)
				}
				continue
			}
			done = append(done, row.Pos)
		}
		// Marking outlives ctx: what was published must not be published again needlessly.
		mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		err = r.out.MarkPublished(mctx, done)
		if err == nil && len(back) > 0 {
			err = r.out.ReleaseOutbox(mctx, back)
		}
		cancel()
		total += len(done)
		if err != nil {
			return total, fmt.Errorf("dossier relay: mark: %w", err)
		}
		if first != nil {
			return total, first
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}
