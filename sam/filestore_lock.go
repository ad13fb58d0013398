package sam

import (
	"context"
	"errors"
	"time"

	"github.com/gofrs/flock"
)

// lockRetry is how often a writer waiting for another process's lock
// tries again; writes hold it for milliseconds.
const lockRetry = 10 * time.Millisecond

// lockFile takes an exclusive lock on path, creating it (0600) if needed,
// and waits for it as long as ctx allows: flock(2) on Unix, LockFileEx on
// Windows, so that processes sharing one credentials file write it in
// turn. The lock file is never removed: removing it would let two
// processes lock two different files. Where the system has no file locks
// (Plan 9, WebAssembly), the store's mutex alone orders the writes of one
// process, and each write is still atomic.
// exclusive reports that the lock also excludes other processes.
func lockFile(ctx context.Context, path string) (unlock func(), exclusive bool, err error) {
	l := flock.New(path, flock.SetPermissions(0o600))
	ok, err := l.TryLockContext(ctx, lockRetry)
	if errors.Is(err, errors.ErrUnsupported) {
		return func() {}, false, nil
	}
	if err != nil {
		l.Close()
		return nil, false, err
	}
	if !ok {
		l.Close()
		return nil, false, errors.New("the lock was not granted")
	}
	return func() { _ = l.Close() }, true, nil
}
