package faulttest

import (
	"testing"

	"go.uber.org/goleak"
)

// NoLeaks fails t if goroutines started during it outlive it. Call it
// first, so that its check runs after every other cleanup (fake servers
// closed, idle connections dropped), and only from a test that is not
// parallel: the check sees every goroutine of the process, and those of
// other tests running meanwhile would count against this one.
func NoLeaks(t *testing.T) {
	t.Helper()
	before := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, before) })
}
