package httpx

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// failing is a transport that fails as an http.Client inside a caller's
// transport would: with a *url.Error holding the whole URL.
type failing struct{}

func (failing) RoundTrip(req *http.Request) (*http.Response, error) {
	return nil, &url.Error{Op: "Get", URL: req.URL.String(), Err: io.ErrUnexpectedEOF}
}

func TestTransportErrorChainRedacted(t *testing.T) {
	t.Parallel()
	const raw = "https://graph.example.test/v1.0/users?$skiptoken=SKIPS3CRET&code=C0DES3CRET"
	tests := []struct {
		name string
		do   func(req *http.Request) error
	}{
		{"pipeline", func(req *http.Request) error {
			_, err := NewPipeline(&http.Client{Transport: failing{}}, RetryPolicy{MaxAttempts: 1}, nil).Do(req)
			return err
		}},
		{"client", func(req *http.Request) error {
			_, err := NewClient(&http.Client{Transport: failing{}}, RetryPolicy{MaxAttempts: 1}, nil).Do(req)
			return RedactChain(err)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequestWithContext(t.Context(), "GET", raw, nil)
			require.NoError(t, err)
			err = tt.do(req)
			require.Error(t, err)
			msg := err.Error()
			assert.NotContains(t, msg, "S3CRET", "the query reached the error")
			assert.Equal(t, 1, strings.Count(msg, "https://graph.example.test/v1.0/users"), "the URL is printed once: %s", msg)
			assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "the cause is still reachable")
		})
	}
}

func TestRedactChainKeepsCleanErrors(t *testing.T) {
	t.Parallel()
	plain := errors.New("connection refused")
	assert.Same(t, plain, RedactChain(plain))
	assert.NoError(t, RedactChain(nil))
}
