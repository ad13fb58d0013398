package sam

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/samkit/samkit/cloud"
	"github.com/samkit/samkit/exchange"
	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/internal/httpx"
	"github.com/samkit/samkit/partner"
	"github.com/samkit/samkit/token"
)

// Check names one access check.
type Check string

// The access checks. Each one asks for a token and makes one small read
// with it, so that a pass means the access works end to end, not merely
// that a token was issued.
const (
	// CheckDelegatedGraph: a delegated Graph token in the customer tenant
	// (the SAM app acting as the partner's admin, through GDAP) and
	// GET /users?$top=1.
	CheckDelegatedGraph Check = "delegated-graph"
	// CheckDelegatedExchange: a delegated Exchange Online token in the
	// customer tenant and Get-OrganizationConfig through the admin API.
	CheckDelegatedExchange Check = "delegated-exchange"
	// CheckAppGraph: an app-only Graph token in the customer tenant (which
	// needs the app consented there) and GET /organization.
	CheckAppGraph Check = "app-graph"
	// CheckPartnerCenter: a delegated Partner Center token in the partner
	// tenant and the first page of the customer list. It runs once per
	// run, not per tenant.
	CheckPartnerCenter Check = "partner-center"
)

// Checks chooses the checks Partner.Check runs. The zero value means
// DelegatedGraph and DelegatedExchange: Graph and Exchange as the
// partner's admin in every tenant, the checks the PowerShell test script
// made.
type Checks struct {
	DelegatedGraph, DelegatedExchange, AppGraph, PartnerCenter bool
}

// perTenant returns the chosen per-tenant checks in the order they run.
func (c Checks) perTenant() []Check {
	var out []Check
	for _, k := range []struct {
		on bool
		c  Check
	}{{c.DelegatedGraph, CheckDelegatedGraph}, {c.DelegatedExchange, CheckDelegatedExchange}, {c.AppGraph, CheckAppGraph}} {
		if k.on {
			out = append(out, k.c)
		}
	}
	return out
}

// DefaultConcurrency is how many tenants Partner.Check checks at once by
// default. Each worker has one request in flight at a time, so this is
// also the number of concurrent requests. Most service limits are per
// tenant (Graph throttles each app in each tenant separately; Exchange and
// the token endpoint count per tenant too), so tenants checked in parallel
// do not share a budget. The one shared budget, Graph's per-app limit
// across all tenants (130,000 requests per 10 seconds,
// https://learn.microsoft.com/graph/throttling-limits), is far above what
// 32 workers send. 32 turns a 1,000-tenant run at 100 ms per request into
// about 13 seconds instead of 7 minutes, while keeping the burst of token
// requests, all from one app, modest.
const DefaultConcurrency = 32

// CheckOptions configures Partner.Check.
type CheckOptions struct {
	// Checks chooses the checks (see Checks for the zero value). With
	// CheckPartnerCenter alone, the tenants are not visited.
	Checks Checks
	// ExchangeAPI chooses the admin API the Exchange check calls:
	// exchange.APIBeta (InvokeCommand, which Exchange.Manage opens; the
	// default when empty) or exchange.APIV2 (the Exchange Online Admin API
	// v2.0, whose OrganizationConfig endpoint needs Exchange.ManageV2).
	ExchangeAPI exchange.API
	// Progress, when set, is called after each tenant is checked, with its
	// result, how many tenants are done and how many there are. Calls are
	// serialised, so it needs no locking, and a slow Progress slows the
	// run.
	Progress func(r TenantResult, done, total int)

	// checked, when set, is called by the worker that checked tenants[i],
	// before Progress, so that Partner.Doctor reads the tenant's consent in
	// the same worker pass, with the run's clients and throttling gate.
	checked func(ctx context.Context, r *run, i int, res TenantResult)
}

