package httpx

import (
	"bytes"
	"context"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fastPolicy shrinks every wait to milliseconds.
var fastPolicy = RetryPolicy{MaxAttempts: 4, MinWait: time.Millisecond, MaxWait: 4 * time.Millisecond, MaxRetryAfter: 50 * time.Millisecond}

// step is what the test server does on one call.
type step func(w http.ResponseWriter, r *http.Request)

func status(code int, headers ...string) step {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, `{"call":"`+http.StatusText(code)+`"}`)
	}
}

// reset closes the connection with an RST, before any response.
func reset(t *testing.T) step {
	return func(w http.ResponseWriter, _ *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		_ = conn.(*net.TCPConn).SetLinger(0)
		_ = conn.Close()
	}
}

// script serves steps in order, repeating the last, and counts calls and
// the bodies it received.
type script struct {
	steps  []step
	calls  atomic.Int32
	mu     sync.Mutex
	bodies []string
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int(s.calls.Add(1))
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.bodies = append(s.bodies, string(b))
	s.mu.Unlock()
	s.steps[min(n, len(s.steps))-1](w, r)
}

func newServer(t *testing.T, steps ...step) (*httptest.Server, *script) {
	t.Helper()
	s := &script{steps: steps}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv, s
}

func TestRetryClasses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		method     string
		class      *RetryClass
		steps      func(t *testing.T) []step
		wantCalls  int32
		wantStatus int // 0: want a transport error
	}{
		{"GET 500 then 200", "GET", nil, func(*testing.T) []step { return []step{status(500), status(200)} }, 2, 200},
		{"GET 503 exhausted returns last", "GET", nil, func(*testing.T) []step { return []step{status(503)} }, 4, 503},
		{"GET reset then 200", "GET", nil, func(t *testing.T) []step { return []step{reset(t), status(200)} }, 2, 200},
		{"GET 404 not retried", "GET", nil, func(*testing.T) []step { return []step{status(404)} }, 1, 404},
		{"DELETE 502 then 204", "DELETE", nil, func(*testing.T) []step { return []step{status(502), status(204)} }, 2, 204},
		{"POST 429 retried", "POST", nil, func(*testing.T) []step { return []step{status(429), status(201)} }, 2, 201},
		{"POST 500 not retried", "POST", nil, func(*testing.T) []step { return []step{status(500), status(201)} }, 1, 500},
		{"POST reset not retried", "POST", nil, func(t *testing.T) []step { return []step{reset(t), status(201)} }, 1, 0},
		{"POST 503 without Retry-After not retried", "POST", nil, func(*testing.T) []step { return []step{status(503), status(201)} }, 1, 503},
		{"POST 503 with Retry-After retried", "POST", nil, func(*testing.T) []step { return []step{status(503, "Retry-After", "0"), status(201)} }, 2, 201},
		{"PATCH 500 not retried", "PATCH", nil, func(*testing.T) []step { return []step{status(500), status(200)} }, 1, 500},
		{"POST ThrottleOnly 429 retried", "POST", ptr(RetryThrottleOnly), func(*testing.T) []step { return []step{status(429), status(200)} }, 2, 200},
		{"POST ThrottleOnly 500 not retried", "POST", ptr(RetryThrottleOnly), func(*testing.T) []step { return []step{status(500), status(200)} }, 1, 500},
		{"POST ThrottleOnly reset not retried", "POST", ptr(RetryThrottleOnly), func(t *testing.T) []step { return []step{reset(t), status(200)} }, 1, 0},
		{"GET ThrottleOnly 500 not retried", "GET", ptr(RetryThrottleOnly), func(*testing.T) []step { return []step{status(500), status(200)} }, 1, 500},
		{"POST Always 500 retried", "POST", ptr(RetryAlways), func(*testing.T) []step { return []step{status(500), status(200)} }, 2, 200},
		{"POST Always reset retried", "POST", ptr(RetryAlways), func(t *testing.T) []step { return []step{reset(t), status(200)} }, 2, 200},
		{"POST Never 429 not retried", "POST", ptr(RetryNever), func(*testing.T) []step { return []step{status(429), status(200)} }, 1, 429},
		{"GET Never 503 not retried", "GET", ptr(RetryNever), func(*testing.T) []step { return []step{status(503, "Retry-After", "0"), status(200)} }, 1, 503},
		{"POST Never reset not retried", "POST", ptr(RetryNever), func(t *testing.T) []step { return []step{reset(t), status(200)} }, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, s := newServer(t, tt.steps(t)...)
			c := NewClient(nil, fastPolicy, nil)
			ctx := t.Context()
			if tt.class != nil {
				ctx = WithRetryClass(ctx, *tt.class)
			}
			req, err := http.NewRequestWithContext(ctx, tt.method, srv.URL+"/x", strings.NewReader("payload"))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := c.Do(req)
			if got := s.calls.Load(); got != tt.wantCalls {
				t.Errorf("server calls = %d, want %d", got, tt.wantCalls)
			}
			if tt.wantStatus == 0 {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("got status %d, want a transport error", resp.StatusCode)
				}
				return
			}
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if b, _ := io.ReadAll(resp.Body); tt.wantStatus != http.StatusNoContent && !bytes.Contains(b, []byte(http.StatusText(tt.wantStatus))) {
				t.Errorf("body = %q, want the last response's body", b)
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			for i, b := range s.bodies {
				if b != "payload" && len(b) != 0 {
					t.Errorf("attempt %d sent body %q, want the full body replayed", i+1, b)
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// bodyTracker wraps a transport and counts response bodies opened and
// closed.
type bodyTracker struct {
	rt             http.RoundTripper
	opened, closed atomic.Int32
}

func (b *bodyTracker) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := b.rt.RoundTrip(r)
	if err == nil {
		b.opened.Add(1)
		resp.Body = &trackedBody{ReadCloser: resp.Body, closed: &b.closed}
	}
	return resp, err
}

type trackedBody struct {
	io.ReadCloser
	closed *atomic.Int32
	once   sync.Once
}

func (t *trackedBody) Close() error {
	t.once.Do(func() { t.closed.Add(1) })
	return t.ReadCloser.Close()
}

func TestNestedClientsDoNotMultiplyAttempts(t *testing.T) {
	t.Parallel()
	srv, s := newServer(t, status(500))
	c := NewClient(NewClient(nil, fastPolicy, nil), fastPolicy, nil)
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := s.calls.Load(); got != int32(fastPolicy.MaxAttempts) {
		t.Errorf("calls = %d, want %d", got, fastPolicy.MaxAttempts)
	}
}

func TestWrappedPipelineDoesNotMultiplyAttempts(t *testing.T) {
	t.Parallel()
	srv, s := newServer(t, status(500))
	// A transport of the caller's own around a retrying client: it cannot
	// be unwrapped, and must not retry under the outer Pipeline's retries.
	inner := NewClient(nil, fastPolicy, nil)
	wrapped := &http.Client{Transport: &bodyTracker{rt: inner.Transport}}
	resp, err := NewClient(wrapped, fastPolicy, nil).Get(srv.URL)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.EqualValues(t, fastPolicy.MaxAttempts, s.calls.Load(), "one layer of retries")
}

func TestRedirectRefused(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	var hits atomic.Int32
	mux.HandleFunc("/from", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/to?code=Sup3rS3cret", http.StatusFound)
	})
	mux.HandleFunc("/to", func(w http.ResponseWriter, _ *http.Request) { hits.Add(1); _, _ = io.WriteString(w, "ok") })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	_, err := NewPipeline(nil, fastPolicy, nil).Do(httptest.NewRequestWithContext(t.Context(), "GET", srv.URL+"/from", nil))
	var re *RedirectError
	require.ErrorAs(t, err, &re, "a 302 must fail the request")
	assert.Equal(t, http.StatusFound, re.StatusCode)
	assert.Equal(t, srv.URL, re.Location, "the error names the origin of the target only")
	assert.NotContains(t, err.Error(), "Sup3rS3cret")
	assert.Zero(t, hits.Load(), "the redirect target was called")
}

func TestRefuseRedirectInAPlainClient(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	t.Cleanup(target.Close)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/to?code=Sup3rS3cret", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(srv.Close)
	c := &http.Client{CheckRedirect: RefuseRedirect}
	req, err := http.NewRequestWithContext(t.Context(), "POST", srv.URL, strings.NewReader("client_secret=x"))
	require.NoError(t, err)
	_, err = c.Do(req)
	var re *RedirectError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, http.StatusTemporaryRedirect, re.StatusCode)
	assert.Equal(t, target.URL, re.Location)
	assert.Zero(t, hits.Load(), "the redirect target was called")
}

// TestLogsAreRedacted cannot run in parallel: it captures the standard
// logger, which go-retryablehttp and net/http would write to.
func TestLogsAreRedacted(t *testing.T) {
	var std bytes.Buffer
	prev := log.Writer()
	log.SetOutput(&std)
	t.Cleanup(func() { log.SetOutput(prev) })

	srv, _ := newServer(t, status(429, "Retry-After", "0"), status(503))
	var buf bytes.Buffer
	l := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := NewClient(nil, fastPolicy, l)
	resp, err := c.Get(srv.URL + "/authorize?code=Sup3rS3cretCode&state=xyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// A cancelled request whose response arrived exercises the error path.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/x?code=Sup3rS3cretCode", nil)
	if resp, err := c.Do(req); err == nil {
		resp.Body.Close()
	}
	out := buf.String()
	if strings.Contains(out, "Sup3rS3cretCode") || strings.Contains(out, "state=") {
		t.Errorf("log leaked the query:\n%s", out)
	}
	if !strings.Contains(out, `"msg":"http retry"`) || !strings.Contains(out, "/authorize") {
		t.Errorf("log lacks the retry line with the redacted URL:\n%s", out)
	}
	if std.Len() != 0 {
		t.Errorf("standard logger written to: %q", std.String())
	}
}

func TestDialErrorRetriedForThrottleOnly(t *testing.T) {
	t.Parallel()
	// Nothing listens on the address of a closed server: the dial fails
	// before any byte is sent, so even a POST may be replayed.
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	var dials atomic.Int32
	base := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}}
	req, _ := http.NewRequestWithContext(t.Context(), "POST", srv.URL, strings.NewReader("x"))
	if _, err := NewClient(base, fastPolicy, nil).Do(req); err == nil {
		t.Fatal("Do succeeded against a closed server")
	}
	if got := dials.Load(); got != int32(fastPolicy.MaxAttempts) {
		t.Errorf("dials = %d, want %d", got, fastPolicy.MaxAttempts)
	}
}
