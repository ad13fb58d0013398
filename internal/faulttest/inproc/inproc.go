// Package inproc serves HTTP requests by calling a handler in the calling
// process: no listener, no socket, no TLS. A test that runs its client
// and the fake together inside a testing/synctest bubble needs it, because
// a goroutine waiting on a real socket is not durably blocked, so the
// bubble's clock would never move past a retry wait or a deadline. With
// every goroutine of the exchange in the bubble, the fake time a call
// took is exactly the sum of its waits, whatever the machine's load.
//
// It imports nothing of samkit, so that the internal tests of any package
// can use it.
package inproc

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
)

// ErrAborted is the transport error of a request whose handler aborted
// (panicked, as the fake's Reset fault does with http.ErrAbortHandler)
// before it answered: what a client sees of a reset connection.
var ErrAborted = errors.New("inproc: connection reset: the handler aborted before answering")

// Transport is an http.RoundTripper that serves each request with Handler,
// in a goroutine of its own, and streams the answer back through a pipe.
// The handler's request context ends when the client's does or when the
// handler returns; a client that stops reading (closes the body, or its
// context ends) makes the handler's writes fail, as a closed connection
// does.
type Transport struct {
	Handler http.Handler
}

// RoundTrip serves r.
func (t Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	rctx := r.Context()
	ctx, cancel := context.WithCancel(rctx)
	sr := serverRequest(ctx, r)
	pr, pw := io.Pipe()
	w := &writer{header: http.Header{}, req: r, ready: make(chan *http.Response, 1), pw: pw}
	aborted := make(chan struct{})
	go func() {
		defer cancel()
		defer sr.Body.Close()
		if !serve(t.Handler, w, sr) {
			if !w.answered() {
				close(aborted)
				return
			}
			// The answer has begun: the body ends early.
			_ = pw.CloseWithError(io.ErrUnexpectedEOF)
			return
		}
		w.WriteHeader(http.StatusOK) // a handler that wrote nothing answers 200
		_ = pw.Close()
	}()
	select {
	case resp := <-w.ready:
		stop := context.AfterFunc(rctx, func() { _ = pr.CloseWithError(rctx.Err()) })
		resp.Body = &body{PipeReader: pr, stop: stop}
		return resp, nil
	case <-aborted:
		return nil, ErrAborted
	case <-rctx.Done():
		_ = pr.CloseWithError(rctx.Err())
		return nil, rctx.Err()
	}
}

// serve runs h and reports whether it returned normally. A panic other
// than http.ErrAbortHandler is re-raised, as a test failure must not pass
// for a reset connection.
func serve(h http.Handler, w http.ResponseWriter, r *http.Request) (ok bool) {
	defer func() {
		if v := recover(); v != nil {
			if v != http.ErrAbortHandler { //nolint:errorlint // net/http compares it so too
				panic(v)
			}
			ok = false
		}
	}()
	h.ServeHTTP(w, r)
	return true
}

// serverRequest is r as a server's handler receives it.
func serverRequest(ctx context.Context, r *http.Request) *http.Request {
	sr := r.Clone(ctx)
	u := *r.URL
	sr.URL = &u
	sr.URL.Scheme, sr.URL.Host, sr.URL.User = "", "", nil
	sr.RequestURI = r.URL.RequestURI()
	if sr.Host == "" {
		sr.Host = r.URL.Host
	}
	sr.Proto, sr.ProtoMajor, sr.ProtoMinor = "HTTP/1.1", 1, 1
	sr.RemoteAddr = "127.0.0.1:1"
	if r.URL.Scheme == "https" {
		sr.TLS = &tls.ConnectionState{Version: tls.VersionTLS13, HandshakeComplete: true, ServerName: r.URL.Hostname()}
	}
	sr.Body = http.NoBody
	if r.Body != nil {
		sr.Body = r.Body
	}
	return sr
}

// writer is the handler's http.ResponseWriter: the first WriteHeader or
// Write hands the response to RoundTrip, the body follows through pw.
type writer struct {
	header http.Header
	req    *http.Request
	ready  chan *http.Response
	pw     *io.PipeWriter

	mu    sync.Mutex
	wrote bool
}

func (w *writer) Header() http.Header { return w.header }

func (w *writer) answered() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.wrote
}

func (w *writer) WriteHeader(code int) {
	if code < 200 { // informational answers are not the answer
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.wrote {
		return
	}
	w.wrote = true
	h := w.header.Clone()
	length := int64(-1)
	if n, err := strconv.ParseInt(h.Get("Content-Length"), 10, 64); err == nil {
		length = n
	}
	w.ready <- &http.Response{
		Status: fmt.Sprintf("%d %s", code, http.StatusText(code)), StatusCode: code,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, ContentLength: length, Request: w.req,
	}
}

func (w *writer) Write(b []byte) (int, error) {
	if !w.answered() {
		if w.header.Get("Content-Type") == "" {
			w.header.Set("Content-Type", http.DetectContentType(b))
		}
		w.WriteHeader(http.StatusOK)
	}
	return w.pw.Write(b)
}

// Flush sends the header if it has not gone yet; the pipe has no buffer.
func (w *writer) Flush() { w.WriteHeader(http.StatusOK) }

// body is the response body: closing it stops watching the context.
type body struct {
	*io.PipeReader
	stop func() bool
}

func (b *body) Close() error {
	b.stop()
	return b.PipeReader.Close()
}
