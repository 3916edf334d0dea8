package hub

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aiskao/aiskao/transport"
)

// A scraper polling many times a second must not make the engine count its backlog as often:
// scrapes within gaugeMaxAge of a reading reuse it, and a new engine is read afresh.
func TestGaugesReadAtMostOncePerMaxAge(t *testing.T) {
	m := NewMetrics("test")
	var reads atomic.Int64
	backlog := float64(7)
	m.setGauges(func(context.Context) gaugeValues {
		reads.Add(1)
		return gaugeValues{backlog: map[string]float64{"r": backlog}}
	})
	for range 20 {
		if _, err := m.Registry.Gather(); err != nil {
			t.Fatal(err)
		}
	}
	if n := reads.Load(); n != 1 {
		t.Fatalf("20 scrapes in a row read the gauges %d times, want 1", n)
	}
	backlog = 9
	m.setGauges(func(context.Context) gaugeValues {
		reads.Add(1)
		return gaugeValues{backlog: map[string]float64{"r": backlog}}
	})
	if g := metricValue(t, m, "aiskao_transport_backlog_messages", map[string]string{"route": "r"}); g != 9 {
		t.Fatalf("backlog after a new engine = %v, want 9", g)
	}
	if n := reads.Load(); n != 2 {
		t.Fatalf("gauges read %d times, want 2", n)
	}
}

// A reading of the gauges that hangs (a broker or database that does not answer) does not hold
// up the scrape: it answers with the last values within gaugeWait, and the reading serves the
// scrapes after it once it ends.
func TestScrapeDoesNotWaitForGauges(t *testing.T) {
	m := NewMetrics("test")
	m.setGauges(func(context.Context) gaugeValues {
		return gaugeValues{backlog: map[string]float64{"r": 5}}
	})
	if g := metricValue(t, m, "aiskao_transport_backlog_messages", map[string]string{"route": "r"}); g != 5 {
		t.Fatalf("backlog = %v, want 5", g)
	}
	release := make(chan struct{})
	m.mu.Lock()
	m.gauges = func(context.Context) gaugeValues {
		<-release
		return gaugeValues{backlog: map[string]float64{"r": 6}}
	}
	m.mu.Unlock()
	time.Sleep(gaugeMaxAge)
	for range 3 {
		start := time.Now()
		if g := metricValue(t, m, "aiskao_transport_backlog_messages", map[string]string{"route": "r"}); g != 5 {
			t.Fatalf("backlog while the reading hangs = %v, want the last reading 5", g)
		}
		if d := time.Since(start); d > gaugeWait+200*time.Millisecond {
			t.Fatalf("a scrape waited %v for a hanging reading, want at most %v", d, gaugeWait)
		}
	}
	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for metricValue(t, m, "aiskao_transport_backlog_messages", map[string]string{"route": "r"}) != 6 {
		if time.Now().After(deadline) {
			t.Fatal("the reading that hung was not used once it ended")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestPackMetrics: what the transport counts of its packs reaches the metrics, whose ratio is
// the mean size of a pack.
func TestPackMetrics(t *testing.T) {
	m := NewMetrics("test")
	var c transport.PackCounter = m.packs
	c.Sent(1)
	c.Sent(7)
	c.Split(7)
	for name, want := range map[string]float64{
		"aiskao_transport_broker_messages_sent_total": 2,
		"aiskao_transport_packed_messages_total":      8,
		"aiskao_transport_pack_splits_total":          1,
	} {
		if got := metricValue(t, m, name, nil); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
}
