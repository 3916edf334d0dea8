// Package faultproxy is a TCP proxy for tests that puts network faults between a process and a
// service: it forwards every connection to a target, and on demand blackholes them (bytes stop
// flowing both ways while the connections stay open, as when a network drops packets), resets
// them, and heals.
//
// A blackhole stops the proxy from reading: what the two ends write waits in socket buffers and
// flows once the proxy heals, as retransmitted packets would, unless an end gave up on its
// connection meanwhile. Connections opened during a blackhole are accepted and held the same way.
package faultproxy

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// Proxy forwards TCP connections from its listener to a target address. Make it with Start.
type Proxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	cut     bool          // blackholed
	healed  chan struct{} // closed when a blackhole ends
	conns   map[*pair]struct{}
	closed  bool
	wg      sync.WaitGroup
	dialTTL time.Duration
}

// pair is one client connection and its connection to the target.
type pair struct {
	mu             sync.Mutex
	client, server net.Conn // server is nil until dialled
	done           bool
}

// Start listens on a free port of 127.0.0.1 and forwards each connection to target.
func Start(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listen: %w", err)
	}
	p := &Proxy{ln: ln, target: target, healed: make(chan struct{}), conns: map[*pair]struct{}{}, dialTTL: 5 * time.Second}
	close(p.healed)
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the host:port that clients connect to instead of the target.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Blackhole stops every byte in both directions, on open connections and on new ones, until Heal.
func (p *Proxy) Blackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.cut {
		p.cut = true
		p.healed = make(chan struct{})
	}
}

// Heal ends a blackhole: the bytes held flow again.
func (p *Proxy) Heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		p.cut = false
		close(p.healed)
	}
}

// Reset closes every open connection at once, with a TCP reset where the system allows; new
// connections are taken as before (or held, during a blackhole).
func (p *Proxy) Reset() {
	p.mu.Lock()
	pairs := make([]*pair, 0, len(p.conns))
	for c := range p.conns {
		pairs = append(pairs, c)
	}
	p.mu.Unlock()
	for _, c := range pairs {
		c.close(true)
	}
}

// Conns returns how many client connections are open.
func (p *Proxy) Conns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

// Close stops listening and closes every connection.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	if p.cut {
		p.cut = false
		close(p.healed)
	}
	p.mu.Unlock()
	err := p.ln.Close()
	p.Reset()
	p.wg.Wait()
	return err
}

// gate returns a channel closed when bytes may flow.
func (p *Proxy) gate() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.healed
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

// serve connects c to the target once bytes may flow, then copies both ways.
func (p *Proxy) serve(c net.Conn) {
	defer p.wg.Done()
	pr := &pair{client: c}
	if !p.track(pr) {
		c.Close()
		return
	}
	defer p.untrack(pr)
	p.mu.Lock()
	held := p.cut
	p.mu.Unlock()
	<-p.gate()
	var first []byte
	if held {
		// A connection made during a blackhole would never have been set up on a network that
		// drops packets: one its client gave up on meanwhile is not passed on to the target.
		var ok bool
		if first, ok = alive(c); !ok {
			pr.close(false)
			return
		}
	}
	s, err := net.DialTimeout("tcp", p.target, p.dialTTL)
	if err != nil {
		pr.close(true)
		return
	}
	if !pr.connect(s) {
		s.Close()
		return
	}
	if len(first) > 0 {
		if _, err := s.Write(first); err != nil {
			pr.close(false)
			return
		}
	}
	var wg sync.WaitGroup
	wg.Go(func() { p.pipe(s, c, pr) })
	wg.Go(func() { p.pipe(c, s, pr) })
	wg.Wait()
	pr.close(false)
}

func (p *Proxy) track(pr *pair) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[pr] = struct{}{}
	return true
}

func (p *Proxy) untrack(pr *pair) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, pr)
}

// pipe copies from src to dst, waiting before each read while blackholed. A read that began
// before the cut may still deliver its bytes; after them nothing moves. An end that closes its
// writing side is passed on as a half-close; any other failure closes both connections.
func (p *Proxy) pipe(dst, src net.Conn, pr *pair) {
	buf := make([]byte, 32<<10)
	for {
		<-p.gate()
		n, err := src.Read(buf)
		if n > 0 {
			<-p.gate() // bytes read just before a cut are held until it heals
			if _, werr := dst.Write(buf[:n]); werr != nil {
				pr.close(false)
				return
			}
		}
		if err != nil {
			if tc, ok := dst.(*net.TCPConn); ok && errors.Is(err, io.EOF) {
				_ = tc.CloseWrite()
				return
			}
			pr.close(false)
			return
		}
	}
}

// alive reports whether the client of c still holds it open, and returns what it has sent.
func alive(c net.Conn) ([]byte, bool) {
	var sent []byte
	buf := make([]byte, 32<<10)
	defer c.SetReadDeadline(time.Time{})
	for {
		_ = c.SetReadDeadline(time.Now().Add(time.Millisecond))
		n, err := c.Read(buf)
		sent = append(sent, buf[:n]...)
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			return sent, true // open, and nothing more to read now
		case err != nil:
			return nil, false // closed, whatever it sent before
		}
	}
}

// connect sets the connection to the target, unless the pair was closed meanwhile.
func (pr *pair) connect(s net.Conn) bool {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if pr.done {
		return false
	}
	pr.server = s
	return true
}

// close closes both ends; with reset, lingering is turned off so that the peers see a reset.
func (pr *pair) close(reset bool) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	pr.done = true
	for _, c := range []net.Conn{pr.client, pr.server} {
		if c == nil {
			continue
		}
		if tc, ok := c.(*net.TCPConn); ok && reset {
			_ = tc.SetLinger(0)
		}
		c.Close()
	}
}
