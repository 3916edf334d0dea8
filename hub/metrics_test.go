package hub

import (
	"context"
	"sync/atomic"
	"testing"
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
