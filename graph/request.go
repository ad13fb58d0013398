package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/samkit/samkit/internal/httpx"
	"github.com/samkit/samkit/internal/rest"
)

// request describes one Graph call. Exactly one of path and next is set.
type request struct {
	method string
	// path is relative to the version root and starts with "/"; every
	// segment taken from data has been validated by the caller.
	path string
	// next is an @odata.nextLink, sent verbatim.
	next  string
	query url.Values
	body  any
	// class is the retry class; the zero value lets the method decide
	// (GET and DELETE retried on any transient failure, POST on
	// throttling only).
	class httpx.RetryClass
	// refs are ids of objects the call addresses; when one was created
	// lately the call rides out replication delay (see consistency.go).
	refs []string
	// header holds headers of the call's own (If-Match).
	header http.Header
}

// target returns the absolute URL of r and the path reported in errors.
func (c *Client) target(r request) (string, string) {
	if r.next != "" {
		u, err := url.Parse(r.next)
		if err != nil {
			return r.next, "@odata.nextLink"
		}
		return r.next, strings.TrimPrefix(u.Path, c.basePath())
	}
	if len(r.query) == 0 {
		return c.base + r.path, r.path
	}
	return c.base + r.path + "?" + encodeQuery(r.query), r.path
}

func (c *Client) basePath() string { return c.root.Path }

// do sends r and decodes a successful response's JSON body into out (when
// out is not nil). Failures Graph reports come back as *Error.
func (c *Client) do(ctx context.Context, r request, out any) error {
	return c.consistently(ctx, r.refs, func() error { return c.send(ctx, r, out) })
}

// send makes one logical call through the request pipeline, which retries
// transient failures and, when Graph refuses the token as invalid, sends
// it once more with a fresh token.
func (c *Client) send(ctx context.Context, r request, out any) error {
	target, path := c.target(r)
	req := rest.Request{Method: r.method, URL: target, What: r.method + " " + path, Class: r.class, Header: r.header}
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return fmt.Errorf("graph: %s %s: encoding request: %w", r.method, path, err)
		}
		req.Body = b
	}
	req.Fail = func(a *rest.Answer) error {
		e := newError(a.Status, a.Header, a.Body, r.method, path, a.RequestID)
		if a.TooLarge {
			// Graph answered, with a body no Graph call produces: an
			// *Error like any other unusable answer.
			e.Message = fmt.Sprintf("response body larger than %d bytes", httpx.DefaultBodyLimit)
		}
		return e
	}
	a, err := c.rest.Do(ctx, &req)
	if err != nil {
		return err
	}
	// 202 Accepted may come without a body: a long-running operation
	// started, followed elsewhere (GDAP's Global Administrator removal).
	if out == nil || a.Status == http.StatusNoContent || a.Status == http.StatusAccepted && len(bytes.TrimSpace(a.Body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(a.Body, out); err != nil {
		e := newError(a.Status, a.Header, a.Body, r.method, path, a.RequestID)
		e.Message = describeBody(a.Header.Get("Content-Type"), a.Body, err)
		return e
	}
	return nil
}

// describeBody explains why a response body could not be used, quoting
// the start of it (redacted) so that a proxy's error page is recognisable.
func describeBody(contentType string, raw []byte, decodeErr error) string {
	if len(bytes.TrimSpace(raw)) == 0 {
		return "empty response body"
	}
	if contentType == "" {
		contentType = "no content type"
	}
	excerpt := string(raw)
	if i := strings.Index(asciiLower(excerpt), "<title>"); i >= 0 {
		excerpt = excerpt[i+len("<title>"):]
		if j := strings.Index(asciiLower(excerpt), "</title>"); j >= 0 {
			excerpt = excerpt[:j]
		}
	}
	excerpt = httpx.Excerpt([]byte(excerpt))
	if decodeErr != nil && strings.Contains(contentType, "json") {
		return fmt.Sprintf("malformed JSON response (%v): %q", decodeErr, excerpt)
	}
	return fmt.Sprintf("unexpected %s response: %q", contentType, excerpt)
}

// asciiLower lowers ASCII letters only. Unlike strings.ToLower, which
// changes the length of invalid UTF-8 and of some letters, it keeps every
// byte where it was, so an index into its result is an index into s.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
