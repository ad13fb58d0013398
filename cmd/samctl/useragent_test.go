package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/internal/httpx"
	"github.com/samkit/samkit/internal/testserver"
)

func TestProduct(t *testing.T) {
	t.Parallel()
	for version, want := range map[string]string{
		"v1.2.3": "samctl/v1.2.3", "v1.2.4-0.20261202135900-78ae099a1b2c+dirty": "samctl/v1.2.4-0.20261202135900-78ae099a1b2c+dirty",
		"(devel)": "samctl", "(unknown)": "samctl", "v1 beta": "samctl", "v1\n": "samctl",
	} {
		assert.Equal(t, want, buildInfo{Version: version}.product(), "version %q", version)
	}
}

// TestRequestsNameSamctl: every request of a check says samctl made it,
// with samkit, in a customer's sign-in log.
func TestRequestsNameSamctl(t *testing.T) {
	isolate(t)
	s, flags := sandboxFiles(t, testserver.SandboxSpec{Customers: 1, Healthy: true}, nil)
	s.ResetRequests()
	code, _, stderr := samctl(t, append([]string{"check"}, flags...)...)
	require.Equal(t, exitOK, code, stderr)
	reqs := s.Requests()
	require.NotEmpty(t, reqs)
	want := userAgentProduct() + " " + httpx.UserAgent("")
	for _, r := range reqs {
		assert.Equal(t, want, r.UserAgent, "%s %s %s", r.Service, r.Method, r.Path)
	}
}
