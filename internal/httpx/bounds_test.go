package httpx

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeServer is an in-memory transport whose answers block on channels
// and timers only, so that a synctest bubble sees it durably blocked and
// moves its clock.
type fakeServer struct {
	// answer serves one attempt; nil hangs until the attempt is cancelled.
	answer func(req *http.Request) *http.Response
	calls  atomic.Int32
}

func (f *fakeServer) RoundTrip(req *http.Request) (*http.Response, error) {
	f.calls.Add(1)
	if req.Body != nil {
		_ = req.Body.Close()
	}
	if f.answer == nil {
		<-req.Context().Done()
		return nil, req.Context().Err()
	}
	return f.answer(req), nil
}

// slowBody sends one byte every gap (forever when n < 0), or nothing at
// all when gap is 0, until its request is cancelled.
type slowBody struct {
	ctx context.Context
	gap time.Duration
}

func (b *slowBody) Read(p []byte) (int, error) {
	if b.gap == 0 {
		<-b.ctx.Done()
		return 0, b.ctx.Err()
	}
	select {
	case <-time.After(b.gap):
		p[0] = 'x'
		return 1, nil
	case <-b.ctx.Done():
		return 0, b.ctx.Err()
	}
}

func (b *slowBody) Close() error { return nil }

func slowAnswer(gap time.Duration) func(req *http.Request) *http.Response {
	return func(req *http.Request) *http.Response {
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: &slowBody{ctx: req.Context(), gap: gap}, Request: req}
	}
}

func TestHungEndpointBounded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		method       string
		policy       RetryPolicy
		answer       func(*http.Request) *http.Response
		readBody     bool
		wantCalls    int32
		wantErr      string
		wantDuration time.Duration // at most, on the bubble's clock
	}{
		{name: "no headers, GET retried", method: "GET", wantCalls: 4,
			wantErr: "no response from graph.example.test within 32s", wantDuration: 4*32*time.Second + 3*30*time.Second},
		{name: "no headers, POST sent once", method: "POST", wantCalls: 1,
			wantErr: "no response from graph.example.test within 32s", wantDuration: 32 * time.Second},
		{name: "option shortens the bound", method: "POST", policy: RetryPolicy{AttemptTimeout: 5 * time.Second}, wantCalls: 1,
			wantErr: "no response from graph.example.test within 5s", wantDuration: 5 * time.Second},
		{name: "whole call bounded", method: "GET", policy: RetryPolicy{MaxElapsed: time.Minute, MinWait: time.Second, MaxWait: time.Second}, wantCalls: 2,
			wantErr: "no answer from graph.example.test within 1m0s (2 attempts)", wantDuration: time.Minute},
		{name: "body stalls", method: "GET", answer: slowAnswer(0), readBody: true, wantCalls: 1,
			wantErr: "graph.example.test stopped sending its response: nothing arrived for 32s", wantDuration: 32 * time.Second},
		{name: "body drips a byte a second", method: "GET", answer: slowAnswer(time.Second), readBody: true, wantCalls: 1,
			wantErr: "the response from graph.example.test did not arrive in full within 2m8s", wantDuration: 128 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				srv := &fakeServer{answer: tt.answer}
				p := NewPipeline(&http.Client{Transport: srv}, tt.policy, nil)
				start := time.Now()
				req, err := http.NewRequestWithContext(t.Context(), tt.method, "https://graph.example.test/v1.0/users?$skiptoken=S3cret", strings.NewReader("{}"))
				require.NoError(t, err)
				resp, err := p.Do(req)
				if tt.readBody {
					require.NoError(t, err, "the headers arrive")
					_, err = io.ReadAll(resp.Body)
					_ = resp.Body.Close()
				}
				var te *TimeoutError
				require.ErrorAs(t, err, &te, "a hung endpoint ends in a *TimeoutError")
				assert.Equal(t, tt.wantErr, err.Error())
				assert.Equal(t, tt.wantCalls, srv.calls.Load(), "attempts")
				assert.LessOrEqual(t, time.Since(start), tt.wantDuration, "the bound, on the fake clock")
			})
		})
	}
}

func TestPromptBodyNotCut(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		// A body that takes a minute in all, a byte every 20s: slower
		// than nothing, but never silent for the idle bound.
		srv := &fakeServer{answer: func(req *http.Request) *http.Response {
			return &http.Response{StatusCode: 200, Header: http.Header{}, Request: req,
				Body: io.NopCloser(io.LimitReader(&slowBody{ctx: req.Context(), gap: 20 * time.Second}, 3))}
		}}
		p := NewPipeline(&http.Client{Transport: srv}, RetryPolicy{}, nil)
		req, err := http.NewRequestWithContext(t.Context(), "GET", "https://graph.example.test/v1.0/me", nil)
		require.NoError(t, err)
		resp, err := p.Do(req)
		require.NoError(t, err)
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		assert.Equal(t, "xxx", string(b))
	})
}

// gated is a transport behind a gate that stays shut for a while.
type gated struct {
	fakeServer
	shut time.Duration
}

func (g *gated) WaitTurn(ctx context.Context) error {
	select {
	case <-time.After(g.shut):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestGateWaitOutsideTheAttemptBound(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		g := &gated{shut: time.Minute, fakeServer: fakeServer{answer: func(req *http.Request) *http.Response {
			return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody, Request: req}
		}}}
		p := NewPipeline(&http.Client{Transport: g}, RetryPolicy{}, nil)
		req, err := http.NewRequestWithContext(t.Context(), "POST", "https://graph.example.test/v1.0/x", nil)
		require.NoError(t, err)
		resp, err := p.Do(req)
		require.NoError(t, err, "a minute at the gate is not a service that does not answer")
		require.NoError(t, resp.Body.Close())
		assert.EqualValues(t, 1, g.calls.Load())
	})
}

// watchGate is a gate given through the context: it counts the waits and
// keeps the statuses it is shown.
type watchGate struct {
	waits    int
	statuses []int
}

func (g *watchGate) WaitTurn(ctx context.Context) error { g.waits++; return ctx.Err() }

func (g *watchGate) Observe(resp *http.Response) { g.statuses = append(g.statuses, resp.StatusCode) }

func TestGateFromTheContext(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		statuses := []int{http.StatusTooManyRequests, http.StatusOK}
		srv := &fakeServer{answer: func(req *http.Request) *http.Response {
			s := statuses[0]
			statuses = statuses[1:]
			return &http.Response{StatusCode: s, Header: http.Header{"Retry-After": {"1"}}, Body: http.NoBody, Request: req}
		}}
		// The base transport is no gate: the context's gate holds back
		// each attempt, the retry's too, and sees each answer.
		p := NewPipeline(&http.Client{Transport: srv}, RetryPolicy{}, nil)
		g := &watchGate{}
		req, err := http.NewRequestWithContext(WithGate(t.Context(), g), "GET", "https://login.example.test/t/oauth2/v2.0/token", nil)
		require.NoError(t, err)
		resp, err := p.Do(req)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, 2, g.waits, "a wait before each attempt")
		assert.Equal(t, []int{http.StatusTooManyRequests, http.StatusOK}, g.statuses, "each answer shown")

		// A cancelled wait sends nothing.
		ctx, cancel := context.WithCancel(WithGate(t.Context(), g))
		cancel()
		req, err = http.NewRequestWithContext(ctx, "GET", "https://login.example.test/t/oauth2/v2.0/token", nil)
		require.NoError(t, err)
		_, err = p.Do(req)
		require.ErrorIs(t, err, context.Canceled)
		assert.EqualValues(t, 2, srv.calls.Load(), "no attempt after a cancelled wait")
	})
}
