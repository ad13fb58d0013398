package httpx

import (
	"context"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/internal/faulttest/inproc"
)

// The tests of this file judge waits, so they run in a synctest bubble:
// its clock is fake and moves only when every goroutine waits, so
// time.Since measures exactly the waits the client chose, however busy the
// machine. The script is served in process (inproc), as a real socket
// would keep the bubble's clock from moving.

// inprocURL is where the in-process script answers.
const inprocURL = "http://inproc.test/x"

// inprocBase returns a base client that serves s in process, wrapped by
// wrap when given.
func inprocBase(s *script, wrap func(http.RoundTripper) http.RoundTripper) *http.Client {
	var rt http.RoundTripper = inproc.Transport{Handler: s}
	if wrap != nil {
		rt = wrap(rt)
	}
	return &http.Client{Transport: rt}
}

// get sends a GET to the script through c and returns the error and the
// fake time the call took; a response is closed.
func get(ctx context.Context, t *testing.T, c *http.Client) (time.Duration, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, inprocURL, nil)
	require.NoError(t, err)
	start := time.Now()
	resp, err := c.Do(req)
	if err == nil {
		require.NoError(t, resp.Body.Close())
	}
	return time.Since(start), err
}

func TestRetryAfterHonouredAndCapped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		retryAfter string
		want       time.Duration
	}{
		{"fractional seconds", "0.03", 30 * time.Millisecond},
		{"capped", "3600", fastPolicy.MaxRetryAfter},
		{"HTTP-date in the past", "Sun, 06 Nov 1994 08:49:37 GMT", 0}, // RFC 9110's example date
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				s := &script{steps: []step{status(429, "Retry-After", tt.retryAfter), status(200)}}
				took, err := get(t.Context(), t, NewClient(inprocBase(s, nil), fastPolicy, nil))
				require.NoError(t, err)
				assert.Equal(t, tt.want, took, "the one wait, for Retry-After %q", tt.retryAfter)
				assert.EqualValues(t, 2, s.calls.Load(), "calls")
			})
		})
	}
}

// TestContextEndsWait: a cancelled or expired context ends a retry wait
// at once, however long the wait.
func TestContextEndsWait(t *testing.T) {
	t.Parallel()
	const after = 20 * time.Millisecond
	tests := []struct {
		name   string
		answer step
		p      RetryPolicy
		// deadline ends the context with a deadline, rather than a
		// cancel.
		deadline bool
		want     error
	}{
		{"cancelled during a Retry-After wait", status(429, "Retry-After", "3600"), RetryPolicy{MaxRetryAfter: time.Hour, MaxElapsed: 2 * time.Hour}, false, context.Canceled},
		{"deadline during a backoff", status(503), RetryPolicy{MinWait: time.Hour, MaxWait: time.Hour, MaxElapsed: 2 * time.Hour}, true, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				s := &script{steps: []step{tt.answer}}
				ctx, cancel := context.WithCancel(t.Context())
				if tt.deadline {
					ctx, cancel = context.WithTimeout(t.Context(), after)
				} else {
					time.AfterFunc(after, cancel)
				}
				defer cancel()
				took, err := get(ctx, t, NewClient(inprocBase(s, nil), tt.p, nil))
				require.ErrorIs(t, err, tt.want)
				assert.Equal(t, after, took, "returned as the context ended, in the hour's wait")
				assert.EqualValues(t, 1, s.calls.Load(), "calls")
			})
		})
	}
}

func TestDiscardedBodiesClosed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		cancel bool
	}{{"exhausted", false}, {"cancelled during wait", true}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				retryAfter, p, ctx := "0.001", fastPolicy, t.Context()
				if tt.cancel {
					retryAfter, p.MaxRetryAfter = "3600", time.Hour
					c, cancel := context.WithCancel(ctx)
					ctx = c
					time.AfterFunc(20*time.Millisecond, cancel)
				}
				s := &script{steps: []step{status(503, "Retry-After", retryAfter)}}
				var tr *bodyTracker
				base := inprocBase(s, func(rt http.RoundTripper) http.RoundTripper { tr = &bodyTracker{rt: rt}; return tr })
				_, _ = get(ctx, t, NewClient(base, p, nil))
				want := int32(p.MaxAttempts)
				if tt.cancel {
					want = 1
				}
				assert.Equal(t, want, tr.opened.Load(), "bodies opened")
				assert.Equal(t, tr.opened.Load(), tr.closed.Load(), "bodies closed")
			})
		})
	}
}
