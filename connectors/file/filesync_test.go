package fileconn

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Writers that wait at the same time share groups; each gets its own file's result, and within
// a group every file is started before any is synced.
func TestFileSyncerGroups(t *testing.T) {
	dir := t.TempDir()
	const writers = 40
	files := make([]*os.File, writers)
	for i := range files {
		f, err := os.Create(filepath.Join(dir, string(rune('a'+i))))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		files[i] = f
	}
	bad := files[7]
	var (
		mu      sync.Mutex
		events  []string // "kick name" and "sync name", in order
		syncing int
		most    int
	)
	s := newFileSyncer()
	s.kick = func(f *os.File) {
		mu.Lock()
		events = append(events, "kick "+f.Name())
		mu.Unlock()
	}
	s.sync = func(f *os.File) error {
		mu.Lock()
		events = append(events, "sync "+f.Name())
		syncing++
		most = max(most, syncing)
		mu.Unlock()
		time.Sleep(time.Millisecond) // a device that takes its time, so that writers pile up
		mu.Lock()
		syncing--
		mu.Unlock()
		if f == bad {
			return errors.New("device error")
		}
		return nil
	}
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i, f := range files {
		wg.Go(func() { errs[i] = s.do(f) })
	}
	wg.Wait()
	for i, err := range errs {
		if (err != nil) != (files[i] == bad) {
			t.Errorf("file %d: error %v", i, err)
		}
	}
	if most != 1 {
		t.Errorf("%d syncs at once, want one at a time", most)
	}
	kicked := map[string]bool{}
	groups := 0
	for i, e := range events {
		name := e[5:]
		switch e[:4] {
		case "kick":
			if i == 0 || events[i-1][:4] == "sync" {
				groups++
			}
			kicked[name] = true
		case "sync":
			if !kicked[name] {
				t.Fatalf("%s synced before it was started", name)
			}
		}
	}
	if len(events) != 2*writers {
		t.Fatalf("%d events, want %d: %v", len(events), 2*writers, events)
	}
	if groups >= writers/2 {
		t.Errorf("%d groups for %d writers arriving together", groups, writers)
	}
	t.Logf("%d writers in %d groups", writers, groups)
	if s.leading || len(s.pending) > 0 {
		t.Errorf("left leading=%v with %d pending", s.leading, len(s.pending))
	}
}
