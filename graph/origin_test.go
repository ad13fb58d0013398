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
