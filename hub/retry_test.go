package hub

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/fault"
	"github.com/aiskao/aiskao/transport"
)

func TestRetryPolicyWaitGrowsAndIsCapped(t *testing.T) {
	p := retryPolicy{max: 10, backoff: 100 * time.Millisecond, maxBackoff: time.Second, multiplier: 2, jitter: 0.1}
	tests := []struct {
		n    int
		want time.Duration
	}{{1, 100 * time.Millisecond}, {2, 200 * time.Millisecond}, {3, 400 * time.Millisecond}, {4, 800 * time.Millisecond}, {5, time.Second}, {9, time.Second}}
	for _, tt := range tests {
		got := p.wait(tt.n)
		lo, hi := time.Duration(float64(tt.want)*0.9), time.Duration(float64(tt.want)*1.1)
		if got < lo || got > hi {
			t.Errorf("wait(%d) = %v, want %v ±10%%", tt.n, got, tt.want)
		}
	}
}

func TestRetryStopsOnPermanentAndCountsAttempts(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	p := retryPolicy{max: 3, backoff: time.Millisecond, maxBackoff: time.Millisecond, multiplier: 1}
	tests := []struct {
		name  string
		errs  []error
		calls int
		fail  bool
	}{
		{"succeeds first", []error{nil}, 1, false},
		{"succeeds on third", []error{errors.New("x"), errors.New("x"), nil}, 3, false},
		{"gives up after max", []error{errors.New("a"), errors.New("b"), errors.New("c"), errors.New("d"), nil}, 4, true},
		{"permanent is not retried", []error{fault.Permanent(errors.New("bad")), nil}, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			h := retry(p, nil, quiet)(func(msg *message.Message) ([]*message.Message, error) {
				err := tt.errs[calls]
				calls++
				return nil, err
			})
			msg := message.NewMessage("m1", nil)
			_, err := h(msg)
			if calls != tt.calls {
				t.Errorf("handler called %d times, want %d", calls, tt.calls)
			}
			if (err != nil) != tt.fail {
				t.Errorf("err = %v, want failure %v", err, tt.fail)
			}
			if got := msg.Metadata.Get(envelope.Attempt); got != strconv.Itoa(tt.calls) {
				t.Errorf("attempt metadata = %q, want %d", got, tt.calls)
			}
		})
	}
}

func TestRetryGoesOnFromTheDeliveredAttempt(t *testing.T) {
	p := retryPolicy{max: 2, backoff: time.Millisecond, maxBackoff: time.Millisecond, multiplier: 1}
	var seen []string
	h := retry(p, nil, quietLogger())(func(msg *message.Message) ([]*message.Message, error) {
		seen = append(seen, msg.Metadata.Get(envelope.Attempt))
		return nil, errors.New("down")
	})
	msg := message.NewMessage("m1", nil)
	msg.Metadata.Set(envelope.Attempt, "4") // the transport's count: delivered three times before
	if _, err := h(msg); err == nil {
		t.Fatal("no error")
	}
	if got := strings.Join(seen, ","); got != "4,5,6" {
		t.Errorf("attempts %s, want 4,5,6", got)
	}
}

func TestPoisonStopsAMessageThatKeepsComingBack(t *testing.T) {
	tests := []struct {
		attempt string
		handled bool
	}{{"", true}, {"1", true}, {"3", true}, {"4", false}, {"17", false}, {"x", true}}
	for _, tt := range tests {
		handled := false
		h := poison(3)(func(msg *message.Message) ([]*message.Message, error) {
			handled = true
			return nil, nil
		})
		msg := message.NewMessage("m1", nil)
		if tt.attempt != "" {
			msg.Metadata.Set(envelope.Attempt, tt.attempt)
		}
		_, err := h(msg)
		if handled != tt.handled {
			t.Errorf("attempt %q: handled %v, want %v", tt.attempt, handled, tt.handled)
		}
		if !tt.handled {
			if !fault.IsPermanent(err) || FailedStep(err) != "delivery" || !strings.Contains(err.Error(), "delivered "+tt.attempt+" times") {
				t.Errorf("attempt %q: error %v", tt.attempt, err)
			}
		}
	}
}

