package httpx

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"time"
)

// RetryPolicy bounds how a client retries and how long it waits. It is
// token.RetryPolicy's twin, field for field, so that the public type
// converts to it; the fields are documented there. The zero value of
// every field means its default.
type RetryPolicy struct {
	MaxAttempts      int
	MinWait, MaxWait time.Duration
	MaxRetryAfter    time.Duration
	AttemptTimeout   time.Duration
	MaxElapsed       time.Duration
}

// Defaults of RetryPolicy.
const (
	DefaultMaxAttempts    = 4
	DefaultMinWait        = 500 * time.Millisecond
	DefaultMaxWait        = 30 * time.Second
	DefaultMaxRetryAfter  = 60 * time.Second
	DefaultAttemptTimeout = 32 * time.Second
	DefaultMaxElapsed     = 3 * time.Minute
	// BodyTimeoutFactor times AttemptTimeout bounds the reading of one
	// response body.
	BodyTimeoutFactor = 4
)

// WithDefaults fills the zero fields and makes the bounds consistent.
func (p RetryPolicy) WithDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultMaxAttempts
	}
	if p.MinWait <= 0 {
		p.MinWait = DefaultMinWait
	}
	if p.MaxWait <= 0 {
		p.MaxWait = DefaultMaxWait
	}
	if p.MaxWait < p.MinWait {
		p.MaxWait = p.MinWait
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if p.AttemptTimeout <= 0 {
		p.AttemptTimeout = DefaultAttemptTimeout
	}
	if p.MaxElapsed <= 0 {
		p.MaxElapsed = DefaultMaxElapsed
	}
	return p
}

// Check refuses negative fields, naming the first; opt prefixes the
// message ("graph: WithRetryPolicy").
func (p RetryPolicy) Check() error {
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"MaxAttempts", int64(p.MaxAttempts)}, {"MinWait", int64(p.MinWait)}, {"MaxWait", int64(p.MaxWait)},
		{"MaxRetryAfter", int64(p.MaxRetryAfter)}, {"AttemptTimeout", int64(p.AttemptTimeout)}, {"MaxElapsed", int64(p.MaxElapsed)},
	} {
		if f.v < 0 {
			return fmt.Errorf("RetryPolicy.%s is negative: use 0 for its default", f.name)
		}
	}
	return nil
}

// RetryClass says which failures of a request may be retried. Set it on
// the request's context with WithRetryClass.
type RetryClass int

const (
	// RetryIdempotent, the zero value and the default, decides by method:
	// GET, HEAD, PUT, DELETE, OPTIONS and TRACE are replayed after a
	// transport error, 408, 429 or 5xx (500, 502, 503, 504); any other
	// method is treated as RetryThrottleOnly.
	RetryIdempotent RetryClass = iota
	// RetryThrottleOnly replays a request only when the server certainly
	// did not act on it: 429, 503 with a Retry-After, or a connection that
	// could not be dialled. A 500 or a reset connection may have followed a
	// side effect, so they are returned to the caller.
	RetryThrottleOnly
	// RetryAlways replays after the failures RetryIdempotent retries, for
	// any method: for requests that are safe to repeat although sent as
	// POST, such as token redemptions (a refresh token stays valid when
	// used) and Graph reads sent as POST.
	RetryAlways
	// RetryNever sends a request exactly once: for single-use inputs such
	// as an authorization code, where a replay fails with a misleading
	// error and hides the first one.
	RetryNever
)

func (c RetryClass) String() string {
	switch c {
	case RetryIdempotent:
		return "idempotent"
	case RetryThrottleOnly:
		return "throttle-only"
	case RetryAlways:
		return "always"
	case RetryNever:
		return "never"
	}
	return "unknown"
}

type retryClassKey struct{}

// WithRetryClass returns a context whose requests the client retries as c
// says.
func WithRetryClass(ctx context.Context, c RetryClass) context.Context {
	return context.WithValue(ctx, retryClassKey{}, c)
}

// retryClassFor resolves the class of a request: the one set on its
// context, refined by its method when that class is the method-based
// default.
func retryClassFor(ctx context.Context, method string) RetryClass {
	c, _ := ctx.Value(retryClassKey{}).(RetryClass)
	if c != RetryIdempotent {
		return c
	}
	switch method {
	case "", http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions, http.MethodTrace:
		return RetryAlways
	}
	return RetryThrottleOnly
}

// shouldRetry reports whether an attempt that ended with resp or err may be
// replayed under class c. It is not called for a cancelled context.
func shouldRetry(c RetryClass, resp *http.Response, err error) bool {
	switch c {
	case RetryNever:
		return false
	case RetryThrottleOnly:
		if err != nil {
			return isDialError(err)
		}
		return resp.StatusCode == http.StatusTooManyRequests ||
			resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != ""
	}
	if err != nil {
		return !isPermanentTransportError(err)
	}
	switch resp.StatusCode {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// isDialError reports whether err happened while connecting, before any
// byte of the request was sent.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial" && !isPermanentTransportError(err)
}

// isPermanentTransportError reports transport errors that a replay cannot
// fix: an unknown host, an untrusted certificate, a bad URL scheme, a
// redirect loop, an invalid header. net/http does not type most of them, so
// they are recognised by message, as go-retryablehttp does.
func isPermanentTransportError(err error) bool {
	var (
		dns         *net.DNSError
		unknownCA   x509.UnknownAuthorityError
		invalidCert x509.CertificateInvalidError
		hostname    x509.HostnameError
		verify      *tls.CertificateVerificationError
	)
	if errors.As(err, &dns) && dns.IsNotFound {
		return true
	}
	if errors.As(err, &unknownCA) || errors.As(err, &invalidCert) || errors.As(err, &hostname) || errors.As(err, &verify) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"unsupported protocol scheme", "stopped after", "invalid header", "certificate is not trusted"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// backoff is the wait before retry number attempt+1: the response's
// Retry-After when it has one, capped at MaxRetryAfter; otherwise an
// exponential backoff from MinWait, capped at MaxWait, with "equal
// jitter" (half fixed, half random) so that many clients throttled at
// once do not come back at once.
func (p RetryPolicy) backoff(attempt int, resp *http.Response) time.Duration {
	if resp != nil {
		if d, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return min(d, p.MaxRetryAfter)
		}
	}
	d := p.MaxWait
	if attempt < 32 {
		if exp := p.MinWait << attempt; exp > 0 && exp < p.MaxWait {
			d = exp
		}
	}
	half := d / 2
	return max(p.MinWait, half+rand.N(half+1))
}
