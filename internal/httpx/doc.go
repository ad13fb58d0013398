// Package httpx is the HTTP plumbing shared by samkit's token, graph,
// partner and exchange clients.
//
// A Pipeline is the one HTTP layer every request goes through: one loop
// over the base transport, with no http.Client in between. It retries as
// the request's retry class allows (WithRetryClass; by default, idempotent
// methods are replayed and POST only after throttling), honours
// Retry-After up to a cap, bounds each attempt (dial, TLS, headers, then
// the body's silences and its whole length) and the whole call
// (RetryPolicy), follows no redirect (every request samkit sends carries a
// credential), and when retries run out returns the last response so the
// caller can decode the service's own error body. NewClient wraps a
// Pipeline in an *http.Client for code that needs one.
//
// Nothing here logs a secret: the Pipeline logs only through a redacting
// slog handler (NewRedactingHandler), and only builds what it logs when
// debug logging is on; URLs are logged without their query (RedactURL);
// errors are redacted through their whole chain (RedactChain); ReadBody
// caps how much of a response is held in memory.
//
// ValidPathSegment and ValidTenant guard every identifier that a client
// places in a URL path, so that data read from one API (a customer id in a
// contract, say) cannot walk the request to another path.
package httpx
