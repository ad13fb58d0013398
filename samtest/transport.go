package samtest

import (
	"net/http"
	"time"
)

// latencyTransport delays each request by delay before sending it, as a
// service on another continent would. The wait ends early when the
// request's context does.
type latencyTransport struct {
	base  http.RoundTripper
	delay time.Duration
}

func (t *latencyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	timer := time.NewTimer(t.delay)
	defer timer.Stop()
	select {
	case <-timer.C:
		return t.base.RoundTrip(r)
	case <-r.Context().Done():
		if r.Body != nil {
			r.Body.Close() // a RoundTripper closes the body, even on error
		}
		return nil, r.Context().Err()
	}
}
