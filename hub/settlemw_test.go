package hub

import (
	"context"
	"errors"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/transport"
)

// The settle middleware Acks a handled message, Nacks a failed or panicking one, and tells the
// subscriber at once in each case.
func TestSettleMiddleware(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler message.HandlerFunc
		want    transport.Outcome
	}{
		{"handled", func(*message.Message) ([]*message.Message, error) { return nil, nil }, transport.Acked},
		{"failed", func(*message.Message) ([]*message.Message, error) { return nil, errors.New("register down") }, transport.Nacked},
		{"panicked", func(*message.Message) ([]*message.Message, error) { panic("bug") }, transport.Nacked},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := transport.NewInflight(true)
			msg := message.NewMessage("m", nil)
			ctx, del := transport.NewDelivery(context.Background(), 1, 0)
			msg.SetContext(ctx)
			var got transport.Outcome
			in.Add(msg, del, func(o transport.Outcome) { got = o })
			func() {
				defer func() { _ = recover() }()
				_, _ = settle(tc.handler)(msg)
			}()
			if got != tc.want {
				t.Fatalf("settled as %d, want %d", got, tc.want)
			}
		})
	}
}
