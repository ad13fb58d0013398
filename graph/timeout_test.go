package graph

import (
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/token"
)

// hang is a transport whose server never answers: it returns only when
// the attempt is given up.
type hang struct{ calls int }

func (h *hang) RoundTrip(req *http.Request) (*http.Response, error) {
	h.calls++
	<-req.Context().Done()
	return nil, req.Context().Err()
}

// TestHungGraphEndsWithAReadableError runs on synctest's clock: a Graph
// that never answers ends each attempt after AttemptTimeout, and the call
// with an error naming the service, the request and the host.
func TestHungGraphEndsWithAReadableError(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := &hang{}
		c, err := New(fixed("tok"), WithBaseURL("https://graph.example.test/v1.0"), WithHTTPClient(&http.Client{Transport: h}),
			WithRetryPolicy(token.RetryPolicy{MaxAttempts: 2, MinWait: time.Second, MaxWait: time.Second}))
		require.NoError(t, err)
		start := time.Now()
		_, err = c.Organization(t.Context())
		require.EqualError(t, err, "graph: GET /organization: no response from graph.example.test within 32s")
		assert.Equal(t, 2, h.calls, "a GET is retried after a timeout")
		assert.Equal(t, 2*32*time.Second+time.Second, time.Since(start), "two bounded attempts and one wait, on the bubble's clock")
	})
}
