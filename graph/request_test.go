package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/samkit/samkit/internal/httpx"
	"github.com/samkit/samkit/token"
)

func TestRequestHeaders(t *testing.T) {
	t.Parallel()
	m := newMini(t)
	c, _ := m.client(&counter{})
	if _, err := c.CreateApplication(t.Context(), Application{DisplayName: "app"}); err != nil {
		t.Fatalf("CreateApplication: %v", err)
	}
	if _, err := c.Me(t.Context()); err != nil {
		t.Fatalf("Me: %v", err)
	}
	calls := m.requests()
	if len(calls) != 2 {
		t.Fatalf("server saw %d requests, want 2", len(calls))
	}
	post, get := calls[0], calls[1]
	for _, h := range []struct{ name, want string }{
		{"Authorization", "Bearer tok-1"}, {"Accept", "application/json"}, {"Content-Type", "application/json"},
	} {
		if got := post.Header.Get(h.name); got != h.want {
			t.Errorf("POST %s = %q, want %q", h.name, got, h.want)
		}
	}
	if got := get.Header.Get("Content-Type"); got != "" {
		t.Errorf("GET Content-Type = %q, want none", got)
	}
	a, b := post.Header.Get("client-request-id"), get.Header.Get("client-request-id")
	if !httpx.IsGUID(a) || !httpx.IsGUID(b) || a == b {
		t.Errorf("client-request-ids = %q, %q, want two distinct GUIDs", a, b)
	}
	if post.Body != `{"displayName":"app"}` {
		t.Errorf("POST body = %s, want only the set fields", post.Body)
	}
}

// TestErrorShapes checks each way Graph (or what stands in front of it)
// answers a failure.
func TestErrorShapes(t *testing.T) {
	t.Parallel()
	graphErr := func(status int, code string) func(w http.ResponseWriter, r *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) {
			graphError(w, r, status, code, "Something about "+code+".")
		}
	}
	tests := []struct {
		name     string
		respond  func(w http.ResponseWriter, r *http.Request)
		status   int
		code     string
		is       error
		inMsg    string
		graphIDs bool
	}{
		{"401", graphErr(401, "InvalidAuthenticationToken"), 401, "InvalidAuthenticationToken", ErrUnauthorized, "Something about", true},
		{"403", graphErr(403, "Authorization_RequestDenied"), 403, "Authorization_RequestDenied", ErrForbidden, "Something about", true},
		{"404", graphErr(404, "Request_ResourceNotFound"), 404, "Request_ResourceNotFound", ErrNotFound, "Something about", true},
		{"400", graphErr(400, "Request_BadRequest"), 400, "Request_BadRequest", ErrBadRequest, "Something about", true},
		{"HTML from a gateway", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprint(w, "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>")
		}, 502, "", ErrUnavailable, `unexpected text/html response: "502 Bad Gateway"`, false},
		{"empty 403", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusForbidden) }, 403, "", ErrForbidden, "empty response body", false},
		{"malformed 200", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"id":"00000000-0000-0000-0000-0000000000`)
		}, 200, "", nil, "malformed JSON response", false},
		{"empty 200", func(w http.ResponseWriter, r *http.Request) {}, 200, "", nil, "empty response body", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newMini(t)
			m.fault = func(w http.ResponseWriter, r *http.Request) bool { tt.respond(w, r); return true }
			c, _ := m.client(fixed("tok-1"), WithRetryPolicy(token.RetryPolicy{MaxAttempts: 1}))
			_, err := c.Me(t.Context())
			wrapped := fmt.Errorf("checking the admin: %w", err)
			var e *Error
			if !errors.As(wrapped, &e) {
				t.Fatalf("err = %v (%T), want a *graph.Error through wrapping", err, err)
			}
			if e.StatusCode != tt.status || e.Code != tt.code {
				t.Errorf("status, code = %d, %q; want %d, %q", e.StatusCode, e.Code, tt.status, tt.code)
			}
			if tt.is != nil && !errors.Is(wrapped, tt.is) {
				t.Errorf("errors.Is(err, %v) = false", tt.is)
			}
			if !strings.Contains(e.Message, tt.inMsg) {
				t.Errorf("Message = %q, want it to contain %q", e.Message, tt.inMsg)
			}
			if e.Method != http.MethodGet || e.Path != "/me" || !strings.Contains(err.Error(), "GET /me") {
				t.Errorf("error names %s %s (%q), want GET /me", e.Method, e.Path, err)
			}
			if !httpx.IsGUID(e.ClientRequestID) {
				t.Errorf("ClientRequestID = %q, want the GUID sent", e.ClientRequestID)
			}
			if tt.graphIDs {
				if e.RequestID == "" || !e.Date.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) {
					t.Errorf("RequestID, Date = %q, %v; want Graph's", e.RequestID, e.Date)
				}
			}
		})
	}
}

