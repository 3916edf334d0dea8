package embedded

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/envelope"
	"github.com/aiskao/aiskao/internal/sqlitedb"
	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/transport"
)

// open makes a transport on file, closed when the test ends.
func open(t testing.TB, file string, cfg Config) *Transport {
	t.Helper()
	cfg.File = file
	tr, err := New(cfg, transport.Env{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}

func tempFile(t testing.TB) string { return filepath.Join(t.TempDir(), "t.db") }

func subscribe(t testing.TB, tr *Transport, group, topic string) <-chan *message.Message {
	t.Helper()
	sub, err := tr.Subscriber(group)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := sub.Subscribe(context.Background(), topic)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func publish(t testing.TB, tr *Transport, topic string, msgs ...*message.Message) {
	t.Helper()
	if err := tr.Publisher().Publish(topic, msgs...); err != nil {
		t.Fatal(err)
	}
}

func simple(n int) []*message.Message {
	out := make([]*message.Message, n)
	for i := range out {
		out[i] = message.NewMessage(fmt.Sprintf("m%03d", i), []byte(fmt.Sprint(i)))
	}
	return out
}

// receive takes n messages from ch, failing after a generous timeout.
func receive(t testing.TB, ch <-chan *message.Message, n int) []*message.Message {
	t.Helper()
	var out []*message.Message
	timeout := time.After(10 * time.Second)
	for len(out) < n {
		select {
		case m, ok := <-ch:
			if !ok {
				t.Fatalf("channel closed after %d of %d messages", len(out), n)
			}
			out = append(out, m)
		case <-timeout:
			t.Fatalf("received %d of %d messages", len(out), n)
		}
	}
	return out
}

// eventually polls cond until it holds.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func backlog(t testing.TB, tr *Transport, topic, group string) int64 {
	t.Helper()
	n, err := tr.Backlog(context.Background(), topic, group)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func countRows(t testing.TB, tr *Transport, table string) int64 {
	t.Helper()
	var n int64
	if err := tr.db.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestMessageKeptExactly(t *testing.T) {
	tr := open(t, tempFile(t), Config{})
	ch := subscribe(t, tr, "g", "topic")
	in := []*message.Message{
		message.NewMessage("0b4f2c1e-6a0d-4c43-9d38-3f6f7a0d2b11", []byte{0, 1, 2, 0xff, 0, '\n'}),
		message.NewMessage("empty-payload", nil),
	}
	in[0].Metadata.Set("subject", "Преписка № 94-00-12/2025")
	in[0].Metadata.Set("type", "esoed.DocumentRegistrationRequest")
	in[0].Metadata.Set("empty", "")
	publish(t, tr, "topic", in...)
	got := receive(t, ch, 2)
	for i, m := range got {
		if m.UUID != in[i].UUID {
			t.Errorf("message %d: uuid %q, want %q", i, m.UUID, in[i].UUID)
		}
		if !bytes.Equal(m.Payload, in[i].Payload) {
			t.Errorf("message %d: payload %v, want %v", i, m.Payload, in[i].Payload)
		}
		if !maps.Equal(m.Metadata, in[i].Metadata) {
			t.Errorf("message %d: metadata %v, want %v", i, m.Metadata, in[i].Metadata)
		}
		m.Ack()
	}
}

func TestRestartRedeliversUnacknowledged(t *testing.T) {
	file := tempFile(t)
	tr := open(t, file, Config{CloseTimeout: spec.Duration(time.Millisecond)})
	ch := subscribe(t, tr, "g", "topic")
	publish(t, tr, "topic", simple(3)...)
	first := receive(t, ch, 3)
	first[0].Ack() // the other two are held unacknowledged when the process "ends"
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}

	tr = open(t, file, Config{})
	if n := backlog(t, tr, "topic", "g"); n != 2 {
		t.Fatalf("backlog after restart: %d, want 2", n)
	}
	again := receive(t, subscribe(t, tr, "g", "topic"), 2)
	for i, m := range again {
		if want := first[i+1]; m.UUID != want.UUID || !bytes.Equal(m.Payload, want.Payload) {
			t.Errorf("redelivery %d: %s %q, want %s %q", i, m.UUID, m.Payload, want.UUID, want.Payload)
		}
		m.Ack()
	}
	eventually(t, "backlog is 0", func() bool { return backlog(t, tr, "topic", "g") == 0 })
}

func TestCloseFlushesAcknowledgements(t *testing.T) {
	file := tempFile(t)
	// A long ack interval: only the flush on Close can have written the acknowledgements.
	tr := open(t, file, Config{AckInterval: spec.Duration(time.Second)})
	ch := subscribe(t, tr, "g", "topic")
	publish(t, tr, "topic", simple(5)...)
	for _, m := range receive(t, ch, 5) {
		m.Ack()
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	tr = open(t, file, Config{})
	if n := backlog(t, tr, "topic", "g"); n != 0 {
		t.Fatalf("backlog after restart: %d, want 0", n)
	}
}

func TestNackRedeliversInOrderWithPrefetchOne(t *testing.T) {
	tr := open(t, tempFile(t), Config{Prefetch: 1})
	ch := subscribe(t, tr, "g", "topic")
	publish(t, tr, "topic", simple(3)...)
	var got []string
	for _, nack := range []bool{true, false, true, false, false} {
		m := receive(t, ch, 1)[0]
		got = append(got, m.UUID)
		if nack {
			m.Nack()
		} else {
			m.Ack()
		}
	}
	want := []string{"m000", "m000", "m001", "m001", "m002"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("deliveries %v, want %v", got, want)
	}
}

func TestPrefetchBoundsMessagesInFlight(t *testing.T) {
	tr := open(t, tempFile(t), Config{Prefetch: 4})
	ch := subscribe(t, tr, "g", "topic")
	publish(t, tr, "topic", simple(6)...)
	held := receive(t, ch, 4)
	select {
	case m := <-ch:
		t.Fatalf("received %s while 4 messages (the prefetch) are unacknowledged", m.UUID)
	case <-time.After(50 * time.Millisecond):
	}
	held[0].Ack()
	held[1].Ack()
	rest := receive(t, ch, 2)
	for _, m := range append(held[2:], rest...) {
		m.Ack()
	}
}

func TestGroupsEachGetEveryMessageAndConsumersCompete(t *testing.T) {
	tr := open(t, tempFile(t), Config{})
	a1 := subscribe(t, tr, "a", "topic")
	a2 := subscribe(t, tr, "a", "topic")
	b := subscribe(t, tr, "b", "topic")
	const n = 200
	publish(t, tr, "topic", simple(n)...)

	seen := map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	done := make(chan struct{})
	for _, ch := range []<-chan *message.Message{a1, a2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case m, ok := <-ch:
					if !ok {
						return
					}
					mu.Lock()
					seen[m.UUID]++
					mu.Unlock()
					m.Ack()
				case <-done:
					return
				}
			}
		}()
	}
	for range n {
		receive(t, b, 1)[0].Ack()
	}
	eventually(t, "group a received every message", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == n
	})
	eventually(t, "group a's backlog is 0", func() bool { return backlog(t, tr, "topic", "a") == 0 })
	close(done)
	wg.Wait()
	for id, k := range seen {
		if k != 1 {
			t.Errorf("group a received %s %d times, want once", id, k)
		}
	}
}

