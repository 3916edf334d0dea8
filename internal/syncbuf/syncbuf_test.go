package syncbuf

import (
	"fmt"
	"sync"
	"testing"
)

func TestWritersAndAReader(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 100 {
				fmt.Fprintf(&b, "line %d\n", i)
				_ = b.Count("line")
			}
		})
	}
	wg.Wait()
	if n := b.Count("line"); n != 800 {
		t.Errorf("Count = %d, want 800", n)
	}
	if n := b.Count("line 3\n"); n != 100 {
		t.Errorf("Count of one writer's lines = %d, want 100", n)
	}
}
