package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/internal/testserver"
)

func TestCheckExchangeAPIFlag(t *testing.T) {
	isolate(t)
	code, stdout, stderr := samctl(t, "check", "--exchange-api", "v3")
	assert.Equal(t, exitUsage, code)
	assert.Empty(t, stdout)
	assert.Contains(t, stderr, `--exchange-api "v3" is unknown`)
	assert.Contains(t, stderr, "use v2 or beta")

	code, stdout, _ = samctl(t, "__complete", "check", "--exchange-api", "")
	require.Equal(t, exitOK, code)
	assert.Contains(t, stdout, "v2\n")
	assert.Contains(t, stdout, "beta\n")
}

// With InvokeCommand switched off, the Exchange check fails and its hint
// tells the user to check through the Admin API v2.0.
func TestCheckInvokeCommandOffPointsToV2(t *testing.T) {
	isolate(t)
	s, flags := sandboxFiles(t, testserver.SandboxSpec{Customers: 2, Healthy: true}, nil)
	require.NoError(t, s.Rehearse(testserver.RehearseInvokeCommandOff))
	code, stdout, stderr := samctl(t, append([]string{"check", "--checks", "delegated-exchange"}, flags...)...)
	assert.Equal(t, exitFailed, code, "%s%s", stdout, stderr)
	assert.Contains(t, stdout+stderr, "--exchange-api v2")

	// Through v2.0 the request reaches the v2.0 endpoint; the sandbox's app
	// holds no Exchange.ManageV2, so the answer is 2000008 with the hint
	// that names it.
	code, stdout, stderr = samctl(t, append([]string{"check", "--checks", "delegated-exchange", "--exchange-api", "v2"}, flags...)...)
	assert.Equal(t, exitFailed, code, "%s%s", stdout, stderr)
	assert.Contains(t, stdout, "2000008")
	assert.Contains(t, stdout, "Exchange.ManageV2")
	assert.Positive(t, s.Count(func(r testserver.Request) bool { return strings.Contains(r.Path, "/adminapi/v2.0/") }))
}
