package freeport

import (
	"net"
	"strconv"
	"testing"
)

// The ports handed out lie below the ephemeral range, are distinct, and can be listened on.
func TestLoopbackIsBelowTheEphemeralRangeAndNeverRepeats(t *testing.T) {
	top := ephemeralLow() - 1
	if top <= lowest {
		t.Skipf("this kernel's ephemeral range starts at %d", top+1)
	}
	seen := map[string]bool{}
	for i := 0; i < 200; i++ { // without the record of ports given, 200 picks repeat one in more than half the runs
		addr, err := Loopback()
		if err != nil {
			t.Fatal(err)
		}
		if seen[addr] {
			t.Fatalf("%s handed out twice", addr)
		}
		seen[addr] = true
		host, p, err := net.SplitHostPort(addr)
		if err != nil || host != "127.0.0.1" {
			t.Fatalf("address %q: %v", addr, err)
		}
		port, _ := strconv.Atoi(p)
		if port < lowest || port > top {
			t.Fatalf("port %d outside %d..%d", port, lowest, top)
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("cannot listen on %s: %v", addr, err)
		}
		ln.Close()
	}
}

// A port another listener holds is not handed out: the next one is.
func TestLoopbackSkipsAPortInUse(t *testing.T) {
	if ephemeralLow()-1 <= lowest+1 {
		t.Skip("this kernel's ephemeral range starts low")
	}
	var busy int
	for p := lowest; ; p++ {
		if ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p)); err == nil {
			defer ln.Close() // held, as by another process
			busy = p
			break
		}
	}
	tries := 0
	addr, err := loopback(func(n int) int {
		tries++
		if tries == 1 {
			return busy - lowest
		}
		return n - 1
	})
	if err != nil {
		t.Fatal(err)
	}
	if addr == "127.0.0.1:"+strconv.Itoa(busy) || tries != 2 {
		t.Fatalf("handed out %s after %d tries; port %d is in use", addr, tries, busy)
	}
}
