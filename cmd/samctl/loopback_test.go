package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestSandboxAddressIsLoopback: the sandbox listens on loopback only, so a
// --sandbox address anywhere else, even a DNS name that begins with "127.",
// is refused before anything is sent.
func TestSandboxAddressIsLoopback(t *testing.T) {
	dir := isolate(t)
	for _, addr := range []string{"https://127.0.0.1.nip.io:8443", "https://127.evil.example", "https://sandbox.example:8443"} {
		code, stdout, stderr := samctl(t, "setup", "--sandbox", addr, "--credentials", filepath.Join(dir, "creds.json"))
		assert.NotEqual(t, 0, code, "setup --sandbox %s", addr)
		assert.Empty(t, stdout)
		assert.Contains(t, stderr, "is not a sandbox address", "setup --sandbox %s", addr)
	}
}
