package token

import (
	"context"
	"net/http"

	"github.com/samkit/samkit/cloud"

	"golang.org/x/oauth2"
)

// Source supplies tokens for one tenant and scope; API clients take one.
// Token may be called from many goroutines at once and returns a token
// valid for at least the Provider's expiry window, fetching one only when
// the cached one is too close to expiry.
type Source interface {
	Token(ctx context.Context) (Token, error)
}

// Invalidator is implemented by Sources that cache. Invalidate drops t so
// that the next Token call fetches a fresh one; API clients call it when a
// service rejects a token as expired or revoked (HTTP 401) before its
// expiry. A token other than the cached one is ignored.
type Invalidator interface {
	Invalidate(Token)
}

// Origin is implemented by the Sources a Provider returns. API clients
// built on such a Source (graph.New, partner.New, exchange.New) send to its
// cloud and through its HTTP client unless their options say otherwise, so
// that a sandbox or sovereign-cloud token never goes to the public cloud.
type Origin interface {
	// Cloud returns the cloud the Source's tokens are issued in.
	Cloud() cloud.Configuration
	// HTTPClient returns the client the Source's token requests go
	// through, below their retries (see Provider.HTTPClient).
	HTTPClient() *http.Client
}

// UserAgentSource is implemented by the Sources a Provider returns: API
// clients built on one send the User-Agent its token requests carry (see
// Provider.UserAgent), unless their options name a product, so that a
// sign-in log and a service's trace name one product for the tokens and
// the calls. It is an interface of its own, not a method of Origin, so
// that a Source of someone else's that implements Origin stays one.
type UserAgentSource interface {
	UserAgent() string
}

// Source returns a Source of delegated tokens (see Provider.Token) for
// tenant and scope.
func (p *Provider) Source(tenant, scope string) Source {
	return &boundSource{p: p, key: cacheKey{kind: Delegated, client: p.creds.ApplicationID, tenant: lower(tenant), scope: scope}}
}

// AppSource returns a Source of app-only tokens (see Provider.AppToken)
// for tenant and scope.
func (p *Provider) AppSource(tenant, scope string) Source {
	return &boundSource{p: p, key: cacheKey{kind: AppOnly, client: p.creds.ApplicationID, tenant: lower(tenant), scope: scope}}
}

// LegacyExchangeSource returns a Source of legacy Exchange tokens (see
// Provider.LegacyExchangeToken) for tenant.
func (p *Provider) LegacyExchangeSource(tenant string) Source {
	return &boundSource{p: p, key: p.legacyExchangeKey(tenant)}
}

// boundSource is a Provider bound to one cache key, built once so that
// each Token call is a bare cache lookup.
type boundSource struct {
	p   *Provider
	key cacheKey
}

func (s *boundSource) Token(ctx context.Context) (Token, error) { return s.p.get(ctx, s.key) }

func (s *boundSource) Invalidate(t Token) { s.p.cache.invalidate(s.key, t) }

func (s *boundSource) Cloud() cloud.Configuration { return s.p.cloud }

func (s *boundSource) HTTPClient() *http.Client { return s.p.base }

func (s *boundSource) UserAgent() string { return s.p.UserAgent() }

// OAuth2 adapts s to oauth2.TokenSource, for libraries built on
// golang.org/x/oauth2 (oauth2.NewClient, Google-style SDKs). That
// interface takes no context, so ctx is used for every Token call: pass
// one that lives as long as the TokenSource. s already caches; wrapping
// the result in oauth2.ReuseTokenSource adds nothing.
func OAuth2(ctx context.Context, s Source) oauth2.TokenSource {
	return oauth2Source{ctx: ctx, src: s}
}

type oauth2Source struct {
	ctx context.Context
	src Source
}

func (o oauth2Source) Token() (*oauth2.Token, error) {
	t, err := o.src.Token(o.ctx)
	if err != nil {
		return nil, err
	}
	return &oauth2.Token{AccessToken: t.AccessToken.Reveal(), TokenType: "Bearer", Expiry: t.Expiry}, nil
}
