package fileconn

import (
	"context"
	"errors"
	"fmt"
	"github.com/ThreeDotsLabs/watermill/message"
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
	s := newFileSyncer(newDirSyncer(dir))
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
	s.link = func(*os.File, string) (bool, error) { return true, nil } // the grouping of syncs is what is tested
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i, f := range files {
		wg.Go(func() { _, errs[i] = s.do(f, f.Name()+".linked") })
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

// Files given with a name are linked in only once synced, each group syncs the folder once, a
// name that exists is left to the caller, and a failed sync or folder sync reaches the writers
// whose files it concerns.
func TestFileSyncerLinksAfterSyncAndSyncsTheFolderOncePerGroup(t *testing.T) {
	dir := t.TempDir()
	const writers = 40
	var (
		mu     sync.Mutex
		synced = map[string]bool{}
		events []string
	)
	s := newFileSyncer(newDirSyncer(dir))
	// The first group's leader waits, in its first sync, until every other writer is queued, so
	// the writers arrive together however the machine schedules them.
	kicks, gate := 0, sync.Once{}
	s.kick = func(*os.File) { kicks++ }
	s.sync = func(f *os.File) error {
		gate.Do(func() {
			first := kicks
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
				s.mu.Lock()
				queued := len(s.pending)
				s.mu.Unlock()
				if first+queued == writers {
					return
				}
			}
			t.Errorf("writers not queued after 10 s")
		})
		mu.Lock()
		defer mu.Unlock()
		synced[f.Name()] = true
		if filepath.Base(f.Name()) == "w07" {
			return errors.New("device error")
		}
		return nil
	}
	s.link = func(f *os.File, target string) (bool, error) {
		mu.Lock()
		defer mu.Unlock()
		if !synced[f.Name()] {
			t.Errorf("%s linked before it was synced", f.Name())
		}
		events = append(events, "link")
		return target != "taken", nil
	}
	failDir := false
	s.dirSync = func() error {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, "dir")
		if failDir {
			return errors.New("folder sync failed")
		}
		return nil
	}
	type result struct {
		linked bool
		err    error
	}
	results := make([]result, writers)
	var wg sync.WaitGroup
	for i := range writers {
		f := createFile(t, filepath.Join(dir, fmt.Sprintf("w%02d", i)))
		target := fmt.Sprintf("t%02d", i)
		if i == 11 {
			target = "taken"
		}
		wg.Go(func() {
			linked, err := s.do(f, target)
			results[i] = result{linked, err}
		})
	}
	wg.Wait()
	for i, r := range results {
		switch i {
		case 7:
			if r.err == nil || r.linked {
				t.Errorf("file whose sync failed: linked %v, err %v", r.linked, r.err)
			}
		case 11:
			if r.err != nil || r.linked {
				t.Errorf("file whose name is taken: linked %v, err %v; want false, nil", r.linked, r.err)
			}
		default:
			if r.err != nil || !r.linked {
				t.Errorf("file %d: linked %v, err %v", i, r.linked, r.err)
			}
		}
	}
	links, dirs := 0, 0
	for _, e := range events {
		if e == "link" {
			links++
		} else {
			dirs++
		}
	}
	if events[0] != "link" {
		t.Errorf("folder synced before any file was linked: %v", events)
	}
	if links != writers-1 || dirs != int(s.dirSyncs.Load()) || dirs >= writers/2 {
		t.Errorf("%d links and %d folder syncs for %d writers arriving together", links, dirs, writers)
	}
	t.Logf("%d writers, %d folder syncs", writers, dirs)

	// A folder sync that fails fails the files linked in that group.
	failDir = true
	if linked, err := s.do(createFile(t, filepath.Join(dir, "late")), "late"); !linked || err == nil {
		t.Errorf("after a failed folder sync: linked %v, err %v; want true and the error", linked, err)
	}
}

// A sink with sync: file shares the folder's syncs between the files written at once, and
// replaces an existing name through the rename path.
func TestSinkSharesFolderSyncs(t *testing.T) {
	s := newTestSink(t, Config{Dir: t.TempDir(), Fsync: true, Sync: SyncFile})
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			msg := message.NewMessage(fmt.Sprintf("m%02d", i), []byte("<x/>"))
			if err := s.Send(context.Background(), msg); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := len(files(t, s.dir)); n != 64 {
		t.Fatalf("%d files, want 64", n)
	}
	if s.fileSync.dirSyncs.Load() == 0 {
		t.Skip("this file system has no unnamed files; the rename path synced the folder")
	}
	if n := s.dirSync.done; n == 0 || n > s.fileSync.dirSyncs.Load() {
		t.Errorf("%d folder syncs for the %d groups of 64 new files", n, s.fileSync.dirSyncs.Load())
	}
	synced := s.dirSync.done
	// Written again: the name exists, the file is replaced by a rename and the folder synced.
	if err := s.Send(context.Background(), message.NewMessage("m03", []byte("<y/>"))); err != nil {
		t.Fatal(err)
	}
	if s.dirSync.done != synced+1 {
		t.Errorf("%d folder syncs after a replacement, want %d", s.dirSync.done, synced+1)
	}
	b, err := os.ReadFile(filepath.Join(s.dir, "m03.bin"))
	if err != nil || string(b) != "<y/>" {
		t.Errorf("replaced file: %q, %v", b, err)
	}
}

// createFile creates a file that the test closes when it ends.
func createFile(t *testing.T, name string) *os.File {
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// Files with temporary names are synced, renamed to their targets (an existing one replaced) and
// the folder synced once a group, as unnamed files are linked.
func TestFileSyncerRenamesInGroups(t *testing.T) {
	dir := t.TempDir()
	const writers = 20
	s := newFileSyncer(newDirSyncer(dir))
	var gate sync.Once
	s.sync = func(f *os.File) error {
		// The first group's leader waits until the others are queued, so that they arrive together.
		gate.Do(func() {
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
				s.mu.Lock()
				queued := len(s.pending)
				s.mu.Unlock()
				if queued == writers-1 {
					return
				}
			}
			t.Errorf("writers not queued after 10 s")
		})
		return f.Sync()
	}
	if err := os.WriteFile(filepath.Join(dir, "t03"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range writers {
		f := createFile(t, filepath.Join(dir, fmt.Sprintf(".aiskao-%02d.tmp", i)))
		if _, err := fmt.Fprintf(f, "w%02d", i); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			if _, err := s.doRename(f, filepath.Join(dir, fmt.Sprintf("t%02d", i))); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got := files(t, dir)
	if len(got) != writers {
		t.Errorf("%d files in the folder, want the %d targets alone: %v", len(got), writers, got)
	}
	for i := range writers {
		if b := got[fmt.Sprintf("t%02d", i)]; string(b) != fmt.Sprintf("w%02d", i) {
			t.Errorf("t%02d holds %q", i, b)
		}
	}
	if n := s.dirSyncs.Load(); n == 0 || n >= writers/2 {
		t.Errorf("%d folder syncs for %d writers arriving together", n, writers)
	}
}
