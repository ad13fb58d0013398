package testserver

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"syscall"
)

// memoryURL is the address of a server that serves no socket. The .invalid
// top-level domain never resolves (RFC 6761), so a client that reaches for
// it without the server's transport fails at once instead of leaving the
// machine.
const memoryURL = "https://fake.samkit.invalid"

// WithoutListener serves no socket: URL is https://fake.samkit.invalid and
// the transport of Client hands each request straight to the server's
// handler, in the goroutine that sends it. Nothing waits on the network,
// so a test using the fake can run in a testing/synctest bubble, where
// Latency faults and token lifetimes pass in fake time. TLSConfig and
// Certificate are nil: only Client reaches such a server.
func WithoutListener() Option { return func(c *config) { c.noListener = true } }

// memoryTransport is an http.RoundTripper that serves requests with a
// handler, as a server on the far side of a connection would, without one.
type memoryTransport struct {
	handler http.Handler
	closed  atomic.Bool
}

// serveInMemory makes s serve through a memoryTransport.
func (s *Server) serveInMemory(h http.Handler) {
	s.ts = &httptest.Server{URL: memoryURL, Config: &http.Server{Handler: h}}
	s.mem = &memoryTransport{handler: h}
	s.memClient = &http.Client{Transport: s.mem}
}

// errReset is what a client sees of a Reset fault or a handler that failed:
// the connection dropped with no response.
var errReset = fmt.Errorf("testserver: the server reset the connection: %w", syscall.ECONNRESET)

// RoundTrip serves req with the handler. As with a real connection, the
// handler sees a server-side request (no scheme or host in its URL, TLS
// state set), a Reset fault is a transport error, and a request whose
// context ends before the answer gets the context's error.
func (t *memoryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		defer req.Body.Close()
	}
	if req.URL == nil || req.URL.Scheme+"://"+req.URL.Host != memoryURL {
		return nil, fmt.Errorf("testserver: this client reaches only the fake at %s, not %s://%s", memoryURL, req.URL.Scheme, req.URL.Host)
	}
	if t.closed.Load() {
		return nil, fmt.Errorf("testserver: the fake at %s is closed: %w", memoryURL, syscall.ECONNREFUSED)
	}
	ctx := req.Context()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sr := req.Clone(ctx)
	sr.URL.Scheme, sr.URL.Host = "", ""
	sr.RequestURI = req.URL.RequestURI()
	sr.Proto, sr.ProtoMajor, sr.ProtoMinor = "HTTP/1.1", 1, 1
	sr.RemoteAddr = "127.0.0.1:1"
	sr.TLS = &tls.ConnectionState{Version: tls.VersionTLS13, HandshakeComplete: true, ServerName: sr.URL.Hostname()}
	if sr.Host == "" {
		sr.Host = req.URL.Host
	}
	if sr.Body == nil {
		sr.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	if err := serve(t.handler, rec, sr); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	resp := rec.Result()
	resp.ContentLength = int64(rec.Body.Len())
	resp.Request = req
	return resp, nil
}

// serve runs h, turning the panic with which a handler aborts its
// connection into the error a client would see.
func serve(h http.Handler, w http.ResponseWriter, r *http.Request) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = errReset
			if e, ok := v.(error); !ok || !errors.Is(e, http.ErrAbortHandler) {
				// net/http logs such a panic and drops the connection;
				// the client sees the drop, the test sees why.
				err = fmt.Errorf("%w (the handler panicked: %v)", errReset, v)
			}
		}
	}()
	h.ServeHTTP(w, r)
	return nil
}
