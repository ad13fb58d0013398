package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/internal/testserver"
)

func TestGDAPTemplates(t *testing.T) {
	isolate(t)
	extra := filepath.Join(t.TempDir(), "templates.json")
	require.NoError(t, os.WriteFile(extra, []byte(`[{"name":"mine","roles":[{"name":"Global Reader"}]}]`), 0o600))
	code, stdout, stderr := samctl(t, "gdap", "templates", "--templates", extra, "-o", "json")
	require.Equal(t, exitOK, code, stderr)
	var out struct {
		Templates []struct {
			Name  string `json:"name"`
			Roles []struct {
				ID, Name, Why string
			} `json:"roles"`
		} `json:"templates"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &out))
	require.GreaterOrEqual(t, len(out.Templates), 2)
	assert.Equal(t, "mine", out.Templates[0].Name)
	assert.Equal(t, "samkit-least-privilege", out.Templates[1].Name)

	code, _, stderr = samctl(t, "gdap", "invite", "--name", "x", "--template", "nope")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "samkit-least-privilege")
}

func TestGDAPExpiring(t *testing.T) {
	isolate(t)
	_, flags := sandboxFiles(t, testserver.SandboxSpec{Customers: 2, Healthy: true}, nil)
	code, stdout, stderr := samctl(t, append([]string{"gdap", "expiring", "--days", "800", "-o", "json"}, flags...)...)
	require.Equal(t, exitOK, code, stderr)
	var out struct {
		Relationships []struct {
			Status      string `json:"status"`
			AutoExtends bool   `json:"autoExtends"`
		} `json:"relationships"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &out))
	require.Len(t, out.Relationships, 2)
	for _, r := range out.Relationships {
		assert.Equal(t, "active", r.Status)
	}
	code, stdout, stderr = samctl(t, append([]string{"gdap", "expiring", "--days", "1"}, flags...)...)
	require.Equal(t, exitOK, code, stderr)
	assert.True(t, strings.Contains(stdout, "0 relationships ending within 1 days"), stdout)
}

// TestGDAPInviteToAssign: invite, the customer's approval at the sandbox's
// admin endpoint, status, and an idempotent assign, through samctl, for a
// SAM app consented to manage GDAP relationships and groups.
func TestGDAPInviteToAssign(t *testing.T) {
	isolate(t)
	s, flags := sandboxFiles(t, testserver.SandboxSpec{Customers: 1, Healthy: true}, nil)
	var cust string
	s.Mutate(func(w *testserver.World) {
		p := w.Partner
		for id, tn := range w.Tenants {
			if id != p.ID && !tn.Deleted {
				cust = id
			}
		}
		// The partner's admin consented to the two extra permissions.
		for _, g := range p.Grants {
			g.Scope += " DelegatedAdminRelationship.ReadWrite.All Directory.ReadWrite.All"
		}
	})
	run := func(args ...string) string {
		t.Helper()
		code, stdout, stderr := samctl(t, append(args, flags...)...)
		require.Equal(t, exitOK, code, stderr)
		return stdout
	}
	var inv struct {
		Relationship struct{ ID, Status string } `json:"relationship"`
		Link         string                      `json:"link"`
	}
	require.NoError(t, json.Unmarshal([]byte(run("gdap", "invite", "--name", "samctl test", "--customer", cust, "-o", "json")), &inv))
	assert.Equal(t, "approvalPending", inv.Relationship.Status)
	assert.True(t, strings.HasSuffix(inv.Link, "/granularAdminRelationships/"+inv.Relationship.ID), inv.Link)

	resp, err := s.Client().Post(s.URL()+"/_sandbox/gdap/relationships/"+inv.Relationship.ID+"/approve", "application/json", nil)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	assert.Contains(t, run("gdap", "status", inv.Relationship.ID), ": active")

	first := run("gdap", "assign", inv.Relationship.ID)
	assert.Equal(t, 4, strings.Count(first, "(group created)"), first)
	second := run("gdap", "assign", inv.Relationship.ID)
	assert.Equal(t, 4, strings.Count(second, "(already)"), second)

	code, _, _ := samctl(t, append([]string{"gdap", "terminate", inv.Relationship.ID}, flags...)...)
	assert.Equal(t, exitUsage, code, "terminate without --yes")
	assert.Contains(t, run("gdap", "terminate", inv.Relationship.ID, "--yes"), "terminationRequested")
}

// TestGDAPCoverageAndTrace: coverage and trace through samctl, exit codes
// included, on a sandbox whose relationships hold Global Administrator
// with the admin in their groups; then one relationship expires.
func TestGDAPCoverageAndTrace(t *testing.T) {
	isolate(t)
	s, flags := sandboxFiles(t, testserver.SandboxSpec{Customers: 2, Healthy: true}, nil)
	run := func(want int, args ...string) string {
		t.Helper()
		code, stdout, stderr := samctl(t, append(args, flags...)...)
		require.Equal(t, want, code, "samctl %v: %s", args, stderr)
		return stdout
	}
	type coverage struct {
		Tenants []struct {
			TenantID string `json:"tenantId"`
			Covered  []struct {
				Via struct{ Name string } `json:"via"`
			} `json:"covered"`
			Missing []struct {
				Link, Why, Fix string
			} `json:"missing"`
		} `json:"tenants"`
	}
	var cov coverage
	require.NoError(t, json.Unmarshal([]byte(run(exitOK, "gdap", "coverage", "-o", "json")), &cov))
	require.Len(t, cov.Tenants, 2)
	for _, tc := range cov.Tenants {
		require.Len(t, tc.Covered, 4)
		assert.Equal(t, "Global Administrator", tc.Covered[0].Via.Name)
	}
	cust := cov.Tenants[0].TenantID

	// The customer's relationship ends, its names holding terminal escape
	// sequences: coverage and trace say so, escaped, and exit 1.
	s.Mutate(func(w *testserver.World) {
		for _, r := range w.Partner.Relationships {
			if r.CustomerTenantID == cust {
				r.Status, r.DisplayName, r.CustomerName = testserver.RelExpired, "Old \x1b[31mred", "Evil \x1b[2J Corp"
			}
		}
	})
	require.NoError(t, json.Unmarshal([]byte(run(exitFailed, "gdap", "coverage", "--tenant", cust, "--json")), &cov))
	require.Len(t, cov.Tenants, 1)
	require.Len(t, cov.Tenants[0].Missing, 4)
	assert.Equal(t, "relationship", cov.Tenants[0].Missing[0].Link)
	assert.Contains(t, cov.Tenants[0].Missing[0].Fix, "samctl gdap invite --customer "+cust)

	out := run(exitFailed, "gdap", "trace", "--tenant", cust, "--operation", "Exchange")
	assert.Contains(t, out, "expired on")
	assert.Contains(t, out, "fix: samctl gdap invite --customer "+cust)
	assert.NotContains(t, out, "\x1b", "server text is escaped")
	text := run(exitFailed, "gdap", "coverage")
	assert.NotContains(t, text, "\x1b")
	assert.Contains(t, text, "1 of 2 tenants complete")
	assert.Contains(t, text, `Evil \x1b[2J Corp`, "the customer's name, escaped")

	code, _, stderr := samctl(t, append([]string{"gdap", "trace", "--operation", "Exchange"}, flags...)...)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "--tenant")
	code, _, stderr = samctl(t, append([]string{"gdap", "trace", "--tenant", cust, "--operation", "Backup"}, flags...)...)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "PushConsent")
}
