package rabbitmq

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"

	wamqp "github.com/ThreeDotsLabs/watermill-amqp/v3/pkg/amqp"
	"github.com/ThreeDotsLabs/watermill/message"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/transport"
)

func init() {
	transport.Register(transport.Factory{
		Type: "rabbitmq",
		Doc: "Carries messages through a RabbitMQ broker, so that several hub processes on several machines " +
			"share the routes: durable quorum queues (one per route), persistent messages, publisher confirms, " +
			"acknowledgement once a route has finished with a message, competing consumers across processes, " +
			"retries that wait in delay queues rather than in a consumer, " +
			"and a dead-letter queue per route for messages that keep failing. The connection is opened again " +
			"by itself after it is lost; meanwhile the hub reports not ready.",
		Config: &Config{},
		New: func(cfg any, env transport.Env) (transport.Transport, error) {
			return New(*cfg.(*Config), env)
		},
	})
}

// ErrClosed is returned by Publish and Subscribe once the transport, publisher or subscriber is closed.
var ErrClosed = errors.New("rabbitmq: transport closed")

// ErrUnconfirmed is wrapped by the errors of a publish whose messages were sent but not all
// confirmed: the broker may have stored them or not. Publishing them again with the same ids is
// safe; the routes drop the ids they have seen.
var ErrUnconfirmed = errors.New("sent but not confirmed")

// marshaler writes messages as watermill-amqp does, so that other Watermill applications can
// read and write the same queues.
var marshaler = wamqp.DefaultMarshaler{}

// Transport is the RabbitMQ transport. It holds two connections, one to publish and one to
// consume, each opened again after it is lost.
type Transport struct {
	cfg Config
	log *slog.Logger
	pub *conn
	sub *conn

	mu       sync.Mutex
	closed   bool
	subs     map[*subscriber]struct{}
	free     []*pubChannel               // idle channels of the pool (declarations, delays)
	sharedMu sync.Mutex                  // held while the shared channel is looked at or opened
	shared   *sharedChannel              // the channel publishes share; nil until the first
	declared map[string]*amqp.Connection // topic → connection its exchange was declared on
	delayOn  *amqp.Connection            // connection the delay queues were declared on
	inflight map[string]*atomic.Int64    // queue → deliveries held by this process
	packers  map[string]*packer          // topic → its packer, where packing is on
	tags     atomic.Int64                // consumer tag counter

	packCount transport.PackCounter         // counts the packs sent and split; nil: none
	onDeclare func(queue bool, name string) // tests learn the names to delete
}

var _ transport.Transport = (*Transport)(nil)

// New connects to the broker. A Config with zero fields gets their defaults; the URL is required.
func New(cfg Config, env transport.Env) (*Transport, error) {
	cfg, err := withDefaults(cfg)
	if err != nil {
		return nil, err
	}
	if err := spec.Validate(&cfg); err != nil {
		return nil, fmt.Errorf("rabbitmq: %w", err)
	}
	log := env.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	name := cfg.ConnectionName
	if name == "" {
		host, _ := os.Hostname()
		name = fmt.Sprintf("aiskao@%s:%d", host, os.Getpid())
	}
	t := &Transport{cfg: cfg, log: log, subs: map[*subscriber]struct{}{},
		declared: map[string]*amqp.Connection{}, inflight: map[string]*atomic.Int64{},
		packers: map[string]*packer{}, packCount: env.Packs}
	if t.pub, err = dial(cfg, name, "publish", log); err != nil {
		return nil, err
	}
	if t.sub, err = dial(cfg, name, "consume", log); err != nil {
		t.pub.close()
		return nil, err
	}
	return t, nil
}

// Publisher returns a publisher whose Publish returns once the broker has confirmed every message.
func (t *Transport) Publisher() message.Publisher { return &publisher{t: t} }

