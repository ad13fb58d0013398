package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/examples/connect"
)

// TestRun onboards the sandbox's prospect: run fails unless every step
// and the access check of the new customer pass.
func TestRun(t *testing.T) {
	connect.UseSandbox()
	require.NoError(t, run(t.Context()))
}
