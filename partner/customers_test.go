package partner_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/internal/faulttest"
	"github.com/samkit/samkit/internal/httpx"
	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/partner"
	"github.com/samkit/samkit/token"
)

func TestCustomersWalksEveryPage(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.srv.Mutate(func(w *testserver.World) { w.MaxPageSize = 2 })
	want := map[string]string{}
	for i := range 5 {
		name := fmt.Sprintf("Customer %c", 'A'+i)
		want[f.srv.AddCustomer(testserver.CustomerSpec{Name: name, PartnerCenter: true})] = name
	}

	got := map[string]string{}
	for c, err := range f.pc.Customers(t.Context(), partner.ListOptions{PageSize: 50}) {
		if err != nil {
			t.Fatal(err)
		}
		if c.TenantID() != c.ID || c.CompanyProfile.Domain == "" || c.RelationshipToPartner != "reseller" {
			t.Errorf("customer %+v is incompletely decoded", c)
		}
		got[c.TenantID()] = c.CompanyProfile.CompanyName
	}
	if len(got) != len(want) {
		t.Fatalf("got %d customers %v, want %d", len(got), got, len(want))
	}
	for id, name := range want {
		if got[id] != name {
			t.Errorf("customer %s: got name %q, want %q", id, got[id], name)
		}
	}

	reqs := f.cap.Requests()
	if len(reqs) != 3 {
		t.Fatalf("sent %d requests, want 3 pages", len(reqs))
	}
	corr := reqs[0].Header.Get("MS-CorrelationId")
	seen := map[string]bool{}
	for i, r := range reqs {
		if !httpx.IsGUID(corr) || r.Header.Get("MS-CorrelationId") != corr {
			t.Errorf("request %d: MS-CorrelationId %q, want the listing's one GUID %q", i, r.Header.Get("MS-CorrelationId"), corr)
		}
		id := r.Header.Get("MS-RequestId")
		if !httpx.IsGUID(id) || seen[id] {
			t.Errorf("request %d: MS-RequestId %q is not a fresh GUID", i, id)
		}
		seen[id] = true
		if r.URL.Path != "/partner/v1/customers" || r.Header.Get("Accept") != "application/json" {
			t.Errorf("request %d: %s %s", i, r.Method, r.URL)
		}
		cont := r.Header.Get("MS-ContinuationToken")
		if (i == 0) != (cont == "") || (i > 0) != (r.URL.Query().Get("seekOperation") == "Next") {
			t.Errorf("request %d: continuation %q, query %q", i, cont, r.URL.RawQuery)
		}
	}
	if reqs[0].URL.Query().Get("size") != "50" {
		t.Errorf("first request asks for size %q, want 50", reqs[0].URL.Query().Get("size"))
	}
}

func TestCustomersStopsWhenTheLoopBreaks(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.srv.Mutate(func(w *testserver.World) { w.MaxPageSize = 1 })
	for range 3 {
		f.srv.AddCustomer(testserver.CustomerSpec{PartnerCenter: true})
	}
	for _, err := range f.pc.Customers(t.Context(), partner.ListOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		break
	}
	if n := len(f.cap.Requests()); n != 1 {
		t.Errorf("sent %d requests after breaking on the first customer, want 1", n)
	}
}

func TestCustomersWithoutMFA(t *testing.T) {
	t.Parallel()
	f := setup(t)
	spec := adminSpec(f.srv)
	spec.MFA = false
	f.src.setMint(func() string { return f.srv.IssueAccessToken(spec) })

	var err error
	for _, err = range f.pc.Customers(t.Context(), partner.ListOptions{}) {
		break
	}
	wrapped := fmt.Errorf("listing tenants: %w", err)
	var e *partner.Error
	if !errors.As(wrapped, &e) {
		t.Fatalf("error %v is not a *partner.Error", err)
	}
	if e.StatusCode != http.StatusUnauthorized || e.Code != "900421" || !errors.Is(wrapped, partner.ErrMFARequired) || !errors.Is(err, partner.ErrUnauthorized) {
		t.Errorf("got %d code %q, want 401 900421 matching ErrMFARequired", e.StatusCode, e.Code)
	}
	if h := e.Hint(); !strings.Contains(h, "MFA") || !strings.Contains(h, "trusted-IP") {
		t.Errorf("hint %q does not explain the MFA requirement", h)
	}
	if !httpx.IsGUID(e.CorrelationID) || !httpx.IsGUID(e.RequestID) || !strings.Contains(e.Error(), e.RequestID) {
		t.Errorf("error %q lacks its tracking ids", e)
	}
	// A fresh token would lack MFA too: no second attempt.
	if n, inv := len(f.cap.Requests()), f.src.invalidations; n != 1 || inv != 0 {
		t.Errorf("sent %d requests and invalidated %d tokens, want 1 and 0", n, inv)
	}
}

