package token

import (
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/cloud"
)

// hungSTS is a token endpoint that never answers: each attempt returns
// only when it is given up.
type hungSTS struct{ calls int }

func (h *hungSTS) RoundTrip(req *http.Request) (*http.Response, error) {
	h.calls++
	_ = req.Body.Close()
	<-req.Context().Done()
	return nil, req.Context().Err()
}

// TestHungTokenEndpointBounded runs on synctest's clock: a token request
// to an endpoint that never answers ends after its attempts' bounds, with
// an error naming the host, not after the flight timeout.
func TestHungTokenEndpointBounded(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := &hungSTS{}
		c := cloud.Public
		c.Name, c.LoginEndpoint = "hung", "https://login.example.test"
		p, err := NewProvider(Credentials{TenantID: "contoso.com", ApplicationID: "11111111-2222-3333-4444-555555555555",
			ClientSecret: NewSecret("s3cret")}, WithCloud(c), WithHTTPClient(&http.Client{Transport: h}),
			WithRetryPolicy(RetryPolicy{MaxAttempts: 2, MinWait: time.Second, MaxWait: time.Second, AttemptTimeout: 10 * time.Second}))
		require.NoError(t, err)
		start := time.Now()
		_, err = p.AppToken(t.Context(), "contoso.com", "https://graph.microsoft.com/.default")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "no response from login.example.test within 10s")
		assert.Equal(t, 2, h.calls, "a token request is retried after a timeout")
		assert.Equal(t, 21*time.Second, time.Since(start), "two bounded attempts and one wait, on the bubble's clock")
	})
}
