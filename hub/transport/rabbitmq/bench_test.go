package rabbitmq

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	amqp "github.com/rabbitmq/amqp091-go"
)

// The benchmarks run the transport beside a bare amqp091-go loop with the same guarantees on
// the same broker: persistent messages into a quorum queue behind a fanout exchange, each
// publish awaiting its confirmation, manual acknowledgement of each message by the consumer.

var payload = make([]byte, 1024)

// parallel runs fn(i) for i in [0, n) on p goroutines.
func parallel(b *testing.B, p, n int, fn func(i int) error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range p {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkPublishConfirm(b *testing.B) {
	for _, p := range []int{1, 32} {
		b.Run(fmt.Sprintf("hub/publishers=%d", p), func(b *testing.B) {
			tr := open(b, testConfig(b))
			initialize(b, tr, "g", "topic")
			pub := tr.Publisher()
			b.SetBytes(int64(len(payload)))
			b.ResetTimer()
			parallel(b, p, b.N, func(i int) error {
				return pub.Publish("topic", message.NewMessage(fmt.Sprint(i), payload))
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msg/s")
		})
		b.Run(fmt.Sprintf("bare/publishers=%d", p), func(b *testing.B) {
			c, ex, _ := bareTopology(b)
			chans := bareChannels(b, c, p)
			b.SetBytes(int64(len(payload)))
			b.ResetTimer()
			var slot atomic.Int64
			var wg sync.WaitGroup
			var next atomic.Int64
			for range p {
				ch := chans[slot.Add(1)-1]
				wg.Go(func() {
					for next.Add(1) <= int64(b.N) {
						if err := barePublish(ch, ex); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msg/s")
		})
	}
}

// BenchmarkRoundTrip measures messages published by 32 publishers (each awaiting its
// confirmation) and received and acknowledged one by one by one consumer, prefetch 64; for the
// hub's transport also at the size of the ЕСОЕД sample (3.7 kB), with the CPU time of the process
// (publishers, consumer and both connections) per message.
func BenchmarkRoundTrip(b *testing.B) {
	const publishers = 32
	for _, c := range []struct{ size, pack int }{{len(payload), 1}, {3763, 1}, {3763, 32}} {
		name := "hub"
		if c.size != len(payload) {
			name = fmt.Sprintf("hub/size=%d", c.size)
		}
		if c.pack > 1 {
			name += fmt.Sprintf("/pack=%d", c.pack)
		}
		body := make([]byte, c.size)
		b.Run(name, func(b *testing.B) {
			cfg := testConfig(b)
			cfg.Pack = c.pack
			tr := open(b, cfg)
			ch := subscribe(b, tr, "g", "topic")
			pub := tr.Publisher()
			b.SetBytes(int64(c.size))
			b.ReportAllocs()
			b.ResetTimer()
			cpu0, broker0 := cpuTime(b), brokerCPU()
			done := make(chan struct{})
			go func() {
				defer close(done)
				for range b.N {
					(<-ch).Ack()
				}
			}()
			parallel(b, publishers, b.N, func(i int) error {
				return pub.Publish("topic", message.NewMessage(fmt.Sprint(i), body))
			})
			<-done
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msg/s")
			b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/msg")
			if broker0 >= 0 {
				b.ReportMetric(float64((brokerCPU()-broker0).Microseconds())/float64(b.N), "broker-cpu-µs/msg")
			}
		})
	}
	b.Run("bare", func(b *testing.B) {
		c, ex, q := bareTopology(b)
		chans := bareChannels(b, c, publishers)
		cc, err := amqp.Dial(brokerURL(b))
		if err != nil {
			b.Fatal(err)
		}
		defer cc.Close()
		cch, err := cc.Channel()
		if err != nil {
			b.Fatal(err)
		}
		if err := cch.Qos(64, 0, false); err != nil {
			b.Fatal(err)
		}
		deliveries, err := cch.Consume(q, "", false, false, false, false, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(payload)))
		b.ResetTimer()
		done := make(chan struct{})
		go func() {
			defer close(done)
			for range b.N {
				d := <-deliveries
				d.Ack(false)
			}
		}()
		var next, slot atomic.Int64
		var wg sync.WaitGroup
		for range publishers {
			ch := chans[slot.Add(1)-1]
			wg.Go(func() {
				for next.Add(1) <= int64(b.N) {
					if err := barePublish(ch, ex); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		<-done
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msg/s")
	})
}

// bareTopology declares a fanout exchange and a quorum queue bound to it, deleted when the
// benchmark ends, and returns a publishing connection.
func bareTopology(b *testing.B) (c *amqp.Connection, exchange, queue string) {
	cfg := testConfig(b)
	c, err := amqp.Dial(cfg.URL)
	if err != nil {
		b.Fatal(err)
	}
	exchange, queue = cfg.ExchangePrefix+".bare", cfg.QueuePrefix+".bare"
	b.Cleanup(func() {
		if ch, err := c.Channel(); err == nil {
			ch.QueueDelete(queue, false, false, false)
			ch.ExchangeDelete(exchange, false, false)
		}
		c.Close()
	})
	ch, err := c.Channel()
	if err != nil {
		b.Fatal(err)
	}
	defer ch.Close()
	if err := ch.ExchangeDeclare(exchange, amqp.ExchangeFanout, true, false, false, false, nil); err != nil {
		b.Fatal(err)
	}
	if _, err := ch.QueueDeclare(queue, true, false, false, false, amqp.Table{amqp.QueueTypeArg: amqp.QueueTypeQuorum}); err != nil {
		b.Fatal(err)
	}
	if err := ch.QueueBind(queue, "", exchange, false, nil); err != nil {
		b.Fatal(err)
	}
	return c, exchange, queue
}

// bareChannels opens n channels in confirm mode.
func bareChannels(b *testing.B, c *amqp.Connection, n int) []*amqp.Channel {
	out := make([]*amqp.Channel, n)
	for i := range out {
		ch, err := c.Channel()
		if err != nil {
			b.Fatal(err)
		}
		if err := ch.Confirm(false); err != nil {
			b.Fatal(err)
		}
		out[i] = ch
	}
	return out
}

// barePublish publishes one persistent message and waits for its confirmation.
func barePublish(ch *amqp.Channel, exchange string) error {
	dc, err := ch.PublishWithDeferredConfirmWithContext(context.Background(), exchange, "", false, false,
		amqp.Publishing{DeliveryMode: amqp.Persistent, Body: payload, Headers: amqp.Table{"id": "x"}})
	if err != nil {
		return err
	}
	if !dc.Wait() {
		return fmt.Errorf("not confirmed")
	}
	return nil
}

// brokerCPU returns the CPU time, user and system, that the broker's Erlang VM (a process named
// beam.smp on this machine) has used, or -1 where there is none to be read.
func brokerCPU() time.Duration {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		comm, err := os.ReadFile(filepath.Join(d, "comm"))
		if err != nil || strings.TrimSpace(string(comm)) != "beam.smp" {
			continue
		}
		stat, err := os.ReadFile(filepath.Join(d, "stat"))
		if err != nil {
			return -1
		}
		// The fields after the command's closing parenthesis: utime and stime are the 12th
		// and 13th, in clock ticks of 10 ms.
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(f) < 13 {
			return -1
		}
		u, err1 := strconv.ParseInt(f[11], 10, 64)
		s, err2 := strconv.ParseInt(f[12], 10, 64)
		if err1 != nil || err2 != nil {
			return -1
		}
		return time.Duration(u+s) * 10 * time.Millisecond
	}
	return -1
}

// cpuTime returns the CPU time, user and system, the process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
