package sam_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/internal/faulttest"
	"github.com/samkit/samkit/internal/faulttest/inproc"
	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/sam"
	"github.com/samkit/samkit/token"
)

// want is the expected outcome of one check: "" for a pass, else the
// failure's code and words its hint must hold.
type want struct {
	code string
	hint []string
}

func TestCheckAccessEveryState(t *testing.T) {
	t.Parallel()
	w := newAccessWorld(t)
	gdap := func(name string) testserver.CustomerSpec { return testserver.CustomerSpec{Name: name, GDAP: true} }

	healthy := w.customer(t, gdap("Healthy"), true)
	noConsent := w.customer(t, gdap("No Consent"), false)
	outside := w.customer(t, testserver.CustomerSpec{Name: "Outside Groups", GDAP: true, AdminOutsideGDAPGroups: true}, true)
	mfa := w.customer(t, testserver.CustomerSpec{Name: "Demands MFA", GDAP: true, DemandMFA: true}, true)
	exDeny := w.customer(t, testserver.CustomerSpec{Name: "Exchange Denies", GDAP: true, ExchangeDeny: true}, true)
	throttled := w.customer(t, gdap("Throttled"), true)
	deleted := w.customer(t, gdap("Deleted"), true)
	w.s.Mutate(func(world *testserver.World) { world.Tenants[deleted.ID].Deleted = true })
	// Graph throttles the tenant's first two calls, asking for a second's
	// pause that fastRetry caps.
	w.s.Inject(testserver.Fault{Kind: testserver.Throttle, Service: "graph", Tenant: throttled.ID, Count: 2, RetryAfter: "1"})

	pass := want{}
	consent := func(id string) want {
		return want{"AADSTS90099", []string{"push CPV consent", "samctl consent push " + id}}
	}
	cases := []struct {
		tenant               sam.Tenant
		graph, exchange, app want
	}{
		{healthy, pass, pass, pass},
		{noConsent, consent(noConsent.ID), want{"AADSTS90099", []string{"push CPV consent", "samctl consent push " + noConsent.ID}},
			want{"AADSTS700016", []string{"service principal", "samctl consent push " + noConsent.ID}}},
		{outside, want{"AADSTS50020", []string{"security groups", "GDAP relationship"}}, want{"AADSTS50020", []string{"security groups"}}, pass},
		{mfa, want{"AADSTS50076", []string{"Conditional Access", "MFA"}}, want{"AADSTS50076", []string{"Conditional Access"}}, pass},
		{exDeny, pass, want{"Forbidden", []string{"Exchange Administrator", "GDAP"}}, pass},
		{throttled, pass, pass, pass},
		{deleted, want{"AADSTS90002", []string{"no longer exists", "end the partner's relationships"}},
			want{"AADSTS90002", []string{"no longer exists"}}, want{"AADSTS90002", []string{"no longer exists"}}},
	}
	tenants := make([]sam.Tenant, len(cases))
	for i, c := range cases {
		tenants[i] = c.tenant
	}

	var (
		mu       sync.Mutex
		progress []string
		lastDone int
	)
	opts := w.options(tenants, sam.Checks{DelegatedGraph: true, DelegatedExchange: true, AppGraph: true, PartnerCenter: true})
	opts.Progress = func(r sam.TenantResult, done, total int) {
		mu.Lock()
		defer mu.Unlock()
		if done != lastDone+1 || total != len(cases) {
			t.Errorf("Progress(%s, done %d, total %d) after done %d", r.Tenant.DisplayName, done, total, lastDone)
		}
		lastDone = done
		progress = append(progress, r.Tenant.ID)
	}
	rep, err := w.check(t.Context(), t, opts)
	if err != nil {
		t.Fatalf("CheckAccess: %v", err)
	}
	if len(progress) != len(cases) {
		t.Errorf("Progress called %d times, want %d", len(progress), len(cases))
	}

	for i, c := range cases {
		r := rep.Tenants[i]
		if r.Tenant.ID != c.tenant.ID {
			t.Fatalf("Tenants[%d] is %s, want %s (report order is input order)", i, r.Tenant.ID, c.tenant.ID)
		}
		if len(r.Checks) != 3 {
			t.Fatalf("%s: %d checks, want 3", c.tenant.DisplayName, len(r.Checks))
		}
		for j, wc := range []struct {
			check sam.Check
			want  want
		}{{sam.CheckDelegatedGraph, c.graph}, {sam.CheckDelegatedExchange, c.exchange}, {sam.CheckAppGraph, c.app}} {
			assertCheck(t, c.tenant.DisplayName, r.Checks[j], wc.check, wc.want)
		}
	}
	if pc := rep.PartnerCenter; pc == nil || !pc.OK() {
		t.Errorf("PartnerCenter = %+v, want a pass", pc)
	}

	wantTotals := map[sam.Check]sam.Tally{
		sam.CheckDelegatedGraph:    {Passed: 3, Failed: 4},
		sam.CheckDelegatedExchange: {Passed: 2, Failed: 5},
		sam.CheckAppGraph:          {Passed: 5, Failed: 2},
		sam.CheckPartnerCenter:     {Passed: 1},
	}
	for c, wt := range wantTotals {
		if got := rep.Totals[c]; got != wt {
			t.Errorf("Totals[%s] = %+v, want %+v", c, got, wt)
		}
		if rep.Totals[c].Total() != len(cases) && c != sam.CheckPartnerCenter {
			t.Errorf("Totals[%s] add up to %d, want %d", c, rep.Totals[c].Total(), len(cases))
		}
	}
	if got, want := rep.Summary(), "7 total tenants, with 5 failures"; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
	if got := len(rep.Failures()); got != 5 {
		t.Errorf("len(Failures()) = %d, want 5", got)
	}
	if rep.OK() || rep.Cancelled {
		t.Errorf("OK() = %v, Cancelled = %v; want false, false", rep.OK(), rep.Cancelled)
	}
	if rep.Throttled != 2 {
		t.Errorf("Throttled = %d, want 2 (the two 429s of the throttled tenant)", rep.Throttled)
	}

	// One token request per tenant, resource and kind, failures included.
	type key struct{ tenant, grant, scope string }
	seen := map[key]int{}
	for _, r := range w.s.Requests() {
		if r.IsToken() {
			seen[key{r.Tenant, r.Grant(), strings.Fields(r.Form.Get("scope"))[0]}]++
		}
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%d token requests for %+v, want 1", n, k)
		}
	}
	if got, want := len(seen), 3*len(cases)+1; got != want {
		t.Errorf("token requests for %d tenant/resource/kind triples, want %d", got, want)
	}
	if got, want := w.ct.TokenRequests(), int64(3*len(cases)+1); got != want {
		t.Errorf("CountingTransport saw %d token requests, want %d", got, want)
	}
	if got, want := w.ct.Requests(), int64(w.s.TotalRequests()); got != want {
		t.Errorf("CountingTransport saw %d requests, the fake %d", got, want)
	}
}

