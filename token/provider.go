package token

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/samkit/samkit/cloud"
	"github.com/samkit/samkit/internal/httpx"
)

// ExchangePowerShellClientID is the public client of Exchange Online
// PowerShell, whose refresh tokens LegacyExchangeToken redeems.
const ExchangePowerShellClientID = "a0c73c16-a7e3-4564-9a95-2bdf47383716"

// ErrNoRefreshToken is returned for a delegated or legacy Exchange token
// when Credentials hold no refresh token of that kind.
var ErrNoRefreshToken = errors.New("token: no refresh token")

// Provider obtains access tokens for any tenant and resource from one set
// of Credentials, caches them, and keeps the refresh tokens rotating. It
// is safe for concurrent use; make one per set of credentials and share
// it.
type Provider struct {
	creds  Credentials
	cloud  cloud.Configuration
	pipe   *httpx.Pipeline
	base   *http.Client // what HTTPClient returns; see there
	log    *slog.Logger
	now    func() time.Time
	window time.Duration
	store  RefreshTokenStore
	// ua is the User-Agent header's value, shared by every token request.
	ua []string
	// flightTimeout bounds one token request, retries included; see get.
	flightTimeout time.Duration

	cache    cache
	flightMu sync.Mutex
	flights  map[cacheKey]*flight
	sam      refreshChain
	exchange refreshChain
}

// flight is one token request, shared by the callers that missed the same
// key while it was under way. The first of them makes the request in its
// own goroutine; the others wait for it.
type flight struct {
	done chan struct{} // closed once tok and err are set
	tok  Token
	err  error
	// waiters counts the callers still waiting; guarded by flightMu.
	waiters int
	// cancel ends the request; the last waiter to give up calls it.
	cancel context.CancelFunc
}

// NewProvider checks c and the options and returns a Provider. Errors name
// the missing or wrong field and what to do about it.
func NewProvider(c Credentials, opts ...Option) (*Provider, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if err := c.validate(cfg.now()); err != nil {
		return nil, err
	}
	if err := cfg.cloud.Validate(); err != nil {
		return nil, fmt.Errorf("token: WithCloud: %w", err)
	}
	if err := httpx.RetryPolicy(cfg.policy).Check(); err != nil {
		return nil, fmt.Errorf("token: WithRetryPolicy: %w", err)
	}
	if cfg.window < 0 {
		return nil, fmt.Errorf("token: WithExpiryWindow(%v): the window must not be negative", cfg.window)
	}
	if err := httpx.CheckProduct(cfg.product); err != nil {
		return nil, fmt.Errorf("token: WithUserAgent: %w", err)
	}
	c.TenantID = strings.ToLower(c.TenantID)
	log := httpx.RedactingLogger(cfg.log)
	if httpx.IsGUID(c.ClientSecret.Reveal()) {
		log.Warn("Credentials.ClientSecret has the shape of a GUID: that is a secret's ID, not its value; token requests will fail with AADSTS7000215")
	}
	pipe := httpx.NewPipeline(cfg.base, httpx.RetryPolicy(cfg.policy), log)
	p := &Provider{
		creds:         c,
		cloud:         cfg.cloud,
		pipe:          pipe,
		base:          pipe.Base(),
		log:           log,
		now:           cfg.now,
		window:        cfg.window,
		store:         cfg.store,
		ua:            httpx.UserAgentHeader(cfg.product),
		flightTimeout: flightTimeout(pipe.Policy()),
		sam:           refreshChain{kind: RefreshSAM, rt: c.RefreshToken},
		exchange:      refreshChain{kind: RefreshExchange, rt: c.ExchangeRefreshToken},
	}
	// The chains own the refresh tokens from here on; a copy left in creds
	// would go stale at the first rotation.
	p.creds.RefreshToken, p.creds.ExchangeRefreshToken = Secret{}, Secret{}
	return p, nil
}

// flightTimeout outlasts the pipeline's own bound on a call
// (MaxElapsed) by one attempt, so that a hung token endpoint ends with the
// pipeline's error, which names the host, rather than a bare deadline.
func flightTimeout(p httpx.RetryPolicy) time.Duration {
	return p.MaxElapsed + p.AttemptTimeout
}

