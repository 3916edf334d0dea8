//go:build linux

package fileconn

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// TestWrittenFilesAreOnTheDevice checks what a power cut would leave: once write has returned,
// the device, as the loop device has written it to its image, holds the file's name in the
// folder, its inode with one link and its content, once the journal (if any) is replayed as the
// next mount would. The crash tests kill the process, whose writes the system's cache keeps; this
// reads the disk. It runs on a small ext4 of its own, with and without a journal: without one,
// nothing but the sink's own syncs puts the inodes and the folder on the device (the files'
// inodes are made apart from the folder's, after many files). There, unnamed files linked in
// were found with no link on the device; the sink then renames instead.
func TestWrittenFilesAreOnTheDevice(t *testing.T) {
	tools := []string{"mkfs.ext4", "debugfs", "losetup", "mount", "umount"}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			needDevice(t, "%s is not installed: %v", tool, err)
		}
	}
	if os.Geteuid() != 0 {
		needDevice(t, "mounting a file system takes root")
	}
	tools = append(tools, "e2fsck")
	for _, fs := range []struct {
		name    string
		mkfs    []string
		unnamed bool // whether the sink makes unnamed files there
	}{{"ext4 without a journal", []string{"-O", "^has_journal"}, false}, {"ext4", nil, true}} {
		for _, mode := range syncModes {
			if !mode.fsync {
				continue // not durable: what the device holds is left to the system's write-back
			}
			t.Run(fs.name+"/"+mode.name, func(t *testing.T) {
				img, dir := mountImage(t, fs.mkfs)
				s := newTestSink(t, Config{Dir: dir, Fsync: mode.fsync, Sync: mode.sync})
				if s.unnamed != fs.unnamed {
					t.Errorf("unnamed files: %v, want %v", s.unnamed, fs.unnamed)
				}
				for i := range 300 {
					if err := s.write(fmt.Sprintf("before-%d", i), bytesOf([]byte("x"))); err != nil {
						t.Fatal(err)
					}
				}
				if err := exec.Command("sync").Run(); err != nil {
					t.Fatal(err)
				}
				// A group written at once, as under load.
				var wg sync.WaitGroup
				errs := make([]error, 12)
				for i := range errs {
					wg.Add(1)
					go func() {
						defer wg.Done()
						errs[i] = s.write(fmt.Sprintf("m%d.json", i), bytesOf([]byte(fmt.Sprintf(`{"n":%d}`, i))))
					}()
				}
				wg.Wait()
				for i, err := range errs {
					if err != nil {
						t.Fatalf("write m%d.json: %v", i, err)
					}
				}
				dev := powerCut(t, img)
				listing := debugfs(t, dev, "ls -l /out")
				for i := range errs {
					name := fmt.Sprintf("m%d.json", i)
					fi, err := os.Stat(filepath.Join(dir, name))
					if err != nil {
						t.Fatal(err)
					}
					ino := fi.Sys().(*syscall.Stat_t).Ino
					if !regexp.MustCompile(fmt.Sprintf(`(?m)^\s*%d\s.*\s%s\s*$`, ino, regexp.QuoteMeta(name))).MatchString(listing) {
						t.Errorf("the device's folder has no %s at inode %d:\n%s", name, ino, listing)
					}
					if stat := debugfs(t, dev, fmt.Sprintf("stat <%d>", ino)); !strings.Contains(stat, "Links: 1 ") {
						t.Errorf("the device's inode %d of %s has not one link:\n%s", ino, name, stat)
					}
					if got, want := debugfs(t, dev, fmt.Sprintf("cat <%d>", ino)), fmt.Sprintf(`{"n":%d}`, i); got != want {
						t.Errorf("the device holds %q for %s, want %q", got, name, want)
					}
				}
			})
		}
	}
}

// needDevice skips, or fails where CI is set: there the test must run.
func needDevice(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("with CI set this test must run: "+format, args...)
	}
	t.Skipf(format, args...)
}

// mountImage makes a 64 MiB ext4 with the given mkfs.ext4 options in a file, mounts it through a
// loop device and returns the image and the folder "out" in it; all is undone at the end.
func mountImage(t *testing.T, opts []string) (dev, dir string) {
	t.Helper()
	img := filepath.Join(t.TempDir(), "fs.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 64<<20); err != nil {
		t.Fatal(err)
	}
	run(t, "mkfs.ext4", append(append([]string{"-q", "-F"}, opts...), img)...)
	out, err := exec.Command("losetup", "--find", "--show", img).CombinedOutput()
	if err != nil {
		needDevice(t, "no loop device: losetup: %v: %s", err, out)
	}
	loop := strings.TrimSpace(string(out))
	t.Cleanup(func() { _ = exec.Command("losetup", "-d", loop).Run() })
	mnt := t.TempDir()
	if out, err := exec.Command("mount", loop, mnt).CombinedOutput(); err != nil {
		needDevice(t, "cannot mount %s: %v: %s", loop, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", mnt, err, out)
		}
	})
	dir = filepath.Join(mnt, "out")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, "sync")
	// The device's contents are the image's: what the loop device has been given. Read there,
	// not through the loop device, whose own cache holds the file system's unwritten blocks
	// (and a direct read of it would write them out first).
	return img, dir
}

// powerCut copies the image as the device holds it and replays its journal, as the next mount
// would, and returns the copy.
func powerCut(t *testing.T, img string) string {
	t.Helper()
	b, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	after := filepath.Join(t.TempDir(), "after.img")
	if err := os.WriteFile(after, b, 0o600); err != nil {
		t.Fatal(err)
	}
	// Exit status 1: the journal was replayed, which is what it is asked to do.
	if out, err := exec.Command("e2fsck", "-E", "journal_only", "-y", after).CombinedOutput(); err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() > 1 {
			t.Fatalf("e2fsck -E journal_only: %v: %s", err, out)
		}
	}
	return after
}

// debugfs runs one request of debugfs on dev, an image, read directly (-D), and returns what it
// printed.
func debugfs(t *testing.T, dev, request string) string {
	t.Helper()
	cmd := exec.Command("debugfs", "-D", "-R", request, dev)
	var out strings.Builder
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("debugfs -R %q %s: %v", request, dev, err)
	}
	return out.String()
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
}