func assertCheck(t *testing.T, tenant string, got sam.CheckResult, check sam.Check, w want) {
	t.Helper()
	if got.Check != check {
		t.Errorf("%s: check %s, want %s", tenant, got.Check, check)
		return
	}
	if w.code == "" {
		if !got.OK() {
			t.Errorf("%s %s: %s %s (%s), want a pass", tenant, check, got.Outcome, got.Code, got.Message)
		}
		return
	}
	if got.Outcome != sam.OutcomeFailed || got.Code != w.code {
		t.Errorf("%s %s: %s %q, want failed %q (message %q)", tenant, check, got.Outcome, got.Code, w.code, got.Message)
	}
	for _, h := range w.hint {
		if !strings.Contains(got.Hint, h) {
			t.Errorf("%s %s: hint %q lacks %q", tenant, check, got.Hint, h)
		}
	}
	if got.Err == nil || got.Message == "" || got.Status == 0 {
		t.Errorf("%s %s: Err %v, Message %q, Status %d; want all set", tenant, check, got.Err, got.Message, got.Status)
	}
}

func TestCheckAccessDefaultChecksSentinels(t *testing.T) {
	t.Parallel()
	w := newAccessWorld(t)
	ok := w.customer(t, testserver.CustomerSpec{Name: "Fine", GDAP: true}, true)
	bad := w.customer(t, testserver.CustomerSpec{Name: "Unconsented", GDAP: true}, false)
	rep, err := w.check(t.Context(), t, w.options([]sam.Tenant{ok, bad}, sam.Checks{}))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rep.Checks, []sam.Check{sam.CheckDelegatedGraph, sam.CheckDelegatedExchange}; !equalChecks(got, want) {
		t.Fatalf("Checks = %v, want the default %v", got, want)
	}
	if rep.PartnerCenter != nil {
		t.Errorf("PartnerCenter ran without being chosen")
	}
	if !errors.Is(rep.Tenants[1].Checks[0].Err, token.ErrConsentRequired) {
		t.Errorf("Err = %v, want one matching token.ErrConsentRequired", rep.Tenants[1].Checks[0].Err)
	}
	if rep.Tenants[0].Failed() || !rep.Tenants[1].Failed() {
		t.Errorf("Failed() = %v, %v; want false, true", rep.Tenants[0].Failed(), rep.Tenants[1].Failed())
	}
}

