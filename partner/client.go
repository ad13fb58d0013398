package partner

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/samkit/samkit/cloud"
	"github.com/samkit/samkit/internal/httpx"
	"github.com/samkit/samkit/token"
)

// Client calls the Partner Center REST API as one partner: the one whose
// tenant its token.Source issues tokens in. It is safe for concurrent use.
type Client struct {
	src  token.Source
	root *url.URL // API root, no trailing slash: https://api.partnercenter.microsoft.com
	hc   *http.Client
}

// Option configures a Client. Options are checked by New.
type Option func(*config) error

type config struct {
	base   string
	hc     *http.Client
	log    *slog.Logger
	policy httpx.RetryPolicy
}

// WithCloud sends requests to the Partner Center endpoint of cloud c. The
// default is cloud.Public.
func WithCloud(c cloud.Configuration) Option {
	return func(cfg *config) error {
		if err := c.Validate(); err != nil {
			return fmt.Errorf("partner: WithCloud: %w", err)
		}
		cfg.base = c.PartnerCenter.Endpoint
		return nil
	}
}

// WithBaseURL sends requests to base, the Partner Center API root without
// its version (https://api.partnercenter.microsoft.com). It must be https,
// or http on a loopback address for local test servers. The last of
// WithCloud and WithBaseURL wins.
func WithBaseURL(base string) Option {
	return func(cfg *config) error {
		if err := httpx.CheckBaseURL(base); err != nil {
			return fmt.Errorf("partner: WithBaseURL: %w", err)
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
			return errors.New("partner: WithHTTPClient: nil *http.Client")
		}
		cfg.hc = hc
		return nil
	}
}

// WithLogger logs requests and retries at debug level through l, behind a
// handler that redacts secrets and URL queries. By default nothing is
// logged.
func WithLogger(l *slog.Logger) Option {
	return func(cfg *config) error {
		if l == nil {
			return errors.New("partner: WithLogger: nil *slog.Logger")
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
			return fmt.Errorf("partner: WithRetryPolicy: %w", err)
		}
		cfg.policy = httpx.RetryPolicy(p)
		return nil
	}
}

// New returns a client that authenticates every request with a token from
// src. src must issue delegated (App+User) tokens in the partner tenant for
// Partner Center — scope https://api.partnercenter.microsoft.com/.default
// or …/user_impersonation — from a sign-in that used MFA.
func New(src token.Source, opts ...Option) (*Client, error) {
	if src == nil {
		return nil, errors.New("partner: New: nil token.Source")
	}
	cfg := config{base: cloud.Public.PartnerCenter.Endpoint}
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
		return nil, fmt.Errorf("partner: New: %w", err)
	}
	return &Client{src: src, root: root, hc: httpx.NewClient(cfg.hc, cfg.policy, httpx.RedactingLogger(cfg.log))}, nil
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
	return &operation{name: name, correlationID: newGUID()}
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

// send makes one request of op, with a fresh token, and returns the
// response or a *Error for a 4xx/5xx answer. A 401 that a fresh token may
// cure (not an MFA refusal) is retried once after invalidating the token,
// when the Source supports it.
func (c *Client) send(ctx context.Context, op *operation, method string, u *url.URL, extra http.Header, body []byte, class httpx.RetryClass) (*response, error) {
	for attempt := 0; ; attempt++ {
		resp, tok, err := c.sendOnce(ctx, op, method, u, extra, body, class)
		if err == nil {
			return resp, nil
		}
		var e *Error
		if inv, ok := c.src.(token.Invalidator); ok && attempt == 0 && errors.As(err, &e) &&
			e.StatusCode == http.StatusUnauthorized && e.Code != codeMFARequired {
			inv.Invalidate(tok)
			continue
		}
		return nil, err
	}
}

func (c *Client) sendOnce(ctx context.Context, op *operation, method string, u *url.URL, extra http.Header, body []byte, class httpx.RetryClass) (*response, token.Token, error) {
	tok, err := c.src.Token(ctx)
	if err != nil {
		return nil, tok, fmt.Errorf("partner: %s: getting a Partner Center token: %w", op.name, err)
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(httpx.WithRetryClass(ctx, class), method, u.String(), rd)
	if err != nil {
		return nil, tok, fmt.Errorf("partner: %s: %w", op.name, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range extra {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	requestID := newGUID()
	tok.SetAuthHeader(req)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("MS-CorrelationId", op.correlationID)
	req.Header.Set("MS-RequestId", requestID)

	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, tok, ctx.Err()
		}
		return nil, tok, fmt.Errorf("partner: %s: %w", op.name, httpx.RedactError(err))
	}
	defer resp.Body.Close()
	data, err := httpx.ReadBody(resp.Body, httpx.DefaultBodyLimit)
	if errors.Is(err, httpx.ErrBodyTooLarge) {
		// Partner Center answered, with a body none of its calls
		// produces: an *Error like any other unusable answer.
		e := newError(op, resp, nil, requestID)
		e.Description = fmt.Sprintf("the response body is larger than %d bytes", httpx.DefaultBodyLimit)
		return nil, tok, e
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, tok, ctx.Err()
		}
		return nil, tok, fmt.Errorf("partner: %s: reading the response: %w", op.name, err)
	}
	if resp.StatusCode >= 400 {
		return nil, tok, newError(op, resp, data, requestID)
	}
	return &response{status: resp.StatusCode, body: data, requestID: requestID}, tok, nil
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

// newGUID returns a random (version 4) GUID, the form Partner Center
// expects of MS-CorrelationId and MS-RequestId.
func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
