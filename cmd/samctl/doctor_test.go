package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/sam"
)

// doctorSandbox sets up a sandbox with healthy customers and returns the
// common flags and the customers' ids.
func doctorSandbox(t *testing.T, customers int) (*testserver.Server, []string, sam.Tenant) {
	t.Helper()
	dir := isolate(t)
	s, info := testserver.NewSandbox(testserver.SandboxSpec{Customers: customers, Healthy: true})
	t.Cleanup(s.Close)
	creds := filepath.Join(dir, "sam.json")
	common := []string{"--sandbox", s.URL(), "--sandbox-ca", writeCA(t, s), "--credentials", creds}
	code, stdout, stderr := samctl(t, append([]string{"setup"}, common...)...)
	require.Equal(t, exitOK, code, "setup\n%s%s", stdout, stderr)
	code, stdout, stderr = samctl(t, append([]string{"consent", "push", "--all"}, common...)...)
	require.Equal(t, exitOK, code, "consent push\n%s%s", stdout, stderr)
	return s, common, sam.Tenant{ID: info.Customers[0].ID}
}

func runDoctor(t *testing.T, common []string, extra ...string) (int, doctorJSON, string) {
	t.Helper()
	code, stdout, stderr := samctl(t, append(append([]string{"doctor", "-o", "json"}, extra...), common...)...)
	var out doctorJSON
	require.NoError(t, json.Unmarshal([]byte(stdout), &out), "doctor's JSON\n%s%s", stdout, stderr)
	return code, out, stderr
}

func TestDoctorExitCodes(t *testing.T) {
	s, common, customer := doctorSandbox(t, 1)
	appID := ""
	s.Read(func(w *testserver.World) {
		for id, a := range w.Apps {
			if a.DisplayName == sam.DefaultDisplayName {
				appID = id
			}
		}
	})
	require.NotEmpty(t, appID)

	code, out, stderr := runDoctor(t, common)
	require.Equal(t, exitOK, code, "a fresh setup is healthy: %+v\n%s", out.Findings, stderr)
	assert.True(t, out.OK)

	// A relationship ending in ten days: not broken yet.
	end := s.Clock().Now().Add(10 * 24 * time.Hour)
	partner := s.Partner().TenantID
	s.Mutate(func(w *testserver.World) {
		for _, r := range w.Tenants[partner].Relationships {
			if r.CustomerTenantID == customer.ID {
				r.End = end
			}
		}
	})
	code, out, _ = runDoctor(t, common)
	require.Equal(t, exitSoon, code, "%+v", out.Findings)
	require.Len(t, out.Findings, 1)
	assert.Equal(t, sam.FindingGDAPEnding, out.Findings[0].Kind)
	assert.WithinDuration(t, end, out.Findings[0].When, time.Second)
	code, out, _ = runDoctor(t, common, "--within", "5")
	assert.Equal(t, exitOK, code, "ten days away is beyond --within 5: %+v", out.Findings)

	// Consent drift is broken now, and the table says so in 80 columns.
	require.NoError(t, s.RemoveGrantScope(customer.ID, appID, testserver.GraphAppID, "profile"))
	code, out, _ = runDoctor(t, common)
	require.Equal(t, exitFailed, code, "%+v", out.Findings)
	code, stdout, stderr := samctl(t, append([]string{"doctor"}, common...)...)
	require.Equal(t, exitFailed, code, stderr)
	assert.Contains(t, stdout, "samctl consent apply "+customer.ID)
	for _, l := range strings.Split(stdout, "\n") {
		assert.LessOrEqual(t, utf8.RuneCountInString(l), 80, "line %q is wider than 80 columns", l)
	}
}

func TestDoctorTextShowsFindings(t *testing.T) {
	_, common, _ := doctorSandbox(t, 1)
	code, stdout, stderr := samctl(t, append([]string{"doctor", "--within", "800"}, common...)...)
	require.Equal(t, exitSoon, code, "the secret ends within 800 days\n%s%s", stdout, stderr)
	assert.Contains(t, stdout, "samctl rotate-secret")
}
