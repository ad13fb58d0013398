package sam

import (
	"net/http"
	"strings"
	"sync/atomic"
)

// CountingTransport counts the HTTP requests sent through it, and among
// them the token requests, to measure what a run cost. Put it under
// everything that sends, the client given to WithHTTPClient:
//
//	ct := &sam.CountingTransport{Base: base.Transport}
//	p, _ := sam.Open(ctx, store, sam.WithHTTPClient(&http.Client{Transport: ct}))
//	report, _ := p.Check(ctx, tenants, sam.CheckOptions{})
//	fmt.Println(ct.Requests(), ct.TokenRequests())
//
// It sits under the retrying layers, so a retried request counts once per
// attempt. It is safe for concurrent use.
type CountingTransport struct {
	// Base sends the requests; http.DefaultTransport when nil.
	Base http.RoundTripper

	requests, tokens atomic.Int64
}

// RoundTrip counts req and sends it through Base.
func (t *CountingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.requests.Add(1)
	if strings.HasSuffix(req.URL.Path, "/oauth2/v2.0/token") || strings.HasSuffix(req.URL.Path, "/oauth2/token") {
		t.tokens.Add(1)
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(req)
}

// Requests returns how many requests went through, token requests
// included.
func (t *CountingTransport) Requests() int64 { return t.requests.Load() }

// TokenRequests returns how many of them went to a token endpoint.
func (t *CountingTransport) TokenRequests() int64 { return t.tokens.Load() }
