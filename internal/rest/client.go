package rest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/samkit/samkit/api"
	"github.com/samkit/samkit/internal/httpx"
	"github.com/samkit/samkit/internal/respkey"
	"github.com/samkit/samkit/token"
)

// Client sends an API client's requests. It is safe for concurrent use.
type Client struct {
	svc  Service
	src  token.Source
	base string // the service's root, no trailing slash
	pipe *httpx.Pipeline
	log  *slog.Logger
	// baseOfSource: base is the endpoint of the source's cloud, no
	// option having named one; hcOfSource: the HTTP client the source
	// gave, no option having named one. For compares another source's
	// with them.
	baseOfSource bool
	hcOfSource   *http.Client
	// idHeader is svc.RequestIDHeader, canonical; ua is the User-Agent
	// header's value, shared by the requests as jsonType is.
	idHeader string
	ua       []string
}

// For returns a client like c that authenticates with src: the same
// service, endpoint, User-Agent and pipeline, so the same connections,
// retry policy and logger. It costs one small allocation, where New
// checks every option again. When c took its endpoint or HTTP client from
// its source's Origin, src must be an Origin that gives the same ones: a
// client never sends a token to another cloud than the one that issued it.
func (c *Client) For(src token.Source) (*Client, error) {
	if src == nil {
		return nil, fmt.Errorf("%s: For: nil token.Source", c.svc.Name)
	}
	if c.baseOfSource || c.hcOfSource != nil {
		o, ok := src.(token.Origin)
		if !ok || c.hcOfSource != nil && o.HTTPClient() != c.hcOfSource ||
			c.baseOfSource && strings.TrimSuffix(c.svc.Endpoint(o.Cloud()), "/") != c.base {
			return nil, fmt.Errorf("%s: For: the token source's cloud or HTTP client differs from the client's: build a client for it with New, or name the cloud and HTTP client with options", c.svc.Name)
		}
	}
	v := *c
	v.src = src
	return &v, nil
}

// Base returns the service's root URL, without a trailing slash.
func (c *Client) Base() string { return c.base }

// Log returns the client's logger, redacting.
func (c *Client) Log() *slog.Logger { return c.log }

// Policy returns the client's retry policy, defaults filled in.
func (c *Client) Policy() httpx.RetryPolicy { return c.pipe.Policy() }

// Request is one request of a call.
type Request struct {
	Method string
	URL    string
	// What the request does, for errors: "GET /users", "list customers".
	What string
	// Body is sent as JSON; nil for none.
	Body []byte
	// Header holds headers of the service's own, set on the request.
	Header http.Header
	// Class is the retry class; the zero value lets the method decide.
	Class httpx.RetryClass
	// RequestID is sent in the service's request-id header; empty for a
	// new one. A retry of the request keeps it.
	RequestID string
	// Fail turns an answer the service refused (4xx, 5xx) or that is too
	// large to use into the service's error.
	Fail func(a *Answer) error
}

// Answer is a response, its body read.
type Answer struct {
	Status int
	Header http.Header
	// Body is the body, nil when TooLarge.
	Body []byte
	// TooLarge reports a body over httpx.DefaultBodyLimit, which no call
	// of samkit's services produces.
	TooLarge bool
	// RequestID is the id the request was sent with.
	RequestID string
}

// Do sends r with a bearer token from the client's source. A 401 that a
// fresh token may cure (Service.Refreshable) is sent once more after the
// token is invalidated, when the source can invalidate. The answer to a
// successful request is recorded for api.WithResponse.
func (c *Client) Do(ctx context.Context, r *Request) (*Answer, error) {
	rctx := ctx
	if r.Class != httpx.RetryIdempotent {
		// The zero class is httpx's default: no context needed to say it.
		rctx = httpx.WithRetryClass(ctx, r.Class)
	}
	id := r.RequestID
	if id == "" {
		id = httpx.NewGUID()
	}
	for attempt := 0; ; attempt++ {
		tok, err := c.src.Token(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("%s: %s: getting %s: %w", c.svc.Name, r.What, c.svc.Token, err)
		}
		a, err := c.send(ctx, rctx, r, id, tok)
		if err != nil {
			return nil, err
		}
		if a.Status < 400 && !a.TooLarge {
			if dst, ok := ctx.Value(respkey.Key{}).(*api.Response); ok && dst != nil {
				*dst = api.Response{StatusCode: a.Status, Header: a.Header, ClientRequestID: id,
					RequestID: firstOf(a.Header.Get("request-id"), a.Header.Get(c.svc.RequestIDHeader), id)}
			}
			return a, nil
		}
		e := r.Fail(a)
		if attempt == 0 && a.Status == http.StatusUnauthorized && (c.svc.Refreshable == nil || c.svc.Refreshable(e)) {
			// A token can be refused before its expiry (revoked, signing
			// keys rolled): drop it and try once more with a fresh one.
			// A second refusal is the caller's to see.
			if inv, ok := c.src.(token.Invalidator); ok {
				inv.Invalidate(tok)
				c.log.DebugContext(ctx, c.svc.Name+" token refused, retrying with a fresh one", "request", r.What)
				continue
			}
		}
		return nil, e
	}
}

// send makes one request through the pipeline and reads its answer.
func (c *Client) send(ctx, rctx context.Context, r *Request, id string, tok token.Token) (*Answer, error) {
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(rctx, r.Method, r.URL, body)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", c.svc.Name, r.What, httpx.RedactChain(err))
	}
	// The keys are canonical already (the service's request-id header
	// is canonicalised once, by New), so no Set has to check them.
	h := req.Header
	if r.Body != nil {
		h["Content-Type"] = jsonType
	}
	for k, vs := range r.Header {
		h[k] = vs
	}
	h["Accept"] = jsonType
	h["User-Agent"] = c.ua
	h[c.idHeader] = []string{id}
	tok.SetAuthHeader(req)
	resp, err := c.pipe.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%s: %s: %w", c.svc.Name, r.What, err)
	}
	a := &Answer{Status: resp.StatusCode, Header: resp.Header, RequestID: id}
	a.Body, err = httpx.ReadResponseBody(resp, httpx.DefaultBodyLimit)
	_ = resp.Body.Close()
	if errors.Is(err, httpx.ErrBodyTooLarge) {
		// The service answered, with a body none of its calls produces:
		// the service's error, like any other unusable answer.
		a.Body, a.TooLarge = nil, true
		return a, nil
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%s: %s: reading the response: %w", c.svc.Name, r.What, err)
	}
	return a, nil
}

// jsonType is the value of Accept and Content-Type, shared by every
// request: a RoundTripper reads a request's headers, never writes them,
// and an append gets an array of its own.
var jsonType = []string{"application/json"}[:1:1]

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
