package embedded

import (
	"container/heap"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/internal/sqlitedb"
	"github.com/aiskao/aiskao/transport"
)

// subscriber is the subscriber of one consumer group. Each Subscribe call starts a consumer;
// consumers of one group and topic in one transport share a feed and so compete for messages.
type subscriber struct {
	t        *Transport
	group    string
	prefetch int // most unacknowledged messages per consumer
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

// Subscribe registers the group on topic and returns a channel of its messages. The channel is
// closed when ctx ends or the subscriber closes, after the messages in flight are settled or
// close_timeout has passed.
func (s *subscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, fmt.Errorf("embedded: subscribe %s to %s: %w", s.group, topic, ErrClosed)
	}
	s.wg.Add(1)
	s.mu.Unlock()
	sub, err := s.t.register(ctx, s.group, topic)
	if err != nil {
		s.wg.Done()
		return nil, err
	}
	f, err := s.t.feedFor(sub, topic)
	if err != nil {
		s.wg.Done()
		return nil, fmt.Errorf("embedded: subscribe %s to %s: %w", s.group, topic, err)
	}
	// Buffered up to prefetch: the consumer hands a message over without waiting for the
	// router's goroutines to come round, which under load kept most slots empty. A message in
	// the buffer holds its slot and is settled, or put back, like any other in flight.
	out := make(chan *message.Message, s.prefetch)
	go s.consume(ctx, f, out)
	return out, nil
}

