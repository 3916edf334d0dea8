// Package freeport hands out loopback ports for servers started in another process: the
// benchmark's hubs and peers, and the end-to-end tests' hubs.
//
// A port taken with "127.0.0.1:0" comes from the kernel's ephemeral range, the range outgoing
// connections take their local ports from. Between closing such a listener and the other process
// binding the port, a connection to RabbitMQ or PostgreSQL may take it, and the server fails with
// "address already in use". Ports below that range are never given to outgoing connections, so
// the only rival left is another listener.
package freeport

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
)

// lowest is the first port handed out: below it lie the registered ports of many services.
const lowest = 10000

// given holds every port returned, so that a process killed and started again on its old ports
// does not find one of them handed to another server meanwhile. It is the process's on purpose:
// ports belong to the whole machine, and no two callers anywhere in a test binary or in a bench
// may be handed the same one.
var (
	mu    sync.Mutex
	given = map[int]bool{}
)

// Loopback returns "127.0.0.1:PORT" for a port that was free a moment ago, lies below the
// kernel's ephemeral range and has not been returned before by this process.
func Loopback() (string, error) {
	return loopback(rand.IntN)
}

// loopback is Loopback with the choice of port given: pick(n) returns one of 0..n-1.
func loopback(pick func(int) int) (string, error) {
	top := ephemeralLow() - 1
	if top <= lowest {
		return fallback()
	}
	mu.Lock()
	defer mu.Unlock()
	for try := 0; try < 1000; try++ {
		port := lowest + pick(top-lowest+1)
		if given[port] {
			continue
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			continue // in use
		}
		ln.Close()
		given[port] = true
		return addr, nil
	}
	return "", fmt.Errorf("freeport: no free port of the loopback between %d and %d", lowest, top)
}

// fallback is for a kernel whose ephemeral range starts low: the kernel's own choice, not
// returned before.
func fallback() (string, error) {
	for {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", fmt.Errorf("freeport: %w", err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		mu.Lock()
		seen := given[port]
		given[port] = true
		mu.Unlock()
		if !seen {
			return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), nil
		}
	}
}

// ephemeralLow is the first port of the kernel's ephemeral range: Linux's setting, or the
// range's usual start (IANA's) where it cannot be read.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 49152
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 49152
	}
	low, err := strconv.Atoi(f[0])
	if err != nil || low < 1 || low > 65535 {
		return 49152
	}
	return low
}
