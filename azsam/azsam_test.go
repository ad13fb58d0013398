package azsam_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/azsam"
	"github.com/samkit/samkit/samtest"
	"github.com/samkit/samkit/token"
)

const graphDefault = "https://graph.microsoft.com/.default"

// fake starts a fake with two healthy customers and a customer where the
// SAM app is not consented.
func fake(t *testing.T) (*samtest.Server, *token.Provider) {
	t.Helper()
	srv, err := samtest.NewServer(samtest.World{Customers: 2}, samtest.InMemory())
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	p, err := srv.Provider()
	require.NoError(t, err)
	return srv, p
}

// claimsOf decodes an access token the Credential returned.
func claimsOf(t *testing.T, at azcore.AccessToken) token.Claims {
	t.Helper()
	c, err := token.Token{AccessToken: token.NewSecret(at.Token)}.Claims()
	require.NoError(t, err)
	return c
}

func TestGetToken(t *testing.T) {
	t.Parallel()
	srv, p := fake(t)
	partner, customers := srv.Credentials().TenantID, srv.Customers()
	for _, tc := range []struct {
		name       string
		tenant     string // the Credential's
		options    *azsam.CredentialOptions
		req        policy.TokenRequestOptions
		wantTenant string
		appOnly    bool
	}{
		{"delegated, the credential's tenant", customers[0].ID, nil,
			policy.TokenRequestOptions{Scopes: []string{graphDefault}}, customers[0].ID, false},
		{"delegated, the request's tenant", partner, nil,
			policy.TokenRequestOptions{Scopes: []string{graphDefault}, TenantID: customers[1].ID}, customers[1].ID, false},
		{"delegated, a domain", partner, nil,
			policy.TokenRequestOptions{Scopes: []string{graphDefault}, TenantID: customers[1].Domain}, customers[1].ID, false},
		{"delegated, OpenID Connect scopes left out", customers[0].ID, nil,
			policy.TokenRequestOptions{Scopes: []string{"openid", graphDefault, "offline_access", "profile"}}, customers[0].ID, false},
		{"app-only", customers[0].ID, &azsam.CredentialOptions{AppOnly: true},
			policy.TokenRequestOptions{Scopes: []string{graphDefault}}, customers[0].ID, true},
		{"app-only, the request's tenant", partner, &azsam.CredentialOptions{AppOnly: true},
			policy.TokenRequestOptions{Scopes: []string{graphDefault}, TenantID: customers[1].ID}, customers[1].ID, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cred, err := azsam.NewCredential(p, tc.tenant, tc.options)
			require.NoError(t, err)
			at, err := cred.GetToken(t.Context(), tc.req)
			require.NoError(t, err)
			assert.False(t, at.ExpiresOn.IsZero(), "ExpiresOn is set")
			c := claimsOf(t, at)
			assert.Equal(t, tc.wantTenant, c.TenantID, "the token is for the tenant asked for")
			assert.Equal(t, "https://graph.microsoft.com", c.Audience)
			if tc.appOnly {
				assert.Empty(t, c.Scopes, "an app-only token has no delegated scopes")
				assert.NotEmpty(t, c.Roles, "an app-only token carries application permissions")
			} else {
				assert.NotEmpty(t, c.Scopes, "a delegated token carries delegated scopes")
			}
		})
	}
}

