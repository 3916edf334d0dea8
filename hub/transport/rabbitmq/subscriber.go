package rabbitmq

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/transport"
)

// subscriber is the subscriber of one consumer group. Each Subscribe call is one consumer on
// the group's queue for the topic; the consumers of all processes compete for its messages.
type subscriber struct {
	t        *Transport
	group    string
	prefetch int // the consumers' QoS
	// settledCalls: the consumer calls transport.Settled for each message (WithSettledCalls)
	settledCalls bool
	mu           sync.Mutex
	closed       bool
	closing      chan struct{}
	wg           sync.WaitGroup // consumers
	once         sync.Once
}

var (
	_ message.Subscriber           = (*subscriber)(nil)
	_ message.SubscribeInitializer = (*subscriber)(nil)
)

// Subscribe declares the group's queue on topic and consumes from it. The channel is closed when
// ctx ends or the subscriber closes, after the messages in flight are settled or close_timeout
// has passed. While the connection is down the consumer waits, and consumes again after the
// connection is back.
func (s *subscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, fmt.Errorf("rabbitmq: subscribe %s to %s: %w", s.group, topic, ErrClosed)
	}
	s.wg.Add(1)
	s.mu.Unlock()
	if err := s.t.declareGroup(ctx, topic, s.group); err != nil {
		s.wg.Done()
		return nil, fmt.Errorf("rabbitmq: subscribe %s to %s: %w", s.group, topic, err)
	}
	out := make(chan *message.Message)
	go s.consume(ctx, topic, out)
	return out, nil
}

// SubscribeInitialize declares the group's queue on topic without consuming, so that messages
// published from now on wait in it. Calling it for every group before sources start makes
// every group receive every message from the first one.
func (s *subscriber) SubscribeInitialize(topic string) error {
	if err := s.t.declareGroup(context.Background(), topic, s.group); err != nil {
		return fmt.Errorf("rabbitmq: initialize %s on %s: %w", s.group, topic, err)
	}
	return nil
}

// Close stops the subscriber's consumers and waits for their channels to close.
func (s *subscriber) Close() error {
	s.once.Do(func() {
		s.mu.Lock()
		s.closed = true
		close(s.closing)
		s.mu.Unlock()
		s.wg.Wait()
		s.t.mu.Lock()
		delete(s.t.subs, s)
		s.t.mu.Unlock()
	})
	return nil
}

// consume runs one consumer: it consumes the queue on the current connection and sends each
// delivery on out, and consumes again after the connection came back. The broker holds back
// deliveries beyond prefetch unacknowledged ones. Each message in flight is settled by
// transport.Settled on the consumer's goroutine, or (without WithSettledCalls) by a goroutine
// waiting for its Ack or Nack.
func (s *subscriber) consume(ctx context.Context, topic string, out chan *message.Message) {
	defer s.wg.Done()
	defer close(out)
	queue := s.t.queue(s.group, topic)
	held := s.t.held(queue)
	// cctx ends the taking of messages. Message contexts do not derive from it: a message taken
	// before the consumer stops keeps its context until it is settled or close_timeout has
	// passed, so that stopping drains the messages in flight instead of cutting them off.
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-s.closing:
			cancel()
		case <-cctx.Done():
		}
	}()
	mbase, abandonAll := context.WithCancel(context.WithoutCancel(ctx))
	defer abandonAll()
	h := &hand{queue: queue, mbase: mbase, held: held, inflight: transport.NewInflight(s.settledCalls),
		slots: make(chan struct{}, s.prefetch), out: out}
	inflight := h.inflight
	var ch *amqp.Channel
	tag := fmt.Sprintf("%s.%d", queue, s.t.tags.Add(1))
	first := true
