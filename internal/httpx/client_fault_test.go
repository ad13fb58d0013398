package httpx_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/samkit/samkit/internal/faulttest"
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
func TestFaultSingleUseCodeSentOnce(t *testing.T) {
	faulttest.NoLeaks(t)
	srv := testserver.New()
	t.Cleanup(srv.Close)
	hc := httpx.NewClient(srv.Client(), httpx.RetryPolicy(faulttest.Policy), nil)
	for i, c := range faulttest.Cases() {
		t.Run(c.Name, func(t *testing.T) {
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
				if elapsed > deadline+time.Second {
					t.Errorf("%s: returned after %v, past its %v deadline", class, elapsed, deadline)
				}
				if f.Kind == testserver.Hang && !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("%s: err = %v, want the deadline", class, err)
				}
				sent := sentCodes(t, srv, code)
				switch {
				case class == httpx.RetryNever && sent != 1:
					t.Errorf("the code was sent %d times, want once", sent)
				case class == httpx.RetryAlways && !c.Final() && sent != faulttest.Policy.MaxAttempts:
					t.Errorf("with RetryAlways the request was sent %d times, want %d", sent, faulttest.Policy.MaxAttempts)
				}
			}
		})
	}
}

// sentCodes returns how many requests carried code. The fake records a
// request when its handler returns, which for a hung or oversized answer
// is after the client has gone, so it waits for the first record.
func sentCodes(t *testing.T, srv *testserver.Server, code string) int {
	t.Helper()
	fp := testserver.Fingerprint(code)
	count := func() int { return srv.Count(func(r testserver.Request) bool { return r.Form.Get("code") == fp }) }
	for start := time.Now(); count() == 0 && time.Since(start) < 5*time.Second; {
		time.Sleep(5 * time.Millisecond)
	}
	return count()
}

// TestFaultRetryAfterBoundedByContext: a Retry-After longer than the
// caller's context is not waited out; the call ends with the context.
func TestFaultRetryAfterBoundedByContext(t *testing.T) {
	faulttest.NoLeaks(t)
	srv := testserver.New()
	t.Cleanup(srv.Close)
	srv.Inject(testserver.Fault{Kind: testserver.Throttle, RetryAfter: "30", Service: "graph"})
	hc := httpx.NewClient(srv.Client(), httpx.RetryPolicy{MaxRetryAfter: time.Minute}, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL()+"/graph/v1.0/organization", nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	resp, err := hc.Do(req)
	if err == nil {
		resp.Body.Close()
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the context's deadline", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("returned after %v, want at the 200ms deadline", d)
	}
}
