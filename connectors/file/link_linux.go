package fileconn

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// createUnnamed creates an unnamed file in dir (O_TMPFILE) with data and mode. It returns nil,
// with no error, when the file system has no unnamed files; the caller then writes a temporary
// file and renames it.
func createUnnamed(dir string, data content, mode os.FileMode) (*os.File, error) {
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, uint32(mode.Perm()))
	if err != nil {
		if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EISDIR) || errors.Is(err, unix.EINVAL) {
			return nil, nil
		}
		return nil, &os.PathError{Op: "create", Path: dir, Err: err}
	}
	f := os.NewFile(uintptr(fd), dir)
	if err := data(f); err != nil {
		f.Close()
		return nil, err
	}
	// The umask applies at creation; the configured mode is what the operator asked for. Where
	// the umask takes nothing from it, the mode is right already.
	if m, ok := processUmask(); !ok || uint32(mode.Perm())&m != 0 {
		if err := f.Chmod(mode); err != nil {
			f.Close()
			return nil, err
		}
	}
	return f, nil
}

// linkIn gives the unnamed file f the name target. It reports false, with no error, when target
// exists (a link never replaces a name); the caller then renames.
func linkIn(f *os.File, target string) (bool, error) {
	// Linking by /proc/self/fd needs no privilege, unlike AT_EMPTY_PATH.
	err := unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(int(f.Fd())), unix.AT_FDCWD, target, unix.AT_SYMLINK_FOLLOW)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, unix.EEXIST), errors.Is(err, unix.ENOENT):
		return false, nil
	}
	return false, &os.PathError{Op: "link", Path: target, Err: err}
}

// writeLinked creates an unnamed file in dir with data, syncs it with sync unless that is nil,
// and links it in as target. It reports false, with no error, when it cannot be done this way:
// the file system has no unnamed files, or target exists; the caller then renames.
func writeLinked(dir, target string, data content, mode os.FileMode, sync func(*os.File) error) (bool, error) {
	f, err := createUnnamed(dir, data, mode)
	if f == nil || err != nil {
		return false, err
	}
	defer f.Close()
	if sync != nil {
		if err := sync(f); err != nil {
			return false, err
		}
	}
	return linkIn(f, target)
}

var umask struct {
	once sync.Once
	mask uint32
	ok   bool
}

// processUmask returns the process's umask as the kernel reports it (Linux 4.7 and later), read
// once: setting it to read it back would race with files created meanwhile.
func processUmask() (uint32, bool) {
	umask.once.Do(func() {
		f, err := os.Open("/proc/self/status")
		if err != nil {
			return
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "Umask:"); ok {
				m, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32)
				umask.mask, umask.ok = uint32(m), err == nil
				return
			}
		}
	})
	return umask.mask, umask.ok
}

// startWriteback asks the system to start writing f's data to the disk, without waiting
// (sync_file_range(2)); a sync that follows then finds it under way. Only a hint: errors are the
// sync's to report.
func startWriteback(f *os.File) {
	_ = unix.SyncFileRange(int(f.Fd()), 0, 0, unix.SYNC_FILE_RANGE_WRITE)
}

// File system magic numbers (statfs(2)) of the systems whose unnamed files, linked in and their
// folder synced, are durable with their one link.
const (
	ext4Magic  = 0xEF53 // ext2, ext3 and ext4: only with a journal, see unnamedDurable
	xfsMagic   = 0x58465342
	tmpfsMagic = 0x01021994 // nothing of it survives a power cut anyway
)

// unnamedDurable tells whether a synced unnamed file linked into dir, and dir synced, is on the
// disk with its name and its one link; otherwise, with the reason, files are written under a
// temporary name, synced and renamed. The link changes the file's link count, which is written
// by the syncs of the folder only where the file system logs the link as one change (a journal):
// on ext4 without a journal the device was found holding the name and the data with an inode
// of no links, which the system refuses to open after a power cut until fsck repairs it. Other
// file systems are not trusted with it: a temporary name and a rename need no such care.
func unnamedDurable(dir string) (bool, string) {
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil {
		return false, err.Error()
	}
	switch fs.Type {
	case xfsMagic, tmpfsMagic:
		return true, ""
	case ext4Magic:
	default:
		return false, fmt.Sprintf("file system type %#x", fs.Type)
	}
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return false, err.Error()
	}
	// ext4 names its journal's thread under the device's name in sysfs, "<none>" without one.
	dev, err := os.Readlink(fmt.Sprintf("/sys/dev/block/%d:%d", unix.Major(st.Dev), unix.Minor(st.Dev)))
	if err != nil {
		return false, "ext4, its device not found in /sys: " + err.Error()
	}
	task, err := os.ReadFile("/sys/fs/ext4/" + filepath.Base(dev) + "/journal_task")
	if err != nil {
		return false, "ext4, its journal not found in /sys: " + err.Error()
	}
	if t := strings.TrimSpace(string(task)); t == "" || t == "<none>" {
		return false, "ext4 without a journal"
	}
	return true, ""
}

// canSyncFS tells whether syncFS syncs a file system; elsewhere sync: filesystem falls back to
// syncing each file and its folder.
const canSyncFS = true

// syncFS writes out everything of the file system that holds d, an open folder (syncfs(2)), and
// reports the write errors of that file system since the last syncFS of d, or since d was opened
// (Linux 5.8 and later). d is kept open for the sink's life: a folder opened for each sync would
// miss the errors of writes that failed before it was opened.
func syncFS(d *os.File) error {
	rc, err := d.SyscallConn()
	if err != nil {
		return &os.PathError{Op: "syncfs", Path: d.Name(), Err: err}
	}
	// Control holds the descriptor open for the call: a Close meanwhile cannot hand its number
	// to another file, whose file system would be synced instead.
	if cerr := rc.Control(func(fd uintptr) { err = unix.Syncfs(int(fd)) }); cerr != nil {
		err = cerr
	}
	if err != nil {
		return &os.PathError{Op: "syncfs", Path: d.Name(), Err: err}
	}
	return nil
}