func TestRetryHandsLongWaitsToTheTransport(t *testing.T) {
	long := retryPolicy{max: 3, backoff: time.Hour, maxBackoff: time.Hour, multiplier: 1, handBackFrom: time.Minute}
	short := retryPolicy{max: 3, backoff: time.Millisecond, maxBackoff: time.Millisecond, multiplier: 1, handBackFrom: time.Minute}
	tests := []struct {
		name                 string
		p                    retryPolicy
		attempt              string // as the transport delivered it
		deliveries, attempts int    // the transport's Delivery; -1: none
		calls                int
		wantAttempt          string
		handedBack           bool
	}{
		{"first failure goes back to the transport", long, "", 1, 0, 1, "1", true},
		{"retry after a delay goes back again", long, "2", 1, 1, 1, "2", true},
		{"last retry after delays fails for good", long, "4", 1, 3, 1, "4", false},
		{"a crash in this round spends no retry", long, "4", 2, 2, 1, "4", true},
		{"short waits are waited in place", short, "", 1, 0, 4, "4", false},
		{"no delays without the transport's help", short, "", -1, 0, 4, "4", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			h := retry(tt.p, nil, quietLogger())(func(msg *message.Message) ([]*message.Message, error) {
				calls++
				return nil, errors.New("down")
			})
			msg := message.NewMessage("m1", nil)
			if tt.attempt != "" {
				msg.Metadata.Set(envelope.Attempt, tt.attempt)
			}
			var del *transport.Delivery
			if tt.deliveries >= 0 {
				var ctx context.Context
				ctx, del = transport.NewDelivery(context.Background(), tt.deliveries, tt.attempts)
				msg.SetContext(ctx)
			}
			_, err := h(msg)
			if err == nil {
				t.Fatal("no error")
			}
			if calls != tt.calls {
				t.Errorf("handler called %d times, want %d", calls, tt.calls)
			}
			if got := msg.Metadata.Get(envelope.Attempt); got != tt.wantAttempt {
				t.Errorf("attempt = %q, want %s", got, tt.wantAttempt)
			}
			if isHandedBack(err) != tt.handedBack {
				t.Errorf("handed back = %v (error %v), want %v", isHandedBack(err), err, tt.handedBack)
			}
			if del != nil {
				d, asked := del.Delay()
				if asked != tt.handedBack {
					t.Errorf("delay asked = %v, want %v", asked, tt.handedBack)
				}
				if asked && (d < 54*time.Minute || d > 66*time.Minute) {
					t.Errorf("delay %s, want 1h ±10%%", d)
				}
			}
		})
	}
}

func TestPoisonCountsDeliveriesSinceTheLastDelay(t *testing.T) {
	tests := []struct {
		deliveries int
		handled    bool
	}{{1, true}, {3, true}, {4, false}}
	for _, tt := range tests {
		handled := false
		h := poison(3)(func(msg *message.Message) ([]*message.Message, error) {
			handled = true
			return nil, nil
		})
		msg := message.NewMessage("m1", nil)
		// Retried through the transport: many attempts, few deliveries since the last delay.
		msg.Metadata.Set(envelope.Attempt, "9")
		ctx, _ := transport.NewDelivery(context.Background(), tt.deliveries, 9-tt.deliveries)
		msg.SetContext(ctx)
		_, err := h(msg)
		if handled != tt.handled {
			t.Errorf("%d deliveries: handled %v, want %v (error %v)", tt.deliveries, handled, tt.handled, err)
		}
	}
}

func TestRetryJitter(t *testing.T) {
	exact := retryPolicy{max: 10, backoff: 15 * time.Minute, maxBackoff: 128 * time.Hour, multiplier: 2}
	for n, want := range []time.Duration{15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour} {
		if got := exact.wait(n + 1); got != want {
			t.Errorf("jitter 0: wait(%d) = %v, want exactly %v", n+1, got, want)
		}
	}
	wide := retryPolicy{max: 10, backoff: time.Second, maxBackoff: time.Minute, multiplier: 2, jitter: 0.5}
	var low, high bool
	for range 1000 {
		got := wide.wait(1)
		if got < 500*time.Millisecond || got > 1500*time.Millisecond {
			t.Fatalf("jitter 0.5: wait(1) = %v, want within 0.5s..1.5s", got)
		}
		low = low || got < 800*time.Millisecond
		high = high || got > 1200*time.Millisecond
	}
	if !low || !high {
		t.Errorf("jitter 0.5: waits never went below 0.8s (%v) or above 1.2s (%v)", low, high)
	}
}
