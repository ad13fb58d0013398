package sam

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/samkit/samkit/cloud"
	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/internal/httpx"
	"github.com/samkit/samkit/partner"
	"github.com/samkit/samkit/token"
)

// Partner is a partner's SAM app at work: its credentials, the token
// provider they feed and the settings every call shares (cloud, HTTP
// client, retries, logging, concurrency). Its methods are the model:
// Tenants lists the customers, Check proves access to them, PushConsent
// consents the app in them, Inspect and RotateSecret look after the app.
//
// Open one from a Store, or build one from Credentials with New, once per
// program, and share it: it is safe for concurrent use, and its Provider
// caches every token it obtains.
type Partner struct {
	p     *token.Provider
	store Store
	// refresh is the refresh token the Partner was built with: once the
	// provider holds another, it was rotated, and its idle lifetime
	// started again, since the store was read.
	refresh token.Secret
	// retry and concurrency are what the options chose; zero means each
	// method's default.
	retry       token.RetryPolicy
	concurrency int
	log         *slog.Logger
	// product is WithUserAgent's, for the clients that do not take their
	// User-Agent from the Provider's Sources (Setup's, a rotation's).
	product string
}

// Option configures a Partner.
type Option func(*partnerConfig)

type partnerConfig struct {
	cloud       *cloud.Configuration
	hc          *http.Client
	log         *slog.Logger
	retry       token.RetryPolicy
	concurrency int
	product     string
}

// WithCloud sets the Microsoft cloud. Without it Open uses the cloud
// recorded with the credentials (Store.Cloud), and New
// uses cloud.Public.
func WithCloud(c cloud.Configuration) Option {
	return func(o *partnerConfig) { o.cloud = &c }
}

// WithHTTPClient sets the base client every request goes through, token
// requests and API calls alike; each layers its retries on it, once.
func WithHTTPClient(hc *http.Client) Option {
	return func(o *partnerConfig) { o.hc = hc }
}

// WithLogger sends debug logs of every request, secrets redacted, to l.
func WithLogger(l *slog.Logger) Option {
	return func(o *partnerConfig) { o.log = l }
}

// WithRetryPolicy bounds the retries of every request, and caps the
// shared throttling backoff of Check at its MaxRetryAfter. Zero fields
// take their defaults.
func WithRetryPolicy(p token.RetryPolicy) Option {
	return func(o *partnerConfig) { o.retry = p }
}

// WithConcurrency bounds how many tenants Check and PushConsent work on at
// once; without it, or with 0, they use DefaultConcurrency and
// DefaultPushConcurrency. A negative n is refused.
func WithConcurrency(n int) Option {
	return func(o *partnerConfig) { o.concurrency = n }
}

// WithUserAgent names the caller's product, such as "acme-msp/2.1", in
// the User-Agent of every request, token requests and API calls alike,
// before samkit's own samkit/<version>: "acme-msp/2.1 samkit/v1.4.0". The
// product must be printable ASCII, at most 200 bytes. Without it, or with
// an empty one, requests carry samkit/<version> alone. The admin's
// sign-in (DeviceCodeSignIn, BrowserSignIn) is MSAL's, with MSAL's headers.
func WithUserAgent(product string) Option {
	return func(o *partnerConfig) { o.product = product }
}

// Open loads the credentials in store and returns the Partner they make.
// Every refresh token the Partner's Provider rotates is saved back to
// store, except to an EnvStore without OnRotate, which cannot keep one
// (see EnvStore). The cloud is the one recorded with the credentials
// unless WithCloud says otherwise.
func Open(ctx context.Context, store Store, opts ...Option) (*Partner, error) {
	if store == nil {
		return nil, errors.New("sam: Open: the store is nil")
	}
	creds, err := store.Load(ctx)
	if err != nil {
		return nil, err
	}
	cfg := newPartnerConfig(opts)
	if cfg.cloud == nil {
		c, err := store.Cloud(ctx)
		if err != nil {
			return nil, err
		}
		cfg.cloud = &c
	}
	var topts []token.Option
	if env, ok := store.(*EnvStore); !ok || env.OnRotate != nil {
		topts = append(topts, token.WithRefreshTokenStore(store))
	}
	return newPartner(creds, store, cfg, topts...)
}

