package testserver

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/cloud"
)

// TestWithCloud: a fake playing the DoD cloud serves Graph on its host and
// by path, and accepts only tokens issued for that cloud's Graph audience.
func TestWithCloud(t *testing.T) {
	t.Parallel()
	dod := cloud.USGovernmentDoD
	s := New(WithCloud(dod))
	t.Cleanup(s.Close)
	c := s.Cloud()
	assert.Equal(t, dod.Graph.Resource, c.Graph.Resource)
	assert.Equal(t, dod.PartnerCenter.Resource, c.PartnerCenter.Resource)
	assert.Equal(t, dod.Exchange.Resource, c.Exchange.Resource)

	tests := []struct {
		name, host, path, audience string
		want                       int
	}{
		{"on the cloud's host", "dod-graph.microsoft.us", "/v1.0/organization", dod.Graph.Resource, http.StatusOK},
		{"by path", "", "/graph/v1.0/organization", dod.Graph.Resource, http.StatusOK},
		{"another cloud's audience", "dod-graph.microsoft.us", "/v1.0/organization", GraphResource, http.StatusUnauthorized},
		{"another cloud's audience by path", "", "/graph/v1.0/organization", cloud.USGovernment.Graph.Resource, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL()+tt.path, nil)
			require.NoError(t, err)
			if tt.host != "" {
				req.Host = tt.host
			}
			tok := s.IssueAccessToken(TokenSpec{Resource: tt.audience, UPN: "admin@partner", Scopes: []string{"Directory.Read.All"}, MFA: true})
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := s.Client().Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, tt.want, resp.StatusCode)
		})
	}
}