// SubscribeInitialize registers the group on topic without consuming, so that messages published
// from now on wait for the group. Calling it for every group before sources start makes every
// group receive every message from the first one.
func (s *subscriber) SubscribeInitialize(topic string) error {
	_, err := s.t.register(context.Background(), s.group, topic)
	return err
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

// consume takes messages from the feed while fewer than prefetch are unacknowledged, and sends
// them on out. Each message in flight is settled by transport.Settled on the consumer's
// goroutine, or (without WithSettledCalls) by a goroutine waiting for its Ack or Nack.
func (s *subscriber) consume(ctx context.Context, f *feed, out chan *message.Message) {
	defer s.wg.Done()
	defer close(out)
	// cctx ends the taking of messages. Message contexts do not derive from it: a message taken
	// before the consumer stops keeps its context until it is settled or close_timeout has passed,
	// so that stopping drains the messages in flight instead of cutting them off.
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	mbase, abandonAll := context.WithCancel(context.WithoutCancel(ctx))
	defer abandonAll()
	slots := make(chan struct{}, s.prefetch)
	inflight := transport.NewInflight(s.settledCalls)
loop:
	for {
		select {
		case slots <- struct{}{}:
		case <-cctx.Done():
			break loop
		case <-s.closing:
			break loop
		}
		var m *stored
		select {
		case m = <-f.out:
		case <-cctx.Done():
			break loop
		case <-s.closing:
			break loop
		}
		mctx, mcancel := context.WithCancel(mbase)
		msg, del := m.message(mctx)
		// Tracked before it is handed out: the consumer may settle it at once.
		inflight.Add(msg, del, func(o transport.Outcome) {
			switch o {
			case transport.Acked:
				s.t.ack(f.sub, m.seq)
			case transport.Nacked:
				if after, ok := del.Delay(); ok {
					f.later(m, after, msg.Metadata.Get(envelope.Attempt))
				} else {
					f.requeue(m) // before the slot is freed, so that order holds with prefetch 1
				}
			default:
				f.requeue(m)
			}
			mcancel()
			<-slots
		})
		var stop bool
		select {
		case out <- msg:
		case <-cctx.Done():
			stop = true
		case <-s.closing:
			stop = true
		}
		if stop {
			msg.Nack() // given back: not handed out
			transport.Settled(msg)
			break loop
		}
	}
	// Give the handlers close_timeout to settle what they hold; then end their contexts and
	// put back what is still unsettled, to be delivered again.
	cancel()
	inflight.Drain(s.t.cfg.CloseTimeout.D(), abandonAll)
}

// stored is a message as read from the file, ready to be delivered (again).
type stored struct {
	seq        int64
	uuid       string
	metadata   message.Metadata
	payload    []byte
	deliveries int   // processes that were handed the message, this one included once counted
	counted    bool  // this process's delivery is in the file
	notBefore  int64 // Unix milliseconds before which it is not delivered; 0: at once
	attempts   int   // attempts made before it was last handed back with a delay
}

// message makes a delivery of m. Metadata is copied because handlers change it; the payload is
// shared, as handlers treat it as read-only.
func (m *stored) message(ctx context.Context) (*message.Message, *transport.Delivery) {
	msg := message.NewMessage(m.uuid, m.payload)
	msg.Metadata = maps.Clone(m.metadata)
	if msg.Metadata == nil {
		msg.Metadata = message.Metadata{}
	}
	// A message handed before to processes that stopped without settling it says so, and the
	// engine counts attempts on from there (poison); so does a message handed back with a delay.
	// A first delivery is left as published.
	if m.deliveries > 1 || m.attempts > 0 {
		msg.Metadata[envelope.Attempt] = strconv.Itoa(m.attempts + m.deliveries)
	}
	ctx, del := transport.NewDelivery(ctx, m.deliveries, m.attempts)
	msg.SetContext(ctx)
	return msg, del
}

// loadBatch is how many pending rows a feed reads from the file at once.
const loadBatch = 256

// feed hands the pending messages of one subscription (group and topic) to the consumers of this
// transport, lowest sequence first. Its dispatcher goroutine alone owns the queue.
type feed struct {
	t      *Transport
	sub    int64
	topic  string
	out    chan *stored  // consumers receive here
	back   chan *stored  // nacked, abandoned or delayed deliveries return here
	wakeup chan struct{} // a publish to topic committed (capacity 1)
	queue  seqHeap
	wait   dueHeap // delayed: not to be delivered before their notBefore
	cursor int64   // highest sequence read from the file
	// handoff holds what this process published to the topic, to be taken without reading it
	// back from the file.
	handoff handoff
}

func newFeed(t *Transport, sub int64, topic string) *feed {
	return &feed{t: t, sub: sub, topic: topic, out: make(chan *stored), back: make(chan *stored), wakeup: make(chan struct{}, 1),
		handoff: handoff{max: int64(t.cfg.HandoffBytes)}}
}

// handoff keeps the messages this process published to a feed's topic, in sequence order, until
// the feed's read of its pending rows reaches them: the feed then takes the message from here
// instead of reading its payload back from the file, which saves the reading and the copies of
// it (a large document once in memory instead of three more times). The pending rows stay the
// truth: a message kept here is delivered only when the feed finds its pending row, and one
// whose row it does not find (acknowledged by another process, or published before the
// subscription) is dropped when the feed reads past it. Bounded by max bytes, a larger message
// alone; what does not fit is read from the file in its turn.
type handoff struct {
	mu    sync.Mutex
	q     []*stored // ascending seq; q[head:] are kept
	head  int
	bytes int64
	max   int64
	floor int64 // the feed's cursor: what is at or below it was read already
}

// offer keeps ms (ascending seq) while there is room.
func (h *handoff) offer(ms []*stored) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, m := range ms {
		n := int64(len(m.payload))
		if m.seq <= h.floor || (h.bytes > 0 && h.bytes+n > h.max) {
			continue
		}
		h.q = append(h.q, m)
		h.bytes += n
	}
}

// take returns the message kept for seq, or nil, and drops what is kept below seq.
func (h *handoff) take(seq int64) *stored {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.dropTo(seq - 1)
	if h.head < len(h.q) && h.q[h.head].seq == seq {
		m := h.q[h.head]
		h.dropTo(seq)
		return m
	}
	return nil
}

// advance records that the feed has read up to cursor, dropping what is kept up to it.
func (h *handoff) advance(cursor int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.floor = cursor
	h.dropTo(cursor)
}

// dropTo forgets the messages kept up to seq. Called with mu held.
func (h *handoff) dropTo(seq int64) {
	for h.head < len(h.q) && h.q[h.head].seq <= seq {
		h.bytes -= int64(len(h.q[h.head].payload))
		h.q[h.head] = nil
		h.head++
	}
	if h.head == len(h.q) {
		h.q, h.head = h.q[:0], 0
	} else if h.head > 1024 && h.head > len(h.q)/2 {
		h.q, h.head = append(h.q[:0], h.q[h.head:]...), 0
	}
}

