package testserver

import (
	"context"
	"net/http"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMemoryTransportServesAsAConnectionWould(t *testing.T) {
	t.Parallel()
	var seen *http.Request
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r
		switch r.URL.Path {
		case "/abort":
			panic(http.ErrAbortHandler)
		case "/bug":
			panic("nil map")
		}
		_, _ = w.Write([]byte(`{"ok":true}`))
	})
	rt := &memoryTransport{handler: h}
	do := func(path string) (*http.Response, error) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, memoryURL+path+"?a=b", nil)
		require.NoError(t, err)
		return rt.RoundTrip(req)
	}

	resp, err := do("/ok")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, int64(len(`{"ok":true}`)), resp.ContentLength)
	assert.Equal(t, "/ok?a=b", seen.RequestURI)
	assert.Empty(t, seen.URL.Host, "a server-side URL has no host")
	assert.Equal(t, "fake.samkit.invalid", seen.Host)
	require.NotNil(t, seen.TLS, "the fake is served over https")

	_, err = do("/abort")
	assert.ErrorIs(t, err, syscall.ECONNRESET)
	_, err = do("/bug")
	assert.ErrorIs(t, err, syscall.ECONNRESET)
	assert.ErrorContains(t, err, "nil map", "the test sees why")

	rt.closed.Store(true)
	_, err = do("/ok")
	assert.ErrorIs(t, err, syscall.ECONNREFUSED)
}

func TestWithoutListenerHangEndsWithTheContext(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s := New(WithoutListener(), WithSigningKeyBits(1024))
		defer s.Close()
		assert.Nil(t, s.TLSConfig())
		assert.Nil(t, s.Certificate())
		s.Inject(Fault{Kind: Hang})
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.Cloud().Graph.Endpoint+"/v1.0/organization", nil)
		require.NoError(t, err)
		start := time.Now()
		_, err = s.Client().Do(req)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, time.Minute, time.Since(start), "the hang lasted until the client's deadline, in fake time")
	})
}
