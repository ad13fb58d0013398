package faulttest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
)

// Recorder is a transport that keeps a copy of every request a client
// sends, body included, so a test can assert on headers and bodies as they
// left the client (the fake's own recording fingerprints credentials).
type Recorder struct {
	Next http.RoundTripper

	mu   sync.Mutex
	reqs []*http.Request
}

// RoundTrip records r and sends it on.
func (c *Recorder) RoundTrip(r *http.Request) (*http.Response, error) {
	clone := r.Clone(context.Background())
	if r.GetBody != nil {
		if rc, err := r.GetBody(); err == nil {
			b, _ := io.ReadAll(rc)
			clone.Body = io.NopCloser(bytes.NewReader(b))
		}
	}
	c.mu.Lock()
	c.reqs = append(c.reqs, clone)
	c.mu.Unlock()
	return c.Next.RoundTrip(r)
}

// Requests returns the requests recorded so far, oldest first.
func (c *Recorder) Requests() []*http.Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*http.Request(nil), c.reqs...)
}
