package graph

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/samkit/samkit/internal/httpx"
	"github.com/samkit/samkit/token"
)

const userAgent = "samkit-graph"

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

func (c *Client) basePath() string { return strings.TrimPrefix(c.base, c.host) }

// do sends r and decodes a successful response's JSON body into out (when
// out is not nil). Failures Graph reports come back as *Error.
func (c *Client) do(ctx context.Context, r request, out any) error {
	return c.consistently(ctx, r.refs, func() error { return c.send(ctx, r, out) })
}

// send makes one logical call: one HTTP exchange (whose transient failures
// the retrying transport handles) and, when Graph refuses the token as
// invalid, one more with a fresh token.
func (c *Client) send(ctx context.Context, r request, out any) error {
	target, path := c.target(r)
	var body []byte
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return fmt.Errorf("graph: %s %s: encoding request: %w", r.method, path, err)
		}
		body = b
	}
	// The template never carries a token: each attempt sends a clone with
	// its own Authorization header, so the retry after a refused token
	// starts from a clean request.
	rctx := ctx
	if r.class != httpx.RetryIdempotent {
		// The zero class is httpx's default: no context needed to say it.
		rctx = httpx.WithRetryClass(ctx, r.class)
	}
	tmpl, err := http.NewRequestWithContext(rctx, r.method, target, nil)
	if err != nil {
		return fmt.Errorf("graph: %s %s: %w", r.method, path, httpx.RedactError(err))
	}
	crid := newClientRequestID()
	tmpl.Header.Set("Accept", "application/json")
	tmpl.Header.Set("User-Agent", userAgent)
	tmpl.Header.Set("client-request-id", crid)
	if body != nil {
		tmpl.Header.Set("Content-Type", "application/json")
	}
	for attempt := 0; ; attempt++ {
		tok, err := c.src.Token(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("graph: %s %s: getting a token: %w", r.method, path, err)
		}
		resp, err := c.hc.Do(authorize(tmpl, body, tok))
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("graph: %s %s: %w", r.method, path, httpx.RedactError(err))
		}
		raw, err := httpx.ReadBody(resp.Body, httpx.DefaultBodyLimit)
		_ = resp.Body.Close()
		if errors.Is(err, httpx.ErrBodyTooLarge) {
			// Graph answered, with a body no Graph call produces: an
			// *Error like any other unusable answer.
			e := newError(resp, nil, r.method, path, crid)
			e.Message = fmt.Sprintf("response body larger than %d bytes", httpx.DefaultBodyLimit)
			return e
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("graph: %s %s: reading response: %w", r.method, path, err)
		}
		if resp.StatusCode >= 400 {
			e := newError(resp, raw, r.method, path, crid)
			if attempt == 0 && e.StatusCode == http.StatusUnauthorized && e.Code == codeInvalidToken {
				// A token can be refused before its expiry (revoked,
				// signing keys rolled): drop it and try once more with a
				// fresh one. A second refusal is the caller's to see.
				if inv, ok := c.src.(token.Invalidator); ok {
					inv.Invalidate(tok)
					c.log.DebugContext(ctx, "graph token refused, retrying with a fresh one",
						"method", r.method, "path", path, "request_id", e.RequestID)
					continue
				}
			}
			return e
		}
		if out == nil || resp.StatusCode == http.StatusNoContent {
			return nil
		}
		if err := json.Unmarshal(raw, out); err != nil {
			e := newError(resp, raw, r.method, path, crid)
			e.Message = describeBody(resp.Header.Get("Content-Type"), raw, err)
			return e
		}
		return nil
	}
}

// authorize returns a clone of tmpl carrying body and tok.
func authorize(tmpl *http.Request, body []byte, tok token.Token) *http.Request {
	req := tmpl.Clone(tmpl.Context())
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken.Reveal())
	if body != nil {
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		req.ContentLength = int64(len(body))
	}
	return req
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
	excerpt = strings.Join(strings.Fields(excerpt), " ")
	const maxExcerpt = 120
	if len(excerpt) > maxExcerpt {
		excerpt = excerpt[:maxExcerpt] + "…"
	}
	excerpt = httpx.RedactText(excerpt)
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

// newClientRequestID returns a random GUID (version 4) for the
// client-request-id header, which Graph echoes and Microsoft support uses
// to find a call.
func newClientRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}
