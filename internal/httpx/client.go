package httpx

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Pipeline sends each request through a base transport, attempt after
// attempt, as its RetryPolicy and the request's RetryClass allow. It is
// the one HTTP layer of every samkit client: one loop over the base
// transport, with no http.Client in between, so a request is neither
// copied nor redirected on its way. It is safe for concurrent use.
//
// A Pipeline never follows a redirect: every request samkit sends carries
// a credential (a bearer token, a client secret, a refresh token), and
// none of the services it calls answers with a redirect. A 3xx answer is
// a *RedirectError naming the host it pointed to.
//
// Every attempt is bounded (RetryPolicy.AttemptTimeout) from dialling to
// the response's headers, and then while its body arrives; the whole call,
// waits included, by RetryPolicy.MaxElapsed. A bound that runs out is a
// *TimeoutError naming the host. When the retries run out on a retryable
// status, the last response is returned with a nil error, so the caller
// decodes the service's error body; responses that are not returned are
// drained and closed.
//
// It logs through its logger, redacted, at debug level: one line per
// request and one per retry; nothing is built for the log when debug is
// off.
type Pipeline struct {
	next   http.RoundTripper
	policy RetryPolicy
	log    *slog.Logger
	// timeout is the base client's Timeout, which bounds each attempt
	// too when it is shorter; 0 for none.
	timeout time.Duration
}

// NewPipeline returns a Pipeline over base's Transport (a pooled transport
// with dial and TLS handshake timeouts when base or its Transport is nil).
// Of base, only its Transport and Timeout are used: its CheckRedirect and
// Jar play no part, since no request is redirected and no service samkit
// calls sets cookies. base is not modified.
//
// When base's Transport is itself a Pipeline (the client of
// token.Provider.HTTPClient, say), the new Pipeline sends over that one's
// base transport instead: one layer of retries, not two. A Pipeline that
// is wrapped in another transport cannot multiply attempts either: a
// request already inside a Pipeline's attempt passes through any Pipeline
// below it once, unretried.
func NewPipeline(base *http.Client, p RetryPolicy, log *slog.Logger) *Pipeline {
	var next http.RoundTripper
	var timeout time.Duration
	if base != nil {
		next, timeout = base.Transport, base.Timeout
	}
	if pl, ok := next.(*Pipeline); ok {
		next = pl.next
		if timeout == 0 {
			timeout = pl.timeout
		}
	}
	if next == nil {
		next = DefaultTransport()
	}
	return &Pipeline{next: next, policy: p.WithDefaults(), log: RedactingLogger(log), timeout: timeout}
}

// NewClient returns an *http.Client whose requests go through
// NewPipeline(base, p, log), for code that needs an *http.Client rather
// than a Pipeline. Its errors are those of http.Client.Do: wrap them with
// RedactChain before printing.
func NewClient(base *http.Client, p RetryPolicy, log *slog.Logger) *http.Client {
	return &http.Client{Transport: NewPipeline(base, p, log), CheckRedirect: RefuseRedirect}
}

// Base returns the client a Pipeline sends through, without its retries:
// the one to give other clients so that they share its connections.
func (p *Pipeline) Base() *http.Client {
	return &http.Client{Transport: p.next, Timeout: p.timeout, CheckRedirect: RefuseRedirect}
}

// Policy returns the Pipeline's retry policy, defaults filled in.
func (p *Pipeline) Policy() RetryPolicy { return p.policy }

// RefuseRedirect is an http.Client CheckRedirect that follows no redirect
// and fails the request with a *RedirectError instead, for the clients
// samkit hands to code it does not control (MSAL's public client, say).
func RefuseRedirect(req *http.Request, _ []*http.Request) error {
	e := &RedirectError{Location: origin(req.URL)}
	// req.Response is the redirect that made req.
	if req.Response != nil {
		e.StatusCode = req.Response.StatusCode
	}
	return e
}

var defaultTransport = sync.OnceValue(func() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 10 * time.Second
	t.MaxIdleConns = 100
	// The access check talks to a few hosts from tens of workers at once.
	t.MaxIdleConnsPerHost = 32
	return t
})

// DefaultTransport returns the transport samkit's clients share when given
// none: http.DefaultTransport's proxy and HTTP/2 settings, with dial and
// TLS handshake timeouts and a larger idle pool.
func DefaultTransport() *http.Transport { return defaultTransport() }

// Gate is implemented by a base transport that holds requests back for a
// while (a throttling backoff shared by many workers, say). A Pipeline
// calls WaitTurn before each attempt, outside the attempt's bound, so
// that waiting there is not taken for a service that does not answer;
// WaitTurn returns early with ctx's error.
type Gate interface {
	WaitTurn(ctx context.Context) error
}

// Observer is implemented by a Gate that wants to see the answers: a
// Gate given with WithGate is shown each response its requests get, so
// that it can shut on a throttling answer.
type Observer interface {
	Observe(resp *http.Response)
}

type gateKey struct{}

// WithGate returns a context whose requests wait for g before each
// attempt in any Pipeline, whatever its base transport, and show g each
// response when g is an Observer: for requests made through clients the
// caller does not build (a token.Provider's), which a run over many
// tenants still wants to hold back while a service throttles it. It
// takes the place of a Gate base transport for those requests.
func WithGate(ctx context.Context, g Gate) context.Context {
	return context.WithValue(ctx, gateKey{}, g)
}

// nestedKey marks the context of a request inside a Pipeline's attempt.
type nestedKey struct{}

