package main

import (
	"testing"

	"github.com/samkit/samkit/examples/connect"
)

// TestRun runs the example against a sandbox.
func TestRun(t *testing.T) {
	connect.UseSandbox()
	if err := run(t.Context()); err != nil {
		t.Fatal(err)
	}
}