func TestInvalidTokenRefreshedOnce(t *testing.T) {
	t.Parallel()
	t.Run("fresh token accepted", func(t *testing.T) {
		t.Parallel()
		m := newMini(t)
		src := &counter{n: -1} // "tok-0" is refused, "tok-1" accepted
		c, _ := m.client(src)
		if _, err := c.Me(t.Context()); err != nil {
			t.Fatalf("Me: %v", err)
		}
		calls := m.requests()
		if len(calls) != 2 || calls[0].Header.Get("Authorization") != "Bearer tok-0" || calls[1].Header.Get("Authorization") != "Bearer tok-1" {
			t.Errorf("requests = %+v, want tok-0 then tok-1", calls)
		}
		if len(src.invalidated) != 1 || src.invalidated[0] != "tok-0" {
			t.Errorf("invalidated %v, want [tok-0]", src.invalidated)
		}
	})
	t.Run("refused twice", func(t *testing.T) {
		t.Parallel()
		m := newMini(t)
		src := &counter{n: 5}
		c, _ := m.client(src)
		_, err := c.Me(t.Context())
		if !errors.Is(err, ErrUnauthorized) {
			t.Fatalf("Me: err = %v, want ErrUnauthorized", err)
		}
		if n := len(m.requests()); n != 2 {
			t.Errorf("server saw %d requests, want 2 (one refresh only)", n)
		}
	})
	t.Run("source without Invalidate", func(t *testing.T) {
		t.Parallel()
		m := newMini(t)
		c, _ := m.client(fixed("stale"))
		if _, err := c.Me(t.Context()); !errors.Is(err, ErrUnauthorized) {
			t.Fatalf("Me: err = %v, want ErrUnauthorized", err)
		}
		if n := len(m.requests()); n != 1 {
			t.Errorf("server saw %d requests, want 1", n)
		}
	})
	t.Run("403 is not retried", func(t *testing.T) {
		t.Parallel()
		m := newMini(t)
		m.fault = func(w http.ResponseWriter, r *http.Request) bool {
			graphError(w, r, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
			return true
		}
		src := &counter{}
		c, _ := m.client(src)
		if _, err := c.Me(t.Context()); !errors.Is(err, ErrForbidden) {
			t.Fatalf("Me: err = %v, want ErrForbidden", err)
		}
		if n := len(m.requests()); n != 1 || len(src.invalidated) != 0 {
			t.Errorf("requests = %d, invalidations = %d; want 1 and 0", n, len(src.invalidated))
		}
	})
}

// throttle answers the first n requests 429, with Retry-After ra when not
// empty.
func throttle(n int32, ra string) func(w http.ResponseWriter, r *http.Request) bool {
	var seen atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) bool {
		if seen.Add(1) > n {
			return false
		}
		if ra != "" {
			w.Header().Set("Retry-After", ra)
		}
		graphError(w, r, http.StatusTooManyRequests, "TooManyRequests", "Too many requests.")
		return true
	}
}

func TestThrottling(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		method     string
		n          int32
		retryAfter string
		wantCalls  int
		wantErr    bool
	}{
		{"fractional Retry-After", "GET", 2, "0.005", 3, false},
		{"no Retry-After: backoff", "GET", 2, "", 3, false},
		{"create retried after 429", "POST", 1, "0.001", 2, false},
		{"outlasting the policy", "GET", 10, "1", 4, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newMini(t)
			m.fault = throttle(tt.n, tt.retryAfter)
			c, _ := m.client(&counter{})
			var err error
			if tt.method == "POST" {
				_, err = c.CreateApplication(t.Context(), Application{DisplayName: "x"})
			} else {
				_, err = c.Me(t.Context())
			}
			if n := len(m.requests()); n != tt.wantCalls {
				t.Errorf("server saw %d requests, want %d", n, tt.wantCalls)
			}
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("err = %v, want the throttling waited out", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, ErrThrottled) || e.RetryAfter != time.Second || e.Code != "TooManyRequests" {
				t.Fatalf("err = %#v, want a 429 *Error with RetryAfter 1s", err)
			}
		})
	}
}

func TestServerErrorRetriedForReadsOnly(t *testing.T) {
	t.Parallel()
	fail500 := func(n int32) func(w http.ResponseWriter, r *http.Request) bool {
		var seen atomic.Int32
		return func(w http.ResponseWriter, r *http.Request) bool {
			if seen.Add(1) > n {
				return false
			}
			graphError(w, r, http.StatusInternalServerError, "generalException", "General exception while processing.")
			return true
		}
	}
	m := newMini(t)
	m.fault = fail500(1)
	c, _ := m.client(&counter{})
	if _, err := c.Me(t.Context()); err != nil {
		t.Fatalf("Me after one 500: %v", err)
	}
	m2 := newMini(t)
	m2.fault = fail500(1)
	c2, _ := m2.client(&counter{})
	if _, err := c2.CreateApplication(t.Context(), Application{DisplayName: "x"}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("CreateApplication after a 500: err = %v, want ErrUnavailable without a replay", err)
	}
	if n := len(m2.requests()); n != 1 {
		t.Errorf("create sent %d times, want 1", n)
	}
}

func TestContextEndsCall(t *testing.T) {
	t.Parallel()
	m := newMini(t)
	m.fault = func(w http.ResponseWriter, r *http.Request) bool {
		<-r.Context().Done()
		return true
	}
	c, _ := m.client(&counter{})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	_, err := c.Me(ctx)
	if err != context.DeadlineExceeded {
		t.Fatalf("err = %v, want context.DeadlineExceeded itself", err)
	}
}

func TestBodyOverLimitRefused(t *testing.T) {
	t.Parallel()
	m := newMini(t)
	m.fault = func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Type", "application/json")
		chunk := []byte(strings.Repeat(" ", 1<<16))
		for written := 0; written <= httpx.DefaultBodyLimit; written += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				break
			}
		}
		return true
	}
	c, _ := m.client(&counter{})
	_, err := c.Me(t.Context())
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != http.StatusOK || !strings.Contains(e.Message, "larger than") {
		t.Fatalf("err = %v, want an *Error saying the body is too large", err)
	}
}