// New returns the Partner that creds make, with no store: rotated refresh
// tokens live in its Provider only, and RotateSecret is refused.
func New(creds token.Credentials, opts ...Option) (*Partner, error) {
	return newPartner(creds, nil, newPartnerConfig(opts))
}

func newPartnerConfig(opts []Option) partnerConfig {
	var cfg partnerConfig
	for _, o := range opts {
		o(&cfg)
	}
	return cfg
}

func newPartner(creds token.Credentials, store Store, cfg partnerConfig, extra ...token.Option) (*Partner, error) {
	if cfg.concurrency < 0 {
		return nil, fmt.Errorf("sam: WithConcurrency(%d): give a positive number of tenants", cfg.concurrency)
	}
	if err := httpx.CheckProduct(cfg.product); err != nil {
		return nil, fmt.Errorf("sam: WithUserAgent: %w", err)
	}
	topts := []token.Option{token.WithLogger(cfg.log), token.WithRetryPolicy(cfg.retry), token.WithUserAgent(cfg.product)}
	if cfg.cloud != nil {
		topts = append(topts, token.WithCloud(*cfg.cloud))
	}
	if cfg.hc != nil {
		topts = append(topts, token.WithHTTPClient(cfg.hc))
	}
	p, err := token.NewProvider(creds, append(topts, extra...)...)
	if err != nil {
		return nil, fmt.Errorf("sam: %w", err)
	}
	return &Partner{p: p, store: store, refresh: creds.RefreshToken, retry: p.RetryPolicy(), concurrency: cfg.concurrency, log: cfg.log, product: cfg.product}, nil
}

// Provider returns the token provider: give it to other clients (graph,
// exchange, partner, azsam) so that they share its cached tokens.
func (p *Partner) Provider() *token.Provider { return p.p }

// Cloud returns the Microsoft cloud the Partner talks to.
func (p *Partner) Cloud() cloud.Configuration { return p.p.Cloud() }

// Store returns the store the Partner was opened from; nil for New.
func (p *Partner) Store() Store { return p.store }

// graph returns a Graph client acting as the partner's admin (through the
// SAM app) in tenant.
func (p *Partner) graph(tenant string, opts ...graph.Option) (*graph.Client, error) {
	c := p.Cloud()
	base := []graph.Option{graph.WithCloud(c), graph.WithHTTPClient(p.p.HTTPClient()), graph.WithRetryPolicy(p.retry)}
	if p.log != nil {
		base = append(base, graph.WithLogger(p.log))
	}
	return graph.New(p.p.Source(tenant, c.Graph.Scope()), append(base, opts...)...)
}

// partnerCenter returns a Partner Center client acting as the partner's
// admin.
func (p *Partner) partnerCenter() (*partner.Client, error) {
	c := p.Cloud()
	opts := []partner.Option{partner.WithCloud(c), partner.WithHTTPClient(p.p.HTTPClient()), partner.WithRetryPolicy(p.retry)}
	if p.log != nil {
		opts = append(opts, partner.WithLogger(p.log))
	}
	return partner.New(p.p.Source(p.p.TenantID(), c.PartnerCenter.Scope()), opts...)
}

// Tenants lists the partner's customer tenants from its GDAP relationships,
// its contracts and Partner Center, as opts chooses and filters them. See
// ListOptions for the sources and the errors, which may come with the
// tenants the sources that worked listed.
func (p *Partner) Tenants(ctx context.Context, opts ListOptions) ([]Tenant, error) {
	g, err := p.graph(p.p.TenantID())
	if err != nil {
		return nil, err
	}
	pc, err := p.partnerCenter()
	if err != nil {
		return nil, err
	}
	partnerID := ""
	if httpx.IsGUID(p.p.TenantID()) {
		partnerID = p.p.TenantID()
	}
	return listTenants(ctx, tenantSources{Graph: g, Partner: pc}, opts, partnerID)
}

// Inspect reads the SAM app, and its consent, in the partner tenant: its
// secrets and their expiry, its redirect URIs, and which of the
// permissions it asks for really have consent.
func (p *Partner) Inspect(ctx context.Context) (*Inspection, error) {
	g, err := p.graph(p.p.TenantID())
	if err != nil {
		return nil, err
	}
	return inspect(ctx, g, p.p.ApplicationID())
}
