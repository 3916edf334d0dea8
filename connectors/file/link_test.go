package fileconn

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"
)

func TestWriteLinkedKeepsModeAndRefusesToReplace(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "a.json")
	linked, err := writeLinked(dir, target, bytesOf([]byte("one")), 0o604, (*os.File).Sync)
	if err != nil {
		t.Fatal(err)
	}
	if !linked {
		t.Skip("this file system has no unnamed files; the rename path is tested by the sink tests")
	}
	st, err := os.Stat(target)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o604 {
		t.Errorf("mode %v, want 0604", st.Mode().Perm())
	}
	if b, _ := os.ReadFile(target); string(b) != "one" {
		t.Errorf("content %q", b)
	}
	// An existing name is left for the caller to replace by renaming.
	linked, err = writeLinked(dir, target, bytesOf([]byte("two")), 0o604, nil)
	if err != nil || linked {
		t.Errorf("second write: linked %v, err %v; want false, nil", linked, err)
	}
	if b, _ := os.ReadFile(target); string(b) != "one" {
		t.Errorf("content changed to %q", b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("%d entries in the folder, want 1 (no leftovers)", len(entries))
	}
}

func TestDirSyncerSharesSyncs(t *testing.T) {
	d := newDirSyncer(t.TempDir())
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- d.sync()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if d.done == 0 || d.done > 64 {
		t.Errorf("%d syncs for 64 callers", d.done)
	}
	// A folder that is gone: the error reaches every caller.
	gone := newDirSyncer(filepath.Join(t.TempDir(), "missing"))
	if err := gone.sync(); err == nil {
		t.Error("sync of a missing folder succeeded")
	}
	closed, err := os.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	if err := newFSSyncer(closed, slog.New(slog.DiscardHandler)).sync(); err == nil {
		t.Error("sync of the file system of a closed folder succeeded")
	}
}

// Files written at once by a sink with sync: filesystem share the file system's syncs.
func TestSinkSharesFileSystemSyncs(t *testing.T) {
	s := newTestSink(t, Config{Dir: t.TempDir(), Fsync: true, Sync: SyncFilesystem})
	if s.fsSync == nil {
		t.Skip("no syncfs on this system")
	}
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
	if s.fsSync.done == 0 || s.fsSync.done > 64 {
		t.Errorf("%d file system syncs for 64 files written at once, want 1 to 64", s.fsSync.done)
	}
	if s.dirSync.done != 0 {
		t.Errorf("%d folder syncs besides, want none", s.dirSync.done)
	}
	if n := len(files(t, s.dir)); n != 64 {
		t.Errorf("%d files, want 64", n)
	}
}

// The umask read from the kernel is the process's: the mode of new files is set again only when
// the umask takes something from it.
func TestProcessUmask(t *testing.T) {
	m, ok := processUmask()
	if !ok {
		t.Skip("the kernel does not report the umask")
	}
	old := syscall.Umask(0o022)
	syscall.Umask(old)
	if m != uint32(old) {
		t.Errorf("umask %04o, want %04o", m, old)
	}
}