session:
	for cctx.Err() == nil {
		if ch != nil {
			ch.Close()
			ch = nil
		}
		var deliveries <-chan amqp.Delivery
		var err error
		ch, deliveries, err = s.open(cctx, topic, queue, tag, first)
		if err != nil {
			if cctx.Err() == nil {
				s.t.log.Warn("rabbitmq: consume again later", "queue", queue, "error", err)
				select {
				case <-cctx.Done():
				case <-time.After(s.t.cfg.ReconnectInitial.D()):
				}
			}
			continue
		}
		first = false
		for {
			var d amqp.Delivery
			var ok bool
			select {
			case d, ok = <-deliveries:
			case <-cctx.Done():
				break session
			}
			if !ok {
				// The channel or connection closed: the broker puts back what this consumer
				// held, and acknowledgements of those messages no longer count.
				continue session
			}
			if _, ok := d.Headers[packHeader]; ok {
				if !s.handOutPack(cctx, d, h) {
					break session
				}
				continue
			}
			// A pack's messages count one by one against the prefetch, as messages sent alone do
			// (at the broker): it bounds how many of the route's messages are handled at once.
			select {
			case h.slots <- struct{}{}:
			case <-cctx.Done():
				break session // not handed out: it goes back at the channel's close
			}
			mctx, mcancel := context.WithCancel(mbase)
			msg, deliveries, attempts, err := toMessage(d, s.t.cfg.QueueType == amqp.QueueTypeQuorum)
			if err != nil {
				// Not a message the hub can read: to the dead-letter queue, not round forever.
				s.t.log.Error("rabbitmq: unreadable message sent to the dead-letter queue", "queue", queue, "error", err)
				d.Reject(false)
				mcancel()
				<-h.slots
				continue
			}
			mctx, del := transport.NewDelivery(mctx, deliveries, attempts)
			msg.SetContext(mctx)
			// Tracked before it is handed out: the consumer may settle it at once.
			held.Add(1)
			inflight.Add(msg, del, func(o transport.Outcome) {
				defer func() { <-h.slots }()
				defer held.Add(-1)
				defer mcancel()
				var err error
				switch o {
				case transport.Acked:
					err = d.Ack(false)
				case transport.Nacked:
					err = s.nacked(d, queue, msg, del)
				default:
					err = d.Nack(false, true)
				}
				if err != nil {
					s.t.log.Warn("rabbitmq: settle message: the broker will deliver it again", "queue", queue, "message", msg.UUID, "error", err)
				}
			})
			select {
			case out <- msg:
			case <-cctx.Done():
				msg.Nack() // given back: not handed out
				transport.Settled(msg)
				break session
			}
		}
	}
	// Take no more; give the handlers close_timeout to settle what they hold; then end their
	// contexts and give back what is still unsettled, to be delivered again. The consumer is
	// cancelled only after the settling: the broker (quorum queues of RabbitMQ 3.x) was seen to
	// forget acknowledgements that came after a basic.cancel, and to deliver those messages
	// again. Meanwhile what it still sends waits in the channel and goes back at its close.
	inflight.Drain(s.t.cfg.CloseTimeout.D(), abandonAll)
	if ch != nil {
		ch.Cancel(tag, false)
	}
	if ch != nil {
		ch.Close() // gives back the deliveries received but not handed out
	}
}

// hand is what one consumer hands its messages out with.
type hand struct {
	queue    string
	mbase    context.Context // the messages' contexts derive from it
	held     *atomic.Int64   // the queue's deliveries held by this process
	inflight *transport.Inflight
	// slots holds one value for each message handed out and not yet settled: at most prefetch
	// messages, whether they came alone or in packs.
	slots chan struct{}
	out   chan<- *message.Message
}

// open waits for the consuming connection and starts consuming queue on a new channel. After a
// reconnection it declares the topology again, in case the broker lost it.
func (s *subscriber) open(ctx context.Context, topic, queue, tag string, first bool) (*amqp.Channel, <-chan amqp.Delivery, error) {
	if _, err := s.t.sub.wait(ctx); err != nil {
		return nil, nil, err
	}
	if !first {
		if err := s.t.declareGroup(ctx, topic, s.group); err != nil {
			return nil, nil, err
		}
	}
	ch, _, err := s.t.sub.channel()
	if err != nil {
		return nil, nil, err
	}
	if err := ch.Qos(s.prefetch, 0, false); err != nil {
		ch.Close()
		return nil, nil, fmt.Errorf("set prefetch: %w", err)
	}
	deliveries, err := ch.Consume(queue, tag, false, false, false, false, nil)
	if err != nil {
		ch.Close()
		return nil, nil, fmt.Errorf("consume %s: %w", queue, err)
	}
	return ch, deliveries, nil
}

