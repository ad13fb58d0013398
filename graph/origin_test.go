package graph_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/api"
	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/token"
)

// TestClientDefaultsToTheSourcesCloud builds a client from a Provider's
// Source alone: its requests go to the Provider's cloud (here a sandbox on
// loopback) through the Provider's client, not to graph.microsoft.com.
func TestClientDefaultsToTheSourcesCloud(t *testing.T) {
	t.Parallel()
	s, info := testserver.NewSandbox(testserver.SandboxSpec{Customers: 1, Healthy: true, App: true})
	t.Cleanup(s.Close)
	p, err := token.NewProvider(token.Credentials{
		TenantID: info.Partner.TenantID, ApplicationID: info.App.AppID,
		ClientSecret: token.NewSecret(info.App.Secret), RefreshToken: token.NewSecret(info.RefreshToken),
	}, token.WithCloud(s.Cloud()), token.WithHTTPClient(s.Client()))
	require.NoError(t, err)

	g, err := graph.New(p.Source(info.Partner.TenantID, s.Cloud().Graph.Scope()))
	require.NoError(t, err)
	assert.Equal(t, s.Cloud().Graph.Endpoint+"/"+graph.APIVersion, g.BaseURL())

	var resp api.Response
	org, err := g.Organization(api.WithResponse(t.Context(), &resp))
	require.NoError(t, err, "the sandbox's certificate is trusted only by the Provider's client")
	assert.NotEmpty(t, org.ID)
	assert.Equal(t, 200, resp.StatusCode)
	assert.NotEmpty(t, resp.RequestID, "a successful call's request id is reachable")
}

// TestForSharesTheClientAcrossTenants makes views of one client for other
// Sources: a Source of the same Provider reaches its own tenant through
// the client's endpoint and connections; a Source of another Provider,
// whose cloud or HTTP client the client did not take, is refused.
func TestForSharesTheClientAcrossTenants(t *testing.T) {
	t.Parallel()
	s, info := testserver.NewSandbox(testserver.SandboxSpec{Customers: 1, Healthy: true, App: true})
	t.Cleanup(s.Close)
	creds := token.Credentials{
		TenantID: info.Partner.TenantID, ApplicationID: info.App.AppID,
		ClientSecret: token.NewSecret(info.App.Secret), RefreshToken: token.NewSecret(info.RefreshToken),
	}
	p, err := token.NewProvider(creds, token.WithCloud(s.Cloud()), token.WithHTTPClient(s.Client()))
	require.NoError(t, err)
	scope := s.Cloud().Graph.Scope()
	g, err := graph.New(p.Source(info.Partner.TenantID, scope))
	require.NoError(t, err)

	customer := info.Customers[0].ID
	v, err := g.For(p.Source(customer, scope))
	require.NoError(t, err)
	assert.Equal(t, g.BaseURL(), v.BaseURL())
	org, err := v.Organization(t.Context())
	require.NoError(t, err)
	assert.Equal(t, customer, org.ID, "the view calls with its own Source's token")
	org, err = g.Organization(t.Context())
	require.NoError(t, err)
	assert.Equal(t, info.Partner.TenantID, org.ID, "the client keeps its own")

	other, err := token.NewProvider(creds, token.WithCloud(s.Cloud()), token.WithHTTPClient(s.Client()))
	require.NoError(t, err)
	_, err = g.For(other.Source(customer, scope))
	require.Error(t, err, "another Provider's HTTP client")
	assert.Contains(t, err.Error(), "graph: For")
	_, err = g.For(nil)
	require.Error(t, err)

	// Named by options, the cloud and client are the view's whatever the
	// Source.
	named, err := graph.New(p.Source(info.Partner.TenantID, scope), graph.WithCloud(s.Cloud()), graph.WithHTTPClient(s.Client()))
	require.NoError(t, err)
	v, err = named.For(other.Source(customer, scope))
	require.NoError(t, err)
	org, err = v.Organization(t.Context())
	require.NoError(t, err)
	assert.Equal(t, customer, org.ID)
}
