package testserver_test

import (
	"errors"
	"net/http"
	"path"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/internal/testserver"
)

// Microsoft's azsecrets client, with an azidentity credential, must take
// the fake vault for the real one: the challenge, tokens, versions, soft
// delete, errors.

// vaultClient registers an app in the partner tenant, gives it role on a
// new vault and returns an azsecrets client acting as it. The vault is
// served by path on 127.0.0.1, so the client disables the challenge's
// resource verification (which wants a host under vault.azure.net).
func vaultClient(t *testing.T, s *testserver.Server, vault, role string) *azsecrets.Client {
	t.Helper()
	va, err := s.AddVaultWithIdentity(vault, role)
	require.NoError(t, err)
	c, err := azsecrets.NewClient(va.URL, va.Credential, &azsecrets.ClientOptions{ClientOptions: va.ClientOptions, DisableChallengeResourceVerification: true})
	require.NoError(t, err)
	return c
}

// version is the last segment of a secret's id. ID.Version would read
// the id's third path segment, which under the fake's /keyvault/{vault}
// prefix is the secret's name.
func version(id azsecrets.ID) string { return path.Base(string(id)) }

func kvCode(t *testing.T, err error) (int, string) {
	t.Helper()
	var re *azcore.ResponseError
	require.True(t, errors.As(err, &re), "want a ResponseError, got %v", err)
	return re.StatusCode, re.ErrorCode
}

func TestKeyVaultSecrets(t *testing.T) {
	t.Parallel()
	s := testserver.New()
	defer s.Close()
	c := vaultClient(t, s, "samkit-test", testserver.KeyVaultSecretsOfficer)
	ctx := t.Context()

	first, err := c.SetSecret(ctx, "sam-refresh", azsecrets.SetSecretParameters{Value: to.Ptr("one"),
		Tags: map[string]*string{"obtainedAt": to.Ptr("1")}}, nil)
	require.NoError(t, err)
	require.NotNil(t, first.Attributes.Created)
	second, err := c.SetSecret(ctx, "sam-refresh", azsecrets.SetSecretParameters{Value: to.Ptr("two")}, nil)
	require.NoError(t, err)
	assert.NotEqual(t, version(*first.ID), version(*second.ID))

	got, err := c.GetSecret(ctx, "sam-refresh", "", nil)
	require.NoError(t, err)
	assert.Equal(t, "two", *got.Value)
	old, err := c.GetSecret(ctx, "sam-refresh", version(*first.ID), nil)
	require.NoError(t, err)
	assert.Equal(t, "one", *old.Value)
	assert.Equal(t, "1", *old.Tags["obtainedAt"])

	var versions int
	for p := c.NewListSecretPropertiesVersionsPager("sam-refresh", nil); p.More(); {
		page, err := p.NextPage(ctx)
		require.NoError(t, err)
		versions += len(page.Value)
	}
	assert.Equal(t, 2, versions)

	for i := range 30 { // more than a page
		_, err := c.SetSecret(ctx, "s"+string(rune('a'+i%26))+string(rune('a'+i/26)), azsecrets.SetSecretParameters{Value: to.Ptr("x")}, nil)
		require.NoError(t, err)
	}
	var names int
	for p := c.NewListSecretPropertiesPager(nil); p.More(); {
		page, err := p.NextPage(ctx)
		require.NoError(t, err)
		names += len(page.Value)
	}
	assert.Equal(t, 31, names)

	_, err = c.DeleteSecret(ctx, "sam-refresh", nil)
	require.NoError(t, err)
	_, err = c.GetSecret(ctx, "sam-refresh", "", nil)
	st, code := kvCode(t, err)
	assert.Equal(t, http.StatusNotFound, st)
	assert.Equal(t, "SecretNotFound", code)
	_, err = c.SetSecret(ctx, "sam-refresh", azsecrets.SetSecretParameters{Value: to.Ptr("three")}, nil)
	st, code = kvCode(t, err)
	assert.Equal(t, http.StatusConflict, st)
	assert.Equal(t, "Conflict", code)
	del, err := c.GetDeletedSecret(ctx, "sam-refresh", nil)
	require.NoError(t, err)
	require.NotNil(t, del.ScheduledPurgeDate)
	_, err = c.RecoverDeletedSecret(ctx, "sam-refresh", nil)
	require.NoError(t, err)
	got, err = c.GetSecret(ctx, "sam-refresh", "", nil)
	require.NoError(t, err)
	assert.Equal(t, "two", *got.Value)
}

func TestKeyVaultRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		role   string
		fault  *testserver.Fault
		status int
		code   string
	}{
		{name: "no role", status: http.StatusForbidden, code: "Forbidden"},
		{name: "reader writes", role: testserver.KeyVaultSecretsUser, status: http.StatusForbidden, code: "Forbidden"},
		{name: "throttled", role: testserver.KeyVaultSecretsOfficer, status: http.StatusTooManyRequests, code: "Throttled",
			fault: &testserver.Fault{Kind: testserver.Throttle, Service: "keyvault", RetryAfter: "1"}},
		{name: "server error", role: testserver.KeyVaultSecretsOfficer, status: http.StatusServiceUnavailable, code: "InternalServerError",
			fault: &testserver.Fault{Kind: testserver.Status, Service: "keyvault", Status: http.StatusServiceUnavailable, Path: "/secrets/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := testserver.New()
			defer s.Close()
			c := vaultClient(t, s, "refusals", tt.role)
			if tt.fault != nil {
				s.Inject(*tt.fault)
			}
			_, err := c.SetSecret(t.Context(), "x", azsecrets.SetSecretParameters{Value: to.Ptr("v")}, nil)
			st, code := kvCode(t, err)
			assert.Equal(t, tt.status, st)
			assert.Equal(t, tt.code, code)
		})
	}
}

func TestKeyVaultChallenge(t *testing.T) {
	t.Parallel()
	s := testserver.New()
	defer s.Close()
	url, err := s.AddVault(testserver.VaultSpec{Name: "challenge"})
	require.NoError(t, err)
	resp, err := s.Client().Get(url + "/secrets/x?api-version=2025-07-01")
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, `Bearer authorization="https://login.microsoftonline.com/`+s.Partner().TenantID+`", resource="https://vault.azure.net"`,
		resp.Header.Get("WWW-Authenticate"))

	// The same vault answers by its host name, as a client whose
	// transport dials the fake for *.vault.azure.net reaches it.
	byHost, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL()+"/secrets/x?api-version=2025-07-01", nil)
	require.NoError(t, err)
	byHost.Host = "challenge.vault.azure.net"
	resp3, err := s.Client().Do(byHost)
	require.NoError(t, err)
	defer resp3.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp3.StatusCode)
	assert.Contains(t, resp3.Header.Get("WWW-Authenticate"), s.Partner().TenantID)
	// A vault that does not exist has no host: the connection drops.
	byHost.Host = "nosuchvault.vault.azure.net"
	if resp4, err := s.Client().Do(byHost); err == nil {
		resp4.Body.Close()
		t.Errorf("a request to a vault that does not exist was answered %s", resp4.Status)
	}

	// A token for another resource is refused with the challenge again.
	tok := s.IssueAccessToken(testserver.TokenSpec{})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url+"/secrets/x?api-version=2025-07-01", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp2, err := s.Client().Do(req)
	require.NoError(t, err)
	defer resp2.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp2.StatusCode)
	assert.NotEmpty(t, resp2.Header.Get("WWW-Authenticate"))
}
