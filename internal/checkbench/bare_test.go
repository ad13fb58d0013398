//go:build unix

package main

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/sam"
)

// TestBareSendsSamkitsRequests holds the bare client to samkit's access
// check: for one tenant, the same requests in the same order, as the fake
// records them and as they leave the client. When samkit's requests
// change, this fails until bare.go follows, so that the ratio keeps
// setting samkit against the same work.
func TestBareSendsSamkitsRequests(t *testing.T) {
	t.Parallel()
	s, w, err := newFake(1)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	tenant := w.Tenants[0]

	samkit := requestsOf(t, s, w, func(hc *http.Client) {
		p, err := partnerOf(w, hc, 1)
		require.NoError(t, err)
		rep, err := p.Check(t.Context(), []sam.Tenant{{ID: tenant}}, sam.CheckOptions{})
		require.NoError(t, err)
		require.Empty(t, rep.Failures(), "samkit's check of a healthy tenant")
	})
	bare := requestsOf(t, s, w, func(hc *http.Client) {
		failed, err := newBare(w, hc.Transport).check(t.Context(), []string{tenant}, 1)
		require.NoError(t, err)
		require.Zero(t, failed, "the bare client's check of a healthy tenant")
	})

	require.Len(t, samkit, requestsPerTenant, "samkit's check makes R requests per tenant; requestsPerTenant must follow it")
	for i := range samkit {
		assert.Equal(t, samkit[i], bare[i], "request %d of %d: the bare client must send what samkit sends", i+1, len(samkit))
	}
	assert.Len(t, bare, len(samkit), "the bare client must send as many requests as samkit")
}

// TestBareCountsFailures: a tenant the fake does not know fails alone,
// and the error names the request that failed.
func TestBareCountsFailures(t *testing.T) {
	t.Parallel()
	s, w, err := newFake(2)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	hc, err := trusting(w.Certificate)
	require.NoError(t, err)

	tenants := []string{w.Tenants[0], "00000000-0000-0000-0000-00000000dead", w.Tenants[1]}
	failed, first := newBare(w, hc.Transport).check(t.Context(), tenants, 2)
	assert.Equal(t, 1, failed, "only the unknown tenant fails")
	require.Error(t, first)
	assert.Contains(t, first.Error(), "token for https://graph.microsoft.com/.default: 400", "the first failure names the request and its status")
}

// wireRequest is one request as the fake recorded it and as it left the
// client, with what differs from one request to the next (request ids,
// tokens) replaced by what it must be.
type wireRequest struct {
	Method, Service, Path, Tenant string
	Query, Form                   url.Values
	// URL, Header and Body as sent; Body for JSON bodies only (the fake
	// records token forms).
	URL    string
	Header map[string]string
	Body   string
}

var guid = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// requestsOf runs check with a client trusting the fake and returns the
// requests it made, which check must make one at a time.
func requestsOf(t *testing.T, s *testserver.Server, w world, check func(hc *http.Client)) []wireRequest {
	t.Helper()
	hc, err := trusting(w.Certificate)
	require.NoError(t, err)
	rec := &recorder{next: hc.Transport}
	hc.Transport = rec
	s.ResetRequests()
	check(hc)

	got := s.Requests()
	require.Len(t, got, len(rec.sent), "the fake recorded every request the client sent, no other")
	out := make([]wireRequest, len(got))
	for i, r := range got {
		form := r.Form
		if form.Has("refresh_token") {
			// Every token answer rotates the refresh token: the first
			// request redeems the one given, the next ones a rotated one.
			form = cloneValues(form)
			if form.Get("refresh_token") == testserver.Fingerprint(w.RefreshToken) {
				form.Set("refresh_token", "the one given")
			} else {
				form.Set("refresh_token", "a rotated one")
			}
		}
		if form.Has("client_secret") {
			form = cloneValues(form)
			if form.Get("client_secret") == testserver.Fingerprint(w.Secret) {
				form.Set("client_secret", "the app's")
			}
		}
		sent := rec.sent[i]
		out[i] = wireRequest{Method: r.Method, Service: r.Service, Path: r.Path, Tenant: r.Tenant, Query: r.Query, Form: form,
			URL: sent.URL, Header: sent.Header, Body: sent.Body}
	}
	return out
}

func cloneValues(v url.Values) url.Values {
	c := url.Values{}
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

// recorder notes each request it passes on, without its secrets.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	sent []wireRequest
}

func (rc *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r := wireRequest{URL: req.URL.String(), Header: map[string]string{}}
	for k, vs := range req.Header {
		v := vs[0]
		if len(vs) > 1 {
			v = "several values"
		}
		switch {
		case k == "Authorization" && strings.HasPrefix(v, "Bearer ") && len(v) > len("Bearer "):
			v = "Bearer and a token"
		case k == "Authorization":
			v = "not a bearer token"
		case k == "Client-Request-Id" && guid.MatchString(v):
			v = "a new GUID"
		}
		r.Header[k] = v
	}
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		// A RoundTripper leaves the caller's request as it was.
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(b))
		if req.Header.Get("Content-Type") == "application/json" {
			r.Body = string(b)
		}
	}
	rc.mu.Lock()
	rc.sent = append(rc.sent, r)
	rc.mu.Unlock()
	return rc.next.RoundTrip(req)
}
