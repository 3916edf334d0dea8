package rabbitmq

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/aiskao/aiskao/internal/faultproxy"
	"github.com/aiskao/aiskao/internal/syncbuf"
	"github.com/aiskao/aiskao/transport"
)

// throughProxy points cfg at a fault proxy in front of its broker.
func throughProxy(t *testing.T, cfg *Config) *faultproxy.Proxy {
	t.Helper()
	u, err := url.Parse(cfg.URL)
	if err != nil {
		t.Fatal(err)
	}
	px, err := faultproxy.Start(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { px.Close() })
	u.Host = px.Addr()
	cfg.URL = u.String()
	return px
}

// within polls cond every 20 ms for at most d and returns how long it took, failing when it
// did not hold in time.
func within(t *testing.T, what string, d time.Duration, since time.Time, cond func() bool) time.Duration {
	t.Helper()
	for !cond() {
		if time.Since(since) > d {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(since)
}

// TestBlackholedBrokerNoticed: the network to the broker drops every packet for 5 s while the
// connections stay open. Readiness says so within the heartbeat (2 s), a publish
// does not hang past publish_timeout, each stall and recovery is logged once, and after the
// heal the transport is ready and delivers within 3 s.
func TestBlackholedBrokerNoticed(t *testing.T) {
	if testing.Short() {
		t.Skip("blackholes the broker for 5 s; skipped with -short")
	}
	cfg := testConfig(t)
	px := throughProxy(t, &cfg)
	logs := &syncbuf.Buffer{}
	tr, err := New(cfg, transport.Env{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	tr.onDeclare = record(cfg.QueuePrefix)
	t.Cleanup(func() { tr.Close() })
	ctx := context.Background()
	ch := subscribe(t, tr, "g", "topic")
	publish(t, tr, "topic", simple("before", 3)...)
	ackAll(receive(t, ch, 3))

	px.Blackhole()
	cut := time.Now()
	// A publish under way when the network went: it ends with an unknown outcome, in time.
	inFlight := make(chan error, 1)
	go func() { inFlight <- tr.Publisher().Publish("topic", message.NewMessage("cut000", []byte("x"))) }()

	notReady := within(t, "PublishReady to fail after the cut", 3*time.Second, cut, func() bool {
		return tr.PublishReady(ctx) != nil && tr.ConsumeReady(ctx) != nil
	})
	if err := tr.PublishReady(ctx); !errors.Is(err, errStalled) && !errors.Is(err, errNotConnected) {
		t.Errorf("PublishReady after the cut: %v, want a stalled or lost connection", err)
	}
	select {
	case err := <-inFlight:
		if err == nil {
			t.Error("a publish through a blackholed network succeeded")
		}
		t.Logf("publish under way at the cut: %v after the cut: %v", time.Since(cut).Round(time.Millisecond), err)
	case <-time.After(tr.cfg.PublishTimeout.D() + 2*time.Second - time.Since(cut)):
		t.Fatalf("a publish under way at the cut still waits %v after it", time.Since(cut))
	}
	start := time.Now()
	if err := tr.Publisher().Publish("topic", message.NewMessage("during000", []byte("x"))); err == nil {
		t.Error("a publish during the blackhole succeeded")
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("a publish while the broker is known silent took %v, want a refusal at once", d)
	}
	if _, err := tr.Backlog(ctx, "topic", "g"); err == nil {
		t.Error("Backlog answered through a blackholed network")
	}

	time.Sleep(5*time.Second - time.Since(cut))
	px.Heal()
	healed := time.Now()
	ready := within(t, "Ready after the heal", 3*time.Second, healed, func() bool { return tr.Ready(ctx) == nil })
	publish(t, tr, "topic", simple("after", 3)...)
	var got []string
	deadline := time.After(3*time.Second - time.Since(healed))
	for len(got) < 3 {
		select {
		case m := <-ch:
			m.Ack()
			if strings.HasPrefix(m.UUID, "after") {
				got = append(got, m.UUID)
			}
		case <-deadline:
			t.Fatalf("%d of 3 messages published after the heal delivered within 3 s of it", len(got))
		}
	}
	delivered := time.Since(healed)
	t.Logf("not ready %v after the cut; ready %v and delivering %v after the heal",
		notReady.Round(time.Millisecond), ready.Round(time.Millisecond), delivered.Round(time.Millisecond))
	for sub, want := range map[string]int{"has sent nothing": 2, "connection lost": 2, "connected again": 2} {
		if n := logs.Count(sub); n != want {
			t.Errorf("log has %q %d times, want %d (once per connection)", sub, n, want)
		}
	}
}

// TestIdleConnectionNotTakenForStalled: a healthy broker with nothing to send sends a heartbeat
// only after up to a whole heartbeat of silence; the probe keeps such a connection from being
// reported stalled. Four times, a message goes through and the connections fall idle.
func TestIdleConnectionNotTakenForStalled(t *testing.T) {
	if testing.Short() {
		t.Skip("idles for 5 s; skipped with -short")
	}
	cfg := testConfig(t)
	logs := &syncbuf.Buffer{}
	tr, err := New(cfg, transport.Env{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	tr.onDeclare = record(cfg.QueuePrefix)
	t.Cleanup(func() { tr.Close() })
	ch := subscribe(t, tr, "g", "topic")
	// Traffic that stops: the broker's last frame (a confirmation, a delivery) may come just
	// after one of its heartbeat checks, and its first heartbeat a whole heartbeat later.
	for i := range 4 {
		publish(t, tr, "topic", simple(fmt.Sprintf("burst%d-", i), 1)...)
		ackAll(receive(t, ch, 1))
		end := time.Now().Add(2500 * time.Millisecond)
		for time.Now().Before(end) {
			if err := tr.Ready(context.Background()); err != nil {
				t.Fatalf("an idle, healthy connection reported: %v", err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if n := logs.Count("has sent nothing"); n != 0 {
		t.Errorf("an idle, healthy connection logged as silent %d times", n)
	}
}