// poke tells the dispatcher that new messages may be in the file.
func (f *feed) poke() {
	select {
	case f.wakeup <- struct{}{}:
	default:
	}
}

// requeue gives a delivery back for redelivery.
func (f *feed) requeue(m *stored) {
	select {
	case f.back <- m:
	case <-f.t.stop:
	}
}

// later keeps a Nacked delivery from redelivery until after has passed: the pending row gets its
// due time and the attempts made so far, and its delivery count starts again, so that a restart
// keeps the delay and the attempt count. The consumer's slot is free meanwhile. When the file
// cannot be written, the delay still holds in this process; a restart would deliver the message
// at once, as after a crash.
func (f *feed) later(m *stored, after time.Duration, attempt string) {
	n, err := strconv.Atoi(attempt)
	if err != nil || n < m.attempts+m.deliveries {
		n = m.attempts + m.deliveries
	}
	due := (time.Now().Add(after).UnixNano() + 999_999) / 1e6 // not before: rounded up to the ms
	if _, err := sqlitedb.Exec(context.Background(), f.t.db, `UPDATE transport_pending SET not_before = ?, attempts = ?, deliveries = 0 WHERE sub = ? AND seq = ?`,
		due, n, f.sub, m.seq); err != nil {
		f.t.log.Error("embedded transport: keep delayed message", "topic", f.topic, "message", m.uuid, "error", err)
	}
	m.notBefore, m.attempts, m.deliveries, m.counted = due, n, 0, false
	f.requeue(m)
}

// run is the dispatcher. It reads from the file only when its queue is empty and the file may
// hold more: after a publish in this process, on each poll tick, or when the last read was full.
func (f *feed) run() {
	tick := time.NewTicker(f.t.cfg.PollInterval.D())
	defer tick.Stop()
	due := time.NewTimer(time.Hour)
	defer due.Stop()
	more := true
	for {
		f.release()
		var dueC <-chan time.Time
		if len(f.wait) > 0 {
			due.Reset(time.Until(time.UnixMilli(f.wait[0].notBefore)))
			dueC = due.C
		}
		if len(f.queue) == 0 && more {
			var err error
			if more, err = f.load(); err != nil {
				f.t.log.Error("embedded transport: read pending messages", "topic", f.topic, "error", err)
				more = false // try again on the next tick
			}
		}
		var out chan *stored
		var next *stored
		if len(f.queue) > 0 {
			if !f.queue[0].counted {
				if err := f.count(); err != nil {
					f.t.log.Error("embedded transport: count deliveries", "topic", f.topic, "error", err)
				}
			}
			if f.queue[0].counted {
				out, next = f.out, f.queue[0]
			}
		}
		select {
		case out <- next:
			heap.Pop(&f.queue)
		case m := <-f.back:
			f.push(m)
		case <-dueC:
		case <-f.wakeup:
			more = true
		case <-tick.C:
			more = true
		case <-f.t.stop:
			return
		}
	}
}

// push queues m for delivery, or keeps it waiting while it is not due.
func (f *feed) push(m *stored) {
	if m.notBefore > time.Now().UnixMilli() {
		heap.Push(&f.wait, m)
		return
	}
	heap.Push(&f.queue, m)
}

// release queues the waiting messages that are due.
func (f *feed) release() {
	now := time.Now().UnixMilli()
	for len(f.wait) > 0 && f.wait[0].notBefore <= now {
		heap.Push(&f.queue, heap.Pop(&f.wait))
	}
}

// count records, before they are handed out, that this process delivers the queued messages not
// yet counted (at most prefetch of them, in one statement and one commit). A process that stops
// while handling them leaves the higher count behind, as a quorum queue does; nacks within one
// process are not counted, the engine's retries count those.
func (f *feed) count() error {
	var batch []*stored
	for _, m := range f.queue {
		if !m.counted {
			batch = append(batch, m)
			if len(batch) == f.t.cfg.Prefetch {
				break
			}
		}
	}
	if len(batch) == 0 {
		return nil
	}
	seqs := make([]int64, len(batch))
	for i, m := range batch {
		seqs[i] = m.seq
	}
	list := string(seqList(make([]byte, 0, 8*len(seqs)), seqs))
	// Relaxed, like an acknowledgement: a crash of the process keeps the count; a power cut may
	// take it back, and the message is then delivered once more than counted.
	ctx := context.Background()
	tx, err := f.t.counts.Begin(ctx, false)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := in(ctx, tx.Tx, f.t.st.count, f.sub, list); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	for _, m := range batch {
		m.counted = true
		m.deliveries++
	}
	return nil
}

