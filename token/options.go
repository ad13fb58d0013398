package token

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/samkit/samkit/cloud"
)

// DefaultExpiryWindow is how long before its expiry a cached token is
// replaced: long enough that a token handed to a slow batch of API calls,
// or checked against a skewed clock, is still valid when it arrives.
const DefaultExpiryWindow = 5 * time.Minute

// Option configures a Provider.
type Option func(*config)

type config struct {
	cloud  cloud.Configuration
	base   *http.Client
	log    *slog.Logger
	now    func() time.Time
	window time.Duration
	policy RetryPolicy
	store  RefreshTokenStore
	// product is WithUserAgent's.
	product string
}

func defaultConfig() config {
	return config{cloud: cloud.Public, now: time.Now, window: DefaultExpiryWindow}
}

// WithCloud selects the Microsoft cloud; default cloud.Public.
func WithCloud(c cloud.Configuration) Option { return func(o *config) { o.cloud = c } }

// WithHTTPClient sets the client whose Transport carries token requests
// (and the requests of API clients built on the Provider's Sources). The
// Provider adds its retries and bounds on it and follows no redirect,
// whatever c's CheckRedirect says; c is not modified. Default: a pooled
// transport with dial and TLS handshake timeouts.
func WithHTTPClient(c *http.Client) Option { return func(o *config) { o.base = c } }

// WithLogger logs token requests at debug level, through a redacting
// handler: tenant, scope, grant, status, duration and trace ID, never a
// token, secret or assertion. Default (and nil): no logging.
func WithLogger(l *slog.Logger) Option { return func(o *config) { o.log = l } }

// WithClock replaces time.Now, for tests. Token expiry and client
// assertion times are measured on it.
func WithClock(now func() time.Time) Option {
	return func(o *config) {
		if now != nil {
			o.now = now
		}
	}
}

// WithExpiryWindow sets how long before expiry a cached token is
// replaced; default DefaultExpiryWindow. Zero serves a token until it
// expires; a negative window is an error.
func WithExpiryWindow(d time.Duration) Option { return func(o *config) { o.window = d } }

// WithRetryPolicy bounds the retries of token requests and of API clients
// built on HTTPClient; zero fields take httpx's defaults.
func WithRetryPolicy(p RetryPolicy) Option { return func(o *config) { o.policy = p } }

// WithRefreshTokenStore persists every rotated refresh token. Without a
// store the Provider still uses the newest refresh token, but only until
// the process exits.
func WithRefreshTokenStore(s RefreshTokenStore) Option { return func(o *config) { o.store = s } }

// WithUserAgent names the caller's product, such as "acme-msp/2.1", in
// the User-Agent of every token request, before samkit's own
// samkit/<version>: "acme-msp/2.1 samkit/v1.4.0". API clients built on the
// Provider's Sources (graph.New, partner.New, exchange.New) send the same
// unless their own WithUserAgent says otherwise. The product must be
// printable ASCII, at most 200 bytes. Without it, requests carry
// samkit/<version> alone, as with an empty product.
func WithUserAgent(product string) Option { return func(o *config) { o.product = product } }

// RetryPolicy bounds how samkit's clients retry throttled and failed
// requests, and how long they wait for an answer. The zero value of every
// field means its default. The graph, partner, exchange and sam packages
// take the same type.
type RetryPolicy struct {
	// MaxAttempts is the total number of attempts, the first included.
	// Default 4; 1 disables retries.
	MaxAttempts int
	// MinWait and MaxWait bound the exponential backoff used when a
	// response carries no Retry-After. Defaults 500ms and 30s.
	MinWait, MaxWait time.Duration
	// MaxRetryAfter caps a server's Retry-After: a longer one is waited
	// for this long only. Default 60s.
	MaxRetryAfter time.Duration
	// AttemptTimeout bounds each attempt: connecting, the TLS handshake
	// and the wait for the response's headers together, then each silence
	// while the body arrives; the whole body must arrive within 4 times
	// it. Default 32s.
	AttemptTimeout time.Duration
	// MaxElapsed bounds one call, all its attempts and waits included.
	// Default 3 minutes.
	MaxElapsed time.Duration
}