// Token returns a delegated token for scope in tenant: the SAM refresh
// token redeemed at {login}/{tenant}/oauth2/v2.0/token with that scope, so
// one refresh token reaches every customer and every resource the admin
// may. scope is one resource's scopes, e.g.
// "https://graph.microsoft.com/.default". tenant is a GUID or domain.
func (p *Provider) Token(ctx context.Context, tenant, scope string) (Token, error) {
	return p.get(ctx, cacheKey{kind: Delegated, client: p.creds.ApplicationID, tenant: lower(tenant), scope: scope})
}

// AppToken returns an app-only token for scope ("{resource}/.default") in
// tenant: the client_credentials grant with the app's secret or
// certificate. It works in a customer tenant once the app is consented
// there.
func (p *Provider) AppToken(ctx context.Context, tenant, scope string) (Token, error) {
	return p.get(ctx, cacheKey{kind: AppOnly, client: p.creds.ApplicationID, tenant: lower(tenant), scope: scope})
}

// LegacyExchangeToken returns an Exchange Online token for tenant from
// Credentials.ExchangeRefreshToken, redeemed as the Exchange Online
// PowerShell public client (no client secret), for tools migrating from
// scripts that kept such a token.
func (p *Provider) LegacyExchangeToken(ctx context.Context, tenant string) (Token, error) {
	return p.get(ctx, p.legacyExchangeKey(tenant))
}

func (p *Provider) legacyExchangeKey(tenant string) cacheKey {
	return cacheKey{kind: LegacyExchange, client: ExchangePowerShellClientID, tenant: lower(tenant), scope: p.cloud.Exchange.Scope()}
}

// Cloud returns the cloud the Provider talks to.
func (p *Provider) Cloud() cloud.Configuration { return p.cloud }

// UserAgent returns the User-Agent of the Provider's token requests,
// which API clients built on its Sources send too: samkit/<version>, after
// the product WithUserAgent named. Give it to clients samkit does not build
// (msgraph-sdk-go, say) so that their requests say who made them.
func (p *Provider) UserAgent() string { return p.ua[0] }

// TenantID returns the tenant of the Credentials the Provider was built
// from: the partner tenant, where app registration and Partner Center
// calls are made.
func (p *Provider) TenantID() string { return p.creds.TenantID }

// ApplicationID returns the application (client) id of the Credentials the
// Provider was built from. Neither accessor reaches a secret: those stay
// inside the Provider.
func (p *Provider) ApplicationID() string { return p.creds.ApplicationID }

// HTTPClient returns the client the Provider's token requests go through,
// below its retries: the one given to WithHTTPClient (a copy, which
// follows no redirect) or the default one. Give it to API clients
// (graph.WithHTTPClient…) so that they share its connections; each adds
// its own retries and bounds over it, so attempts never multiply. The
// same *http.Client is returned on every call.
func (p *Provider) HTTPClient() *http.Client { return p.base }

// RetryPolicy returns the Provider's retry policy, defaults filled in.
func (p *Provider) RetryPolicy() RetryPolicy { return RetryPolicy(p.pipe.Policy()) }

// RefreshToken returns the newest refresh token of kind: the one in
// Credentials, or the latest rotation.
func (p *Provider) RefreshToken(kind RefreshKind) Secret {
	if c := p.chain(kind); c != nil {
		return c.current()
	}
	return Secret{}
}

// Invalidate drops t from the cache, if it is still the cached token for
// its kind, tenant and scope, so that the next request fetches a new one:
// for an API that rejected t before its expiry.
func (p *Provider) Invalidate(t Token) {
	k := cacheKey{kind: t.Kind, client: p.creds.ApplicationID, tenant: t.TenantID, scope: t.Scope}
	if t.Kind == LegacyExchange {
		k.client = ExchangePowerShellClientID
	}
	p.cache.invalidate(k, t)
}

func (p *Provider) chain(kind RefreshKind) *refreshChain {
	switch kind {
	case RefreshSAM:
		return &p.sam
	case RefreshExchange:
		return &p.exchange
	}
	return nil
}

