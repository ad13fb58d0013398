package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/samkit/samkit/cloud"
	"github.com/samkit/samkit/internal/httpx"
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
	src  token.Source
	base string // scheme://host/path/v1.0, no trailing slash
	host string // scheme://host of base, where next links must point
	hc   *http.Client
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
	base        string
	hc          *http.Client
	log         *slog.Logger
	policy      httpx.RetryPolicy
	consistency time.Duration
}

// WithCloud sends requests to the Graph endpoint of cloud c (for example
// cloud.USGovernment), at version v1.0. The default is cloud.Public.
func WithCloud(c cloud.Configuration) Option {
	return func(cfg *config) error {
		if err := c.Validate(); err != nil {
			return fmt.Errorf("graph: WithCloud: %w", err)
		}
		cfg.base = c.Graph.Endpoint + "/" + APIVersion
		return nil
	}
}

// WithBaseURL sends requests to base, the Graph root including its version
// (https://graph.microsoft.com/v1.0). It must be https, or http on a
// loopback address for local test servers. The last of WithCloud and
// WithBaseURL wins.
func WithBaseURL(base string) Option {
	return func(cfg *config) error {
		if err := httpx.CheckBaseURL(base); err != nil {
			return fmt.Errorf("graph: WithBaseURL: %w", err)
		}
		cfg.base = strings.TrimSuffix(base, "/")
		return nil
	}
}

// WithHTTPClient sends requests through hc, for example a token.Provider's
// HTTPClient so that tokens and Graph calls share connections. The client
// layers its own retries on hc; a Provider's client, which already
// retries, is unwrapped first so that attempts do not multiply. The
// default is a pooled client with no overall timeout: bound calls with
// their context.
func WithHTTPClient(hc *http.Client) Option {
	return func(cfg *config) error {
		if hc == nil {
			return errors.New("graph: WithHTTPClient: nil *http.Client")
		}
		cfg.hc = hc
		return nil
	}
}

// WithLogger logs requests, retries and token refreshes at debug level
// through l, behind a handler that redacts secrets and URL queries. By
// default nothing is logged.
func WithLogger(l *slog.Logger) Option {
	return func(cfg *config) error {
		if l == nil {
			return errors.New("graph: WithLogger: nil *slog.Logger")
		}
		cfg.log = l
		return nil
	}
}

// WithRetryPolicy bounds retries of throttled and failed requests, and of
// throttled items of a $batch. Zero fields keep their defaults (see
// token.RetryPolicy); MaxAttempts 1 disables retries.
func WithRetryPolicy(p token.RetryPolicy) Option {
	return func(cfg *config) error {
		if err := httpx.RetryPolicy(p).Check(); err != nil {
			return fmt.Errorf("graph: WithRetryPolicy: %w", err)
		}
		cfg.policy = httpx.RetryPolicy(p)
		return nil
	}
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

// New returns a client that authenticates every request with a token from
// src. src must issue tokens for Microsoft Graph (scope
// https://graph.microsoft.com/.default in the public cloud).
func New(src token.Source, opts ...Option) (*Client, error) {
	if src == nil {
		return nil, errors.New("graph: New: nil token.Source")
	}
	cfg := config{base: cloud.Public.Graph.Endpoint + "/" + APIVersion, consistency: DefaultConsistencyRetry}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	u, _ := url.Parse(cfg.base) // checked by the options or a constant
	log := httpx.RedactingLogger(cfg.log)
	return &Client{
		src:         src,
		base:        cfg.base,
		host:        u.Scheme + "://" + u.Host,
		hc:          httpx.NewClient(cfg.hc, cfg.policy, log),
		log:         log,
		policy:      cfg.policy.WithDefaults(),
		consistency: cfg.consistency,
		sleep:       httpx.Sleep,
	}, nil
}

// BaseURL returns the Graph root the client calls, version included.
func (c *Client) BaseURL() string { return c.base }
