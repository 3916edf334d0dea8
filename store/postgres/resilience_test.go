package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/aiskao/aiskao/store"
)

// The server is shared with other packages' tests, so these tests never restart it. They do the
// next best things: cut the store's own connections from the server side, and put a proxy
// between the store and the server that can play a server that is down.

// works reports whether every kind of call succeeds, and that the dead letter id is still there.
func works(t *testing.T, s *Store, id string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Ping(ctx); err != nil {
		return false
	}
	if err := s.Mark(ctx, "route:a", "after", time.Hour); err != nil {
		return false
	}
	if ok, err := s.Seen(ctx, "route:a", "before"); err != nil || !ok {
		return false
	}
	if _, err := s.GetDeadLetter(ctx, id); err != nil {
		return false
	}
	if err := s.PutState(ctx, "route-a", "cursor", []byte("2")); err != nil {
		return false
	}
	return true
}

// prime writes what works later checks, and leaves idle connections in the pool.
func prime(t *testing.T, s *Store) string {
	t.Helper()
	ctx := context.Background()
	id, err := s.AddDeadLetter(ctx, store.DeadLetter{Route: "a", Error: "before the outage", Payload: []byte("p")})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Mark(ctx, "route:a", "before", time.Hour); err != nil {
		t.Fatal(err)
	}
	if !works(t, s, id) {
		t.Fatal("the store does not work before the outage")
	}
	return id
}

// TestRecoversAfterBackendsTerminated cuts every connection of the store from the server side,
// as a server restart does, and checks that the store works again by itself.
func TestRecoversAfterBackendsTerminated(t *testing.T) {
	cfg := testConfig(t)
	app := uniqueName("aiskao_test_")
	cfg.URL = withParam(t, cfg.URL, "application_name", app)
	s := open(t, cfg)
	defer s.Close()
	id := prime(t, s)

	conn := admin(t)
	for round := range 2 { // twice: the connections opened after the first cut are cut too
		n := queryInt(t, conn, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`, app)
		if n == 0 {
			t.Fatalf("round %d: the store has no connection named %s to cut", round+1, app)
		}
		poll(t, 15*time.Second, "store working again after its connections were terminated", func() bool {
			return works(t, s, id)
		})
	}
	if got, err := s.ListDeadLetters(context.Background(), store.Filter{}); err != nil || len(got) != 1 || got[0].ID != id {
		t.Errorf("dead letters after the cut: %v, %v; want the one added before", got, err)
	}
}

// TestOutage puts a proxy between the store and the server and makes it play a server that is
// down: calls fail (they do not hang), Ping reports it, and once the server is back the store
// works again without being restarted, with its data intact.
func TestOutage(t *testing.T) {
	cfg := testConfig(t)
	p := newProxy(t, cfg.URL)
	u, err := url.Parse(cfg.URL)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = p.addr()
	cfg.URL = u.String()
	s := open(t, cfg)
	defer s.Close()
	id := prime(t, s)

	p.down()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	poll(t, 10*time.Second, "Ping reporting the server down", func() bool { return s.Ping(ctx) != nil })
	start := time.Now()
	if err := s.Mark(ctx, "route:a", "during", time.Hour); err == nil {
		t.Error("Mark succeeded while the server was down")
	}
	if _, err := s.AddDeadLetter(ctx, store.DeadLetter{Route: "a"}); err == nil {
		t.Error("AddDeadLetter succeeded while the server was down")
	}
	if _, err := s.ListDeadLetters(ctx, store.Filter{}); err == nil {
		t.Error("ListDeadLetters succeeded while the server was down")
	}
	if el := time.Since(start); el > 3*cfg.ConnectTimeout.D() {
		t.Errorf("three calls during the outage took %v: each should fail within the connect timeout %v", el, cfg.ConnectTimeout.D())
	}
	if ctx.Err() != nil {
		t.Fatal("calls during the outage hung until the test's deadline")
	}

	p.up()
	poll(t, 15*time.Second, "store working again after the server came back", func() bool { return works(t, s, id) })
	if ok, err := s.Seen(context.Background(), "route:a", "during"); err != nil || ok {
		t.Errorf("a mark that failed during the outage is seen: %v, %v", ok, err)
	}
}

// proxy forwards TCP connections to the server until down is called; then it cuts the open ones
// and refuses new ones (accepts and closes them at once, as a server shutting down does) until up.
type proxy struct {
	t      *testing.T
	ln     net.Listener
	target string

	mu      sync.Mutex
	isDown  bool
	conns   map[net.Conn]struct{}
	wg      sync.WaitGroup
	stopped bool
}

func newProxy(t *testing.T, serverURL string) *proxy {
	t.Helper()
	u, err := url.Parse(serverURL)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{t: t, ln: ln, target: u.Host, conns: map[net.Conn]struct{}{}}
	p.wg.Go(p.accept)
	t.Cleanup(p.close)
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.track(c) {
			p.wg.Go(func() { p.forward(c) })
		}
	}
}

func (p *proxy) forward(c net.Conn) {
	defer p.drop(c)
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		return
	}
	if !p.track(up) {
		return
	}
	defer p.drop(up)
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done // either side ending ends both
}

// track adds c to the connections that down and close cut, or closes it and reports false when
// the proxy is down or stopped.
func (p *proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.isDown || p.stopped {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *proxy) drop(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	if err := c.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		p.t.Logf("proxy: close: %v", err)
	}
}

// down cuts every open connection and refuses new ones.
func (p *proxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.isDown = true
	for c := range p.conns {
		c.Close()
	}
}

// up forwards new connections again.
func (p *proxy) up() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.isDown = false
}

func (p *proxy) close() {
	p.mu.Lock()
	p.stopped = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.ln.Close()
	p.wg.Wait()
}
