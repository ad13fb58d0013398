// Package httpx is the HTTP plumbing shared by samkit's token, graph,
// partner and exchange clients.
//
// NewClient wraps an *http.Client in github.com/hashicorp/go-retryablehttp
// with a policy fit for Microsoft's services: every request has a retry
// class (WithRetryClass; by default, idempotent methods are replayed and
// POST only after throttling), Retry-After is honoured up to a cap, waits
// end as soon as the request's context does, and when retries run out the
// last response is returned so the caller can decode the service's own
// error body.
//
// Nothing here logs a secret: the client logs only through a redacting
// slog handler (NewRedactingHandler), URLs are logged without their query
// (RedactURL), and ReadBody caps how much of a response is held in memory.
//
// ValidPathSegment and ValidTenant guard every identifier that a client
// places in a URL path, so that data read from one API (a customer id in a
// contract, say) cannot walk the request to another path.
package httpx