func TestFirstGroupTakesEarlierMessagesLaterGroupsStartAtSubscription(t *testing.T) {
	tr := open(t, tempFile(t), Config{})
	publish(t, tr, "topic", simple(2)...) // no group yet: kept for the first one
	if n := backlog(t, tr, "topic", "first"); n != 0 {
		t.Fatalf("backlog of a group not subscribed: %d, want 0", n)
	}
	first := subscribe(t, tr, "first", "topic")
	later := subscribe(t, tr, "later", "topic")
	publish(t, tr, "topic", message.NewMessage("after", []byte("x")))

	var ids []string
	for _, m := range receive(t, first, 3) {
		ids = append(ids, m.UUID)
		m.Ack()
	}
	if want := "[m000 m001 after]"; fmt.Sprint(ids) != want {
		t.Errorf("first group received %v, want %s", ids, want)
	}
	m := receive(t, later, 1)[0]
	m.Ack()
	if m.UUID != "after" {
		t.Errorf("later group received %s first, want the message published after it subscribed", m.UUID)
	}
	select {
	case m := <-later:
		t.Errorf("later group received %s, published before it subscribed", m.UUID)
	case <-time.After(50 * time.Millisecond):
	}
}

func TestBacklogAndCleanup(t *testing.T) {
	tr := open(t, tempFile(t), Config{})
	for _, g := range []string{"a", "b"} {
		sub, err := tr.Subscriber(g)
		if err != nil {
			t.Fatal(err)
		}
		if err := sub.(message.SubscribeInitializer).SubscribeInitialize("topic"); err != nil {
			t.Fatal(err)
		}
	}
	publish(t, tr, "topic", simple(5)...)
	if a, b := backlog(t, tr, "topic", "a"), backlog(t, tr, "topic", "b"); a != 5 || b != 5 {
		t.Fatalf("backlog a=%d b=%d, want 5 and 5", a, b)
	}

	a := subscribe(t, tr, "a", "topic")
	for _, m := range receive(t, a, 2) {
		m.Ack()
	}
	eventually(t, "backlog of a is 3", func() bool { return backlog(t, tr, "topic", "a") == 3 })
	if n := backlog(t, tr, "topic", "b"); n != 5 {
		t.Fatalf("backlog of b: %d, want 5 (a's acknowledgements are a's only)", n)
	}
	if n := countRows(t, tr, "transport_messages"); n != 5 {
		t.Fatalf("%d messages stored, want 5: b still waits for every one", n)
	}

	b := subscribe(t, tr, "b", "topic")
	for _, m := range receive(t, b, 3) {
		m.Ack()
	}
	eventually(t, "messages acknowledged by both groups are deleted", func() bool {
		return countRows(t, tr, "transport_messages") == 3
	})
	for _, m := range receive(t, a, 3) {
		m.Ack()
	}
	for _, m := range receive(t, b, 2) {
		m.Ack()
	}
	eventually(t, "every message is deleted", func() bool {
		return countRows(t, tr, "transport_messages") == 0 && countRows(t, tr, "transport_pending") == 0
	})
}

