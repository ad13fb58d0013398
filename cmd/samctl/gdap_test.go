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
