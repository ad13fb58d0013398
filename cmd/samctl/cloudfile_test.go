package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/cloud"
	"github.com/samkit/samkit/sam"
	"github.com/samkit/samkit/token"
)

// writeCloudFile writes c as --cloud-file reads it.
func writeCloudFile(t *testing.T, c any) string {
	t.Helper()
	b, err := json.Marshal(c)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "cloud.json")
	require.NoError(t, os.WriteFile(path, b, 0o600))
	return path
}

// unreachable is a custom cloud on a loopback port nothing listens on,
// issuing tokens for the public cloud's resources.
var unreachable = func() cloud.Configuration {
	c := cloud.Public
	const base = "http://127.0.0.1:9"
	c.Name, c.LoginEndpoint = "lab", base
	c.Graph.Endpoint, c.PartnerCenter.Endpoint, c.Exchange.Endpoint = base+"/graph", base+"/partner", base+"/exchange"
	return c
}()

func TestCloudFileUsage(t *testing.T) {
	isolate(t)
	bad := unreachable
	bad.Graph.Endpoint = "http://graph.example"
	for name, c := range map[string]struct {
		args []string
		want string
	}{
		"missing file":   {[]string{"tenants", "--cloud-file", filepath.Join(t.TempDir(), "none.json")}, "--cloud-file"},
		"not https":      {[]string{"tenants", "--cloud-file", writeCloudFile(t, bad)}, "must use https"},
		"unknown field":  {[]string{"tenants", "--cloud-file", writeCloudFile(t, map[string]string{"name": "x", "graphEndpoint": "https://g"})}, "graphEndpoint"},
		"with --cloud":   {[]string{"tenants", "--cloud", "usgov", "--cloud-file", writeCloudFile(t, unreachable)}, "--cloud and --cloud-file cannot be used together"},
		"with --sandbox": {[]string{"tenants", "--sandbox", "https://127.0.0.1:1", "--cloud-file", writeCloudFile(t, unreachable)}, "--sandbox and --cloud-file"},
	} {
		code, stdout, stderr := samctl(t, c.args...)
		assert.Equal(t, exitUsage, code, name)
		assert.Empty(t, stdout, name)
		assert.Contains(t, stderr, c.want, name)
	}
}

// TestCloudFileUsed: the endpoints of --cloud-file, and those a custom
// cloud's credentials were saved with, are where samctl goes.
func TestCloudFileUsed(t *testing.T) {
	dir := isolate(t)
	creds := token.Credentials{TenantID: "5e1c1a2b-0000-4000-8000-0000000000aa", ApplicationID: "5e1c1a2b-0000-4000-8000-0000000000bb",
		ClientSecret: token.NewSecret("lab-secret-value"), RefreshToken: token.NewSecret("lab-refresh-token")}
	public := filepath.Join(dir, "public.json")
	require.NoError(t, sam.NewFileStore(public).Save(t.Context(), creds))
	saved := filepath.Join(dir, "lab.json")
	require.NoError(t, sam.NewFileStore(saved, sam.WithFileCloud(unreachable)).Save(t.Context(), creds))

	for name, args := range map[string][]string{
		"--cloud-file":      {"token", creds.TenantID, "graph", "--credentials", public, "--cloud-file", writeCloudFile(t, unreachable)},
		"saved with a file": {"token", creds.TenantID, "graph", "--credentials", saved},
	} {
		code, _, stderr := samctl(t, args...)
		assert.NotEqual(t, exitOK, code, name)
		assert.Contains(t, stderr, "127.0.0.1:9", "%s: the lab cloud's login endpoint was asked", name)
		assert.NotContains(t, stderr, "lab-secret-value", name)
	}
}

// TestSandboxCredentialsNeedSandbox: credentials saved from a sandbox,
// which record its endpoints, are not used without --sandbox.
func TestSandboxCredentialsNeedSandbox(t *testing.T) {
	dir := isolate(t)
	sb, err := sandboxCloud("https://127.0.0.1:1")
	require.NoError(t, err)
	path := filepath.Join(dir, "sandbox.json")
	require.NoError(t, sam.NewFileStore(path, sam.WithFileCloud(sb)).Save(t.Context(), token.Credentials{
		TenantID: "5e1c1a2b-0000-4000-8000-0000000000aa", ApplicationID: "5e1c1a2b-0000-4000-8000-0000000000bb",
		ClientSecret: token.NewSecret("sandbox-secret-value"), RefreshToken: token.NewSecret("sandbox-refresh-token")}))
	code, _, stderr := samctl(t, "token", "5e1c1a2b-0000-4000-8000-0000000000aa", "graph", "--credentials", path)
	assert.NotEqual(t, exitOK, code)
	assert.Contains(t, stderr, "belong to a sandbox")
	assert.Contains(t, stderr, "add --sandbox URL")
}
