package main

import (
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"
)

// BenchmarkWebPages asks the real binary's web sites for their pages from 50 concurrent users,
// one request per iteration, and reports the 50th and 99th percentile of a page's time over
// HTTP (the aim: p99 under 100 ms on a 2-core machine). The staff pages are asked for by a
// clerk signed in with a password and a second factor, so each request reads the session from
// the store; the portal's by a visitor.
//
//	go test ./cmd/aiskao -run '^$' -bench WebPages -benchtime 5000x
func BenchmarkWebPages(b *testing.B) {
	portal := freeAddr(b)
	b.Setenv("AISKAO_PORTAL_ADDR", portal)
	base, config, data, _ := startStaff(b)
	token, secret := staffUser(b, config, data, "maria", "Мария Иванова", "administrator,clerk", true)
	clerk := staffClient()
	signInJSON(b, clerk, base, "maria", token, secret, "a long enough password for the bench")
	// Each user keeps its connection, as a browser does.
	clerk.Transport = &http.Transport{MaxIdleConnsPerHost: 64}
	visitor := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	type target struct {
		c   *http.Client
		url string
	}
	targets := []target{
		{clerk, base + "/"}, {clerk, base + "/clerk/?lang=en"}, {clerk, base + "/admin/"},
		{visitor, base + "/signin"}, {visitor, "http://" + portal + "/"}, {visitor, "http://" + portal + "/signin?lang=en"},
	}
	get := func(t target) (int, error) {
		resp, err := t.c.Get(t.url)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	for _, t := range targets { // and warm the connections and caches
		if code, err := get(t); err != nil || code != http.StatusOK {
			b.Fatalf("%s: %d %v", t.url, code, err)
		}
	}
	const users = 50
	var mu sync.Mutex
	var times []time.Duration
	next := make(chan int)
	var wg sync.WaitGroup
	b.ResetTimer()
	for range users {
		wg.Go(func() {
			var mine []time.Duration
			for i := range next {
				t := targets[i%len(targets)]
				start := time.Now()
				code, err := get(t)
				if err != nil || code != http.StatusOK {
					b.Errorf("%s: %d %v", t.url, code, err)
				}
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			times = append(times, mine...)
			mu.Unlock()
		})
	}
	for i := range b.N {
		next <- i
	}
	close(next)
	wg.Wait()
	b.StopTimer()
	slices.Sort(times)
	pct := func(p float64) float64 { return float64(times[int(p*float64(len(times)-1))].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
