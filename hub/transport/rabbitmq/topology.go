package rabbitmq

import (
	"context"
	"errors"
	"fmt"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Names of the broker objects. A topic's exchange fans out to one queue per consumer group;
// what no queue takes goes through the alternate exchange to the topic's unrouted queue.
func (t *Transport) exchange(topic string) string { return t.cfg.ExchangePrefix + "." + topic }
func (t *Transport) unroutedExchange() string     { return t.cfg.ExchangePrefix + ".unrouted" }
func (t *Transport) deadExchange() string         { return t.cfg.ExchangePrefix + ".dead" }
func (t *Transport) unroutedQueue(topic string) string {
	return t.cfg.QueuePrefix + ".unrouted." + topic
}
func (t *Transport) queue(group, topic string) string {
	return t.cfg.QueuePrefix + "." + group + "." + topic
}

// declareTopic declares the topic's exchange with its alternate exchange and unrouted queue.
// Messages are published with the topic as routing key, which the fanout exchange ignores and
// the direct alternate exchange uses to file an unrouted message under its topic.
func (t *Transport) declareTopic(ch *amqp.Channel, topic string) error {
	t.declaring(false, t.unroutedExchange(), t.exchange(topic))
	t.declaring(true, t.unroutedQueue(topic))
	if err := ch.ExchangeDeclare(t.unroutedExchange(), amqp.ExchangeDirect, true, false, false, false, nil); err != nil {
		return fmt.Errorf("declare exchange %s: %w", t.unroutedExchange(), err)
	}
	uq := t.unroutedQueue(topic)
	if _, err := ch.QueueDeclare(uq, true, false, false, false, amqp.Table{amqp.QueueTypeArg: t.cfg.QueueType}); err != nil {
		return fmt.Errorf("declare queue %s: %w", uq, explain(err))
	}
	if err := ch.QueueBind(uq, topic, t.unroutedExchange(), false, nil); err != nil {
		return fmt.Errorf("bind queue %s: %w", uq, err)
	}
	ex := t.exchange(topic)
	if err := ch.ExchangeDeclare(ex, amqp.ExchangeFanout, true, false, false, false,
		amqp.Table{"alternate-exchange": t.unroutedExchange()}); err != nil {
		return fmt.Errorf("declare exchange %s: %w", ex, explain(err))
	}
	return nil
}

// declareGroup declares the queue of group on topic, bound to the topic's exchange, with its
// dead-letter queue and the delay queues it is redelivered from (delay.go); then it moves the messages published while no group was bound from the
// unrouted queue into the exchange, so that the first group of a topic receives them.
func (t *Transport) declareGroup(ctx context.Context, topic, group string) error {
	ch, c, err := t.sub.channel()
	if err != nil {
		return err
	}
	defer ch.Close()
	if err := t.declareTopic(ch, topic); err != nil {
		return err
	}
	q := t.queue(group, topic)
	dead := q + ".dead"
	t.declaring(false, t.deadExchange())
	t.declaring(true, q, dead)
	if err := ch.ExchangeDeclare(t.deadExchange(), amqp.ExchangeDirect, true, false, false, false, nil); err != nil {
		return fmt.Errorf("declare exchange %s: %w", t.deadExchange(), err)
	}
	if _, err := ch.QueueDeclare(dead, true, false, false, false, amqp.Table{amqp.QueueTypeArg: t.cfg.QueueType}); err != nil {
		return fmt.Errorf("declare queue %s: %w", dead, explain(err))
	}
	if err := ch.QueueBind(dead, dead, t.deadExchange(), false, nil); err != nil {
		return fmt.Errorf("bind queue %s: %w", dead, err)
	}
	args := amqp.Table{
		amqp.QueueTypeArg:           t.cfg.QueueType,
		"x-dead-letter-exchange":    t.deadExchange(),
		"x-dead-letter-routing-key": dead,
	}
	if t.cfg.QueueType == amqp.QueueTypeQuorum {
		args["x-delivery-limit"] = int64(t.cfg.DeliveryLimit)
	}
	if _, err := ch.QueueDeclare(q, true, false, false, false, args); err != nil {
		return fmt.Errorf("declare queue %s: %w", q, explain(err))
	}
	if err := ch.QueueBind(q, "", t.exchange(topic), false, nil); err != nil {
		return fmt.Errorf("bind queue %s: %w", q, err)
	}
	if err := t.declareDelay(ch, c, q); err != nil {
		return err
	}
	return t.takeOver(ctx, ch, topic)
}

// declaring tells the test hook, if any, the names about to be declared.
func (t *Transport) declaring(queue bool, names ...string) {
	if t.onDeclare != nil {
		for _, n := range names {
			t.onDeclare(queue, n)
		}
	}
}

// takeOverBatch is how many unrouted messages are moved per confirmation round.
const takeOverBatch = 128

// takeOver republishes the topic's unrouted messages to its exchange, now that a queue is bound
// to it, and removes each from the unrouted queue once the broker confirmed its republication.
func (t *Transport) takeOver(ctx context.Context, ch *amqp.Channel, topic string) error {
	if err := ch.Confirm(false); err != nil {
		return fmt.Errorf("take over unrouted messages: %w", err)
	}
	uq := t.unroutedQueue(topic)
	moved := 0
	for {
		var last uint64
		var pending []*amqp.DeferredConfirmation
		for len(pending) < takeOverBatch {
			d, ok, err := ch.Get(uq, false)
			if err != nil {
				return fmt.Errorf("take over unrouted messages from %s: %w", uq, err)
			}
			if !ok {
				break
			}
			dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, t.exchange(topic), topic, false, false, republish(d))
			if err != nil {
				return fmt.Errorf("take over unrouted messages from %s: %w", uq, err)
			}
			pending = append(pending, dc)
			last = d.DeliveryTag
		}
		if len(pending) == 0 {
			break
		}
		for _, dc := range pending {
			ok, err := dc.WaitContext(ctx)
			if err != nil || !ok {
				return fmt.Errorf("take over unrouted messages from %s: broker did not confirm (%v)", uq, err)
			}
		}
		if err := ch.Ack(last, true); err != nil {
			return fmt.Errorf("take over unrouted messages from %s: %w", uq, err)
		}
		moved += len(pending)
	}
	if moved > 0 {
		t.log.Info("rabbitmq: delivered messages published before any route subscribed", "topic", topic, "messages", moved)
	}
	return nil
}

// republish copies a delivery into a publishing with the same content and properties.
func republish(d amqp.Delivery) amqp.Publishing {
	return amqp.Publishing{
		Headers: d.Headers, ContentType: d.ContentType, ContentEncoding: d.ContentEncoding,
		DeliveryMode: d.DeliveryMode, Priority: d.Priority, CorrelationId: d.CorrelationId,
		ReplyTo: d.ReplyTo, Expiration: d.Expiration, MessageId: d.MessageId, Timestamp: d.Timestamp,
		Type: d.Type, UserId: d.UserId, AppId: d.AppId, Body: d.Body,
	}
}

// explain adds what to do when a queue or exchange exists with other settings.
func explain(err error) error {
	var aerr *amqp.Error
	if errors.As(err, &aerr) && aerr.Code == amqp.PreconditionFailed {
		return fmt.Errorf("%w (it exists with other settings: a queue's queue_type and delivery_limit cannot change; delete it or choose another queue_prefix)", err)
	}
	return err
}
