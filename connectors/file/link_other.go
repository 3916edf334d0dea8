//go:build !linux

package fileconn

import "os"

// writeLinked is available on Linux only; elsewhere files are written and renamed into place.
func writeLinked(dir, target string, data []byte, mode os.FileMode, fsync bool) (bool, error) {
	return false, nil
}

// canSyncFS is false: this system has no syncfs.
const canSyncFS = false

func syncFS(dir string) error { return syncDir(dir) }
