package hub

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aiskao/aiskao/internal/memlimit"
	"github.com/aiskao/aiskao/transforms"
)

// A route's messages in flight are bounded by their bytes as well as by prefetch: with room for
// 1000 bytes, at most two messages of 400 run at once although prefetch allows 64; a message of
// 3000 bytes, larger than the whole budget, runs alone rather than never; every one is delivered.
func TestRouteBoundsBytesInFlight(t *testing.T) {
	var (
		mu              sync.Mutex
		bytesNow, peak  int
		countNow        int
		bigWith         = -1 // messages running beside the big one, seen while it ran
		smallRan, bigIn bool
	)
	hold := transforms.Factory{
		Name: "hold_a_moment", Doc: "Holds each message a moment, counting the bytes held.", Config: &noOptions{},
		New: func(any, transforms.Env) (transforms.Step, error) {
			return stepFunc(func(ctx context.Context, m *transforms.Message) error {
				p, err := m.Payload()
				if err != nil {
					return err
				}
				big := len(p) > 1000
				mu.Lock()
				bytesNow += len(p)
				countNow++
				if !big {
					smallRan = true
					peak = max(peak, bytesNow)
				}
				if big {
					bigIn, bigWith = true, countNow-1
				} else if bigIn {
					bigWith = max(bigWith, countNow-1)
				}
				mu.Unlock()
				time.Sleep(20 * time.Millisecond)
				mu.Lock()
				bytesNow -= len(p)
				countNow--
				if big {
					bigIn = false
				}
				mu.Unlock()
				return nil
			}), nil
		},
	}
	cat := testCatalog(hold)
	r := newRig(t, `
transport: { type: embedded, prefetch: 64 }
connectors:
  in:    { type: http, auth: { type: none }, listen: "@ADDR@", path: /in }
  files: { type: file, dir: out, fsync: false }
routes:
  - name: bounded
    from: in
    max_in_flight_bytes: 1000
    steps:
      - hold_a_moment: {}
    to: files
`, nil, &cat)
	doc := func(i, size int) string {
		head := fmt.Sprintf("<Doc n=\"%d\">", i)
		return head + strings.Repeat("x", size-len(head)-len("</Doc>")) + "</Doc>"
	}
	var wg sync.WaitGroup
	for i := range 12 {
		size := 400
		if i == 6 {
			size = 3000
		}
		wg.Go(func() { accept(t, r.addr, "/in", "application/xml", doc(i, size)) })
	}
	wg.Wait()
	waitFor(t, "every message delivered", func() bool { return outcomes(t, r.metrics, "bounded", OutcomeDelivered) == 12 })
	mu.Lock()
	defer mu.Unlock()
	if !smallRan || peak > 1000 || peak < 800 {
		t.Errorf("at most %d bytes of small messages ran at once, want 800 to 1000 (two of 400)", peak)
	}
	if bigWith != 0 {
		t.Errorf("the message larger than the budget ran beside %d others, want alone", bigWith)
	}
}

func TestBudgetDefaultFollowsMemory(t *testing.T) {
	b := newBudget(0)
	if b.max < memlimit.BudgetMin || b.max > memlimit.BudgetMax || b.max != memlimit.Budget() {
		t.Errorf("default budget %d, want memlimit.Budget() %d", b.max, memlimit.Budget())
	}
	if b := newBudget(5000); b.max != 5000 {
		t.Errorf("configured budget %d, want 5000", b.max)
	}
}
