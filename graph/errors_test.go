package graph

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/internal/faulttest/inproc"
	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/token"
)

// TestErrorsFromFake checks each error shape as the fake cloud produces
// it, through the operations that meet it.
func TestErrorsFromFake(t *testing.T) {
	t.Parallel()
	userReadOnly := func(s *testserver.Server) testserver.TokenSpec {
		spec := adminSpec(s)
		spec.Scopes = []string{"User.Read"}
		return spec
	}
	expired := func(s *testserver.Server) testserver.TokenSpec {
		spec := adminSpec(s)
		spec.Lifetime = -time.Minute
		return spec
	}
	tests := []struct {
		name   string
		spec   func(*testserver.Server) testserver.TokenSpec
		plain  bool
		fault  *testserver.Fault
		call   func(f *fake) error
		status int
		code   string
		is     error
		inMsg  string
	}{
		{"401 expired token, source cannot refresh", expired, true, nil,
			func(f *fake) error { _, err := f.c.Organization(t.Context()); return err },
			401, "InvalidAuthenticationToken", ErrUnauthorized, "expired"},
		{"403 missing permission", userReadOnly, false, nil,
			func(f *fake) error { _, err := Collect(f.c.Users(t.Context(), ListOptions{})); return err },
			403, "Authorization_RequestDenied", ErrForbidden, "Insufficient privileges"},
		{"404 unknown object", nil, false, nil,
			func(f *fake) error {
				_, err := f.c.GetApplication(t.Context(), "99999999-9999-4999-8999-999999999999")
				return err
			},
			404, "Request_ResourceNotFound", ErrNotFound, "does not exist"},
		{"400 unsupported filter", nil, false, nil,
			func(f *fake) error {
				_, err := Collect(f.c.Users(t.Context(), ListOptions{Filter: "startswith(displayName,'a')"}))
				return err
			},
			400, "BadRequest", ErrBadRequest, "Invalid filter clause"},
		{"HTML from a gateway", nil, false, &testserver.Fault{Kind: testserver.HTML, Service: "graph", Status: 502},
			func(f *fake) error { _, err := f.c.Me(t.Context()); return err },
			502, "", ErrUnavailable, `unexpected text/html response: "502 Bad Gateway"`},
		{"empty body", nil, false, &testserver.Fault{Kind: testserver.Empty, Service: "graph", Status: 403},
			func(f *fake) error { _, err := f.c.Me(t.Context()); return err },
			403, "", ErrForbidden, "empty response body"},
		{"truncated JSON", nil, false, &testserver.Fault{Kind: testserver.Truncated, Service: "graph"},
			func(f *fake) error { _, err := f.c.Me(t.Context()); return err },
			200, "", nil, "malformed JSON response"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, tt.spec)
			if tt.fault != nil {
				f.s.Inject(*tt.fault)
			}
			if tt.plain {
				// A source that cannot be told its token was refused.
				c, err := New(struct{ token.Source }{f.src}, WithCloud(f.s.Cloud()), WithHTTPClient(f.s.Client()), WithRetryPolicy(fastPolicy))
				if err != nil {
					t.Fatal(err)
				}
				f.c = c
			}
			err := fmt.Errorf("wrapped: %w", tt.call(f))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want a *graph.Error", err)
			}
			if e.StatusCode != tt.status || e.Code != tt.code || !strings.Contains(e.Message, tt.inMsg) {
				t.Errorf("error = %d %q %q; want %d %q containing %q", e.StatusCode, e.Code, e.Message, tt.status, tt.code, tt.inMsg)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v) = false", tt.is)
			}
			if tt.code != "" && (e.RequestID == "" || e.Date.IsZero() || e.ClientRequestID == "") {
				t.Errorf("ids = %q %v %q, want Graph's request-id, date and our client-request-id", e.RequestID, e.Date, e.ClientRequestID)
			}
		})
	}
}

func TestExpiredTokenRefreshedOnceFromFake(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(s *testserver.Server) testserver.TokenSpec {
		spec := adminSpec(s)
		spec.Lifetime = -time.Minute
		return spec
	})
	org, err := f.c.Organization(t.Context())
	if err != nil {
		t.Fatalf("Organization: %v", err)
	}
	if org.ID != f.s.Partner().TenantID {
		t.Errorf("Organization = %+v", org)
	}
	var statuses []int
	for _, r := range f.graphRequests() {
		statuses = append(statuses, r.Status)
	}
	if fmt.Sprint(statuses) != "[401 200]" || f.src.issued != 2 {
		t.Errorf("statuses %v with %d tokens issued, want [401 200] with 2", statuses, f.src.issued)
	}
}

// TestThrottlingFromFake runs in a synctest bubble, the fake served in
// process, so that the Retry-After waits are fake time and exact.
func TestThrottlingFromFake(t *testing.T) {
	t.Parallel()
	s := testserver.New() // outside the bubble: its listener would stop the bubble's clock
	t.Cleanup(s.Close)
	synctest.Test(t, func(t *testing.T) { throttlingFromFake(t, s) })
}

func throttlingFromFake(t *testing.T, s *testserver.Server) {
	f := newFakeOn(t, s, nil, WithHTTPClient(&http.Client{Transport: inproc.Transport{Handler: s.Handler()}}))
	f.s.Inject(testserver.Fault{Kind: testserver.Throttle, Service: "graph", Path: "/v1.0/organization", Count: 2, RetryAfter: "0.01"})
	start := time.Now()
	_, err := f.c.Organization(t.Context())
	require.NoError(t, err, "Organization")
	assert.Equal(t, 20*time.Millisecond, time.Since(start), "the two 10ms Retry-After waits")
	var statuses []int
	for _, r := range f.graphRequests() {
		statuses = append(statuses, r.Status)
	}
	if fmt.Sprint(statuses) != "[429 429 200]" {
		t.Errorf("statuses = %v, want [429 429 200]", statuses)
	}
}