// nested is the parent of an attempt's context: the caller's, marked with
// nestedKey. It lives in the attempt's watch, so that the mark costs no
// allocation of its own.
type nested struct{ context.Context }

func (n *nested) Value(key any) any {
	if _, ok := key.(nestedKey); ok {
		return true
	}
	return n.Context.Value(key)
}

// RoundTrip is Do, so that a Pipeline can serve as an http.Client's
// Transport. Its errors are not wrapped in a *url.Error: the http.Client
// adds that, and one URL in an error is enough.
func (p *Pipeline) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := p.Do(req)
	if ue, ok := err.(*url.Error); ok {
		err = ue.Err
	}
	return resp, err
}

// Do sends req (see Pipeline). Its errors are the transport's, redacted
// (RedactChain), a *RedirectError, a *TimeoutError, or the context's
// error once req's context is done.
func (p *Pipeline) Do(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if ctx.Value(nestedKey{}) != nil {
		return p.next.RoundTrip(req)
	}
	body, err := replayable(req)
	if err != nil {
		return nil, err
	}
	c := call{p: p, req: req, ctx: ctx, body: body,
		class: retryClassFor(ctx, req.Method), start: time.Now()}
	if g, ok := ctx.Value(gateKey{}).(Gate); ok {
		c.gate = g
		c.observer, _ = g.(Observer)
	} else if g, ok := p.next.(Gate); ok {
		c.gate = g
	}
	c.deadline = c.start.Add(p.policy.MaxElapsed)
	if p.log.Enabled(ctx, slog.LevelDebug) {
		c.url = RedactURL(req.URL)
	}
	resp, err := c.run()
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		if c.url != "" {
			p.log.DebugContext(ctx, "http request failed", "method", req.Method, "url", c.url,
				"attempts", c.n, "duration", time.Since(c.start), "error", err)
		}
		return nil, err
	}
	if c.url != "" {
		p.log.DebugContext(ctx, "http request", "method", req.Method, "url", c.url,
			"status", resp.StatusCode, "attempts", c.n, "duration", time.Since(c.start))
	}
	return resp, nil
}

// call is the state of one Do.
type call struct {
	p        *Pipeline
	req      *http.Request
	ctx      context.Context // req's
	body     func() (io.ReadCloser, error)
	class    RetryClass
	start    time.Time
	deadline time.Time // start + MaxElapsed
	url      string    // redacted, only when logging at debug
	n        int       // attempts made
	// gate is waited for before each attempt: the context's (WithGate)
	// or the base transport, when either is a Gate. observer is the
	// context's gate when it observes; a transport observes for itself.
	gate     Gate
	observer Observer
}

func (c *call) run() (*http.Response, error) {
	p := c.p
	for {
		c.n++
		resp, err := c.attempt()
		if c.ctx.Err() != nil {
			if resp != nil {
				drainAndClose(resp.Body)
			}
			return nil, c.ctx.Err()
		}
		if err == nil {
			if rerr := redirected(c.req, resp); rerr != nil {
				drainAndClose(resp.Body)
				return nil, rerr
			}
		}
		if c.n >= p.policy.MaxAttempts || !shouldRetry(c.class, resp, err) || isElapsed(err) {
			return resp, err
		}
		wait := p.policy.backoff(c.n-1, resp)
		if time.Now().Add(wait).After(c.deadline) {
			// The next attempt could not start within MaxElapsed: the
			// answer in hand is the answer.
			return resp, err
		}
		if c.url != "" {
			attrs := []any{"method", c.req.Method, "url", c.url, "attempt", c.n, "class", c.class.String()}
			if err != nil {
				attrs = append(attrs, "error", err)
			} else {
				attrs = append(attrs, "status", resp.StatusCode)
				if ra := resp.Header.Get("Retry-After"); ra != "" {
					attrs = append(attrs, "retry_after", ra)
				}
			}
			p.log.DebugContext(c.ctx, "http retry", attrs...)
		}
		if resp != nil {
			drainAndClose(resp.Body)
		}
		if err := Sleep(c.ctx, wait); err != nil {
			return nil, err
		}
	}
}

// attempt sends one attempt under the Pipeline's bounds.
func (c *call) attempt() (*http.Response, error) {
	req := c.req
	if c.body != nil && (c.n > 1 || c.req.GetBody == nil) {
		b, err := c.body()
		if err != nil {
			return nil, err
		}
		// A shallow copy: the transport reads the headers and never
		// writes them, so each attempt need not copy them.
		r := *req
		r.Body = b
		req = &r
	}
	if c.gate != nil {
		// A shared gate's wait is not the service's silence: it runs
		// before the attempt's bound starts.
		if err := c.gate.WaitTurn(c.ctx); err != nil {
			if req.Body != nil {
				_ = req.Body.Close()
			}
			return nil, err
		}
	}
	w := newWatch(c, req)
	resp, err := c.p.next.RoundTrip(req.WithContext(w.ctx))
	if err != nil {
		err = w.failed(req, err)
		return nil, err
	}
	if c.observer != nil {
		c.observer.Observe(resp)
	}
	w.headers(resp)
	return resp, nil
}

// replayable returns what gives req's body afresh for each retry, nil for
// a request without a body. A body without GetBody is read into memory
// (and closed, as a RoundTripper must), and every attempt sends a copy.
func replayable(req *http.Request) (func() (io.ReadCloser, error), error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	if req.GetBody != nil {
		return req.GetBody, nil
	}
	b, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	if err != nil {
		return nil, err
	}
	return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }, nil
}

// Sleep waits d, or until ctx is done and then returns ctx's error.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