func TestPublishWakesSubscriberWithoutPolling(t *testing.T) {
	tr := open(t, tempFile(t), Config{PollInterval: spec.Duration(time.Minute)})
	ch := subscribe(t, tr, "g", "topic")
	// Let the dispatcher find the topic empty and go to sleep until woken.
	eventually(t, "the subscription is registered", func() bool { return countRows(t, tr, "transport_subscriptions") == 1 })
	for i := range 3 {
		start := time.Now()
		publish(t, tr, "topic", simple(1)...)
		select {
		case m := <-ch:
			m.Ack()
		case <-time.After(5 * time.Second):
			t.Fatalf("message %d not delivered within 5s with a 1m poll interval", i)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("message %d took %s", i, d)
		}
	}
}

func TestGroupCommitBatchesConcurrentPublishes(t *testing.T) {
	tr := open(t, tempFile(t), Config{})
	if err := mustSub(t, tr, "g").SubscribeInitialize("topic"); err != nil {
		t.Fatal(err)
	}
	const publishers, each = 32, 20
	before := tr.commits.Load()
	var wg sync.WaitGroup
	for p := range publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pub := tr.Publisher()
			for i := range each {
				if err := pub.Publish("topic", message.NewMessage(fmt.Sprintf("p%d-%d", p, i), []byte("x"))); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	commits := tr.commits.Load() - before
	t.Logf("%d publishes in %d commits", publishers*each, commits)
	if commits > publishers*each/4 {
		t.Errorf("%d publishes took %d commits; want at most %d (publishes are not grouped)", publishers*each, commits, publishers*each/4)
	}
	if n := backlog(t, tr, "topic", "g"); n != publishers*each {
		t.Errorf("backlog %d, want %d: a publish returned before its message was committed", n, publishers*each)
	}
}

func mustSub(t testing.TB, tr *Transport, group string) message.SubscribeInitializer {
	t.Helper()
	sub, err := tr.Subscriber(group)
	if err != nil {
		t.Fatal(err)
	}
	return sub.(message.SubscribeInitializer)
}

func TestClosedRefuses(t *testing.T) {
	tr := open(t, tempFile(t), Config{})
	pub := tr.Publisher()
	if err := pub.Close(); err != nil {
		t.Fatal(err)
	}
	if err := pub.Publish("topic", simple(1)...); err == nil {
		t.Error("publish through a closed publisher succeeded")
	}
	publish(t, tr, "topic", simple(1)...) // other handles still work
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tr.Publisher().Publish("topic", simple(1)...); err == nil {
		t.Error("publish after Close succeeded")
	}
	if _, err := tr.Subscriber("g"); err == nil {
		t.Error("Subscriber after Close succeeded")
	}
	if err := tr.Ready(context.Background()); err == nil {
		t.Error("Ready after Close reported ready")
	}
	if err := tr.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestCloseEndsSubscriptionChannels(t *testing.T) {
	tr := open(t, tempFile(t), Config{CloseTimeout: spec.Duration(time.Millisecond)})
	ch := subscribe(t, tr, "g", "topic")
	publish(t, tr, "topic", simple(1)...)
	m := receive(t, ch, 1)[0] // held without Ack
	if err := tr.Ready(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-m.Context().Done():
	default:
		t.Error("message context still open after Close")
	}
	if _, ok := <-ch; ok {
		t.Error("channel delivered after Close")
	}
}

// TestDeliveriesCountAcrossRestarts: a message handed to a process that stopped without settling
// it comes back with its delivery count as the envelope's attempt; nacks within one process and
// a first delivery leave it as published.
func TestDeliveriesCountAcrossRestarts(t *testing.T) {
	file := tempFile(t)
	short := Config{CloseTimeout: spec.Duration(time.Millisecond)}
	tr := open(t, file, short)
	ch := subscribe(t, tr, "g", "topic")
	publish(t, tr, "topic", simple(1)...)
	m := receive(t, ch, 1)[0]
	if a := m.Metadata.Get(envelope.Attempt); a != "" {
		t.Errorf("first delivery: attempt %q, want none", a)
	}
	m.Nack()
	if a := receive(t, ch, 1)[0].Metadata.Get(envelope.Attempt); a != "" {
		t.Errorf("after a nack in the same process: attempt %q, want none", a)
	}
	for want := 2; want <= 3; want++ {
		if err := tr.Close(); err != nil { // the message is held: the process "stops" on it
			t.Fatal(err)
		}
		tr = open(t, file, short)
		ch = subscribe(t, tr, "g", "topic")
		m = receive(t, ch, 1)[0]
		if got := m.Metadata.Get(envelope.Attempt); got != strconv.Itoa(want) {
			t.Errorf("after %d stops: attempt %q, want %d", want-1, got, want)
		}
	}
	m.Ack()
}

// TestOpensFileWithoutDeliveryCounts: a file written before deliveries were counted opens, and
// its pending messages are delivered.
func TestOpensFileWithoutDeliveryCounts(t *testing.T) {
	file := tempFile(t)
	tr := open(t, file, Config{})
	subscribe(t, tr, "g", "topic")
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sqlitedb.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`DROP TABLE transport_pending`,
		`CREATE TABLE transport_pending (sub INTEGER NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (sub, seq)) WITHOUT ROWID`,
		`ALTER TABLE transport_messages DROP COLUMN parts`, // before payloads were kept in parts
		`DROP TABLE transport_parts`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if err := sqlitedb.Release(db); err != nil {
		t.Fatal(err)
	}
	tr = open(t, file, Config{})
	ch := subscribe(t, tr, "g", "topic")
	big := bytes.Repeat([]byte("x"), partSize+1)
	publish(t, tr, "topic", append(simple(2), message.NewMessage("big", big))...)
	if n := countRows(t, tr, "transport_parts"); n != 1 {
		t.Errorf("%d rows of parts, want 1", n)
	}
	for _, m := range receive(t, ch, 3) {
		m.Ack()
	}
}

// Publishes to several topics that share commits get one pending row per group subscribed to
// their own topic, none for the groups of the other topics, and none for a topic no group knows.
func TestBatchedPublishesPendForTheirOwnTopicsGroups(t *testing.T) {
	tr := open(t, tempFile(t), Config{})
	for _, gt := range [][2]string{{"a", "x"}, {"b", "x"}, {"c", "y"}} {
		if err := mustSub(t, tr, gt[0]).SubscribeInitialize(gt[1]); err != nil {
			t.Fatal(err)
		}
	}
	const each = 60
	before := tr.commits.Load()
	var wg sync.WaitGroup
	for _, topic := range []string{"x", "y", "z"} {
		for i := range each {
			wg.Go(func() {
				msg := message.NewMessage(fmt.Sprintf("%s-%d", topic, i), []byte(topic))
				if err := tr.Publisher().Publish(topic, msg); err != nil {
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()
	if commits := tr.commits.Load() - before; commits >= 3*each {
		t.Logf("%d commits for %d publishes: the batches did not mix topics", commits, 3*each)
	}
	for _, c := range []struct {
		topic, group string
		want         int64
	}{{"x", "a", each}, {"x", "b", each}, {"y", "c", each}, {"y", "a", 0}, {"x", "c", 0}} {
		if n := backlog(t, tr, c.topic, c.group); n != c.want {
			t.Errorf("backlog of %s for %s: %d, want %d", c.topic, c.group, n, c.want)
		}
	}
	if n := countRows(t, tr, "transport_pending"); n != 3*each {
		t.Errorf("%d pending rows, want %d (none for z, which no group knows)", n, 3*each)
	}
	// The first group of z takes over its messages.
	ch := subscribe(t, tr, "d", "z")
	for _, m := range receive(t, ch, each) {
		if string(m.Payload) != "z" {
			t.Errorf("group of z received %q", m.Payload)
		}
		m.Ack()
	}
}
