package main

import (
	"context"
	"io"
	"net/http"
	"sync"
	"time"
)

// deadlineWatch is the transport under every request samctl sends when
// --timeout is set. It remembers which requests are under way, answer
// included, so that when the time runs out samctl can name the service
// that did not answer: the error a caller gets by then is often the bare
// context.DeadlineExceeded of a token request that another goroutine was
// sending.
type deadlineWatch struct {
	next     http.RoundTripper
	deadline context.Context

	mu       sync.Mutex
	inFlight map[*http.Request]time.Time
	// cut is the earliest started request that failed after the deadline.
	cut      string
	cutStart time.Time
}

// watch wraps next when --timeout bounds the command; otherwise it
// returns next.
func (a *app) watch(next http.RoundTripper) http.RoundTripper {
	if a.deadline == nil {
		return next
	}
	if next == nil {
		next = http.DefaultTransport
	}
	a.watcher = &deadlineWatch{next: next, deadline: a.deadline, inFlight: map[*http.Request]time.Time{}}
	return a.watcher
}

func (w *deadlineWatch) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	w.mu.Lock()
	w.inFlight[r] = start
	w.mu.Unlock()
	resp, err := w.next.RoundTrip(r)
	if err != nil {
		w.done(r, start, true)
		return nil, err
	}
	resp.Body = &watchedBody{ReadCloser: resp.Body, w: w, r: r, start: start}
	return resp, nil
}

// done takes r off the requests under way; failed says it ended in an
// error, which after the deadline means the deadline cut it.
func (w *deadlineWatch) done(r *http.Request, start time.Time, failed bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.inFlight, r)
	if failed && w.deadline.Err() != nil && (w.cut == "" || start.Before(w.cutStart)) {
		w.cut, w.cutStart = endpoint(r), start
	}
}

// hung names the request the deadline caught: the earliest one it cut,
// else the earliest still under way; "" when there is none.
func (w *deadlineWatch) hung() string {
	if w == nil {
		return ""
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cut != "" {
		return w.cut
	}
	var (
		url   string
		first time.Time
	)
	for r, start := range w.inFlight {
		if url == "" || start.Before(first) {
			url, first = endpoint(r), start
		}
	}
	return url
}

// endpoint is r's URL without its query, which may carry a skip token.
func endpoint(r *http.Request) string {
	u := *r.URL
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return u.String()
}

// watchedBody keeps a request under way until its answer is read.
type watchedBody struct {
	io.ReadCloser
	w     *deadlineWatch
	r     *http.Request
	start time.Time
	once  sync.Once
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.once.Do(func() { b.w.done(b.r, b.start, err != io.EOF) })
	}
	return n, err
}

func (b *watchedBody) Close() error {
	b.once.Do(func() { b.w.done(b.r, b.start, false) })
	return b.ReadCloser.Close()
}