func TestGetTokenRefusesScopesNoTokenCanHave(t *testing.T) {
	t.Parallel()
	_, p := fake(t)
	for _, tc := range []struct {
		name    string
		appOnly bool
		scopes  []string
		want    string
	}{
		{"none", false, nil, "no resource scope"},
		{"only OpenID Connect", false, []string{"openid", "offline_access"}, "no resource scope"},
		{"two resources", false, []string{graphDefault, "https://outlook.office365.com/.default"}, "2 resources"},
		{"a bare scope is Graph's", false, []string{"User.Read", "https://outlook.office365.com/.default"}, "2 resources"},
		{"app-only, a permission", true, []string{"https://graph.microsoft.com/User.Read.All"}, "app-only tokens take one resource's .default scope"},
		{"app-only, two scopes", true, []string{graphDefault, "https://graph.microsoft.com/User.Read.All"}, "app-only tokens take one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cred, err := azsam.NewCredential(p, "contoso.example", &azsam.CredentialOptions{AppOnly: tc.appOnly})
			require.NoError(t, err)
			_, err = cred.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: tc.scopes})
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

func TestNewCredentialRefusesMissingArguments(t *testing.T) {
	t.Parallel()
	_, p := fake(t)
	_, err := azsam.NewCredential(nil, "contoso.example", nil)
	assert.ErrorContains(t, err, "token.Provider")
	_, err = azsam.NewCredential(p, " ", nil)
	assert.ErrorContains(t, err, "needs a tenant")
}

// TestGetTokenSharesTheProvidersCache checks that the Credential adds no
// token request of its own, and that a claims challenge gets a new token.
func TestGetTokenSharesTheProvidersCache(t *testing.T) {
	t.Parallel()
	srv, p := fake(t)
	tenant := srv.Customers()[0].ID
	tokenRequests := func() int {
		n := 0
		for _, r := range srv.Requests() {
			if r.Grant != "" {
				n++
			}
		}
		return n
	}
	_, err := p.Token(t.Context(), tenant, graphDefault)
	require.NoError(t, err)
	cred, err := azsam.NewCredential(p, tenant, nil)
	require.NoError(t, err)
	first, err := cred.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{graphDefault}})
	require.NoError(t, err)
	assert.Equal(t, 1, tokenRequests(), "the token samkit's own call cached is reused")

	again, err := cred.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{graphDefault}, Claims: `{"access_token":{"nbf":{"essential":true}}}`})
	require.NoError(t, err)
	assert.Equal(t, 2, tokenRequests(), "a claims challenge drops the cached token")
	assert.NotEqual(t, first.Token, again.Token)
}

func TestGetTokenReturnsTheProvidersErrors(t *testing.T) {
	t.Parallel()
	srv, p := fake(t)
	c, err := srv.AddCustomer(samtest.CustomerSpec{NotConsented: true})
	require.NoError(t, err)
	cred, err := azsam.NewCredential(p, c.ID, nil)
	require.NoError(t, err)
	_, err = cred.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{graphDefault}})
	assert.ErrorIs(t, err, token.ErrConsentRequired)
	var te *token.Error
	assert.ErrorAs(t, err, &te)
}

// TestPipeline calls Graph through an azcore pipeline, as every Azure SDK
// client does: the bearer token policy asks the Credential for a token.
func TestPipeline(t *testing.T) {
	t.Parallel()
	srv, p := fake(t)
	customer := srv.Customers()[1]
	cred, err := azsam.NewCredential(p, customer.ID, nil)
	require.NoError(t, err)
	pl := runtime.NewPipeline("samkit-test", "v0.0.0",
		runtime.PipelineOptions{PerRetry: []policy.Policy{runtime.NewBearerTokenPolicy(cred, []string{graphDefault}, nil)}},
		&policy.ClientOptions{Transport: srv.Client()})
	req, err := runtime.NewRequest(context.Background(), http.MethodGet, srv.Cloud().Graph.Endpoint+"/v1.0/organization")
	require.NoError(t, err)
	resp, err := pl.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var org struct {
		Value []struct {
			ID          string `json:"id"`
			DisplayName string `json:"displayName"`
		} `json:"value"`
	}
	require.NoError(t, runtime.UnmarshalAsJSON(resp, &org))
	require.Len(t, org.Value, 1)
	assert.Equal(t, customer.ID, org.Value[0].ID)
	assert.Equal(t, customer.Name, org.Value[0].DisplayName)
}
