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
	src      token.Source
	root     *url.URL // https://outlook.office365.com, no trailing slash
	tenant   string
	anchor   string
	pageSize int
	hc       *http.Client
	log      *slog.Logger
}

// Option configures a Client. Options are checked by New.
type Option func(*config) error

type config struct {
	base     string
	hc       *http.Client
	log      *slog.Logger
	policy   httpx.RetryPolicy
	anchor   string
	pageSize int
}

// WithCloud sends requests to the Exchange Online endpoint of cloud c. The
// default is cloud.Public.
func WithCloud(c cloud.Configuration) Option {
	return func(cfg *config) error {
		if err := c.Validate(); err != nil {
			return fmt.Errorf("exchange: WithCloud: %w", err)
		}
		cfg.base = c.Exchange.Endpoint
		return nil
	}
}

// WithBaseURL sends requests to base, the Exchange Online root
// (https://outlook.office365.com). It must be https, or http on a loopback
// address for local test servers. The last of WithCloud and WithBaseURL
// wins.
func WithBaseURL(base string) Option {
	return func(cfg *config) error {
		if err := httpx.CheckBaseURL(base); err != nil {
			return fmt.Errorf("exchange: WithBaseURL: %w", err)
		}
		cfg.base = base
		return nil
	}
}

// WithHTTPClient sends requests through hc, for example a token.Provider's
// HTTPClient so that tokens and API calls share connections. Retries are
// layered on hc by the client (a retrying client from internal/httpx is
// unwrapped first, so attempts do not multiply). The default is a pooled
// client with no overall timeout: bound calls with their context.
func WithHTTPClient(hc *http.Client) Option {
	return func(cfg *config) error {
		if hc == nil {
			return errors.New("exchange: WithHTTPClient: nil *http.Client")
		}
		cfg.hc = hc
		return nil
	}
}

// WithLogger logs requests and retries at debug level, and cmdlet warnings
// nobody asked for with OnWarning at warn level, through l, behind a
// handler that redacts secrets and URL queries. By default nothing is
// logged.
func WithLogger(l *slog.Logger) Option {
	return func(cfg *config) error {
		if l == nil {
			return errors.New("exchange: WithLogger: nil *slog.Logger")
		}
		cfg.log = l
		return nil
	}
}

// WithRetryPolicy bounds retries of throttled (429) and failed requests.
// Zero fields keep their defaults (see token.RetryPolicy); MaxAttempts 1
// disables retries.
func WithRetryPolicy(p token.RetryPolicy) Option {
	return func(cfg *config) error {
		if err := httpx.RetryPolicy(p).Check(); err != nil {
			return fmt.Errorf("exchange: WithRetryPolicy: %w", err)
		}
		cfg.policy = httpx.RetryPolicy(p)
		return nil
	}
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
func WithPageSize(n int) Option {
	return func(cfg *config) error {
		if n < 1 || n > DefaultPageSize {
			return fmt.Errorf("exchange: WithPageSize: %d is not between 1 and %d", n, DefaultPageSize)
		}
		cfg.pageSize = n
		return nil
	}
}

// New returns a client that runs cmdlets in tenant (a tenant id or a
// verified domain), authenticating every request with a token from src.
// src must issue tokens for Exchange Online
// (https://outlook.office365.com/.default) in that tenant: delegated ones
// with the Exchange.Manage permission, app-only ones with
// Exchange.ManageAsApp, or legacy Exchange tokens
// (token.Provider.LegacyExchangeSource).
func New(src token.Source, tenant string, opts ...Option) (*Client, error) {
	if src == nil {
		return nil, errors.New("exchange: New: nil token.Source")
	}
	if err := httpx.ValidTenant(tenant); err != nil {
		return nil, fmt.Errorf("exchange: New: %w", err)
	}
	if strings.EqualFold(tenant, "common") || strings.EqualFold(tenant, "organizations") {
		return nil, fmt.Errorf("exchange: New: %q names no tenant: give the customer's tenant id or domain", tenant)
	}
	cfg := config{base: cloud.Public.Exchange.Endpoint, pageSize: DefaultPageSize}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	root, err := url.Parse(strings.TrimSuffix(cfg.base, "/"))
	if err != nil {
		return nil, fmt.Errorf("exchange: New: %w", err)
	}
	if cfg.anchor == "" {
		cfg.anchor = systemMailboxAnchor + tenant
	}
	log := httpx.RedactingLogger(cfg.log)
	return &Client{
		src: src, root: root, tenant: tenant, anchor: cfg.anchor, pageSize: cfg.pageSize,
		hc: httpx.NewClient(cfg.hc, cfg.policy, log), log: log,
	}, nil
}

// Tenant returns the tenant the client runs cmdlets in.
func (c *Client) Tenant() string { return c.tenant }

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
