package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/samkit/samkit/cloud"
	"github.com/samkit/samkit/internal/httpx"
	"github.com/samkit/samkit/internal/rest"
	"github.com/samkit/samkit/token"
)

// APIVersion is the Graph version every request addresses. samkit uses
// only generally available (v1.0) APIs: beta ones change without notice.
const APIVersion = "v1.0"

// Default bounds of the replication retry (see WithConsistencyRetry).
const (
	DefaultConsistencyRetry = 30 * time.Second
	consistencyFirstWait    = 500 * time.Millisecond
	consistencyMaxWait      = 5 * time.Second
)

// Client calls Microsoft Graph as one identity in one tenant: the one its
// token.Source issues tokens for. It is safe for concurrent use.
type Client struct {
	rest *rest.Client
	base string // scheme://host/path/v1.0, no trailing slash
	root *url.URL
	log  *slog.Logger

	policy      httpx.RetryPolicy
	consistency time.Duration
	// sleep waits d or until ctx is done; tests replace it to move a fake
	// clock instead of waiting.
	sleep func(ctx context.Context, d time.Duration) error

	recentMu sync.Mutex
	recent   map[string]time.Time // ids of objects created lately → when
}

// Option configures a Client. Options are checked by New.
type Option func(*config) error

type config struct {
	rest.Options
	consistency time.Duration
}

// WithCloud sends requests to the Graph endpoint of cloud c (for example
// cloud.USGovernment), at version v1.0. The default is the cloud of the
// token.Source when it has one (a Provider's Sources do), else
// cloud.Public.
func WithCloud(c cloud.Configuration) Option {
	return func(cfg *config) error { return cfg.SetCloud("graph", c) }
}

// WithBaseURL sends requests to base, the Graph root including its version
// (https://graph.microsoft.com/v1.0). It must be https, or http on a
// loopback address for local test servers. The last of WithCloud and
// WithBaseURL wins.
func WithBaseURL(base string) Option {
	return func(cfg *config) error { return cfg.SetBaseURL("graph", base) }
}

// WithHTTPClient sends requests through hc's Transport, for example a
// token.Provider's HTTPClient so that tokens and Graph calls share
// connections. The client adds its own retries and bounds, and follows no
// redirect whatever hc's CheckRedirect says; hc is not modified. The
// default is the HTTP client of the token.Source when it has one (a
// Provider's Sources do), else a pooled one.
func WithHTTPClient(hc *http.Client) Option {
	return func(cfg *config) error { return cfg.SetHTTPClient("graph", hc) }
}

// WithLogger logs requests, retries and token refreshes at debug level
// through l, behind a handler that redacts secrets and URL queries. By
// default nothing is logged.
func WithLogger(l *slog.Logger) Option {
	return func(cfg *config) error { return cfg.SetLogger("graph", l) }
}

// WithRetryPolicy bounds retries of throttled and failed requests, and of
// throttled items of a $batch, and how long each attempt and each call
// may take. Zero fields keep their defaults (see token.RetryPolicy);
// MaxAttempts 1 disables retries.
func WithRetryPolicy(p token.RetryPolicy) Option {
	return func(cfg *config) error { return cfg.SetRetryPolicy("graph", p) }
}

// WithUserAgent names the caller's product, such as "acme-msp/2.1", in
// the User-Agent of every request, before samkit's own samkit/<version>:
// "acme-msp/2.1 samkit/v1.4.0". The product must be printable ASCII, at
// most 200 bytes. The default, and an empty product, is the User-Agent of
// the token.Source when it has one (a Provider's Sources send what
// token.WithUserAgent named), else samkit/<version> alone.
func WithUserAgent(product string) Option {
	return func(cfg *config) error { return cfg.SetUserAgent("graph", product) }
}

// WithConsistencyRetry bounds how long the client keeps retrying a call
// that Graph answers "not found" because an object it just created has not
// replicated yet (see the package documentation). The default is
// DefaultConsistencyRetry; 0 turns the retry off.
func WithConsistencyRetry(max time.Duration) Option {
	return func(cfg *config) error {
		if max < 0 {
			return fmt.Errorf("graph: WithConsistencyRetry: negative duration %v", max)
		}
		cfg.consistency = max
		return nil
	}
}

// graphService is what the request pipeline needs to know of Graph.
var graphService = rest.Service{
	Name:            "graph",
	Endpoint:        func(c cloud.Configuration) string { return c.Graph.Endpoint + "/" + APIVersion },
	RequestIDHeader: "client-request-id",
	Token:           "a token",
	// Graph refuses a token it no longer accepts with this code; other
	// 401s (a missing permission reported as one) a new token cannot
	// cure.
	Refreshable: func(err error) bool {
		var e *Error
		return errors.As(err, &e) && e.Code == codeInvalidToken
	},
}

// New returns a client that authenticates every request with a token from
// src. src must issue tokens for Microsoft Graph (scope
// https://graph.microsoft.com/.default in the public cloud).
func New(src token.Source, opts ...Option) (*Client, error) {
	cfg := config{consistency: DefaultConsistencyRetry}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	rc, err := rest.New(src, cfg.Options, graphService)
	if err != nil {
		return nil, err
	}
	root, err := url.Parse(rc.Base())
	if err != nil {
		return nil, fmt.Errorf("graph: New: %w", err)
	}
	return &Client{
		rest:        rc,
		base:        rc.Base(),
		root:        root,
		log:         rc.Log(),
		policy:      rc.Policy(),
		consistency: cfg.consistency,
		sleep:       httpx.Sleep,
	}, nil
}

// For returns a client like c, with its endpoint, HTTP client, retry
// policy and logger, that authenticates with src instead: for calling the
// same API in many tenants, one client each, without checking every
// option again for each (a view costs two small allocations). The views
// share c's connections; each remembers its own recently created objects
// (MarkCreated). When c took its cloud or HTTP client from its token
// source (no option named them), src must be a Source with the same ones,
// such as another Source of the same token.Provider.
func (c *Client) For(src token.Source) (*Client, error) {
	rc, err := c.rest.For(src)
	if err != nil {
		return nil, err
	}
	return &Client{rest: rc, base: c.base, root: c.root, log: c.log, policy: c.policy, consistency: c.consistency, sleep: c.sleep}, nil
}

// BaseURL returns the Graph root the client calls, version included.
func (c *Client) BaseURL() string { return c.base }
