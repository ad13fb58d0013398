package exchange

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/samkit/samkit/cloud"
	"github.com/samkit/samkit/internal/httpx"
	"github.com/samkit/samkit/internal/rest"
	"github.com/samkit/samkit/token"
)

// SystemMailboxAnchor is the X-AnchorMailbox that Exchange Online
// PowerShell sends for organization-wide cmdlets, for a tenant id or
// domain.
const systemMailboxAnchor = "APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@"

// DefaultPageSize is the odata.maxpagesize the client asks for, the most
// rows the admin API returns per page.
const DefaultPageSize = 1000

// Client runs Exchange Online cmdlets in one tenant through the admin API.
// It is safe for concurrent use.
type Client struct {
	rest     *rest.Client
	root     *url.URL // https://outlook.office365.com, no trailing slash
	tenant   string
	anchor   string
	pageSize int
	api      API
	log      *slog.Logger
}

// Option configures a Client. Options are checked by New.
type Option func(*config) error

type config struct {
	rest.Options
	anchor   string
	pageSize int
	api      API
}

// WithCloud sends requests to the Exchange Online endpoint of cloud c. The
// default is the cloud of the token.Source when it has one (a Provider's
// Sources do), else cloud.Public.
func WithCloud(c cloud.Configuration) Option {
	return func(cfg *config) error { return cfg.SetCloud("exchange", c) }
}

// WithBaseURL sends requests to base, the Exchange Online root
// (https://outlook.office365.com). It must be https, or http on a loopback
// address for local test servers. The last of WithCloud and WithBaseURL
// wins.
func WithBaseURL(base string) Option {
	return func(cfg *config) error { return cfg.SetBaseURL("exchange", base) }
}

// WithHTTPClient sends requests through hc's Transport, for example a
// token.Provider's HTTPClient so that tokens and API calls share
// connections. The client adds its own retries and bounds, and follows no
// redirect whatever hc's CheckRedirect says; hc is not modified. The
// default is the HTTP client of the token.Source when it has one, else a
// pooled one.
func WithHTTPClient(hc *http.Client) Option {
	return func(cfg *config) error { return cfg.SetHTTPClient("exchange", hc) }
}

// WithLogger logs requests and retries at debug level, and cmdlet warnings
// nobody asked for with OnWarning at warn level, through l, behind a
// handler that redacts secrets and URL queries. By default nothing is
// logged.
func WithLogger(l *slog.Logger) Option {
	return func(cfg *config) error { return cfg.SetLogger("exchange", l) }
}

// WithRetryPolicy bounds retries of throttled (429) and failed requests,
// and how long each attempt and each call may take. Zero fields keep their
// defaults (see token.RetryPolicy); MaxAttempts 1 disables retries.
func WithRetryPolicy(p token.RetryPolicy) Option {
	return func(cfg *config) error { return cfg.SetRetryPolicy("exchange", p) }
}

// WithUserAgent names the caller's product, such as "acme-msp/2.1", in
// the User-Agent of every request, before samkit's own samkit/<version>:
// "acme-msp/2.1 samkit/v1.4.0". The product must be printable ASCII, at
// most 200 bytes. The default, and an empty product, is the User-Agent of
// the token.Source when it has one (a Provider's Sources send what
// token.WithUserAgent named), else samkit/<version> alone.
func WithUserAgent(product string) Option {
	return func(cfg *config) error { return cfg.SetUserAgent("exchange", product) }
}

// WithAnchorMailbox sets the X-AnchorMailbox header of every request, which
// routes it to a mailbox server. The default is the tenant's system
// mailbox, APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@{tenant},
// which Exchange Online PowerShell uses for organization-wide cmdlets;
// cmdlets about one mailbox may prefer "UPN:user@contoso.com". The
// AnchorMailbox invoke option overrides it per call.
func WithAnchorMailbox(anchor string) Option {
	return func(cfg *config) error {
		if err := checkAnchor(anchor); err != nil {
			return fmt.Errorf("exchange: WithAnchorMailbox: %w", err)
		}
		cfg.anchor = anchor
		return nil
	}
}

// WithPageSize sets how many rows the client asks for per page
// (Prefer: odata.maxpagesize), from 1 to DefaultPageSize, the default.
// The Admin API v2.0 documents no such preference, so with APIV2 the
// service's own page size applies.
func WithPageSize(n int) Option {
	return func(cfg *config) error {
		if n < 1 || n > DefaultPageSize {
			return fmt.Errorf("exchange: WithPageSize: %d is not between 1 and %d", n, DefaultPageSize)
		}
		cfg.pageSize = n
		return nil
	}
}

