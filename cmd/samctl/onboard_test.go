package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/sam"
)

// gdapSandbox is a sandbox whose SAM app the admin consented to manage
// GDAP (what 'samctl setup --gdap' asks for), whose GDAP work completes
// at the next read (so that no test sleeps), and a tenant that is no
// customer yet.
func gdapSandbox(t *testing.T) (*testserver.Server, []string, testserver.SandboxCustomer) {
	t.Helper()
	s, flags := sandboxFiles(t, testserver.SandboxSpec{Customers: 1, Healthy: true}, nil)
	s.Mutate(func(w *testserver.World) {
		w.GDAPDelay = 0
		for _, g := range w.Partner.Grants {
			g.Scope += " DelegatedAdminRelationship.ReadWrite.All Group.ReadWrite.All"
		}
	})
	return s, flags, s.AddProspect("Tailwind Traders")
}

type onboardOut struct {
	Complete         bool   `json:"complete"`
	AwaitingApproval bool   `json:"awaitingApproval"`
	Customer         string `json:"customer"`
	Relationship     struct{ ID, Status string }
	Link             string `json:"link"`
	Steps            []struct {
		Step   sam.OnboardStep `json:"step"`
		Status sam.StepStatus  `json:"status"`
	} `json:"steps"`
}

// TestOnboardThenOffboardCommands: a new customer invited with --no-wait,
// approved, onboarded by running the same command again, found done by a
// third run, then offboarded and found offboarded.
func TestOnboardThenOffboardCommands(t *testing.T) {
	isolate(t)
	s, flags, prospect := gdapSandbox(t)
	onboard := func() onboardOut {
		t.Helper()
		code, stdout, stderr := samctl(t, append([]string{"onboard", "--new", "--name", "Tailwind samkit", "--no-wait", "-o", "json"}, flags...)...)
		require.Equal(t, exitOK, code, stderr)
		var out onboardOut
		require.NoError(t, json.Unmarshal([]byte(stdout), &out), stdout)
		return out
	}
	first := onboard()
	assert.True(t, first.AwaitingApproval)
	assert.False(t, first.Complete)
	assert.Contains(t, first.Link, first.Relationship.ID)

	require.NoError(t, s.ApproveRelationship(first.Relationship.ID, prospect.ID))
	second := onboard()
	require.True(t, second.Complete, "%+v", second.Steps)
	assert.Equal(t, prospect.ID, second.Customer)

	third := onboard()
	require.Len(t, third.Steps, len(sam.OnboardSteps()))
	for _, st := range third.Steps {
		assert.Equal(t, sam.StepAlreadyDone, st.Status, "step %s of a finished onboarding", st.Step)
	}

	// Without a terminal to confirm on, offboard wants --yes.
	code, stdout, stderr := samctl(t, append([]string{"offboard", "--customer", prospect.ID}, flags...)...)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "--yes")
	assert.Empty(t, stdout)
	code, stdout, stderr = samctl(t, append([]string{"offboard", "--customer", prospect.ID, "--dry-run"}, flags...)...)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "remove the SAM app's CPV consent: to-do")
	assert.Contains(t, stdout, `end relationship "Tailwind samkit" (active): to-do`)

	code, stdout, stderr = samctl(t, append([]string{"offboard", "--customer", prospect.ID, "--yes"}, flags...)...)
	require.Equal(t, exitOK, code, stderr)
	assert.Equal(t, 2, strings.Count(stdout, ": done"), stdout)
	consented := true
	s.Read(func(w *testserver.World) {
		for _, app := range w.Apps {
			if app.DisplayName == testserver.SandboxAppName {
				consented = w.Tenants[prospect.ID].ServicePrincipalByAppID(app.AppID) != nil
			}
		}
	})
	assert.False(t, consented, "the consent is gone")

	code, stdout, stderr = samctl(t, append([]string{"offboard", "--customer", prospect.ID, "--yes"}, flags...)...)
	require.Equal(t, exitOK, code, stderr)
	// With the relationship ended, the SAM app cannot be looked for in the
	// tenant; Partner Center then says there is no consent.
	assert.Equal(t, 2, strings.Count(stdout, ": already-done"), stdout)
}

func TestOnboardUsage(t *testing.T) {
	isolate(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"onboard"}, "--customer TENANT-ID, or --new"},
		{[]string{"onboard", "--new"}, "--new needs --name"},
		{[]string{"onboard", "--customer", "contoso.com"}, "not a tenant id"},
		{[]string{"onboard", "--customer", "6f1c3c1e-1111-4a2b-9c3d-222233334444", "--new", "--name", "x"}, "exclude each other"},
		{[]string{"onboard", "--new", "--name", "x", "--template", "nope"}, "samkit-least-privilege"},
		{[]string{"offboard"}, "--customer TENANT-ID"},
	} {
		code, _, stderr := samctl(t, c.args...)
		assert.Equal(t, exitUsage, code, "%v", c.args)
		assert.Contains(t, stderr, c.want, "%v", c.args)
	}
}

// TestDemoOnboardsANewCustomer: the demo's fifth section takes a new
// customer through every step to a passing check.
func TestDemoOnboardsANewCustomer(t *testing.T) {
	isolate(t)
	code, stdout, stderr := samctl(t, "demo")
	require.Equal(t, exitOK, code, stderr)
	_, section, ok := strings.Cut(stdout, "\n5. Onboarding a new customer")
	section, _, _ = strings.Cut(section, "\n6. Doctor")
	require.True(t, ok, "the demo has an onboarding section:\n%s", stdout)
	for _, step := range sam.OnboardSteps() {
		assert.Contains(t, section, markOK+" "+onboardLabels[step]+":", "step %s shown as done", step)
	}
	assert.Contains(t, section, "(simulated customer admin of Tailwind Traders) opens the link and approves")
	assert.Contains(t, section, "passed: delegated-graph, delegated-exchange")
	for _, l := range strings.Split(section, "\n") {
		if !strings.Contains(l, "https://") {
			assert.LessOrEqual(t, len([]rune(l)), tableWidth, "line %q fits 80 columns", l)
		}
	}
}

// TestOnboardTimeoutWhileAwaitingApproval: --timeout ends the wait for a
// customer who has not approved with a message that says so, not as a
// service that did not answer.
func TestOnboardTimeoutWhileAwaitingApproval(t *testing.T) {
	isolate(t)
	_, flags, _ := gdapSandbox(t)
	code, stdout, stderr := samctl(t, append([]string{"onboard", "--new", "--name", "Late", "--timeout", "1s"}, flags...)...)
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, stdout, "/granularAdminRelationships/", "the link was shown before the wait")
	assert.Contains(t, stderr, "the customer has not approved within --timeout 1s")
	assert.NotContains(t, stderr, "did not answer")
}
