package partner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/samkit/samkit/cloud"
	"github.com/samkit/samkit/internal/httpx"
	"github.com/samkit/samkit/internal/rest"
	"github.com/samkit/samkit/token"
)

// Client calls the Partner Center REST API as one partner: the one whose
// tenant its token.Source issues tokens in. It is safe for concurrent use.
type Client struct {
	rest *rest.Client
	root *url.URL // API root, no trailing slash: https://api.partnercenter.microsoft.com
}

// Option configures a Client. Options are checked by New.
type Option func(*config) error

type config struct{ rest.Options }

// WithCloud sends requests to the Partner Center endpoint of cloud c. The
// default is the cloud of the token.Source when it has one (a Provider's
// Sources do), else cloud.Public.
func WithCloud(c cloud.Configuration) Option {
	return func(cfg *config) error { return cfg.SetCloud("partner", c) }
}

// WithBaseURL sends requests to base, the Partner Center API root without
// its version (https://api.partnercenter.microsoft.com). It must be https,
// or http on a loopback address for local test servers. The last of
// WithCloud and WithBaseURL wins.
func WithBaseURL(base string) Option {
	return func(cfg *config) error { return cfg.SetBaseURL("partner", base) }
}

// WithHTTPClient sends requests through hc's Transport, for example a
// token.Provider's HTTPClient so that tokens and API calls share
// connections. The client adds its own retries and bounds, and follows no
// redirect whatever hc's CheckRedirect says; hc is not modified. The
// default is the HTTP client of the token.Source when it has one, else a
// pooled one.
func WithHTTPClient(hc *http.Client) Option {
	return func(cfg *config) error { return cfg.SetHTTPClient("partner", hc) }
}

// WithLogger logs requests and retries at debug level through l, behind a
// handler that redacts secrets and URL queries. By default nothing is
// logged.
func WithLogger(l *slog.Logger) Option {
	return func(cfg *config) error { return cfg.SetLogger("partner", l) }
}

// WithRetryPolicy bounds retries of throttled (429) and failed requests,
// and how long each attempt and each call may take. Zero fields keep their
// defaults (see token.RetryPolicy); MaxAttempts 1 disables retries.
func WithRetryPolicy(p token.RetryPolicy) Option {
	return func(cfg *config) error { return cfg.SetRetryPolicy("partner", p) }
}

// WithUserAgent names the caller's product, such as "acme-msp/2.1", in
// the User-Agent of every request, before samkit's own samkit/<version>:
// "acme-msp/2.1 samkit/v1.4.0". The product must be printable ASCII, at
// most 200 bytes. The default, and an empty product, is the User-Agent of
// the token.Source when it has one (a Provider's Sources send what
// token.WithUserAgent named), else samkit/<version> alone.
func WithUserAgent(product string) Option {
	return func(cfg *config) error { return cfg.SetUserAgent("partner", product) }
}

// partnerService is what the request pipeline needs to know of Partner
// Center.
var partnerService = rest.Service{
	Name:            "partner",
	Endpoint:        func(c cloud.Configuration) string { return c.PartnerCenter.Endpoint },
	RequestIDHeader: "MS-RequestId",
	Token:           "a Partner Center token",
	// A demand for MFA is not cured by a new token from the same sign-in.
	Refreshable: func(err error) bool {
		var e *Error
		return errors.As(err, &e) && e.Code != codeMFARequired
	},
}

// New returns a client that authenticates every request with a token from
// src. src must issue delegated (App+User) tokens in the partner tenant for
// Partner Center — scope https://api.partnercenter.microsoft.com/.default
// or …/user_impersonation — from a sign-in that used MFA.
func New(src token.Source, opts ...Option) (*Client, error) {
	var cfg config
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	rc, err := rest.New(src, cfg.Options, partnerService)
	if err != nil {
		return nil, err
	}
	root, err := url.Parse(rc.Base())
	if err != nil {
		return nil, fmt.Errorf("partner: New: %w", err)
	}
	return &Client{rest: rc, root: root}, nil
}

// operation is one logical call — a listing with all its pages, a consent —
// whose requests share one MS-CorrelationId, as Partner Center's SDKs do;
// each request has its own MS-RequestId, which a retry of that request
// keeps (the service uses it for idempotency).
type operation struct {
	name          string // for errors: "list customers"
	correlationID string
}

func newOperation(name string) *operation {
	return &operation{name: name, correlationID: httpx.NewGUID()}
}

// response is a successful answer, its body read.
type response struct {
	status    int
	body      []byte
	requestID string
}

// undecodable is the *Error of a successful answer whose body is not what
// Partner Center sends (empty, cut off, a proxy's page): what was being
// done, and why it failed.
func (op *operation) undecodable(r *response, doing string, err error) *Error {
	why := err.Error()
	if len(bytes.TrimSpace(r.body)) == 0 {
		why = "the response had an empty body"
	}
	return &Error{Operation: op.name, StatusCode: r.status, Description: doing + ": " + why,
		CorrelationID: op.correlationID, RequestID: r.requestID}
}

// send makes one request of op through the request pipeline, and returns
// the response or a *Error for a 4xx/5xx answer. A 401 that a fresh token
// may cure (not an MFA refusal) is retried once after invalidating the
// token, when the Source supports it.
func (c *Client) send(ctx context.Context, op *operation, method string, u *url.URL, extra http.Header, body []byte, class httpx.RetryClass) (*response, error) {
	h := http.Header{"Ms-Correlationid": {op.correlationID}}
	for k, vs := range extra {
		h[http.CanonicalHeaderKey(k)] = vs
	}
	req := rest.Request{Method: method, URL: u.String(), What: op.name, Body: body, Header: h, Class: class,
		Fail: func(a *rest.Answer) error {
			e := newError(op, a.Status, a.Header, a.Body, a.RequestID)
			if a.TooLarge {
				// Partner Center answered, with a body none of its calls
				// produces: an *Error like any other unusable answer.
				e.Description = fmt.Sprintf("the response body is larger than %d bytes", httpx.DefaultBodyLimit)
			}
			return e
		}}
	a, err := c.rest.Do(ctx, &req)
	if err != nil {
		return nil, err
	}
	return &response{status: a.Status, body: a.Body, requestID: a.RequestID}, nil
}

// url returns the API URL of the path segments under the root, escaped;
// callers have validated every segment that came from data.
func (c *Client) url(query url.Values, segments ...string) *url.URL {
	escaped := make([]string, len(segments))
	for i, s := range segments {
		escaped[i] = url.PathEscape(s)
	}
	u := c.root.JoinPath(escaped...)
	u.RawQuery = query.Encode()
	return u
}
