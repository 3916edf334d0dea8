package rabbitmq

import (
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/tests"

	"github.com/aiskao/aiskao/spec"
)

// suite runs Watermill's conformance suite. All constructors of one run share one prefix, as
// processes of one hub do; the default constructor uses one fixed group.
func suite(t *testing.T, cfg Config, features tests.Features) {
	cfg.CloseTimeout = spec.Duration(200 * time.Millisecond) // TestMessageCtx leaves a message unacknowledged
	// TestContinueAfterErrors hands each of its 50 messages back about nine times (three
	// subscribers nack 100 times, then close holding the rest); RabbitMQ 3.x counts both kinds of
	// return, so the default delivery_limit of 10 dead-letters an unlucky message, as the broker
	// should. The suite tests handing back, not the limit (TestPoisonGoesToDeadLetterQueue does).
	cfg.DeliveryLimit = 1000
	group := func(t *testing.T, g string) (message.Publisher, message.Subscriber) {
		tr := open(t, cfg)
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

// With prefetch 1 a consumer holds one message at a time and a quorum queue delivers a message
// given back before later ones, so one consumer receives the messages of a topic in order.
func TestUniversalOrdered(t *testing.T) {
	cfg := testConfig(t)
	cfg.Prefetch = 1
	suite(t, cfg, tests.Features{
		ConsumerGroups:                      true,
		GuaranteedOrder:                     true,
		GuaranteedOrderWithSingleSubscriber: true,
		Persistent:                          true,
		ForceShort:                          true,
	})
}

// With the default prefetch several messages are in flight at once and a nacked message comes
// back after later ones: order is not guaranteed. This run has the suite's full sizes unless -short.
func TestUniversalPrefetch(t *testing.T) {
	suite(t, testConfig(t), tests.Features{
		ConsumerGroups: true,
		Persistent:     true,
		ForceShort:     testing.Short(),
	})
}

// With packs, the messages of concurrent publishes share broker messages; each is still handed
// out, acknowledged and handed back on its own.
func TestUniversalPacked(t *testing.T) {
	cfg := testConfig(t)
	cfg.Pack = 32
	suite(t, cfg, tests.Features{
		ConsumerGroups: true,
		Persistent:     true,
		ForceShort:     true,
	})
}