// nacked settles a Nacked delivery: when the handler asked for a delay, the message goes to a
// delay queue and the delivery is acknowledged once the broker confirmed that; otherwise, or when
// the delay queue cannot take it, the delivery is given back for redelivery at once.
func (s *subscriber) nacked(d amqp.Delivery, queue string, msg *message.Message, del *transport.Delivery) error {
	after, ok := del.Delay()
	if !ok {
		return d.Nack(false, true)
	}
	attempt, err := strconv.Atoi(msg.Metadata.Get(envelope.Attempt))
	if err != nil || attempt < 1 {
		attempt = max(del.Deliveries, 1)
	}
	pub := republish(d)
	pub.Headers = delayedHeaders(d.Headers)
	if err := s.t.redeliverLater(pub, queue, after, attempt); err != nil {
		s.t.log.Warn("rabbitmq: cannot delay the message, giving it back at once", "queue", queue, "message", msg.UUID, "delay", after, "error", err)
		return d.Nack(false, true)
	}
	return d.Ack(false)
}

// toMessage reads a delivery written by the publisher (or by watermill-amqp). Header values
// that are not strings, such as the x-delivery-count of quorum queues, become metadata in
// their decimal form; the x-death tables and x-first-death headers of dead-lettered messages
// are left out. It returns the deliveries since the message was published or delayed (0 when
// the queue does not count them) and the attempts made before it was delayed (0 when it was not).
func toMessage(d amqp.Delivery, quorum bool) (_ *message.Message, deliveries, attempts int, _ error) {
	id, _ := d.Headers[wamqpUUIDHeader].(string)
	if id == "" {
		id = d.MessageId
	}
	if id == "" {
		return nil, 0, 0, fmt.Errorf("message without id (no %s header and no message-id)", wamqpUUIDHeader)
	}
	msg := message.NewMessage(id, d.Body)
	for k, v := range d.Headers {
		switch v := v.(type) {
		case string:
			msg.Metadata[k] = v
		case int, int8, int16, int32, int64, uint8, uint16, uint32, uint64:
			msg.Metadata[k] = fmt.Sprint(v)
		case bool:
			msg.Metadata[k] = strconv.FormatBool(v)
		}
	}
	delete(msg.Metadata, wamqpUUIDHeader)
	// A quorum queue counts the earlier deliveries of a message; the envelope counts this one too,
	// so that the engine can tell a message that keeps coming back (poison) from a new one. A
	// message back from a delay queue counts on from the attempts made before it was delayed.
	deliveries = deliveriesOf(d, quorum)
	// A message of a pack republished on its own counts on from the pack's deliveries.
	if n, err := strconv.Atoi(msg.Metadata[unsettledHeader]); err == nil && n > 0 {
		deliveries = max(deliveries, 1) + n
	}
	if base, err := strconv.Atoi(msg.Metadata[attemptsHeader]); err == nil && base > 0 {
		deliveries, attempts = max(deliveries, 1), base
		msg.Metadata[envelope.Attempt] = strconv.Itoa(base + deliveries)
	} else if deliveries > 1 {
		msg.Metadata[envelope.Attempt] = strconv.Itoa(deliveries)
	}
	for k := range msg.Metadata {
		if brokerHeader(k) || k == attemptsHeader || k == delayTierHeader || k == unsettledHeader {
			delete(msg.Metadata, k)
		}
	}
	return msg, deliveries, attempts, nil
}

// deliveryCountHeader is where quorum queues count the earlier deliveries of a message.
const deliveryCountHeader = "x-delivery-count"
