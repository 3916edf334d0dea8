package fileconn

import (
	"errors"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// writeLinked creates an unnamed file in dir (O_TMPFILE), writes data, syncs it with sync unless
// that is nil, and links it in as target. It reports false, with no error, when it cannot be done
// this way: the file system has no unnamed files, or target exists (a link never replaces a
// name); the caller then renames.
func writeLinked(dir, target string, data []byte, mode os.FileMode, sync func(*os.File) error) (bool, error) {
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, uint32(mode.Perm()))
	if err != nil {
		if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EISDIR) || errors.Is(err, unix.EINVAL) {
			return false, nil
		}
		return false, &os.PathError{Op: "create", Path: dir, Err: err}
	}
	f := os.NewFile(uintptr(fd), target)
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		return false, err
	}
	// The umask applies at creation; the configured mode is what the operator asked for.
	if err := f.Chmod(mode); err != nil {
		return false, err
	}
	if sync != nil {
		if err := sync(f); err != nil {
			return false, err
		}
	}
	// Linking by /proc/self/fd needs no privilege, unlike AT_EMPTY_PATH.
	err = unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(int(f.Fd())), unix.AT_FDCWD, target, unix.AT_SYMLINK_FOLLOW)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, unix.EEXIST), errors.Is(err, unix.ENOENT):
		return false, nil
	}
	return false, &os.PathError{Op: "link", Path: target, Err: err}
}

// startWriteback asks the system to start writing f's data to the disk, without waiting
// (sync_file_range(2)); a sync that follows then finds it under way. Only a hint: errors are the
// sync's to report.
func startWriteback(f *os.File) {
	_ = unix.SyncFileRange(int(f.Fd()), 0, 0, unix.SYNC_FILE_RANGE_WRITE)
}

// canSyncFS tells whether syncFS syncs a file system; elsewhere sync: filesystem falls back to
// syncing each file and its folder.
const canSyncFS = true

// syncFS writes out everything of the file system that holds dir (syncfs(2)), and reports its
// errors (since Linux 5.8).
func syncFS(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := unix.Syncfs(int(d.Fd())); err != nil {
		return &os.PathError{Op: "syncfs", Path: dir, Err: err}
	}
	return nil
}
