package postgres

import (
	"context"
	"log/slog"
	"net/url"
	"testing"
	"time"

	"github.com/aiskao/aiskao/internal/faultproxy"
	"github.com/aiskao/aiskao/internal/syncbuf"
	"github.com/aiskao/aiskao/spec"
	"github.com/aiskao/aiskao/store"
)

// TestBlackholeNoticed: the network to the database drops every packet for 4 s while the
// connections stay open. Ping reports it within 2 s and answers at once meanwhile, a lookup
// fails after query_timeout instead of hanging, each change is logged once, and within 3 s of
// the heal the store answers again.
func TestBlackholeNoticed(t *testing.T) {
	if testing.Short() {
		t.Skip("blackholes the database for 4 s; skipped with -short")
	}
	cfg := testConfig(t)
	cfg.QueryTimeout = spec.Duration(time.Second)
	u, err := url.Parse(cfg.URL)
	if err != nil {
		t.Fatal(err)
	}
	px, err := faultproxy.Start(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer px.Close()
	u.Host = px.Addr()
	cfg.URL = u.String()
	logs := &syncbuf.Buffer{}
	s, err := New(cfg, store.Env{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	id := prime(t, s)
	ctx := context.Background()

	px.Blackhole()
	cut := time.Now()
	defer func() {
		if t.Failed() {
			t.Log(logs.String())
		}
	}()
	poll(t, 2*time.Second, "Ping reporting the database silent", func() bool { return s.Ping(ctx) != nil })
	notReady := time.Since(cut)
	start := time.Now()
	if err := s.Ping(ctx); err == nil {
		t.Error("Ping succeeded through a blackholed network")
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Errorf("Ping took %v during the blackhole, want its answer at once", d)
	}
	start = time.Now()
	if _, err := s.Seen(ctx, "route:a", "during"); err == nil {
		t.Error("Seen succeeded through a blackholed network")
	}
	if d := time.Since(start); d > cfg.QueryTimeout.D()+time.Second {
		t.Errorf("Seen failed after %v, want within query_timeout %v", d, cfg.QueryTimeout.D())
	}

	time.Sleep(4*time.Second - time.Since(cut))
	px.Heal()
	healed := time.Now()
	poll(t, 3*time.Second, "Ping after the heal", func() bool { return s.Ping(ctx) == nil })
	ready := time.Since(healed)
	poll(t, 3*time.Second-time.Since(healed), "the store working after the heal", func() bool { return works(t, s, id) })
	t.Logf("Ping failing %v after the cut, answering %v after the heal; calls working %v after it",
		notReady.Round(time.Millisecond), ready.Round(time.Millisecond), time.Since(healed).Round(time.Millisecond))
	for sub, want := range map[string]int{"does not answer": 1, "answers again": 1} {
		if n := logs.Count(sub); n != want {
			t.Errorf("log has %q %d times, want %d", sub, n, want)
		}
	}
}
