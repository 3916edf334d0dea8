//go:build !linux

package fileconn

import "os"

// createUnnamed is available on Linux only; elsewhere files are written and renamed into place.
func createUnnamed(dir string, data content, mode os.FileMode) (*os.File, error) { return nil, nil }

// linkIn is never reached: createUnnamed makes no file to link.
func linkIn(f *os.File, target string) (bool, error) { return false, nil }

// writeLinked is available on Linux only; elsewhere files are written and renamed into place.
func writeLinked(dir, target string, data content, mode os.FileMode, sync func(*os.File) error) (bool, error) {
	return false, nil
}

// startWriteback does nothing: the sync writes the file.
func startWriteback(*os.File) {}

// canSyncFS is false: this system has no syncfs.
const canSyncFS = false

func syncFS(d *os.File) error { return d.Sync() }

// unnamedDurable is false: there are no unnamed files here.
func unnamedDurable(string) (bool, string) { return false, "no unnamed files on this system" }