// get serves k from the cache or fetches it. Concurrent misses of one key
// share one request, which the first of them makes in its own goroutine
// while the others wait. That request runs on a context detached from the
// callers' cancellation (bounded by flightTimeout instead): one caller
// giving up must not fail the others. A waiting caller returns as soon as
// its context is done; the caller making the request returns when the
// request ends, which is at once when nobody else waits for it: when the
// last caller has gone the request is cancelled, so that an answer that
// never comes does not hold the key and the next caller starts afresh.
func (p *Provider) get(ctx context.Context, k cacheKey) (Token, error) {
	if tok, ok := p.cache.get(k, p.now()); ok {
		return tok, nil
	}
	if err := ctx.Err(); err != nil {
		return Token{}, err
	}
	if err := p.check(k); err != nil {
		return Token{}, err
	}
	f, fctx := p.join(ctx, k)
	if fctx != nil {
		left := context.AfterFunc(ctx, func() { p.leave(k, f) })
		p.fly(fctx, k, f)
		if !left() {
			return Token{}, ctx.Err()
		}
		return f.tok, f.err
	}
	select {
	case <-ctx.Done():
		p.leave(k, f)
		return Token{}, ctx.Err()
	case <-f.done:
		return f.tok, f.err
	}
}

// join adds the caller to the flight of k. When none is under way it
// starts one and returns the context to make its request on, which the
// caller then does (fly); otherwise the returned context is nil.
func (p *Provider) join(ctx context.Context, k cacheKey) (*flight, context.Context) {
	p.flightMu.Lock()
	defer p.flightMu.Unlock()
	if f := p.flights[k]; f != nil {
		f.waiters++
		return f, nil
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.flightTimeout)
	f := &flight{done: make(chan struct{}), waiters: 1, cancel: cancel}
	if p.flights == nil {
		p.flights = make(map[cacheKey]*flight)
	}
	p.flights[k] = f
	return f, fctx
}

// leave takes a caller that gave up off f; the last one cancels it. A
// rotated refresh token that was on its way then goes unused: rotation
// revokes nothing, so the refresh token held before stays good.
func (p *Provider) leave(k cacheKey, f *flight) {
	p.flightMu.Lock()
	defer p.flightMu.Unlock()
	f.waiters--
	if f.waiters == 0 {
		if p.flights[k] == f {
			delete(p.flights, k)
		}
		f.cancel()
	}
}

// fly performs f's request and hands its result to the waiters.
func (p *Provider) fly(ctx context.Context, k cacheKey, f *flight) {
	defer f.cancel()
	// A flight that ended just before this one began has filled the
	// cache.
	tok, ok := p.cache.get(k, p.now())
	var err error
	if !ok {
		if tok, err = p.redeem(ctx, k); err == nil {
			p.cache.put(k, tok, p.now(), p.window)
		}
	}
	p.flightMu.Lock()
	if p.flights[k] == f {
		delete(p.flights, k)
	}
	p.flightMu.Unlock()
	f.tok, f.err = tok, err
	close(f.done)
}

// check validates a request before it reaches the network.
func (p *Provider) check(k cacheKey) error {
	if err := httpx.ValidTenant(k.tenant); err != nil {
		return fmt.Errorf("token: %w", err)
	}
	if strings.TrimSpace(k.scope) == "" {
		return errors.New("token: empty scope: ask for one resource's scopes, e.g. https://graph.microsoft.com/.default")
	}
	if k.kind == AppOnly && (strings.ContainsAny(k.scope, " \t") || !strings.HasSuffix(k.scope, "/.default")) {
		return fmt.Errorf("token: app-only scope %q must be one resource's .default scope, e.g. https://graph.microsoft.com/.default", k.scope)
	}
	switch {
	case k.kind == Delegated && p.sam.current().IsZero():
		return fmt.Errorf("%w: Credentials.RefreshToken is empty: run the consent sign-in (samctl setup) to get one", ErrNoRefreshToken)
	case k.kind == LegacyExchange && p.exchange.current().IsZero():
		return fmt.Errorf("%w: Credentials.ExchangeRefreshToken is empty: it comes from an Exchange Online PowerShell sign-in; prefer the SAM app's own Exchange token (Token with the Exchange scope)", ErrNoRefreshToken)
	}
	return nil
}

// lower folds a tenant's case, so that "Contoso.com" and "contoso.com"
// share a cache entry; strings.ToLower allocates nothing for a string
// already in lower case, the common case on the cache's hit path.
func lower(tenant string) string { return strings.ToLower(tenant) }
