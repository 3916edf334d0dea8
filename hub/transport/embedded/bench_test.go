package embedded

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
)

// BenchmarkPublish measures committed publishes of one message each, from 1 and from 32
// goroutines at once; it reports messages per second and messages per commit.
func BenchmarkPublish(b *testing.B) {
	for _, publishers := range []int{1, 32} {
		b.Run(fmt.Sprintf("publishers=%d", publishers), func(b *testing.B) {
			tr := open(b, tempFile(b), Config{})
			if err := mustSub(b, tr, "g").SubscribeInitialize("topic"); err != nil {
				b.Fatal(err)
			}
			payload := make([]byte, 1024)
			var next atomic.Int64
			before := tr.commits.Load()
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for range publishers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					pub := tr.Publisher()
					for next.Add(1) <= int64(b.N) {
						msg := message.NewMessage("x", payload)
						msg.Metadata.Set("type", "bench")
						if err := pub.Publish("topic", msg); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
			b.ReportMetric(float64(b.N)/float64(tr.commits.Load()-before), "msgs/commit")
		})
	}
}

// BenchmarkRoundTrip measures messages published by 32 goroutines, received by one subscription
// (default prefetch) and acknowledged: the full path of a message through the transport.
func BenchmarkRoundTrip(b *testing.B) {
	tr := open(b, tempFile(b), Config{})
	sub, err := tr.Subscriber("g")
	if err != nil {
		b.Fatal(err)
	}
	ch, err := sub.Subscribe(context.Background(), "topic")
	if err != nil {
		b.Fatal(err)
	}
	payload := make([]byte, 3700) // the demo's ЕСОЕД sample
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime(b)
	var next atomic.Int64
	for range 32 {
		go func() {
			pub := tr.Publisher()
			for next.Add(1) <= int64(b.N) {
				if err := pub.Publish("topic", message.NewMessage("x", payload)); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	for range b.N {
		(<-ch).Ack()
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/msg")
}

// cpuTime returns the CPU time the process has used, user and system: on a machine shared with
// other work it varies less than the rate.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
