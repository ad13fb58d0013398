package httpx

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/hashicorp/go-cleanhttp"
	"github.com/hashicorp/go-retryablehttp"
)

// NewClient returns an *http.Client that sends each request through base
// (cleanhttp's pooled client when nil) and retries it as p and the
// request's RetryClass allow. base's Timeout, if any, bounds each attempt;
// the request's context bounds the whole exchange, waits included, and a
// cancelled context ends a wait at once with the context's error.
//
// When the retries run out on a retryable status, the last response is
// returned with a nil error, so the caller decodes the service's error
// body; responses that are not returned are drained and closed.
//
// A base built by NewClient is unwrapped first, so that clients layered on
// a shared retrying client (token.Provider's HTTPClient) do not multiply
// each other's attempts.
//
// The client logs through log, redacted (see NewRedactingHandler), at
// debug level: one line per request and one per retry. A nil log
// discards. go-retryablehttp's own logger is off: it prints full URLs.
func NewClient(base *http.Client, p RetryPolicy, log *slog.Logger) *http.Client {
	if base == nil {
		base = cleanhttp.DefaultPooledClient()
	}
	if t, ok := base.Transport.(*transport); ok {
		base = t.rc.HTTPClient
	}
	p = p.WithDefaults()
	log = RedactingLogger(log)
	rc := &retryablehttp.Client{
		HTTPClient:   base,
		Logger:       nil,
		RetryWaitMin: p.MinWait,
		RetryWaitMax: p.MaxWait,
		RetryMax:     p.MaxAttempts - 1,
		CheckRetry:   checkRetry(log),
		Backoff: func(_, _ time.Duration, attempt int, resp *http.Response) time.Duration {
			return p.backoff(attempt, resp)
		},
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	return &http.Client{
		Transport: &transport{rc: rc, log: log},
		// base follows redirects within each attempt; its final answer,
		// a 3xx included, is the answer.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// transport adapts go-retryablehttp to http.RoundTripper. Its own
// RoundTripper (StandardClient) is not used because, with
// PassthroughErrorHandler, it can return a response together with an
// error, which net/http reports through the standard logger and whose
// body nobody closes.
type transport struct {
	rc  *retryablehttp.Client
	log *slog.Logger
}

// attempts carries per-request state from RoundTrip to checkRetry, which
// go-retryablehttp calls with the request's context only.
type attempts struct {
	class  RetryClass
	method string
	url    string
	n      int // attempts made so far; one request's attempts are sequential
	max    int
}

type attemptsKey struct{}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	st := &attempts{
		class:  retryClassFor(ctx, req.Method),
		method: req.Method,
		url:    RedactURL(req.URL),
		max:    t.rc.RetryMax + 1,
	}
	rreq, err := retryablehttp.FromRequest(req.WithContext(context.WithValue(ctx, attemptsKey{}, st)))
	// FromRequest has buffered the body for replays; a RoundTripper must
	// close the one it was given.
	if req.Body != nil {
		_ = req.Body.Close()
	}
	if err != nil {
		return nil, err
	}
	start := time.Now()
	resp, err := t.rc.Do(rreq)
	if err != nil {
		if resp != nil {
			drainAndClose(resp.Body)
		}
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		t.log.DebugContext(ctx, "http request failed", "method", st.method, "url", st.url,
			"attempts", st.n, "duration", time.Since(start), "error", err)
		return nil, err
	}
	t.log.DebugContext(ctx, "http request", "method", st.method, "url", st.url,
		"status", resp.StatusCode, "attempts", st.n, "duration", time.Since(start))
	return resp, nil
}

// checkRetry is the go-retryablehttp CheckRetry of every client: the
// request's RetryClass decides, and a done context stops everything.
func checkRetry(log *slog.Logger) retryablehttp.CheckRetry {
	return func(ctx context.Context, resp *http.Response, err error) (bool, error) {
		st, _ := ctx.Value(attemptsKey{}).(*attempts)
		if st == nil {
			// Only transport builds these clients, so this is unreachable;
			// refuse to guess a class.
			return false, err
		}
		st.n++
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		if !shouldRetry(st.class, resp, err) {
			return false, nil
		}
		if st.n < st.max {
			attrs := []any{"method", st.method, "url", st.url, "attempt", st.n, "class", st.class.String()}
			if err != nil {
				attrs = append(attrs, "error", err)
			} else {
				attrs = append(attrs, "status", resp.StatusCode)
				if ra := resp.Header.Get("Retry-After"); ra != "" {
					attrs = append(attrs, "retry_after", ra)
				}
			}
			log.DebugContext(ctx, "http retry", attrs...)
		}
		return true, nil
	}
}
