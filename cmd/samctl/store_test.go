package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/internal/testserver"
)

func TestParseKeyVaultStore(t *testing.T) {
	t.Parallel()
	tests := []struct {
		spec, cloud, url, prefix, err string
	}{
		{spec: "keyvault://contoso-sam", url: "https://contoso-sam.vault.azure.net"},
		{spec: "keyvault://contoso-sam/msp-one/", url: "https://contoso-sam.vault.azure.net", prefix: "msp-one"},
		{spec: "keyvault://contoso-sam", cloud: "china", url: "https://contoso-sam.vault.azure.cn"},
		{spec: "keyvault://contoso-sam", cloud: "usgov", url: "https://contoso-sam.vault.usgovcloudapi.net"},
		{spec: "keyvault://kv.example.net/p", url: "https://kv.example.net", prefix: "p"},
		{spec: "file:///tmp/x", err: "not one samctl knows"},
		{spec: "keyvault://", err: "no vault name"},
		{spec: "keyvault://a/b/c", err: "no vault name"},
		{spec: "keyvault://user@host", err: "no vault name"},
	}
	for _, tt := range tests {
		t.Run(tt.spec+" "+tt.cloud, func(t *testing.T) {
			t.Parallel()
			url, prefix, err := parseKeyVaultStore(tt.spec, tt.cloud)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.url, url)
			assert.Equal(t, tt.prefix, prefix)
		})
	}
}

// TestStoreMigrateThenCheck sets up into a credentials file, migrates it
// into the sandbox's vault, and checks access with the credentials read
// from the vault alone.
func TestStoreMigrateThenCheck(t *testing.T) {
	dir := isolate(t)
	s, _ := testserver.NewSandbox(testserver.SandboxSpec{Customers: 2, Healthy: true})
	defer s.Close()
	_, err := s.AddVault(testserver.VaultSpec{Name: "contoso-sam"})
	require.NoError(t, err)
	app, err := s.RegisterApp(testserver.AppSpec{DisplayName: "migrator", RequiredResourceAccess: []testserver.RequiredResourceAccess{}})
	require.NoError(t, err)
	require.NoError(t, s.GrantVaultRole("contoso-sam", app.ServicePrincipalID, testserver.KeyVaultSecretsOfficer))
	t.Setenv("AZURE_TENANT_ID", s.Partner().TenantID)
	t.Setenv("AZURE_CLIENT_ID", app.AppID)
	t.Setenv("AZURE_CLIENT_SECRET", app.Secret)
	t.Setenv(storeEnv, "")
	sandbox := []string{"--sandbox", s.URL(), "--sandbox-ca", writeCA(t, s)}
	creds := []string{"--credentials", filepath.Join(dir, "sam.json")}

	code, stdout, stderr := samctl(t, append(append([]string{"setup"}, sandbox...), creds...)...)
	require.Equal(t, exitOK, code, "setup\n%s%s", stdout, stderr)

	migrate := append(append([]string{"store", "migrate", "--to", "keyvault://contoso-sam/msp"}, sandbox...), creds...)
	code, stdout, stderr = samctl(t, migrate...)
	require.Equal(t, exitOK, code, "migrate\n%s%s", stdout, stderr)
	assert.Contains(t, stdout, "they match")
	assert.NotContains(t, stdout+stderr, app.Secret)

	// Again: the vault holds credentials already.
	code, _, stderr = samctl(t, migrate...)
	assert.NotEqual(t, exitOK, code)
	assert.Contains(t, stderr, "--overwrite")

	// Consent and check read the vault alone (the file is elsewhere), by
	// flag and by environment variable.
	code, stdout, stderr = samctl(t, append([]string{"consent", "push", "--all", "--store", "keyvault://contoso-sam/msp", "--credentials", filepath.Join(dir, "none.json")}, sandbox...)...)
	require.Equal(t, exitOK, code, "consent push --store\n%s%s", stdout, stderr)
	code, stdout, stderr = samctl(t, append([]string{"check", "--store", "keyvault://contoso-sam/msp", "--credentials", filepath.Join(dir, "none.json")}, sandbox...)...)
	assert.Equal(t, exitOK, code, "check --store\n%s%s", stdout, stderr)
	t.Setenv(storeEnv, "keyvault://contoso-sam/msp")
	code, stdout, stderr = samctl(t, append([]string{"check"}, sandbox...)...)
	assert.Equal(t, exitOK, code, "check with %s\n%s%s", storeEnv, stdout, stderr)

	// An identity without a role is told which one it needs.
	require.NoError(t, s.GrantVaultRole("contoso-sam", app.ServicePrincipalID, ""))
	code, stdout, stderr = samctl(t, append([]string{"check"}, sandbox...)...)
	assert.NotEqual(t, exitOK, code)
	assert.True(t, strings.Contains(stdout+stderr, "Key Vault Secrets Officer"), "%s%s", stdout, stderr)
}
