//go:build !linux

package token

import "testing"

// reportThreadCPU reports nothing where a thread's CPU time is not read.
func reportThreadCPU(*testing.B) {}
