package rabbitmq

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// errNotConnected is wrapped by the errors of operations tried while a connection is down.
var errNotConnected = errors.New("not connected")

// errStalled is wrapped by the errors of operations tried while the broker sends nothing on an
// open connection: a network that drops packets, or a broker that has hung.
var errStalled = errors.New("broker silent")

// conn keeps one AMQP connection open: when the broker or the network drops it, run dials again
// with a growing wait until it succeeds or the transport closes. Publishing and consuming use
// separate conns, as RabbitMQ advises, so that the broker's flow control on publishers never
// slows the acknowledgements of consumers.
type conn struct {
	addr   string // as configured, with the password
	role   string // "publish" or "consume", for messages
	amqp   amqp.Config
	cfg    Config
	log    *slog.Logger
	stop   chan struct{}
	done   chan struct{}
	mu     sync.Mutex
	c      *amqp.Connection // nil while disconnected
	change chan struct{}    // closed when c changes
	since  time.Time        // when c became nil
	cause  error            // why c is nil

	plain    bool          // amqp:, not amqps: the library's frames go straight to the socket
	lastRead atomic.Int64  // unix nanoseconds of the last bytes read from the broker
	probe    time.Duration // silence after which the broker is asked something
	stall    time.Duration // silence after which the connection is reported stalled
}

// dialer opens the TCP connection of an attempt with a deadline on the whole handshake (cleared
// by the library once it is done, as amqp.DefaultDial does) and notes when bytes arrive, so that
// a broker that has gone silent is seen before the heartbeats' deadline drops the connection.
func (k *conn) dialer(timeout time.Duration) func(network, addr string) (net.Conn, error) {
	return func(network, addr string) (net.Conn, error) {
		c, err := net.DialTimeout(network, addr, timeout)
		if err != nil {
			return nil, err
		}
		if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
			c.Close()
			return nil, err
		}
		k.lastRead.Store(time.Now().UnixNano())
		if k.plain {
			c = newFrameJoiner(c)
		}
		return &readNoter{Conn: c, at: &k.lastRead}, nil
	}
}

// readAhead is how much a connection reads from the socket at once.
const readAhead = 64 << 10

// readNoter is a connection that notes the time of each read that brought bytes, and reads
// ahead. The client library reads through a buffer of 4 KiB: a delivery of a 3.7 kB message
// (three frames) took two system calls or more, though the broker had sent many deliveries
// already; reading up to readAhead at once takes what has arrived in one. Reads come one at a
// time (the library's reader, or the handshake before it starts).
type readNoter struct {
	net.Conn
	at   *atomic.Int64
	buf  []byte // read ahead: buf[r:w] not yet returned
	r, w int
	err  error // the error that came with the bytes read ahead, returned after them
}

func (c *readNoter) Read(p []byte) (int, error) {
	if c.r == c.w {
		if err := c.err; err != nil {
			c.err = nil
			return 0, err
		}
		if len(p) >= readAhead {
			n, err := c.Conn.Read(p)
			c.note(n)
			return n, err
		}
		if c.buf == nil {
			c.buf = make([]byte, readAhead)
		}
		n, err := c.Conn.Read(c.buf)
		c.note(n)
		if n == 0 {
			return 0, err
		}
		c.r, c.w, c.err = 0, n, err
	}
	n := copy(p, c.buf[c.r:c.w])
	c.r += n
	return n, nil
}

func (c *readNoter) note(n int) {
	if n > 0 {
		c.at.Store(time.Now().UnixNano())
	}
}

// silent returns how long the open connection has received nothing, or 0 while disconnected.
func (k *conn) silent() time.Duration {
	if c, _ := k.current(); c == nil {
		return 0
	}
	return time.Since(time.Unix(0, k.lastRead.Load()))
}

// dial opens the first connection; an error here means a wrong address or credentials or a broker
// that cannot be reached, and is reported at start rather than retried.
func dial(cfg Config, name, role string, log *slog.Logger) (*conn, error) {
	k := &conn{
		addr: cfg.URL,
		role: role,
		amqp: amqp.Config{
			Properties: amqp.Table{"connection_name": name + " " + role, "product": "aiskao"},
			Heartbeat:  cfg.Heartbeat.D(),
		},
		cfg:    cfg,
		log:    log,
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
		change: make(chan struct{}),
		// The broker sends a heartbeat only after a whole check interval (half the heartbeat)
		// without sending anything, so a healthy but idle connection can be silent for up to
		// the heartbeat. Rather than wait that long, a connection silent for half of it asks
		// the broker something (opens and closes a channel); a broker that has not answered
		// within the other half (room for a busy one) is reported stalled.
		probe: cfg.Heartbeat.D() / 2,
		stall: cfg.Heartbeat.D(),
	}
	if uri, err := amqp.ParseURI(cfg.URL); err == nil {
		k.plain = uri.Scheme == "amqp"
	}
	k.amqp.Dial = k.dialer(cfg.ConnectTimeout.D())
	c, err := amqp.DialConfig(k.addr, k.amqp)
	if err != nil {
		return nil, fmt.Errorf("rabbitmq: connect to %s (%s): %w", redact(k.addr), role, err)
	}
	k.c = c
	go k.run(c)
	return k, nil
}

