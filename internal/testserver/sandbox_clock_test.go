package testserver

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSandboxClockEndpoint(t *testing.T) {
	t.Parallel()
	s := New()
	defer s.Close()
	tests := []struct {
		method, path string
		status       int
		advanced     time.Duration
	}{
		{http.MethodGet, "/_sandbox/clock", http.StatusOK, 0},
		{http.MethodPost, "/_sandbox/clock?advance=2160h", http.StatusOK, 2160 * time.Hour},
		{http.MethodPost, "/_sandbox/clock?advance=-1h", http.StatusBadRequest, 2160 * time.Hour},
		{http.MethodPost, "/_sandbox/clock?advance=soon", http.StatusBadRequest, 2160 * time.Hour},
		{http.MethodPost, "/_sandbox/clock?advance=1h", http.StatusOK, 2161 * time.Hour},
	}
	for _, tc := range tests {
		status, body := adminCall(t, s, tc.method, tc.path)
		assert.Equal(t, tc.status, status, "%s %s: %v", tc.method, tc.path, body)
		assert.Equal(t, tc.advanced, s.Clock().Offset(), "%s %s", tc.method, tc.path)
	}
}

// adminCall calls the sandbox's admin endpoint and decodes its JSON.
func adminCall(t *testing.T, s *Server, method, path string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, s.URL()+path, nil)
	require.NoError(t, err)
	resp, err := s.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var m map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
	return resp.StatusCode, m
}
