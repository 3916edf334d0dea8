// Package rabbitmq is the transport for several hub processes on several machines: messages
// travel through a RabbitMQ broker (3.8 or later, for quorum queues), in the message format of
// watermill-amqp (payload as body, metadata as headers, the id in _watermill_message_uuid).
//
// # Topology
//
// With the default prefixes (exchange_prefix and queue_prefix "aiskao"), for a topic T and a
// consumer group G (the hub uses one topic and one group per route):
//
//	aiskao.T              fanout exchange, durable; alternate exchange aiskao.unrouted
//	aiskao.G.T            queue of group G, bound to aiskao.T: quorum (or classic), durable,
//	                      x-delivery-limit, dead-lettering to aiskao.dead with key aiskao.G.T.dead
//	aiskao.dead           direct exchange of the dead-letter queues
//	aiskao.G.T.dead       dead-letter queue of aiskao.G.T
//	aiskao.unrouted       direct exchange that takes what no group's queue takes
//	aiskao.unrouted.T     queue of the messages of T published while no group was bound
//	aiskao.delay          headers exchange of delayed redeliveries, by their aiskao-delay header
//	aiskao.delay.D        classic queue of one delay tier D (1s, 5s, 15s, 1m, 5m, 15m, 1h, 4h,
//	                      24h): x-message-ttl D, dead-lettering to aiskao.redeliver
//	aiskao.redeliver      direct exchange; every group's queue is bound to it under its own name
//
// Every group gets every message of a topic, since each has its own queue. The consumers of a
// group, in this process and in others, compete for the messages of its queue.
//
// A group's queue is declared when the group subscribes (Subscribe, or SubscribeInitialize,
// which declares without consuming and is best called for every group before sources start).
// A message published while no queue is bound to its topic's exchange would be dropped by the
// broker; the alternate exchange keeps it instead in the topic's unrouted queue, and the first
// group that declares its queue on the topic moves those messages into it (republished with
// confirms, then removed). So, as with the embedded transport, the first group of a topic takes
// over the messages published before any group was known, and a group added later starts with
// the messages published after it was declared. (A message whose publication races the very
// first binding of its topic may reach the unrouted queue just after it was emptied; it is then
// moved at the next declaration of a group on the topic: the next Subscribe, start or
// reconnection.) Messages are published with the mandatory flag
// too: should the unrouted queue be missing, the broker returns the message and Publish fails.
//
// # Publishing
//
// Messages are persistent, and Publish returns only once the broker confirmed every message
// (publisher confirms): a quorum queue confirms once a majority of its nodes has the message on
// disk. The messages of one Publish call go out back to back on one channel and their
// confirmations are awaited together; concurrent calls use channels of their own. A Publish
// that fails may have stored some of its messages: the sender, not having been answered, sends
// again, and the hub's consumers are idempotent.
//
// # Packs
//
// With pack above 1, the messages published to a topic while the broker has not yet confirmed
// the topic's previous pack wait, and then go out together as one broker message, a pack, with
// the header aiskao-pack (its count of messages) and a body of its own format: "AKP\x01", the
// count, and each message's id, metadata and payload, every length an unsigned varint. Nothing
// waits for a pack to fill: a message published while no pack is out goes at once, alone, as
// a plain message, so packs grow only while the broker's confirmations lag behind. A pack holds
// at most pack messages and 1 MiB; messages above 64 KiB always go alone. The broker stores,
// replicates, confirms, delivers and acknowledges a pack as one message, which is where the
// saving is: on 2 cores, a quorum queue took about 100 µs of the broker's CPU for each 3.7 kB
// message sent alone, and about 30 µs a message in packs of six.
//
// A consumer reads a pack as its messages, each handed out, counted against the prefetch and
// settled on its own; the pack is acknowledged once every one of them is. A message Nacked is
// republished on its own, as a plain message, the way a message sent alone goes back: with a
// delay, to the delay exchange with the attempts made so far; without, through the redeliver
// exchange straight to the group's queue, with its deliveries so far in the x-aiskao-unsettled
// header for its count to go on; the pack is acknowledged only after the broker confirmed that
// copy. Should a message of the pack go back unsettled (its consumer stopped) or its copy fail,
// the whole pack goes back to the queue; a pack delivered a second time is split (each message
// republished on its own with the pack's deliveries so far in x-aiskao-unsettled, then the pack
// acknowledged), so that a message that brings processes down is counted, with no more lives
// than alone, and dead-lettered on its own. The messages of the pack that were
// already settled are delivered again then, and the routes drop them, having seen their ids. A
// pack that cannot be read goes to the dead-letter queue. Consumers read packs whatever their
// own pack setting; other Watermill applications do not, so a queue that they read must not
// receive packs.
//
// # Consuming
//
// Acknowledgement is manual: a message is acknowledged to the broker when the handler Acks it,
// and given back (requeued) when it Nacks. Each consumer holds at most prefetch unacknowledged
// messages (QoS); a subscriber made with transport.WithPrefetch (the route's prefetch) uses its
// own.
//
// # Delayed redelivery
//
// A handler that asked with transport.RedeliverAfter to have a message back after a delay, and
// Nacks it, frees the consumer at once: the message is republished, persistent and with a
// publisher confirm, to aiskao.delay with the group's queue as routing key and the tier as
// header, into the shortest tier that holds the delay, with the delay as its expiration; the
// original delivery is acknowledged only once the broker confirmed the copy (should the copy
// fail, the delivery is given back at once instead). When the copy expires, the broker
// dead-letters it through aiskao.redeliver into the group's queue, where it is delivered like any
// message. A queue expires messages from its head only, so a message waits at most the longest
// delay of its tier; delays beyond 24h are cut to 24h. The copy carries the attempts made so
// far in the x-aiskao-attempts header (the quorum queue's delivery count starts again with the
// copy), and the envelope's attempt goes on from it. Per-message expiration in classic queues
// works on every RabbitMQ version the transport supports (quorum queues have it from 3.10 only).
// A crash between the confirm and the acknowledgement leaves both the copy and the original, to
// be delivered twice; the hub's consumers are idempotent. Messages a consumer held when its channel or connection closed, or its
// process died, are delivered again to a consumer of the group.
//
// A quorum queue counts the deliveries of each message. A message delivered more than
// delivery_limit times goes to the queue's dead-letter queue, with the broker's x-death header
// saying why. The hub's own retries and dead letters (kept in its store with their reason,
// listed and replayed through the operations API) settle a failing message long before: after
// its retries the engine stores the dead letter and Acks the message. The broker's dead-letter
// queue is the last safety net for a message that brings down every process that takes it,
// which the hub never sees fail; an operator inspects it with the broker's tools. Classic
// queues keep no delivery count, so with queue_type classic such a message is delivered for
// ever. A message the transport cannot read (no id) goes to the dead-letter queue at once.
//
// Close stops the consumers: no new message is taken, and the messages in flight get
// close_timeout to be acknowledged with their contexts intact (a drain); then the contexts of
// those still unsettled are cancelled and the messages given back to the broker. The broker's
// consumer is cancelled after the drain, not before: acknowledgements sent after a basic.cancel
// were seen lost (the messages delivered again), and what the broker sends during the drain
// goes back to it when the channel closes.
//
// # Connection loss
//
// The transport holds two connections, one to publish and one to consume, as RabbitMQ advises.
// When either is lost it is opened again with a wait that starts at reconnect_initial and
// doubles up to reconnect_max. Meanwhile Ready reports the transport not ready, Publish fails
// at once (the source does not acknowledge its sender, who sends again), and consumers wait and
// then consume again. Acknowledgements of messages received on the lost connection no longer
// count: the broker delivers those messages again. Nothing that the broker confirmed is lost.
//
// Backlog counts the messages ready in the group's queue and those this process holds
// unacknowledged; AMQP does not tell how many other processes hold, and a pack waiting in the
// queue counts as one message.
package rabbitmq
