package main

import (
	"encoding/json"
	"net/http"
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
	appID := samAppID(t, s)

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

func TestConsentPlanThenApply(t *testing.T) {
	s, common, customer := doctorSandbox(t, 2)
	appID := samAppID(t, s)
	require.NoError(t, s.RemoveGrantScope(customer.ID, appID, testserver.GraphAppID, "profile"))
	require.NoError(t, s.RemoveAppRoleAssignment(customer.ID, appID, testserver.ExchangeAppID, "dc50a0fb-09a3-484d-be87-e023b12c6440"))

	code, stdout, stderr := samctl(t, append([]string{"consent", "plan", "--all", "-o", "json"}, common...)...)
	require.Equal(t, exitFailed, code, "drift is there to apply\n%s%s", stdout, stderr)
	var plan struct {
		OK      bool `json:"ok"`
		Tenants []struct {
			Tenant      string            `json:"tenant"`
			ScopesToAdd []sam.GrantChange `json:"scopesToAdd"`
			GrantsToAdd []sam.GrantChange `json:"grantsToAdd"`
			RolesToAdd  []sam.RoleChange  `json:"rolesToAdd"`
		} `json:"tenants"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &plan))
	changed := 0
	for _, p := range plan.Tenants {
		if p.Tenant != customer.ID {
			assert.Empty(t, p.ScopesToAdd, "only %s drifted", customer.ID)
			assert.Empty(t, p.RolesToAdd, "only %s drifted", customer.ID)
			continue
		}
		changed++
		assert.Empty(t, p.GrantsToAdd)
		require.Len(t, p.ScopesToAdd, 1)
		assert.Equal(t, []string{"profile"}, p.ScopesToAdd[0].Scopes)
		require.Len(t, p.RolesToAdd, 1)
		assert.Equal(t, "Exchange.ManageAsApp", p.RolesToAdd[0].Name)
	}
	assert.Equal(t, 1, changed)

	code, stdout, stderr = samctl(t, append([]string{"consent", "plan", customer.ID}, common...)...)
	require.Equal(t, exitFailed, code, stderr)
	assert.Contains(t, stdout, "+ scopes on Microsoft Graph: profile")

	code, stdout, stderr = samctl(t, append([]string{"consent", "apply", "--all"}, common...)...)
	require.Equal(t, exitOK, code, "apply\n%s%s", stdout, stderr)
	assert.Contains(t, stdout, "verified")
	code, stdout, stderr = samctl(t, append([]string{"consent", "plan", "--all"}, common...)...)
	assert.Equal(t, exitOK, code, "after apply, plan shows nothing\n%s%s", stdout, stderr)
	code, stdout, _ = samctl(t, append([]string{"consent", "apply", "--all"}, common...)...)
	assert.Equal(t, exitOK, code)
	assert.NotContains(t, stdout, "verified", "applying again changes nothing")
}

// samAppID finds the app samctl setup made in the sandbox.
func samAppID(t *testing.T, s *testserver.Server) string {
	t.Helper()
	id := ""
	s.Read(func(w *testserver.World) {
		for k, a := range w.Apps {
			if a.DisplayName == sam.DefaultDisplayName {
				id = k
			}
		}
	})
	require.NotEmpty(t, id, "setup made the SAM app")
	return id
}

func TestKeepaliveRotatesAndSaves(t *testing.T) {
	_, common, _ := doctorSandbox(t, 1)
	path := common[len(common)-1]
	before, err := sam.NewFileStore(path).Load(t.Context())
	require.NoError(t, err)

	code, stdout, stderr := samctl(t, append([]string{"keepalive", "-o", "json"}, common...)...)
	require.Equal(t, exitOK, code, "%s%s", stdout, stderr)
	var out keepaliveJSON
	require.NoError(t, json.Unmarshal([]byte(stdout), &out))
	assert.True(t, out.Saved)
	assert.Equal(t, out.ObtainedAt.Add(sam.RefreshTokenIdleLifetime), out.IdleExpiry)
	after, err := sam.NewFileStore(path).Load(t.Context())
	require.NoError(t, err)
	assert.False(t, after.RefreshToken.Equal(before.RefreshToken), "keepalive saved the rotated refresh token")

	// The secret ends within 800 days: a warning, exit 3.
	code, stdout, stderr = samctl(t, append([]string{"keepalive", "--within", "800"}, common...)...)
	assert.Equal(t, exitSoon, code, "%s%s", stdout, stderr)
	assert.Contains(t, stdout, "samctl rotate-secret")
}

func TestDoctorRefusedCredentials(t *testing.T) {
	for _, tc := range []struct {
		name  string
		plant func(s *testserver.Server) error
	}{
		{"sessions revoked", func(s *testserver.Server) error { return s.RevokeSessions(s.Partner().AdminID) }},
		{"refresh token idle for 91 days", func(s *testserver.Server) error { s.Clock().Advance(91 * 24 * time.Hour); return nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, common, _ := doctorSandbox(t, 1)
			require.NoError(t, tc.plant(s))
			code, out, stderr := runDoctor(t, common)
			require.Equal(t, exitFailed, code, stderr)
			require.Len(t, out.Findings, 1, "%+v", out.Findings)
			assert.Equal(t, sam.FindingCredentials, out.Findings[0].Kind)
			assert.Equal(t, "samctl setup", out.Findings[0].Fix)
		})
	}
}

// TestDoctorFollowsTheSandboxClock rehearses expiries as the README tells:
// move the sandbox's clock forward through its admin endpoint, and the
// doctor counts the days by it (it takes its now from the Date of Graph's
// answers), not by the machine's clock.
func TestDoctorFollowsTheSandboxClock(t *testing.T) {
	const day = 24 * time.Hour
	s, common, _ := doctorSandbox(t, 1)
	appID := samAppID(t, s)
	start := s.Clock().Now()
	// The stored secret ends in 85 days: beyond --within 30 today.
	secretEnd := start.Add(85 * day)
	s.Mutate(func(w *testserver.World) {
		for _, p := range w.Apps[appID].Passwords {
			p.End = secretEnd
		}
	})
	code, out, stderr := runDoctor(t, common)
	require.Equal(t, exitOK, code, "nothing ends within 30 days yet: %+v\n%s", out.Findings, stderr)

	advance := func(d time.Duration) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL()+"/_sandbox/clock?advance="+d.String(), nil)
		require.NoError(t, err)
		resp, err := s.Client().Do(req)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}

	// 80 days on, the secret ends in five: a warning, exit 3. The run
	// renews the refresh token (the stored one, obtained at setup, would
	// idle out in ten days), so that is no finding.
	advance(80 * day)
	code, out, stderr = runDoctor(t, common)
	require.Equal(t, exitSoon, code, "%+v\n%s", out.Findings, stderr)
	assert.WithinDuration(t, s.Clock().Now(), out.Checked, time.Minute, "checked at the sandbox's time, not the machine's")
	byKind := map[string]sam.Finding{}
	for _, f := range out.Findings {
		byKind[f.Kind] = f
	}
	assert.NotContains(t, byKind, sam.FindingRefreshTokenIdle, "renewed by this very run: %+v", out.Findings)
	sec, ok := byKind[sam.FindingStoredSecret]
	require.True(t, ok, "the stored secret ends within 30 days: %+v", out.Findings)
	assert.WithinDuration(t, secretEnd, sec.When, time.Second)
	assert.Equal(t, "samctl rotate-secret", sec.Fix)

	// Ten days more and the secret has expired: Entra ID (and the sandbox)
	// refuses it, which is broken now, exit 1.
	advance(10 * day)
	code, out, stderr = runDoctor(t, common)
	require.Equal(t, exitFailed, code, "%+v\n%s", out.Findings, stderr)
	require.Len(t, out.Findings, 1, "%+v", out.Findings)
	assert.Equal(t, sam.FindingCredentials, out.Findings[0].Kind)
	assert.Contains(t, out.Findings[0].What, "7000222", "the secret's expiry is named")
	assert.Equal(t, "samctl setup", out.Findings[0].Fix)
}
