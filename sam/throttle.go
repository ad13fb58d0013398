package sam

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/samkit/samkit/internal/httpx"
)

// throttleGate is the shared backoff of an access check: when any request
// is throttled, every worker waits out the service's Retry-After before
// its next request, instead of each discovering the throttling on its own
// and the run hammering a service that asked it to slow down. The pause
// is capped so that one hostile or mistaken Retry-After cannot stall the
// run for long.
type throttleGate struct {
	mu    sync.Mutex
	until time.Time

	defaultPause time.Duration // when a throttling answer names no wait
	maxPause     time.Duration
	now          func() time.Time

	throttled atomic.Int64 // throttling answers seen
	// shutFor is how long the gate has been shut in all, each moment
	// counted once however many pauses cover it; guarded by mu.
	shutFor time.Duration
}

func newThrottleGate(p httpx.RetryPolicy) *throttleGate {
	pause, maxPause := p.MinWait, p.MaxRetryAfter
	if pause <= 0 {
		pause = httpx.DefaultMinWait
	}
	if maxPause <= 0 {
		maxPause = httpx.DefaultMaxRetryAfter
	}
	return &throttleGate{defaultPause: min(pause, maxPause), maxPause: maxPause, now: time.Now}
}

// wait returns when the gate is open, or with ctx's error when ctx ends
// first. A gate shut again while waiting is waited for again.
func (g *throttleGate) wait(ctx context.Context) error {
	for {
		g.mu.Lock()
		d := g.until.Sub(g.now())
		g.mu.Unlock()
		if d <= 0 {
			return ctx.Err()
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// pause shuts the gate for d (defaultPause when d is 0, at most maxPause)
// from now, unless it is already shut for longer.
func (g *throttleGate) pause(d time.Duration) {
	g.throttled.Add(1)
	if d <= 0 {
		d = g.defaultPause
	}
	now := g.now()
	until := now.Add(min(d, g.maxPause))
	g.mu.Lock()
	if until.After(g.until) {
		g.shutFor += until.Sub(later(now, g.until))
		g.until = until
	}
	g.mu.Unlock()
}

// shut returns how long the gate has been shut so far: the time the run
// spent waiting out throttled services. A pause still under way counts
// whole.
func (g *throttleGate) shut() time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.shutFor
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// observe shuts the gate for a throttling answer: 429, or 503 with a
// Retry-After, the answers Graph, Exchange and Partner Center throttle
// with.
func (g *throttleGate) observe(resp *http.Response) {
	ra := resp.Header.Get("Retry-After")
	if resp.StatusCode != http.StatusTooManyRequests && (resp.StatusCode != http.StatusServiceUnavailable || ra == "") {
		return
	}
	d, _ := httpx.ParseRetryAfter(ra, g.now())
	g.pause(d)
}

// WaitTurn and Observe make the gate an httpx.Gate that observes, for
// the requests that carry it in their context (httpx.WithGate): the token
// requests, which go through the Provider's own client.
func (g *throttleGate) WaitTurn(ctx context.Context) error { return g.wait(ctx) }

func (g *throttleGate) Observe(resp *http.Response) { g.observe(resp) }

// gateTransport puts every attempt of a request through the gate. It sits
// under the clients' retrying layer, so that it sees each throttled
// attempt, not only the last one, and so that a retry waits for the gate
// as a first attempt does.
type gateTransport struct {
	gate *throttleGate
	next http.RoundTripper
}

// WaitTurn waits for the gate before an attempt; the clients' pipeline
// calls it outside the attempt's time bound (see httpx.Gate).
func (t *gateTransport) WaitTurn(ctx context.Context) error { return t.gate.wait(ctx) }

func (t *gateTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.gate.wait(req.Context()); err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, err
	}
	resp, err := t.next.RoundTrip(req)
	if err == nil {
		t.gate.observe(resp)
	}
	return resp, err
}
