package samtest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/samkit/samkit/samtest"
)

// TestFaultKindsAreTheFakes checks that each FaultKind reaches the fake as
// the kind of the same name: they are passed by value.
func TestFaultKindsAreTheFakes(t *testing.T) {
	t.Parallel()
	for k, want := range map[samtest.FaultKind]string{
		samtest.Latency: "latency", samtest.Throttle: "throttle", samtest.Status: "status",
		samtest.Reset: "reset", samtest.Hang: "hang", samtest.Truncated: "truncated",
		samtest.HTML: "html", samtest.Empty: "empty", samtest.Huge: "huge",
	} {
		assert.Equal(t, want, k.String())
	}
}