// Subscriber returns the subscriber of a consumer group. A prefetch option overrides the
// configured prefetch for its consumers; with transport.WithSettledCalls the consumers keep no
// goroutine waiting for each message in flight.
func (t *Transport) Subscriber(group string, opts ...transport.SubscriberOption) (message.Subscriber, error) {
	o := transport.Options(opts...)
	prefetch := t.cfg.Prefetch
	if o.Prefetch > 0 {
		prefetch = min(o.Prefetch, 65535)
	}
	if group == "" {
		return nil, errors.New("rabbitmq: subscriber: empty group name")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, ErrClosed
	}
	s := &subscriber{t: t, group: group, prefetch: prefetch, settledCalls: o.SettledCalls, closing: make(chan struct{})}
	t.subs[s] = struct{}{}
	return s, nil
}

// Backlog returns the messages ready in the group's queue plus those this process holds
// unacknowledged. The broker does not tell over AMQP how many messages other processes hold,
// nor how many messages the packs waiting in the queue hold: each counts as one.
func (t *Transport) Backlog(ctx context.Context, topic, group string) (int64, error) {
	if err := t.sub.ready(); err != nil {
		return 0, err // not a question to wait on
	}
	ch, _, err := t.sub.channel()
	if err != nil {
		return 0, err
	}
	defer ch.Close()
	name := t.queue(group, topic)
	q, err := ch.QueueDeclarePassive(name, true, false, false, false, nil)
	if err != nil {
		var aerr *amqp.Error
		if errors.As(err, &aerr) && aerr.Code == amqp.NotFound {
			return 0, nil // the group never subscribed: nothing waits for it
		}
		return 0, fmt.Errorf("rabbitmq: backlog of %s: %w", name, err)
	}
	return int64(q.Messages) + t.held(name).Load(), nil
}

// Consumers returns how many consumers, of every process, take from the group's queue.
func (t *Transport) Consumers(ctx context.Context, topic, group string) (int, error) {
	if err := t.sub.ready(); err != nil {
		return 0, err
	}
	ch, _, err := t.sub.channel()
	if err != nil {
		return 0, err
	}
	defer ch.Close()
	name := t.queue(group, topic)
	q, err := ch.QueueDeclarePassive(name, true, false, false, false, nil)
	if err != nil {
		var aerr *amqp.Error
		if errors.As(err, &aerr) && aerr.Code == amqp.NotFound {
			return 0, nil
		}
		return 0, fmt.Errorf("rabbitmq: consumers of %s: %w", name, err)
	}
	return q.Consumers, nil
}

var _ transport.ConsumerCounter = (*Transport)(nil)

// held counts the deliveries of queue that this process holds unacknowledged.
func (t *Transport) held(queue string) *atomic.Int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	n, ok := t.inflight[queue]
	if !ok {
		n = new(atomic.Int64)
		t.inflight[queue] = n
	}
	return n
}

// Ready returns nil while both connections are open and the broker is heard on them.
func (t *Transport) Ready(ctx context.Context) error {
	return errors.Join(t.pub.ready(), t.sub.ready())
}

// PublishReady returns nil while the publishing connection is open and the broker is heard on it.
func (t *Transport) PublishReady(ctx context.Context) error { return t.pub.ready() }

// ConsumeReady returns nil while the consuming connection is open and the broker is heard on it.
func (t *Transport) ConsumeReady(ctx context.Context) error { return t.sub.ready() }

var _ transport.SplitReadiness = (*Transport)(nil)

// Close closes the subscribers still open (each drains its messages in flight for up to
// close_timeout), then the publishing channels and the connections.
func (t *Transport) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	subs := make([]*subscriber, 0, len(t.subs))
	for s := range t.subs {
		subs = append(subs, s)
	}
	free := t.free
	t.free = nil
	t.mu.Unlock()
	t.sharedMu.Lock()
	shared := t.shared
	t.shared = nil
	t.sharedMu.Unlock()
	var wg sync.WaitGroup
	for _, s := range subs {
		wg.Go(func() { s.Close() })
	}
	wg.Wait()
	for _, pc := range free {
		pc.ch.Close()
	}
	if shared != nil {
		shared.ch.Close()
	}
	t.pub.close()
	t.sub.close()
	return nil
}

// wamqpUUIDHeader is the header that carries the message's id.
const wamqpUUIDHeader = wamqp.DefaultMessageUUIDHeaderKey
