package hub

import (
	"errors"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/hub/envelope"
	"github.com/aiskao/aiskao/hub/fault"
)

func TestRetryPolicyWaitGrowsAndIsCapped(t *testing.T) {
	p := retryPolicy{max: 10, backoff: 100 * time.Millisecond, maxBackoff: time.Second, multiplier: 2}
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
