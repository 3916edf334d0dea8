package embedded

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/tests"

	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/transport"
)

// suite runs Watermill's conformance suite. All constructors of one run share one file, as
// separate processes would across restarts; the default constructor uses one fixed group.
func suite(t *testing.T, cfg Config, features tests.Features) {
	cfg.File = filepath.Join(t.TempDir(), "suite.db")
	cfg.CloseTimeout = spec.Duration(200 * time.Millisecond) // TestMessageCtx leaves a message unacknowledged
	cfg.PollInterval = spec.Duration(20 * time.Millisecond)
	group := func(t *testing.T, g string) (message.Publisher, message.Subscriber) {
		tr, err := New(cfg, transport.Env{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := tr.Close(); err != nil {
				t.Error(err)
			}
		})
		sub, err := tr.Subscriber(g)
		if err != nil {
			t.Fatal(err)
		}
		return tr.Publisher(), sub
	}
	tests.TestPubSub(t, features,
		func(t *testing.T) (message.Publisher, message.Subscriber) { return group(t, "suite") },
		group)
}

// With prefetch 1 a subscription holds one message at a time, so one consumer receives the
// messages of a topic in order (TestNoAck and TestPublishSubscribeInOrder check it). This run
// always uses the suite's short sizes; the other run has the full sizes unless -short or -race
// (under the race detector the full sizes take minutes).
func TestUniversalOrdered(t *testing.T) {
	suite(t, Config{Prefetch: 1}, tests.Features{
		ConsumerGroups:                      true,
		GuaranteedOrder:                     true,
		GuaranteedOrderWithSingleSubscriber: true,
		Persistent:                          true,
		ForceShort:                          true,
	})
}

// With the default prefetch several messages are in flight at once and a nacked message comes
// back after later ones: order is not guaranteed.
func TestUniversalPrefetch(t *testing.T) {
	suite(t, Config{}, tests.Features{
		ConsumerGroups: true,
		Persistent:     true,
		ForceShort:     testing.Short() || raceEnabled,
	})
}