// load reads the next pending rows of the subscription after the cursor, at most loadBatch of
// them and, besides, at most read_bytes of payload (a larger message alone), and queues their
// messages: from the handoff where this process published them, else read from the file. It
// reports whether the file may hold more.
func (f *feed) load() (more bool, err error) {
	type pending struct {
		seq, notBefore       int64
		deliveries, attempts int
	}
	var ps []pending
	rows, err := f.t.st.pending.Query(f.sub, f.cursor, loadBatch)
	if err != nil {
		return false, err
	}
	for rows.Next() {
		var p pending
		if err := rows.Scan(&p.seq, &p.deliveries, &p.notBefore, &p.attempts); err != nil {
			rows.Close()
			return false, err
		}
		ps = append(ps, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, err
	}
	defer func() { f.handoff.advance(f.cursor) }()
	var bytes int64
	for i, p := range ps {
		if i > 0 && bytes >= int64(f.t.cfg.ReadBytes) {
			return true, nil
		}
		m := f.handoff.take(p.seq)
		if m == nil {
			if m, err = f.read(p.seq); err != nil {
				return false, err
			}
		}
		f.cursor = p.seq
		if m == nil {
			continue // acknowledged since, by another process on the file
		}
		m.deliveries, m.notBefore, m.attempts = p.deliveries, p.notBefore, p.attempts
		bytes += int64(len(m.payload))
		f.push(m)
	}
	return len(ps) == loadBatch, nil
}

// read reads message seq from the file; nil when it is gone.
func (f *feed) read(seq int64) (*stored, error) {
	m := &stored{seq: seq}
	var meta []byte
	var parts int
	err := f.t.st.message.QueryRow(seq).Scan(&m.uuid, &meta, &m.payload, &parts)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("message %d: %w", seq, err)
	}
	if parts > 0 {
		if m.payload, err = f.readParts(seq, m.payload, parts); err != nil {
			return nil, fmt.Errorf("message %s: %w", m.uuid, err)
		}
	}
	if err := json.Unmarshal(meta, &m.metadata); err != nil {
		return nil, fmt.Errorf("message %s: metadata: %w", m.uuid, err)
	}
	f.t.reads.Add(1)
	return m, nil
}

// readParts appends the parts of message seq to its first part, head.
func (f *feed) readParts(seq int64, head []byte, parts int) ([]byte, error) {
	rows, err := f.t.st.parts.Query(seq)
	if err != nil {
		return nil, fmt.Errorf("read parts: %w", err)
	}
	defer rows.Close()
	payload := make([]byte, 0, len(head)*(parts+1))
	payload = append(payload, head...)
	n := 0
	for rows.Next() {
		var part sql.RawBytes
		if err := rows.Scan(&part); err != nil {
			return nil, fmt.Errorf("read parts: %w", err)
		}
		payload = append(payload, part...)
		n++
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read parts: %w", err)
	}
	if n != parts {
		return nil, fmt.Errorf("read parts: %d of %d found", n, parts)
	}
	return payload, nil
}

// seqHeap orders deliveries by sequence, so that redeliveries go first.
type seqHeap []*stored

func (h seqHeap) Len() int           { return len(h) }
func (h seqHeap) Less(i, j int) bool { return h[i].seq < h[j].seq }
func (h seqHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *seqHeap) Push(x any)        { *h = append(*h, x.(*stored)) }
func (h *seqHeap) Pop() any {
	old := *h
	m := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return m
}

// dueHeap orders delayed deliveries by due time.
type dueHeap []*stored

func (h dueHeap) Len() int { return len(h) }
func (h dueHeap) Less(i, j int) bool {
	if h[i].notBefore != h[j].notBefore {
		return h[i].notBefore < h[j].notBefore
	}
	return h[i].seq < h[j].seq
}
func (h dueHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *dueHeap) Push(x any)   { *h = append(*h, x.(*stored)) }
func (h *dueHeap) Pop() any {
	old := *h
	m := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return m
}
