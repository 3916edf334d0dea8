package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aiskao/aiskao/internal/batch"
)

// TestLookupsShareQueries: Seens made while a query runs wait for the next one and share it,
// each gets the answer for its own scope and key, and after Close they fail.
func TestLookupsShareQueries(t *testing.T) {
	marked := map[[2]string]bool{{"route:a", "m-1"}: true, {"route:b", "m-2"}: true}
	var mu sync.Mutex
	var sizes []int
	l := NewLookups(256, 0, func(ls []*Lookup) error {
		mu.Lock()
		sizes = append(sizes, len(ls))
		mu.Unlock()
		time.Sleep(5 * time.Millisecond) // a query takes a while; callers gather meanwhile
		for k := range marked {
			Found(ls, k[0], k[1])
		}
		return nil
	})
	var wg sync.WaitGroup
	for i := range 100 {
		scope, key := "route:a", fmt.Sprintf("m-%d", i%4)
		if i%2 == 1 {
			scope = "route:b"
		}
		wg.Go(func() {
			got, err := l.Seen(context.Background(), scope, key)
			if err != nil {
				t.Errorf("Seen(%s, %s): %v", scope, key, err)
			}
			if want := marked[[2]string{scope, key}]; got != want {
				t.Errorf("Seen(%s, %s) = %v, want %v", scope, key, got, want)
			}
		})
	}
	wg.Wait()
	if len(sizes) >= 100 {
		t.Errorf("100 Seens made at once took %d queries, want them shared", len(sizes))
	}
	l.Close()
	if _, err := l.Seen(context.Background(), "route:a", "m-1"); !errors.Is(err, batch.ErrClosed) {
		t.Errorf("Seen after Close: %v, want batch.ErrClosed", err)
	}
}

// TestLookupsReportTheQueryError: a failed query fails every Seen that shared it.
func TestLookupsReportTheQueryError(t *testing.T) {
	boom := errors.New("connection lost")
	l := NewLookups(8, 0, func([]*Lookup) error { return boom })
	defer l.Close()
	if _, err := l.Seen(context.Background(), "route:a", "m-1"); !errors.Is(err, boom) {
		t.Errorf("Seen = %v, want the query's error", err)
	}
}
