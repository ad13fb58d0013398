//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package sam

// syncDir does nothing: these systems either make a rename durable with the
// file (Windows) or offer no portable way to sync a directory.
func syncDir(string) error { return nil }