// run watches the connection and dials again after it is lost.
func (k *conn) run(c *amqp.Connection) {
	defer close(k.done)
	watch := time.NewTicker(max(k.stall/16, 10*time.Millisecond))
	defer watch.Stop()
	probing := make(chan struct{}, 1) // holds a token while a probe runs
	for {
		lost := c.NotifyClose(make(chan *amqp.Error, 1))
		stalled := false
	connected:
		for {
			select {
			case <-k.stop:
				if err := c.Close(); err != nil && !errors.Is(err, amqp.ErrClosed) {
					k.log.Warn("rabbitmq: close connection", "role", k.role, "error", err)
				}
				return
			case <-watch.C:
				quiet := k.silent()
				if quiet > k.probe {
					select {
					case probing <- struct{}{}:
						// The answer is read as any frame is, which is all the probe is for;
						// on a dead connection it waits until the heartbeats' deadline.
						go func(c *amqp.Connection) {
							defer func() { <-probing }()
							if ch, err := c.Channel(); err == nil {
								_ = ch.Close()
							}
						}(c)
					default:
					}
				}
				// Logged once each way, however long the silence.
				switch {
				case !stalled && quiet > k.stall:
					stalled = true
					k.log.Warn("rabbitmq: the broker has sent nothing, not even a heartbeat; not ready until it does",
						"role", k.role, "broker", redact(k.addr), "silent", quiet.Round(time.Millisecond))
				case stalled && quiet <= k.stall:
					stalled = false
					k.log.Info("rabbitmq: the broker answers again", "role", k.role, "broker", redact(k.addr))
				}
			case aerr := <-lost:
				var cause error = amqp.ErrClosed
				if aerr != nil {
					cause = aerr
				}
				k.set(nil, cause)
				k.log.Warn("rabbitmq: connection lost, connecting again", "role", k.role, "broker", redact(k.addr), "error", cause)
				break connected
			}
		}
		lostAt := time.Now()
		wait := k.cfg.ReconnectInitial.D()
		for {
			// Jitter spreads the attempts of many hub processes after a broker restart.
			jittered := time.Duration(float64(wait) * (0.8 + 0.4*rand.Float64()))
			select {
			case <-k.stop:
				return
			case <-time.After(jittered):
			}
			next, err := amqp.DialConfig(k.addr, k.amqp)
			if err == nil {
				c = next
				k.set(c, nil)
				k.log.Info("rabbitmq: connected again", "role", k.role, "broker", redact(k.addr),
					"after", time.Since(lostAt).Round(time.Millisecond))
				break
			}
			k.set(nil, err)
			wait = min(2*wait, k.cfg.ReconnectMax.D())
		}
	}
}

func (k *conn) set(c *amqp.Connection, cause error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.c != nil && c == nil {
		k.since = time.Now()
	}
	if c != nil || k.c != nil {
		close(k.change)
		k.change = make(chan struct{})
	}
	k.c, k.cause = c, cause
}

// current returns the open connection, or nil and a channel closed when that changes.
func (k *conn) current() (*amqp.Connection, <-chan struct{}) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.c != nil && k.c.IsClosed() {
		return nil, k.change
	}
	return k.c, k.change
}

// wait returns the open connection, waiting for one while disconnected.
func (k *conn) wait(ctx context.Context) (*amqp.Connection, error) {
	for {
		c, change := k.current()
		if c != nil {
			return c, nil
		}
		select {
		case <-change:
		case <-k.stop:
			return nil, ErrClosed
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// ready returns nil while connected, or why not.
func (k *conn) ready() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	select {
	case <-k.stop:
		return ErrClosed
	default:
	}
	if k.c == nil || k.c.IsClosed() {
		since := k.since
		if since.IsZero() {
			since = time.Now()
		}
		return fmt.Errorf("rabbitmq: %w to %s (%s connection) for %s: %v", errNotConnected, redact(k.addr), k.role,
			time.Since(since).Round(time.Millisecond), k.cause)
	}
	if quiet := time.Since(time.Unix(0, k.lastRead.Load())); quiet > k.stall {
		return fmt.Errorf("rabbitmq: %w: nothing from %s on the %s connection for %s, not even a heartbeat",
			errStalled, redact(k.addr), k.role, quiet.Round(time.Millisecond))
	}
	return nil
}

// channel opens a channel on the current connection.
func (k *conn) channel() (*amqp.Channel, *amqp.Connection, error) {
	c, _ := k.current()
	if c == nil {
		return nil, nil, k.ready()
	}
	ch, err := c.Channel()
	if err != nil {
		return nil, nil, fmt.Errorf("rabbitmq: open channel (%s): %w", k.role, err)
	}
	return ch, c, nil
}

// close stops reconnecting and closes the connection.
func (k *conn) close() {
	select {
	case <-k.stop:
	default:
		close(k.stop)
	}
	<-k.done
}
