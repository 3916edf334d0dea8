//go:build !linux

package fileconn

import "os"

// writeLinked is available on Linux only; elsewhere files are written and renamed into place.
func writeLinked(dir, target string, data []byte, mode os.FileMode, sync func(*os.File) error) (bool, error) {
	return false, nil
}

// startWriteback does nothing: the sync writes the file.
func startWriteback(*os.File) {}

// canSyncFS is false: this system has no syncfs.
const canSyncFS = false

func syncFS(dir string) error { return syncDir(dir) }