func equalChecks(a, b []sam.Check) bool {
	return strings.Join(checkNames(a), ",") == strings.Join(checkNames(b), ",")
}

func checkNames(cs []sam.Check) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = string(c)
	}
	return out
}

func TestCheckAccessCancel(t *testing.T) {
	t.Parallel()
	w := newAccessWorld(t)
	const n = 40
	tenants := make([]sam.Tenant, n)
	for i := range tenants {
		tenants[i] = w.customer(t, testserver.CustomerSpec{GDAP: true}, true)
	}
	// In a bubble, where the latency and the cancellation's aftermath are
	// fake time, served in process as a bubble needs.
	w.ct.Base = inproc.Transport{Handler: w.s.Handler()}
	faulttest.Bubble(t, w.s, func(t *testing.T) { checkAccessCancel(t, w, tenants) })
}

func checkAccessCancel(t *testing.T, w *accessWorld, tenants []sam.Tenant) {
	n := len(tenants)
	w.s.Inject(testserver.Fault{Kind: testserver.Latency, Latency: 200 * time.Millisecond})

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var cancelledAt time.Time
	opts := w.options(tenants, sam.Checks{})
	opts.concurrency = 4
	opts.Progress = func(_ sam.TenantResult, done, _ int) {
		if done == 3 {
			cancelledAt = time.Now()
			cancel()
		}
	}
	rep, err := w.check(ctx, t, opts)
	returned := time.Since(cancelledAt)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("CheckAccess error = %v, want context.Canceled", err)
	}
	if cancelledAt.IsZero() {
		t.Fatal("the run ended before three tenants were done")
	}
	assert.Zero(t, returned, "fake time CheckAccess took to return after the cancellation")
	if rep == nil || !rep.Cancelled || len(rep.Tenants) != n {
		t.Fatalf("report = %+v, want a cancelled report of %d tenants", rep, n)
	}
	passed, skipped := 0, 0
	for _, r := range rep.Tenants {
		if r.Failed() {
			t.Errorf("%s failed: %+v; cancellation is no failure", r.Tenant.ID, r.Checks)
		}
		if r.Skipped() {
			skipped++
			for _, c := range r.Checks {
				if c.Outcome == sam.OutcomeSkipped && c.Message == "" {
					t.Errorf("skipped check without a message")
				}
			}
		} else {
			passed++
		}
	}
	if passed < 3 || skipped == 0 {
		t.Errorf("%d tenants fully checked and %d skipped, want at least 3 and some", passed, skipped)
	}
	for _, c := range rep.Checks {
		if tl := rep.Totals[c]; tl.Total() != n || tl.Skipped == 0 {
			t.Errorf("Totals[%s] = %+v, want %d in all, some skipped", c, tl, n)
		}
	}
	if s := rep.Summary(); !strings.Contains(s, "cancelled") {
		t.Errorf("Summary() = %q, want it to say the run was cancelled", s)
	}
}

func TestCheckAccessOptions(t *testing.T) {
	t.Parallel()
	w := newAccessWorld(t)
	_, err := sam.New(w.creds("unused"), sam.WithConcurrency(-1))
	require.Error(t, err, "a negative concurrency")
	assert.Contains(t, err.Error(), "WithConcurrency(-1)")
	rep, err := w.sp.Check(t.Context(), []sam.Tenant{{ID: "00000000-0000-0000-0000-000000000001"}}, sam.CheckOptions{Checks: sam.Checks{PartnerCenter: true}})
	require.NoError(t, err)
	if len(rep.Tenants) != 0 || rep.PartnerCenter == nil || !rep.PartnerCenter.OK() {
		t.Errorf("Partner Center only: %d tenant results, PartnerCenter %+v; want none and a pass in the partner tenant", len(rep.Tenants), rep.PartnerCenter)
	}
	if rep.Concurrency != sam.DefaultConcurrency {
		t.Errorf("Concurrency = %d, want DefaultConcurrency", rep.Concurrency)
	}
}

