// Package transport defines how messages travel between a source connector and the routes that
// read from it. Implementations (hub/transport/embedded, hub/transport/rabbitmq) register by
// type name; the engine knows only the interface, so switching transports is configuration, not
// code. It is a contract beside store and spec: the routes configuration validates a
// transport's options from this registry without importing the engine.
package transport

import (
	"context"
	"log/slog"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/internal/registry"
)

// Transport carries messages durably between publishers and route subscribers.
type Transport interface {
	// Publisher returns the publisher. Publish returns only once every message is durably
	// stored: a source may then acknowledge the messages to their sender. A transport may hand a
	// published payload to its subscribers as it is, without a copy: publishers do not change a
	// payload after Publish, and handlers only read the payloads they are given.
	Publisher() message.Publisher
	// Subscriber returns a subscriber for one consumer group: every group receives every message
	// of a topic once, and the subscribers of one group compete for them. Unacknowledged
	// messages are delivered again, also after a restart. opts override the transport's
	// configuration for this subscriber (per-route prefetch; WithSettledCalls, after which the
	// consumer's Settled calls settle the messages). Subscribers give every message a Delivery
	// (see NewDelivery), and track it in an Inflight until it is settled.
	Subscriber(group string, opts ...SubscriberOption) (message.Subscriber, error)
	// Backlog returns how many messages of topic wait to be acknowledged by group.
	Backlog(ctx context.Context, topic, group string) (int64, error)
	// Ready reports whether the transport can carry messages now, for readiness.
	Ready(ctx context.Context) error
	// Close stops the transport after its subscribers have been closed.
	Close() error
}

// ConsumerCounter is implemented by transports that can tell how many consumers, across every
// process, take a group's messages of a topic (RabbitMQ: the consumers of the group's queue).
type ConsumerCounter interface {
	Consumers(ctx context.Context, topic, group string) (int, error)
}

// SplitReadiness is implemented by transports whose publishing and consuming can fail apart
// (RabbitMQ: a connection each), so that readiness can tell whether the hub still accepts
// messages while it cannot deliver them, or the reverse. Both answer at once, without a round
// trip to a service.
type SplitReadiness interface {
	// PublishReady returns nil while Publish can store messages.
	PublishReady(ctx context.Context) error
	// ConsumeReady returns nil while subscribers receive messages.
	ConsumeReady(ctx context.Context) error
}

// Env is what a transport factory gets from the hub.
type Env struct {
	DataDir string
	Logger  *slog.Logger
	// Packs, where not nil, counts the packs of a transport that sends several messages to its
	// broker as one, for the hub's metrics.
	Packs PackCounter
}

// PackCounter counts what a transport that packs messages sends and splits.
type PackCounter interface {
	// Sent counts one broker message that carried n messages (1: a message sent alone).
	Sent(n int)
	// Split counts one pack of n messages that was delivered again and split into its messages.
	Split(n int)
}

// Factory makes one type of transport.
type Factory struct {
	Type   string // name used in the configuration's transport.type
	Doc    string // one paragraph for the configuration reference
	Config any    // pointer to the zero configuration struct, described with spec tags
	// New makes the transport from a decoded, validated configuration of the same type as Config.
	New func(cfg any, env Env) (Transport, error)
}

// Default is the registry that transport packages fill from init.
var Default = registry.New[Factory]("transport type")

// Register adds f to the Default registry.
func Register(f Factory) { Default.Register(f.Type, f) }
