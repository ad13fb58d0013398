package faulttest

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/samkit/samkit/internal/testserver"
)

// Bubble runs fn in a testing/synctest bubble, where time is fake: it
// moves only when every goroutine of the bubble waits, and then straight to
// the next timer. A retry wait, a Retry-After or a deadline therefore
// costs no real time, and time.Since inside fn measures exactly the waits
// the code under test chose, however busy the machine is. That is what
// lets the tests judge waits and deadlines at all.
//
// The clients must reach srv through its handler in process (NewWire, or
// inproc.Transport), as a goroutine blocked on a real socket never lets
// the bubble's clock move. srv itself is built outside the bubble (its
// listener would block the same way), and its world was stamped with
// real time, while the bubble's clock starts in 2000: for the length of
// fn, srv's clock is moved by the difference, so that tokens, secrets and
// refresh tokens stay as young as they were outside. Bubbles over one srv
// must not overlap.
func Bubble(t *testing.T, srv *testserver.Server, fn func(t *testing.T)) {
	t.Helper()
	now := time.Now()
	synctest.Test(t, func(t *testing.T) {
		shift := time.Until(now)
		srv.Clock().Advance(shift)
		defer srv.Clock().Advance(-shift)
		fn(t)
	})
}
