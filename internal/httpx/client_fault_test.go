package httpx_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/internal/faulttest"
	"github.com/samkit/samkit/internal/faulttest/inproc"
	"github.com/samkit/samkit/internal/httpx"
	"github.com/samkit/samkit/internal/testserver"
)

// redeemCode posts an authorization code redemption to the fake's token
// endpoint, as sam's sign-in does, with the retry class given.
func redeemCode(ctx context.Context, hc *http.Client, srv *testserver.Server, class httpx.RetryClass, code string) error {
	form := url.Values{"grant_type": {"authorization_code"}, "client_id": {"00000000-0000-0000-0000-000000000001"},
		"code": {code}, "redirect_uri": {"http://localhost"}, "code_verifier": {strings.Repeat("v", 43)}}
	req, err := http.NewRequestWithContext(httpx.WithRetryClass(ctx, class), http.MethodPost,
		srv.URL()+"/organizations/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	_, err = httpx.ReadBody(resp.Body, 0)
	resp.Body.Close()
	return err
}

// TestFaultSingleUseCodeSentOnce sends an authorization code under every
// fault: with RetryNever it reaches the identity platform at most once,
// whatever the answer, and never outlives its context. The same request
// with RetryAlways is replayed, which shows the faults were retryable.
// Each case runs in a bubble, so that a deadline is fake time.
func TestFaultSingleUseCodeSentOnce(t *testing.T) {
	faulttest.NoLeaks(t)
	srv := testserver.New()
	t.Cleanup(srv.Close)
	hc := httpx.NewClient(inprocClient(srv), httpx.RetryPolicy(faulttest.Policy), nil)
	for i, c := range faulttest.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			faulttest.Bubble(t, srv, func(t *testing.T) {
				c := faulttest.Cases()[i]
				for _, class := range []httpx.RetryClass{httpx.RetryNever, httpx.RetryAlways} {
					code := "code-" + class.String() + "-" + string(rune('a'+i))
					f := c.Fault
					f.Service = "login"
					srv.Inject(f)
					deadline := 5 * time.Second
					if f.Kind == testserver.Hang {
						deadline = faulttest.HangDeadline
					}
					ctx, cancel := context.WithTimeout(t.Context(), deadline)
					start := time.Now()
					err := redeemCode(ctx, hc, srv, class, code)
					elapsed := time.Since(start)
					cancel()
					srv.ClearFaults()
					assert.LessOrEqual(t, elapsed, deadline, "%s: waited past its deadline", class)
					if f.Kind == testserver.Hang {
						assert.ErrorIs(t, err, context.DeadlineExceeded, "%s under a hang", class)
					}
					// The fake records a request when its handler returns,
					// which for a hung or oversized answer is after the
					// client has gone.
					synctest.Wait()
					sent := sentCodes(srv, code)
					switch {
					case class == httpx.RetryNever:
						assert.Equal(t, 1, sent, "times the code was sent with RetryNever")
					case !c.Final():
						assert.Equal(t, faulttest.Policy.MaxAttempts, sent, "times the request was sent with RetryAlways")
					}
				}
			})
		})
	}
}

// inprocClient returns a client that serves srv's handler in process, as
// a bubble needs.
func inprocClient(srv *testserver.Server) *http.Client {
	return &http.Client{Transport: inproc.Transport{Handler: srv.Handler()}}
}

// sentCodes returns how many requests carried code.
func sentCodes(srv *testserver.Server, code string) int {
	fp := testserver.Fingerprint(code)
	return srv.Count(func(r testserver.Request) bool { return r.Form.Get("code") == fp })
}

// TestFaultRetryAfterBoundedByContext: a Retry-After longer than the
// caller's context is not waited out; the call ends with the context, at
// its deadline of fake time.
func TestFaultRetryAfterBoundedByContext(t *testing.T) {
	faulttest.NoLeaks(t)
	srv := testserver.New()
	t.Cleanup(srv.Close)
	faulttest.Bubble(t, srv, func(t *testing.T) {
		srv.Inject(testserver.Fault{Kind: testserver.Throttle, RetryAfter: "30", Service: "graph"})
		hc := httpx.NewClient(inprocClient(srv), httpx.RetryPolicy{MaxRetryAfter: time.Minute}, nil)
		const deadline = 200 * time.Millisecond
		ctx, cancel := context.WithTimeout(t.Context(), deadline)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL()+"/graph/v1.0/organization", nil)
		require.NoError(t, err)
		start := time.Now()
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, deadline, time.Since(start), "returned at the deadline, in the 30s wait")
	})
}