// Check checks, for each of tenants (typically from Tenants), the access
// that opts.Checks names, concurrently (WithConcurrency, DefaultConcurrency
// by default), and reports each outcome with the service's error code and
// a hint a person can act on. Each tenant costs one token request per
// resource and kind (delegated, app-only) the checks use, unless the
// Provider has the token cached already.
//
// A tenant that fails never stops the others. Throttling slows the whole
// run: when any request is throttled, every worker waits out the
// service's Retry-After before its next request (capped by the retry
// policy's MaxRetryAfter, see WithRetryPolicy), since more requests from
// the same app would only prolong it.
//
// When ctx ends, the checks under way return at once and Check returns
// the report of what was done, with AccessReport.Cancelled set and the
// checks not done marked OutcomeSkipped, together with ctx's error.
//
// A failure of the credentials themselves (see StopsRun) stops the run
// the same way: every other check would fail alike, and a partner with
// 2,000 customers would spend 2,000 token requests to learn it 2,000
// times. The report then holds that failure in AccessReport.Stopped and
// the checks not done as OutcomeSkipped; Check returns no error.
func (p *Partner) Check(ctx context.Context, tenants []Tenant, opts CheckOptions) (*AccessReport, error) {
	if a := opts.ExchangeAPI; a != "" && a != exchange.APIBeta && a != exchange.APIV2 {
		return nil, fmt.Errorf("sam: Partner.Check: unknown CheckOptions.ExchangeAPI %q: use exchange.APIBeta or exchange.APIV2", a)
	}
	conc := p.concurrency
	if conc == 0 {
		conc = DefaultConcurrency
	}
	checks := opts.Checks
	if checks == (Checks{}) {
		checks = Checks{DelegatedGraph: true, DelegatedExchange: true}
	}
	r := p.newRun(checks, opts.ExchangeAPI)
	parent := ctx
	ctx, r.stop = context.WithCancelCause(ctx)
	defer r.stop(nil)
	rep := &AccessReport{Started: time.Now(), Concurrency: conc, Checks: checks.perTenant()}
	if checks.PartnerCenter {
		rep.Checks = append(rep.Checks, CheckPartnerCenter)
	}

	// A fixed pool of workers takes the jobs in order: job 0 is the Partner
	// Center check when chosen, the others are the tenants. Long-lived
	// workers keep their grown stacks from one tenant to the next.
	var jobs []func()
	if checks.PartnerCenter {
		jobs = append(jobs, func() {
			res := r.check(ctx, CheckPartnerCenter, Tenant{ID: r.partnerTenant}, r.partnerCenter)
			rep.PartnerCenter = &res
		})
	}
	first := len(jobs)
	if len(r.checks) > 0 {
		rep.Tenants = make([]TenantResult, len(tenants))
	}
	started := make([]bool, len(rep.Tenants))
	var (
		mu   sync.Mutex
		done int
		next atomic.Int64
		wg   sync.WaitGroup
	)
	n := first + len(rep.Tenants)
	for range min(conc, n) {
		wg.Go(func() {
			for {
				j := int(next.Add(1) - 1)
				if j >= n || j >= first && ctx.Err() != nil {
					return
				}
				if j < first {
					jobs[j]()
					continue
				}
				i := j - first
				started[i] = true
				res := r.tenant(ctx, tenants[i])
				rep.Tenants[i] = res
				if opts.checked != nil {
					opts.checked(ctx, r, i, res)
				}
				if opts.Progress != nil {
					mu.Lock()
					done++
					opts.Progress(res, done, len(rep.Tenants))
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	for i, ok := range started {
		if !ok {
			rep.Tenants[i] = r.skipTenant(ctx, tenants[i])
		}
	}
	rep.Throttled = int(r.gate.throttled.Load())
	rep.ThrottledWait = r.gate.shut()
	rep.Stopped = r.stopped()
	rep.tally()
	rep.Duration = time.Since(rep.Started)
	if err := parent.Err(); err != nil {
		rep.Cancelled = true
		return rep, err
	}
	return rep, nil
}

// run is what every worker of one Check call shares.
type run struct {
	p             *token.Provider
	cloud         cloud.Configuration
	checks        []Check
	partnerTenant string
	gate          *throttleGate
	// stop ends the run with a credential failure as its cause.
	stop context.CancelCauseFunc
	// first is the first credential failure, which stopped the run.
	firstMu sync.Mutex
	first   *CheckResult

	graphOpts    []graph.Option
	exchangeOpts []exchange.Option
	partnerOpts  []partner.Option
	// graph and exchange build, once, the clients whose views (For) the
	// tenants' checks use: a client per tenant would check the same
	// options again for every tenant.
	graph    func() (*graph.Client, error)
	exchange func() (*exchange.Client, error)
	// graphScope and exchangeScope are the cloud's scopes, built once
	// rather than for every tenant.
	graphScope, exchangeScope string
}

func (p *Partner) newRun(checks Checks, api exchange.API) *run {
	// The Provider's client, below its retries, and the Partner's policy:
	// the checks' retries run above the gate, which so sees every
	// throttled attempt.
	base, policy := p.p.HTTPClient(), p.retry
	r := &run{
		p:             p.p,
		cloud:         p.p.Cloud(),
		checks:        checks.perTenant(),
		partnerTenant: p.p.TenantID(),
		gate:          newThrottleGate(httpx.RetryPolicy(policy)),
	}
	r.graphScope, r.exchangeScope = r.cloud.Graph.Scope(), r.cloud.Exchange.Scope()
	next := base.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	hc := &http.Client{Transport: &gateTransport{gate: r.gate, next: next}, Timeout: base.Timeout, Jar: base.Jar, CheckRedirect: base.CheckRedirect}

	// Each tenant gets its own clients (a client is bound to one token
	// source), views of one built with these options: they share the
	// connections and the retry policy.
	r.graphOpts = []graph.Option{graph.WithCloud(r.cloud), graph.WithHTTPClient(hc), graph.WithRetryPolicy(policy),
		graph.WithConsistencyRetry(0)}
	r.exchangeOpts = []exchange.Option{exchange.WithCloud(r.cloud), exchange.WithHTTPClient(hc), exchange.WithRetryPolicy(policy),
		exchange.WithAPI(api)}
	r.partnerOpts = []partner.Option{partner.WithCloud(r.cloud), partner.WithHTTPClient(hc), partner.WithRetryPolicy(policy)}
	if p.log != nil {
		r.graphOpts = append(r.graphOpts, graph.WithLogger(p.log))
		r.exchangeOpts = append(r.exchangeOpts, exchange.WithLogger(p.log))
		r.partnerOpts = append(r.partnerOpts, partner.WithLogger(p.log))
	}
	r.graph = sync.OnceValues(func() (*graph.Client, error) {
		return graph.New(r.p.Source(r.partnerTenant, r.graphScope), r.graphOpts...)
	})
	r.exchange = sync.OnceValues(func() (*exchange.Client, error) {
		return exchange.New(r.p.Source(r.partnerTenant, r.exchangeScope), r.partnerTenant, r.exchangeOpts...)
	})
	return r
}

// graphFor returns a Graph client for src, a view of the run's.
func (r *run) graphFor(src token.Source) (*graph.Client, error) {
	c, err := r.graph()
	if err != nil {
		return nil, err
	}
	return c.For(src)
}

// tenant runs the per-tenant checks on t, one after the other, so that a
// worker has one request in flight at a time.
func (r *run) tenant(ctx context.Context, t Tenant) TenantResult {
	start := time.Now()
	res := TenantResult{Tenant: t, Checks: make([]CheckResult, 0, len(r.checks))}
	for _, c := range r.checks {
		if ctx.Err() != nil {
			res.Checks = append(res.Checks, skipped(c, notDone(ctx)))
			continue
		}
		var f func(context.Context, Tenant) error
		switch c {
		case CheckDelegatedGraph:
			f = r.delegatedGraph
		case CheckDelegatedExchange:
			f = r.delegatedExchange
		case CheckAppGraph:
			f = r.appGraph
		}
		res.Checks = append(res.Checks, r.check(ctx, c, t, f))
	}
	res.Duration = time.Since(start)
	return res
}

func (r *run) skipTenant(ctx context.Context, t Tenant) TenantResult {
	res := TenantResult{Tenant: t, Checks: make([]CheckResult, 0, len(r.checks))}
	for _, c := range r.checks {
		res.Checks = append(res.Checks, skipped(c, notDone(ctx)))
	}
	return res
}

func skipped(c Check, why string) CheckResult {
	return CheckResult{Check: c, Outcome: OutcomeSkipped, Message: "not checked: " + why}
}

// notDone says why a check was not done, once ctx has ended.
func notDone(ctx context.Context) string {
	if errors.Is(context.Cause(ctx), errStopped) {
		return "the credentials were refused"
	}
	return "the run was cancelled"
}

// check runs one check and describes its outcome.
func (r *run) check(ctx context.Context, c Check, t Tenant, f func(context.Context, Tenant) error) CheckResult {
	start := time.Now()
	err := f(ctx, t)
	res := CheckResult{Check: c, Outcome: OutcomePassed, Duration: time.Since(start)}
	switch {
	case err == nil:
	case ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)):
		res.Outcome, res.Message, res.Err = OutcomeSkipped, "not finished: "+notDone(ctx), err
	default:
		res.Outcome = OutcomeFailed
		describe(&res, t, err)
		if StopsRun(c, err) {
			r.stopWith(res)
		}
	}
	return res
}

// StopsRun reports whether err, the failure of check c, is the identity
// platform refusing the credentials themselves rather than anything about
// one tenant, so that every other check of the run would fail the same
// way: a client secret or certificate that is wrong or expired
// (token.ErrInvalidClient), or a SAM refresh token that is revoked,
// expired or malformed. A refresh token failure of CheckDelegatedExchange
// does not stop a run: it may be the legacy Exchange refresh token's
// alone (Credentials.ExchangeRefreshToken), while Graph still works.
func StopsRun(c Check, err error) bool {
	var te *token.Error
	switch {
	case !errors.As(err, &te):
		return false
	case errors.Is(te, token.ErrInvalidClient):
		return true
	case c == CheckDelegatedExchange || c == CheckAppGraph:
		return false
	}
	// AADSTS9002313: the refresh token is not one (garbled, truncated).
	return errors.Is(te, token.ErrRevoked) || errors.Is(te, token.ErrRefreshTokenExpired) || slices.Contains(te.Codes, 9002313)
}

// errStopped is the cause of a run stopped by a credential failure.
var errStopped = errors.New("sam: the run stopped: the credentials were refused")

// stopWith records res as the failure that stops the run, unless one did
// already, and stops it.
func (r *run) stopWith(res CheckResult) {
	r.firstMu.Lock()
	if r.first == nil {
		r.first = &res
	}
	r.firstMu.Unlock()
	r.stop(errStopped)
}

func (r *run) stopped() *CheckResult {
	r.firstMu.Lock()
	defer r.firstMu.Unlock()
	return r.first
}

// token gets src's token through the throttling gate: it waits for the
// gate before each attempt, its retries included, and a throttled attempt
// shuts the gate for every worker. The API client asks src again and
// finds it in the Provider's cache; asking here first tells a token
// failure apart from an API one and keeps the API call's time apart from
// the token's.
func (r *run) token(ctx context.Context, src token.Source) error {
	if err := r.gate.wait(ctx); err != nil {
		return err
	}
	_, err := src.Token(httpx.WithGate(ctx, r.gate))
	// A 429 shut the gate as it arrived; the identity platform's other
	// throttling answers (a request loop, AADSTS50196) come as 400s.
	var te *token.Error
	if errors.Is(err, token.ErrThrottled) && errors.As(err, &te) && te.StatusCode != http.StatusTooManyRequests {
		r.gate.pause(0)
	}
	return err
}

func (r *run) delegatedGraph(ctx context.Context, t Tenant) error {
	src := r.p.Source(t.ID, r.graphScope)
	if err := r.token(ctx, src); err != nil {
		return err
	}
	c, err := r.graphFor(src)
	if err != nil {
		return err
	}
	// One user is proof enough; stop before a second page.
	for _, err := range c.Users(ctx, graph.ListOptions{Top: 1, Select: []string{"id"}}) {
		return err
	}
	return nil
}

func (r *run) delegatedExchange(ctx context.Context, t Tenant) error {
	src := r.p.Source(t.ID, r.exchangeScope)
	if err := r.token(ctx, src); err != nil {
		return err
	}
	x, err := r.exchange()
	if err != nil {
		return err
	}
	c, err := x.For(src, t.ID)
	if err != nil {
		return err
	}
	for _, err := range c.Invoke(ctx, "Get-OrganizationConfig", nil) {
		return err
	}
	return nil
}

func (r *run) appGraph(ctx context.Context, t Tenant) error {
	src := r.p.AppSource(t.ID, r.graphScope)
	if err := r.token(ctx, src); err != nil {
		return err
	}
	c, err := r.graphFor(src)
	if err != nil {
		return err
	}
	_, err = c.Organization(ctx)
	return err
}

func (r *run) partnerCenter(ctx context.Context, t Tenant) error {
	src := r.p.Source(t.ID, r.cloud.PartnerCenter.Scope())
	if err := r.token(ctx, src); err != nil {
		return err
	}
	c, err := partner.New(src, r.partnerOpts...)
	if err != nil {
		return err
	}
	for _, err := range c.Customers(ctx, partner.ListOptions{PageSize: 1}) {
		return err
	}
	return nil
}
