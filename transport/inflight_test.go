package transport

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
)

// handOut makes a message as a subscriber hands it out, tracked by in, and returns it with the
// count of its settlements by outcome.
func handOut(in *Inflight, id string) (*message.Message, *[4]atomic.Int32) {
	msg := message.NewMessage(id, nil)
	ctx, del := NewDelivery(context.Background(), 1, 0)
	msg.SetContext(ctx)
	var got [4]atomic.Int32
	in.Add(msg, del, func(o Outcome) { got[o].Add(1) })
	return msg, &got
}

func TestInflightSettledCalls(t *testing.T) {
	in := NewInflight(true)
	acked, a := handOut(in, "a")
	nacked, n := handOut(in, "n")
	left, l := handOut(in, "l")

	Settled(acked) // neither Acked nor Nacked: nothing happens
	if a[Acked].Load()+a[Nacked].Load() != 0 {
		t.Fatal("settled before the message was Acked or Nacked")
	}
	acked.Ack()
	if a[Acked].Load() != 0 {
		t.Fatal("settled on Ack alone: with settled calls, only Settled settles")
	}
	Settled(acked)
	Settled(acked)
	nacked.Nack()
	Settled(nacked)
	if a[Acked].Load() != 1 || n[Nacked].Load() != 1 {
		t.Fatalf("Acked settled %d times, Nacked %d times; want once each", a[Acked].Load(), n[Nacked].Load())
	}

	done := make(chan struct{})
	go func() { in.Wait(); close(done) }()
	select {
	case <-done:
		t.Fatal("Wait returned with a message unsettled")
	case <-time.After(50 * time.Millisecond):
	}
	in.Abandon()
	<-done
	if l[Abandoned].Load() != 1 {
		t.Fatal("Abandon did not settle the message left")
	}
	left.Ack()
	Settled(left) // too late: abandoned already
	if l[Acked].Load() != 0 {
		t.Fatal("an abandoned message was settled again")
	}
	_, late := handOut(in, "late")
	if late[Abandoned].Load() != 1 {
		t.Fatal("a message added after Abandon was not abandoned at once")
	}
	in.Wait()
}

// Settled and Abandon racing settle each message exactly once (run with -race).
func TestInflightSettledRacesAbandon(t *testing.T) {
	for range 50 {
		in := NewInflight(true)
		msgs := make([]*message.Message, 20)
		counts := make([]*[4]atomic.Int32, 20)
		for i := range msgs {
			msgs[i], counts[i] = handOut(in, "m")
			msgs[i].Ack()
		}
		var wg sync.WaitGroup
		for _, m := range msgs {
			wg.Go(func() { Settled(m) })
		}
		wg.Go(in.Abandon)
		wg.Wait()
		in.Wait()
		for i, c := range counts {
			if total := c[Acked].Load() + c[Abandoned].Load(); total != 1 {
				t.Fatalf("message %d settled %d times", i, total)
			}
		}
	}
}

func TestInflightWaitingGoroutines(t *testing.T) {
	in := NewInflight(false)
	acked, a := handOut(in, "a")
	nacked, n := handOut(in, "n")
	_, l := handOut(in, "l")
	acked.Ack()
	nacked.Nack()
	Settled(acked) // not needed, and harmless
	deadline := time.Now().Add(5 * time.Second)
	for a[Acked].Load() == 0 || n[Nacked].Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("Ack and Nack were not settled without Settled")
		}
		time.Sleep(time.Millisecond)
	}
	in.Abandon()
	in.Wait()
	if a[Acked].Load() != 1 || n[Nacked].Load() != 1 || l[Abandoned].Load() != 1 {
		t.Fatalf("settlements: acked %d, nacked %d, abandoned %d; want 1 each", a[Acked].Load(), n[Nacked].Load(), l[Abandoned].Load())
	}
}