// exchangeService is what the request pipeline needs to know of Exchange
// Online's admin API.
var exchangeService = rest.Service{
	Name:            "exchange",
	Endpoint:        func(c cloud.Configuration) string { return c.Exchange.Endpoint },
	RequestIDHeader: "client-request-id",
	Token:           "an Exchange Online token",
}

// New returns a client that runs cmdlets in tenant (a tenant id or a
// verified domain), authenticating every request with a token from src.
// src must issue tokens for Exchange Online
// (https://outlook.office365.com/.default) in that tenant: delegated ones
// with the Exchange.Manage permission, app-only ones with
// Exchange.ManageAsApp, or legacy Exchange tokens
// (token.Provider.LegacyExchangeSource); with WithAPI(APIV2), delegated
// ones with Exchange.ManageV2 and app-only ones with
// Exchange.ManageAsAppV2.
func New(src token.Source, tenant string, opts ...Option) (*Client, error) {
	if src == nil {
		return nil, errors.New("exchange: New: nil token.Source")
	}
	if err := checkTenant(tenant); err != nil {
		return nil, fmt.Errorf("exchange: New: %w", err)
	}
	cfg := config{pageSize: DefaultPageSize, api: APIBeta}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	rc, err := rest.New(src, cfg.Options, exchangeService)
	if err != nil {
		return nil, err
	}
	root, err := url.Parse(rc.Base())
	if err != nil {
		return nil, fmt.Errorf("exchange: New: %w", err)
	}
	if cfg.anchor == "" {
		cfg.anchor = systemMailboxAnchor + tenant
	}
	return &Client{rest: rc, root: root, tenant: tenant, anchor: cfg.anchor, pageSize: cfg.pageSize, api: cfg.api, log: rc.Log()}, nil
}

// checkTenant accepts a tenant id or domain that names one tenant.
func checkTenant(tenant string) error {
	if err := httpx.ValidTenant(tenant); err != nil {
		return err
	}
	if strings.EqualFold(tenant, "common") || strings.EqualFold(tenant, "organizations") {
		return fmt.Errorf("%q names no tenant: give the customer's tenant id or domain", tenant)
	}
	return nil
}

// For returns a client like c, with its endpoint, API, HTTP client, retry
// policy, logger and page size, that runs cmdlets in tenant with tokens
// from src: for running the same cmdlets in many tenants without checking
// every option again for each (a view costs a few small allocations). The
// views share c's connections. The anchor mailbox is tenant's system
// mailbox, unless c was given another one with WithAnchorMailbox, which
// is kept. When c took its cloud or HTTP client from its token source (no
// option named them), src must be a Source with the same ones, such as
// another Source of the same token.Provider.
func (c *Client) For(src token.Source, tenant string) (*Client, error) {
	if err := checkTenant(tenant); err != nil {
		return nil, fmt.Errorf("exchange: For: %w", err)
	}
	rc, err := c.rest.For(src)
	if err != nil {
		return nil, err
	}
	v := *c
	v.rest, v.tenant = rc, tenant
	if a, ok := strings.CutPrefix(c.anchor, systemMailboxAnchor); ok && a == c.tenant {
		v.anchor = systemMailboxAnchor + tenant
	}
	return &v, nil
}

// Tenant returns the tenant the client runs cmdlets in.
func (c *Client) Tenant() string { return c.tenant }

// API returns the admin API the client calls.
func (c *Client) API() API { return c.api }

// checkAnchor accepts an X-AnchorMailbox value: a prefix ("APP:", "UPN:",
// "SMTP:"…) and an address, printable ASCII without spaces.
func checkAnchor(a string) error {
	kind, addr, ok := strings.Cut(a, ":")
	if !ok || kind == "" || addr == "" || len(a) > 320 {
		return fmt.Errorf("%q is not an anchor mailbox such as UPN:admin@contoso.com", shorten(a))
	}
	for _, r := range a {
		if r <= ' ' || r >= 0x7f {
			return fmt.Errorf("%q holds a space or a non-ASCII character", shorten(a))
		}
	}
	return nil
}

// shorten keeps a rejected value from flooding a message.
func shorten(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
