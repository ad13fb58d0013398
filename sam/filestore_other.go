//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package sam

import "context"

// lockFile has no cross-process lock to take on this system: the store's
// mutex still orders the writes of one process, and each write is atomic.
func lockFile(context.Context, string) (unlock func(), exclusive bool, err error) {
	return func() {}, false, nil
}

// syncDir does nothing: these systems either make a rename durable with the
// file (Windows) or offer no portable way to sync a directory.
func syncDir(string) error { return nil }
