// Package rest is the request pipeline of samkit's API clients (graph,
// partner, exchange): their one options type, the bearer token and its
// retry after a 401, request ids, error decoding by the service's hook,
// and the record of a call's response. Every request goes through one
// httpx.Pipeline: bounded, retried as its class allows, never redirected.
package rest

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/samkit/samkit/cloud"
	"github.com/samkit/samkit/internal/httpx"
	"github.com/samkit/samkit/token"
)

// Options are the settings every API client takes. The clients declare
// their With… options over its setters, which check the value and name
// the option in their errors; the zero value means every default.
type Options struct {
	cloud  *cloud.Configuration // nil: the token source's, else cloud.Public
	base   string               // the service's root, overriding the cloud's
	hc     *http.Client         // nil: the token source's, else a default one
	log    *slog.Logger
	policy httpx.RetryPolicy
	// product names the caller's product in the User-Agent; empty: the
	// token source's User-Agent, else samkit's alone.
	product string
}

// SetCloud sends requests to the service's endpoint in c. The last of
// SetCloud and SetBaseURL wins.
func (o *Options) SetCloud(service string, c cloud.Configuration) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("%s: WithCloud: %w", service, err)
	}
	o.cloud, o.base = &c, ""
	return nil
}

// SetBaseURL sends requests to base, which must be https (or http on a
// loopback address).
func (o *Options) SetBaseURL(service, base string) error {
	if err := httpx.CheckBaseURL(base); err != nil {
		return fmt.Errorf("%s: WithBaseURL: %w", service, err)
	}
	o.cloud, o.base = nil, strings.TrimSuffix(base, "/")
	return nil
}

// SetHTTPClient sends requests through hc's Transport, bounded by its
// Timeout too when set (see httpx.NewPipeline); hc is not changed.
func (o *Options) SetHTTPClient(service string, hc *http.Client) error {
	if hc == nil {
		return fmt.Errorf("%s: WithHTTPClient: nil *http.Client", service)
	}
	o.hc = hc
	return nil
}

// SetLogger logs through l, redacted.
func (o *Options) SetLogger(service string, l *slog.Logger) error {
	if l == nil {
		return fmt.Errorf("%s: WithLogger: nil *slog.Logger", service)
	}
	o.log = l
	return nil
}

// SetRetryPolicy bounds retries and waits.
func (o *Options) SetRetryPolicy(service string, p token.RetryPolicy) error {
	if err := httpx.RetryPolicy(p).Check(); err != nil {
		return fmt.Errorf("%s: WithRetryPolicy: %w", service, err)
	}
	o.policy = httpx.RetryPolicy(p)
	return nil
}

// SetUserAgent names the caller's product before samkit's in the
// User-Agent, instead of the token source's.
func (o *Options) SetUserAgent(service, product string) error {
	if err := httpx.CheckProduct(product); err != nil {
		return fmt.Errorf("%s: WithUserAgent: %w", service, err)
	}
	o.product = product
	return nil
}

// Service describes the API a Client calls.
type Service struct {
	// Name prefixes errors: "graph".
	Name string
	// Endpoint returns the service's root in a cloud.
	Endpoint func(cloud.Configuration) string
	// RequestIDHeader carries the id samkit gives each request.
	RequestIDHeader string
	// Token names the token in errors: "a token", "an Exchange Online
	// token".
	Token string
	// Refreshable reports whether a 401 answer, decoded as err, may be
	// cured by a fresh token (not, say, a demand for MFA); nil means
	// always. The request is then sent once more with a fresh token.
	Refreshable func(err error) bool
}

// New returns the pipeline of a client of svc that authenticates with
// tokens from src. Unless the options say otherwise, the requests go to
// src's cloud and through src's HTTP client when src is a token.Origin,
// and with src's User-Agent when src is a token.UserAgentSource (as a
// Provider's Sources are both): a client never sends a sovereign or
// sandbox token to the public cloud by default, and names the product
// its tokens named.
func New(src token.Source, o Options, svc Service) (*Client, error) {
	if src == nil {
		return nil, fmt.Errorf("%s: New: nil token.Source", svc.Name)
	}
	origin, _ := src.(token.Origin)
	rc := &Client{svc: svc, src: src, base: o.base, idHeader: http.CanonicalHeaderKey(svc.RequestIDHeader)}
	ua := ""
	if us, ok := src.(token.UserAgentSource); ok && o.product == "" {
		ua = us.UserAgent()
		// A Provider's is checked already; someone else's Source would
		// otherwise fail every request with net/http's error.
		if err := httpx.CheckUserAgent(ua); err != nil {
			return nil, fmt.Errorf("%s: New: the token source's %w: fix the source, or name a product with WithUserAgent", svc.Name, err)
		}
	}
	if ua == "" {
		ua = httpx.UserAgent(o.product)
	}
	rc.ua = []string{ua}[:1:1]
	if rc.base == "" {
		c := cloud.Public
		switch {
		case o.cloud != nil:
			c = *o.cloud
		case origin != nil:
			c, rc.baseOfSource = origin.Cloud(), true
		}
		rc.base = strings.TrimSuffix(svc.Endpoint(c), "/")
	}
	if rc.base == "" {
		return nil, errors.New(svc.Name + ": New: the cloud names no endpoint for the service: use WithBaseURL")
	}
	hc := o.hc
	if hc == nil && origin != nil {
		hc = origin.HTTPClient()
		rc.hcOfSource = hc
	}
	rc.log = httpx.RedactingLogger(o.log)
	rc.pipe = httpx.NewPipeline(hc, o.policy, rc.log)
	return rc, nil
}