func TestCheckAccessThroughProviderClient(t *testing.T) {
	t.Parallel()
	w := newAccessWorld(t)
	brief := w.customer(t, testserver.CustomerSpec{Name: "Brief", GDAP: true}, true)
	long := w.customer(t, testserver.CustomerSpec{Name: "Long", GDAP: true}, true)
	// The checks' policy makes four attempts: two 429s are ridden out,
	// ten are not.
	w.s.Inject(testserver.Fault{Kind: testserver.Throttle, Service: "graph", Tenant: brief.ID, Count: 2, RetryAfter: "1"})
	w.s.Inject(testserver.Fault{Kind: testserver.Throttle, Service: "graph", Tenant: long.ID, Count: 10, RetryAfter: "1"})
	opts := w.options([]sam.Tenant{brief, long}, sam.Checks{DelegatedGraph: true})
	rep, err := w.check(t.Context(), t, opts)
	if err != nil {
		t.Fatal(err)
	}
	assertCheck(t, "Brief", rep.Tenants[0].Checks[0], sam.CheckDelegatedGraph, want{})
	assertCheck(t, "Long", rep.Tenants[1].Checks[0], sam.CheckDelegatedGraph, want{"TooManyRequests", []string{"throttling"}})
	// Three attempts for Brief, four (the policy's) for Long, not sixteen:
	// no second layer of retries.
	graphCalls := w.s.Count(func(r testserver.Request) bool { return r.Service == "graph" })
	if graphCalls != 3+4 {
		t.Errorf("%d Graph requests, want 7", graphCalls)
	}
	// The shared backoff sits under the retries in this mode too: it saw
	// every 429, two of Brief's and the four of Long's, and paused for each.
	assert.Equal(t, 2+4, rep.Throttled, "throttling answers counted")
	assert.Positive(t, rep.ThrottledWait, "time spent waiting out the throttling")
}

func TestCheckTokenThrottlingShutsTheGate(t *testing.T) {
	t.Parallel()
	w := newAccessWorld(t)
	brief := w.customer(t, testserver.CustomerSpec{Name: "Brief", GDAP: true}, true)
	other := w.customer(t, testserver.CustomerSpec{Name: "Other", GDAP: true}, true)
	// The identity platform throttles Brief's first two token requests;
	// the Provider's retries ride them out.
	w.s.Inject(testserver.Fault{Kind: testserver.Throttle, Service: "login", Tenant: brief.ID, Count: 2, RetryAfter: "1"})
	rep, err := w.check(t.Context(), t, w.options([]sam.Tenant{brief, other}, sam.Checks{DelegatedGraph: true}))
	require.NoError(t, err)
	assertCheck(t, "Brief", rep.Tenants[0].Checks[0], sam.CheckDelegatedGraph, want{})
	assertCheck(t, "Other", rep.Tenants[1].Checks[0], sam.CheckDelegatedGraph, want{})
	tokens := w.s.Count(func(r testserver.Request) bool { return r.IsToken() && r.Tenant == brief.ID })
	assert.Equal(t, 3, tokens, "Brief's token requests: two throttled, one answered")
	// Each throttled token request shut the gate that every worker waits
	// for, as a throttled Graph request does, though it went through the
	// Provider's client and was retried there.
	assert.Equal(t, 2, rep.Throttled, "throttling answers counted")
	assert.Positive(t, rep.ThrottledWait, "time spent waiting out the throttling")
}

// inFlight is a transport that tracks the most requests it had under way
// at once.
type inFlight struct {
	next     http.RoundTripper
	mu       sync.Mutex
	now, max int
}

func (f *inFlight) RoundTrip(req *http.Request) (*http.Response, error) {
	f.mu.Lock()
	f.now++
	f.max = max(f.max, f.now)
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.now--
		f.mu.Unlock()
	}()
	return f.next.RoundTrip(req)
}

func TestCheckAccessWorkersBoundConcurrency(t *testing.T) {
	t.Parallel()
	cases := []struct{ tenants, concurrency int }{
		{tenants: 12, concurrency: 3},
		{tenants: 2, concurrency: 8},
		{tenants: 5, concurrency: 1},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("N=%d,C=%d", c.tenants, c.concurrency), func(t *testing.T) {
			t.Parallel()
			w := newAccessWorld(t)
			tenants := make([]sam.Tenant, c.tenants)
			for i := range tenants {
				tenants[i] = w.customer(t, testserver.CustomerSpec{GDAP: true}, true)
			}
			w.s.Inject(testserver.Fault{Kind: testserver.Latency, Latency: 5 * time.Millisecond})
			f := &inFlight{next: w.hc.Transport}
			opts := w.options(tenants, sam.Checks{PartnerCenter: true, DelegatedGraph: true})
			opts.hc = &http.Client{Transport: f}
			opts.concurrency = c.concurrency
			rep, err := w.check(t.Context(), t, opts)
			require.NoError(t, err)
			require.True(t, rep.OK(), rep.Summary())
			require.Len(t, rep.Tenants, c.tenants)
			for i, r := range rep.Tenants {
				assert.Equal(t, tenants[i].ID, r.Tenant.ID, "results in the order of the tenants")
			}
			assert.NotNil(t, rep.PartnerCenter, "the Partner Center check ran")
			assert.LessOrEqual(t, f.max, c.concurrency, "API requests under way at once: one per worker at most")
			assert.Positive(t, f.max)
		})
	}
}
