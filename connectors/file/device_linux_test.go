//go:build linux

package fileconn

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// TestWrittenFilesAreOnTheDevice checks what a power cut would leave: once write has returned, a
// copy of the device, as the loop device has written it to its image, mounted as after a restart
// (its journal or log replayed), shows every file with its content; on ext4, debugfs also finds
// each name at its inode and the inode with one link. The crash tests kill the process, whose
// writes the system's cache keeps; this reads the disk. It runs on file systems of its own: ext4
// without a journal, where nothing but the sink's own syncs puts the inodes and the folder on the
// device (the files' inodes made apart from the folder's, after many files), and where unnamed
// files linked in were found unreadable after the cut ("structure needs cleaning"), so the sink
// renames there; ext4 with a journal; and XFS.
func TestWrittenFilesAreOnTheDevice(t *testing.T) {
	for _, tool := range []string{"mkfs.ext4", "debugfs", "e2fsck", "losetup", "mount", "umount", "cp"} {
		if _, err := exec.LookPath(tool); err != nil {
			needDevice(t, "%s is not installed: %v", tool, err)
		}
	}
	if os.Geteuid() != 0 {
		needDevice(t, "mounting a file system takes root")
	}
	for _, fs := range []struct {
		name    string
		mkfs    []string // the command that makes it in the image named last
		mount   string   // options for mounting the copy beside the original
		unnamed bool     // whether the sink makes unnamed files there
	}{
		{"ext4 without a journal", []string{"mkfs.ext4", "-q", "-F", "-O", "^has_journal"}, "", false},
		{"ext4", []string{"mkfs.ext4", "-q", "-F"}, "", true},
		{"xfs", []string{"mkfs.xfs", "-q", "-f"}, "nouuid", true},
	} {
		for _, mode := range syncModes {
			if !mode.fsync {
				continue // not durable: what the device holds is left to the system's write-back
			}
			t.Run(fs.name+"/"+mode.name, func(t *testing.T) {
				if _, err := exec.LookPath(fs.mkfs[0]); err != nil {
					needDevice(t, "%s is not installed: %v", fs.mkfs[0], err)
				}
				img, dir := mountImage(t, fs.mkfs)
				s := newTestSink(t, Config{Dir: dir, Fsync: mode.fsync, Sync: mode.sync})
				// With sync: filesystem files are linked in before the one sync, wherever.
				if mode.sync == SyncFile && s.unnamed != fs.unnamed {
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
				want := map[string]string{}
				errs := make([]error, 12)
				for i := range errs {
					name, content := fmt.Sprintf("m%d.json", i), fmt.Sprintf(`{"n":%d}`, i)
					want[name] = content
					wg.Add(1)
					go func() {
						defer wg.Done()
						errs[i] = s.write(name, bytesOf([]byte(content)))
					}()
				}
				wg.Wait()
				for i, err := range errs {
					if err != nil {
						t.Fatalf("write m%d.json: %v", i, err)
					}
				}
				after := powerCut(t, img)
				if strings.HasPrefix(fs.name, "ext4") {
					checkExt4(t, after, dir, want)
				}
				// What the next mount shows: its journal or log replayed, every file readable.
				for name, content := range readBack(t, after, fs.mount, slices.Collect(maps.Keys(want))) {
					if content != want[name] {
						t.Errorf("after the power cut %s holds %q, want %q", name, content, want[name])
					}
				}
			})
		}
	}
}

// checkExt4 reads the ext4 image with debugfs, its journal replayed (e2fsck -E journal_only), and
// checks that the folder holds each file's name at its inode, the inode has one link and the
// content. The inode numbers are those of the mounted original, dir.
func checkExt4(t *testing.T, img, dir string, want map[string]string) {
	t.Helper()
	// Exit status 1: the journal was replayed, which is what it is asked to do.
	if out, err := exec.Command("e2fsck", "-E", "journal_only", "-y", img).CombinedOutput(); err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() > 1 {
			t.Fatalf("e2fsck -E journal_only: %v: %s", err, out)
		}
	}
	listing := debugfs(t, img, "ls -l /out")
	for name, content := range want {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		ino := fi.Sys().(*syscall.Stat_t).Ino
		if !regexp.MustCompile(fmt.Sprintf(`(?m)^\s*%d\s.*\s%s\s*$`, ino, regexp.QuoteMeta(name))).MatchString(listing) {
			t.Errorf("the device's folder has no %s at inode %d:\n%s", name, ino, listing)
		}
		if stat := debugfs(t, img, fmt.Sprintf("stat <%d>", ino)); !strings.Contains(stat, "Links: 1 ") {
			t.Errorf("the device's inode %d of %s has not one link:\n%s", ino, name, stat)
		}
		if got := debugfs(t, img, fmt.Sprintf("cat <%d>", ino)); got != content {
			t.Errorf("the device holds %q for %s, want %q", got, name, content)
		}
	}
}

// readBack mounts img through a loop device of its own with the options opts and returns the
// contents of the files names in its folder "out" (an error read is reported, the file left out).
func readBack(t *testing.T, img, opts string, names []string) map[string]string {
	t.Helper()
	loop := attach(t, img)
	mnt := t.TempDir()
	args := []string{loop, mnt}
	if opts != "" {
		args = append([]string{"-o", opts}, args...)
	}
	run(t, "mount", args...)
	defer run(t, "umount", mnt)
	got := map[string]string{}
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join(mnt, "out", name))
		if err != nil {
			t.Errorf("after the power cut: %v", err)
			continue
		}
		got[name] = string(b)
	}
	return got
}

// needDevice skips, or fails where CI is set: there the test must run.
func needDevice(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("with CI set this test must run: "+format, args...)
	}
	t.Skipf(format, args...)
}

// mountImage makes a file system with the command mkfs (its image appended) in a 320 MiB image,
// mounts it through a loop device and returns the image and the folder "out" in it; all is undone
// at the end.
func mountImage(t *testing.T, mkfs []string) (img, dir string) {
	t.Helper()
	img = filepath.Join(t.TempDir(), "fs.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// Sparse: XFS wants 300 MiB at least.
	if err := os.Truncate(img, 320<<20); err != nil {
		t.Fatal(err)
	}
	run(t, mkfs[0], append(mkfs[1:], img)...)
	loop := attach(t, img)
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

// attach makes a loop device of img, detached at the end.
func attach(t *testing.T, img string) string {
	t.Helper()
	out, err := exec.Command("losetup", "--find", "--show", img).CombinedOutput()
	if err != nil {
		needDevice(t, "no loop device: losetup: %v: %s", err, out)
	}
	loop := strings.TrimSpace(string(out))
	t.Cleanup(func() { _ = exec.Command("losetup", "-d", loop).Run() })
	return loop
}

// powerCut copies the image as the device holds it, as a power cut would leave it, and returns
// the copy.
func powerCut(t *testing.T, img string) string {
	t.Helper()
	after := filepath.Join(t.TempDir(), "after.img")
	run(t, "cp", "--sparse=always", img, after)
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
