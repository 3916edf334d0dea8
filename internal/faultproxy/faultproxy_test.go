package faultproxy

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// echo starts a server that sends back what it reads.
func echo(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	return ln.Addr().String()
}

func start(t *testing.T) *Proxy {
	t.Helper()
	p, err := Start(echo(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func dial(t *testing.T, p *Proxy) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", p.Addr(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// roundTrip sends s and reads it back within wait; it returns the error of the read.
func roundTrip(t *testing.T, c net.Conn, s string, wait time.Duration) error {
	t.Helper()
	if _, err := c.Write([]byte(s)); err != nil {
		return err
	}
	return expect(t, c, s, wait)
}

func expect(t *testing.T, c net.Conn, s string, wait time.Duration) error {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, len(s))
	if _, err := io.ReadFull(c, buf); err != nil {
		return err
	}
	if string(buf) != s {
		t.Fatalf("read %q, want %q", buf, s)
	}
	return nil
}

func TestForwards(t *testing.T) {
	p := start(t)
	c := dial(t, p)
	for _, s := range []string{"hello", "again"} {
		if err := roundTrip(t, c, s, 2*time.Second); err != nil {
			t.Fatalf("round trip %q: %v", s, err)
		}
	}
	if n := p.Conns(); n != 1 {
		t.Errorf("Conns() = %d, want 1", n)
	}
}

func TestBlackholeHoldsBytesUntilHeal(t *testing.T) {
	p := start(t)
	c := dial(t, p)
	if err := roundTrip(t, c, "before", 2*time.Second); err != nil {
		t.Fatal(err)
	}
	p.Blackhole()
	err := roundTrip(t, c, "during", 300*time.Millisecond)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read during the blackhole: %v, want a timeout", err)
	}
	// A connection opened during the blackhole is accepted but carries nothing.
	late := dial(t, p)
	if err := roundTrip(t, late, "late", 300*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read on a connection opened during the blackhole: %v, want a timeout", err)
	}
	p.Heal()
	if err := expect(t, c, "during", 2*time.Second); err != nil {
		t.Fatalf("bytes held by the blackhole not delivered after heal: %v", err)
	}
	if err := expect(t, late, "late", 2*time.Second); err != nil {
		t.Fatalf("bytes of the late connection not delivered after heal: %v", err)
	}
	if err := roundTrip(t, c, "after", 2*time.Second); err != nil {
		t.Fatal(err)
	}
}

func TestResetClosesConnections(t *testing.T) {
	p := start(t)
	c := dial(t, p)
	if err := roundTrip(t, c, "x", 2*time.Second); err != nil {
		t.Fatal(err)
	}
	p.Reset()
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, err := c.Read(make([]byte, 1))
	if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read after reset: %v, want the connection closed", err)
	}
	// New connections still work.
	if err := roundTrip(t, dial(t, p), "new", 2*time.Second); err != nil {
		t.Fatalf("after reset: %v", err)
	}
}

func TestResetDuringBlackhole(t *testing.T) {
	p := start(t)
	c := dial(t, p)
	if err := roundTrip(t, c, "x", 2*time.Second); err != nil {
		t.Fatal(err)
	}
	p.Blackhole()
	p.Reset()
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read after reset: %v, want the connection closed even while blackholed", err)
	}
	p.Heal()
	if err := roundTrip(t, dial(t, p), "new", 2*time.Second); err != nil {
		t.Fatalf("after heal: %v", err)
	}
}

func TestCloseEndsConnections(t *testing.T) {
	p := start(t)
	c := dial(t, p)
	if err := roundTrip(t, c, "x", 2*time.Second); err != nil {
		t.Fatal(err)
	}
	p.Blackhole()
	done := make(chan error, 1)
	go func() { done <- p.Close() }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("Close of a blackholed proxy did not return")
	}
	if _, err := net.DialTimeout("tcp", p.Addr(), 200*time.Millisecond); err == nil {
		t.Error("the proxy still takes connections after Close")
	}
}

// TestAbandonedDuringBlackholeNotPassedOn: a connection made during a blackhole and closed by its
// client before the heal never reaches the target, as on a network that dropped its packets.
func TestAbandonedDuringBlackholeNotPassedOn(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	reached := make(chan struct{}, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			reached <- struct{}{}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	p, err := Start(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.Blackhole()
	gone, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	_, _ = gone.Write([]byte("hello?")) // a client that began its handshake, then gave up
	gone.Close()
	kept := dial(t, p)
	if _, err := kept.Write([]byte("kept")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	p.Heal()
	if err := expect(t, kept, "kept", 2*time.Second); err != nil {
		t.Fatalf("the connection kept through the blackhole: %v", err)
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(reached); n != 1 {
		t.Errorf("%d connections reached the target, want only the one kept", n)
	}
}