func TestCustomersRetriesOnceWithAFreshToken(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.srv.AddCustomer(testserver.CustomerSpec{PartnerCenter: true})
	minted := 0
	f.src.setMint(func() string {
		minted++
		spec := adminSpec(f.srv)
		if minted == 1 {
			spec.Lifetime = -time.Minute // revoked or expired early, as far as the service is concerned
		}
		return f.srv.IssueAccessToken(spec)
	})
	n := 0
	for _, err := range f.pc.Customers(t.Context(), partner.ListOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 1 || f.src.invalidations != 1 {
		t.Errorf("listed %d customers with %d invalidations, want 1 and 1", n, f.src.invalidations)
	}
}

func TestCustomersWaitsOutThrottling(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.srv.AddCustomer(testserver.CustomerSpec{PartnerCenter: true})
	faulttest.Bubble(t, f.srv, func(t *testing.T) {
		f.srv.Inject(testserver.Fault{Kind: testserver.Throttle, Service: "partner", RetryAfter: "1", Count: 2})
		start := time.Now()
		n := 0
		for _, err := range f.pc.Customers(t.Context(), partner.ListOptions{}) {
			require.NoError(t, err)
			n++
		}
		assert.Equal(t, 1, n, "customers listed")
		assert.Equal(t, 2, f.srv.Count(func(r testserver.Request) bool { return r.Fault == "throttle" }), "throttled requests")
		assert.Equal(t, 2*fastRetries.MaxRetryAfter, time.Since(start), "two Retry-After waits of 1s, capped by the retry policy")
	})

	f.srv.Inject(testserver.Fault{Kind: testserver.Throttle, Service: "partner", RetryAfter: "1"})
	for _, err := range f.pc.Customers(t.Context(), partner.ListOptions{}) {
		if !errors.Is(err, partner.ErrThrottled) {
			t.Errorf("persistent throttling: got %v, want ErrThrottled", err)
		}
		break
	}
}

func TestCustomersErrorBodies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		fault testserver.Fault
		want  string
	}{
		{"html", testserver.Fault{Kind: testserver.HTML, Status: 502}, "(text/html)"},
		{"empty", testserver.Fault{Kind: testserver.Empty, Status: 500}, "empty body"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, partner.WithRetryPolicy(token.RetryPolicy{MaxAttempts: 1}))
			tc.fault.Service = "partner"
			f.srv.Inject(tc.fault)
			var e *partner.Error
			for _, err := range f.pc.Customers(t.Context(), partner.ListOptions{}) {
				if !errors.As(err, &e) {
					t.Fatalf("got %v, want a *partner.Error", err)
				}
				break
			}
			if e.StatusCode != tc.fault.Status || e.Code != "" || !strings.Contains(e.Description, tc.want) {
				t.Errorf("got %d %q %q, want %d with %q", e.StatusCode, e.Code, e.Description, tc.fault.Status, tc.want)
			}
		})
	}

	f := setup(t)
	f.srv.Inject(testserver.Fault{Kind: testserver.Truncated, Service: "partner"})
	for _, err := range f.pc.Customers(t.Context(), partner.ListOptions{}) {
		if err == nil || !strings.Contains(err.Error(), "decoding a page") {
			t.Errorf("truncated page: got %v, want a decoding error", err)
		}
		break
	}
}

// TestCustomersStaysOnItsHost serves a page whose next link points at
// another host: the client must not send its token there.
func TestCustomersStaysOnItsHost(t *testing.T) {
	t.Parallel()
	var elsewhere atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere.Add(1) }))
	defer evil.Close()
	pcs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{
			"items": []map[string]any{{"id": "a"}},
			"links": map[string]any{"next": map[string]any{"uri": evil.URL + "/v1/customers", "method": "GET"}},
		})
	}))
	defer pcs.Close()
	src := &source{mint: func() string { return "eyJ.test.token" }}
	pc, err := partner.New(src, partner.WithBaseURL(pcs.URL), partner.WithHTTPClient(pcs.Client()))
	if err != nil {
		t.Fatal(err)
	}
	var n int
	var last error
	for _, err := range pc.Customers(t.Context(), partner.ListOptions{}) {
		if err != nil {
			last = err
			break
		}
		n++
	}
	if n != 1 || last == nil || !strings.Contains(last.Error(), "another host") || elsewhere.Load() != 0 {
		t.Errorf("got %d customers, error %v, %d requests to the other host", n, last, elsewhere.Load())
	}
}

func TestNewChecksOptions(t *testing.T) {
	t.Parallel()
	src := &source{mint: func() string { return "x" }}
	for name, opts := range map[string][]partner.Option{
		"plain http":   {partner.WithBaseURL("http://api.partnercenter.microsoft.com")},
		"query":        {partner.WithBaseURL("https://api.partnercenter.microsoft.com?x=1")},
		"nil client":   {partner.WithHTTPClient(nil)},
		"nil logger":   {partner.WithLogger(nil)},
		"negative try": {partner.WithRetryPolicy(token.RetryPolicy{MaxAttempts: -1})},
	} {
		if _, err := partner.New(src, opts...); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
	if _, err := partner.New(nil); err == nil {
		t.Error("New accepted a nil source")
	}
}
