package sam

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/samkit/samkit/internal/httpx"
)

// stubTransport answers each request with the next status of a script
// (200 once the script is done) and records when each was sent.
type stubTransport struct {
	mu      sync.Mutex
	script  []int
	retry   string
	started []time.Time
}

func (s *stubTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.started = append(s.started, time.Now())
	status := http.StatusOK
	if len(s.script) > 0 {
		status, s.script = s.script[0], s.script[1:]
	}
	h := http.Header{}
	if status != http.StatusOK && s.retry != "" {
		h.Set("Retry-After", s.retry)
	}
	return &http.Response{StatusCode: status, Header: h, Body: http.NoBody, Request: req}, nil
}

func send(t *testing.T, ctx context.Context, rt http.RoundTripper) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://graph.example/v1.0/users", nil)
	if err != nil {
		t.Fatal(err)
	}
	return rt.RoundTrip(req)
}

func TestThrottleGatePausesEveryWorker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := &stubTransport{script: []int{http.StatusTooManyRequests}, retry: "2"}
		g := newThrottleGate(httpx.RetryPolicy{})
		rt := &gateTransport{gate: g, next: stub}
		start := time.Now()
		if resp, _ := send(t, t.Context(), rt); resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("first answer %d, want the scripted 429", resp.StatusCode)
		}
		// Three other workers arrive during the pause.
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				if _, err := send(t, t.Context(), rt); err != nil {
					t.Errorf("RoundTrip: %v", err)
				}
			})
		}
		wg.Wait()
		if len(stub.started) != 4 {
			t.Fatalf("%d requests sent, want 4", len(stub.started))
		}
		for i, at := range stub.started[1:] {
			if d := at.Sub(start); d < 2*time.Second {
				t.Errorf("request %d sent %v after the 429, want after its Retry-After of 2s", i+2, d)
			}
		}
		if n := g.throttled.Load(); n != 1 {
			t.Errorf("throttled = %d, want 1", n)
		}
	})
}

func TestThrottleGateCapsAndCancels(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := &stubTransport{script: []int{http.StatusServiceUnavailable}, retry: "86400"}
		g := newThrottleGate(httpx.RetryPolicy{MaxRetryAfter: 5 * time.Second})
		rt := &gateTransport{gate: g, next: stub}
		start := time.Now()
		_, _ = send(t, t.Context(), rt)
		if _, err := send(t, t.Context(), rt); err != nil {
			t.Fatal(err)
		}
		if d := stub.started[1].Sub(start); d != 5*time.Second {
			t.Errorf("second request after %v, want the Retry-After of a day capped at 5s", d)
		}

		// A cancelled wait returns at once with the context's error, and
		// sends nothing.
		stub.script, stub.retry = []int{http.StatusTooManyRequests}, ""
		_, _ = send(t, t.Context(), rt)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := send(t, ctx, rt); !errors.Is(err, context.Canceled) {
			t.Errorf("RoundTrip during a pause with a cancelled context: %v, want context.Canceled", err)
		}
		if len(stub.started) != 3 {
			t.Errorf("%d requests sent, want 3", len(stub.started))
		}
		// A 429 without Retry-After pauses for the policy's MinWait.
		before := time.Now()
		_, _ = send(t, t.Context(), rt)
		if d := stub.started[3].Sub(before); d != httpx.DefaultMinWait {
			t.Errorf("request after a bare 429 waited %v, want %v", d, httpx.DefaultMinWait)
		}
	})
}

func TestThrottleGateIgnoresOtherAnswers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// A 503 without Retry-After is an outage, not throttling.
		stub := &stubTransport{script: []int{http.StatusServiceUnavailable, http.StatusInternalServerError}}
		g := newThrottleGate(httpx.RetryPolicy{})
		rt := &gateTransport{gate: g, next: stub}
		start := time.Now()
		for range 3 {
			_, _ = send(t, t.Context(), rt)
		}
		if time.Since(start) != 0 || g.throttled.Load() != 0 {
			t.Errorf("waited %v, throttled %d; want no pause", time.Since(start), g.throttled.Load())
		}
	})
}

func TestThrottleGateShutCountsEachMomentOnce(t *testing.T) {
	t.Parallel()
	type pause struct {
		after, d time.Duration // after the previous pause
	}
	cases := []struct {
		name   string
		pauses []pause
		want   time.Duration
	}{
		{"none", nil, 0},
		{"one", []pause{{0, 2 * time.Second}}, 2 * time.Second},
		{"apart", []pause{{0, 2 * time.Second}, {5 * time.Second, time.Second}}, 3 * time.Second},
		{"overlapping", []pause{{0, 2 * time.Second}, {time.Second, 2 * time.Second}}, 3 * time.Second},
		{"inside another", []pause{{0, 4 * time.Second}, {time.Second, time.Second}}, 4 * time.Second},
		{"capped", []pause{{0, time.Hour}}, 10 * time.Second},
		{"no Retry-After", []pause{{0, 0}}, time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				g := newThrottleGate(httpx.RetryPolicy{MinWait: time.Second, MaxRetryAfter: 10 * time.Second})
				for _, p := range c.pauses {
					time.Sleep(p.after)
					g.pause(p.d)
				}
				assert.Equal(t, c.want, g.shut(), "time shut, each moment once")
				assert.EqualValues(t, len(c.pauses), g.throttled.Load(), "throttling answers")
			})
		})
	}
}
