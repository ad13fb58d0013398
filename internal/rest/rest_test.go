package rest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/api"
	"github.com/samkit/samkit/cloud"
	"github.com/samkit/samkit/internal/httpx"
	"github.com/samkit/samkit/internal/rest"
	"github.com/samkit/samkit/token"
)

// source hands out numbered tokens, counts invalidations and, when cloud
// is set, says where its tokens belong (token.Origin).
type source struct {
	mu          sync.Mutex
	n           int
	invalidated int
	cloud       *cloud.Configuration
	hc          *http.Client
	ua          string
}

func (s *source) Token(context.Context) (token.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	return token.Token{AccessToken: token.NewSecret("tok" + string(rune('0'+s.n))), Expiry: time.Now().Add(time.Hour)}, nil
}

func (s *source) Invalidate(token.Token) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.invalidated++
}

// cloudSource is a source that is a token.Origin and names no
// User-Agent, as a Source of someone else's may be.
type cloudSource struct{ *source }

func (s cloudSource) Cloud() cloud.Configuration { return *s.cloud }
func (s cloudSource) HTTPClient() *http.Client   { return s.hc }

// originSource is a source that is a token.Origin and a
// token.UserAgentSource, as a Provider's are.
type originSource struct{ cloudSource }

func (s originSource) UserAgent() string { return s.ua }

var svc = rest.Service{
	Name:            "svc",
	Endpoint:        func(c cloud.Configuration) string { return c.Graph.Endpoint },
	RequestIDHeader: "client-request-id",
	Token:           "a token",
	Refreshable:     func(err error) bool { return err.Error() == "refusal: stale" },
}

// fail decodes an answer as "refusal: " + body.
func fail(a *rest.Answer) error { return errors.New("refusal: " + string(a.Body)) }

func testCloud(url string) cloud.Configuration {
	c := cloud.Public
	c.Name = "test"
	c.Graph.Endpoint = url
	return c
}

func TestClientTakesCloudAndHTTPClientFromSource(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)
	var through atomic.Int32
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		through.Add(1)
		return http.DefaultTransport.RoundTrip(r)
	})}
	c := testCloud(srv.URL)
	rc, err := rest.New(originSource{cloudSource{&source{cloud: &c, hc: hc}}}, rest.Options{}, svc)
	require.NoError(t, err)
	assert.Equal(t, srv.URL, rc.Base(), "the client defaults to its source's cloud, not the public one")
	_, err = rc.Do(t.Context(), &rest.Request{Method: "GET", URL: rc.Base() + "/x", What: "GET /x", Fail: fail})
	require.NoError(t, err)
	assert.EqualValues(t, 1, hits.Load())
	assert.EqualValues(t, 1, through.Load(), "the request went through the source's HTTP client")

	var o rest.Options
	require.NoError(t, o.SetCloud("svc", cloud.USGovernment))
	rc, err = rest.New(originSource{cloudSource{&source{cloud: &c, hc: hc}}}, o, svc)
	require.NoError(t, err)
	assert.Equal(t, cloud.USGovernment.Graph.Endpoint, rc.Base(), "an explicit cloud wins")

	rc, err = rest.New(cloudSource{&source{cloud: &c, hc: hc}}, rest.Options{}, svc)
	require.NoError(t, err)
	assert.Equal(t, srv.URL, rc.Base(), "an Origin that names no User-Agent is an Origin all the same")

	rc, err = rest.New(&source{}, rest.Options{}, svc)
	require.NoError(t, err)
	assert.Equal(t, cloud.Public.Graph.Endpoint, rc.Base(), "a source that names no cloud gets the public one")
}

// TestUserAgent: a client sends its option's product before samkit's,
// else its source's User-Agent, else samkit's alone; a view keeps its
// client's.
func TestUserAgent(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, r.Header.Get("User-Agent"))
	}))
	t.Cleanup(srv.Close)
	c := testCloud(srv.URL)
	samkit := httpx.UserAgent("")
	named := func(product string) rest.Options {
		var o rest.Options
		require.NoError(t, o.SetUserAgent("svc", product))
		return o
	}
	cases := []struct {
		name string
		src  token.Source
		o    rest.Options
		want string
	}{
		{"a bare source", &source{}, rest.Options{}, samkit},
		{"a bare source, a product named", &source{}, named("acme-msp/2.1"), "acme-msp/2.1 " + samkit},
		{"an origin's", originSource{cloudSource{&source{cloud: &c, ua: "acme-msp/2.1 " + samkit}}}, rest.Options{}, "acme-msp/2.1 " + samkit},
		{"an origin naming none", originSource{cloudSource{&source{cloud: &c}}}, rest.Options{}, samkit},
		{"the option over the origin's", originSource{cloudSource{&source{cloud: &c, ua: "acme-msp/2.1 " + samkit}}}, named("tool/3"), "tool/3 " + samkit},
	}
	for _, tc := range cases {
		mu.Lock()
		got = nil
		mu.Unlock()
		o := tc.o
		require.NoError(t, o.SetBaseURL("svc", srv.URL))
		rc, err := rest.New(tc.src, o, svc)
		require.NoError(t, err)
		v, err := rc.For(&source{})
		require.NoError(t, err)
		for _, c := range []*rest.Client{rc, v} {
			_, err = c.Do(t.Context(), &rest.Request{Method: "GET", URL: srv.URL, What: "GET /", Fail: fail})
			require.NoError(t, err)
		}
		mu.Lock()
		assert.Equal(t, []string{tc.want, tc.want}, got, "%s: the client's User-Agent, and its view's", tc.name)
		mu.Unlock()
	}

	var o rest.Options
	err := o.SetUserAgent("svc", "acme\r\nX-Evil: 1")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "svc: WithUserAgent: ", "the error names the option")

	// Someone else's source is checked too: net/http would refuse every
	// request with an error of its own.
	_, err = rest.New(originSource{cloudSource{&source{cloud: &c, ua: "acme\r\nX-Evil: 1"}}}, rest.Options{}, svc)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "svc: New: the token source's User-Agent ")
	assert.Contains(t, err.Error(), "WithUserAgent", "the error says what to do")
	rc, err := rest.New(originSource{cloudSource{&source{cloud: &c, ua: "acme\r\nX-Evil: 1"}}}, named("tool/3"), svc)
	require.NoError(t, err, "a product of the client's own replaces the source's")
	assert.NotNil(t, rc)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestRefusedTokenRetriedOnceWhenRefreshable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name            string
		body            string
		wantCalls       int
		wantInvalidated int
	}{
		{"refreshable", "stale", 2, 1},
		{"not refreshable", "mfa", 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			var auths sync.Map
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				auths.Store(r.Header.Get("Authorization"), true)
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = io.WriteString(w, tt.body)
			}))
			t.Cleanup(srv.Close)
			src := &source{}
			var o rest.Options
			require.NoError(t, o.SetBaseURL("svc", srv.URL))
			rc, err := rest.New(src, o, svc)
			require.NoError(t, err)
			_, err = rc.Do(t.Context(), &rest.Request{Method: "GET", URL: srv.URL, What: "GET /", Fail: fail})
			require.EqualError(t, err, "refusal: "+tt.body)
			assert.EqualValues(t, tt.wantCalls, calls.Load())
			assert.Equal(t, tt.wantInvalidated, src.invalidated)
			if tt.wantCalls == 2 {
				_, second := auths.Load("Bearer tok2")
				assert.True(t, second, "the retry carries a fresh token")
			}
		})
	}
}

func TestResponseRecorded(t *testing.T) {
	t.Parallel()
	var sent string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sent = r.Header.Get("client-request-id")
		w.Header().Set("request-id", "server-id")
		w.Header().Set("x-ms-throttle-limit-percentage", "0.8")
		_, _ = io.WriteString(w, "{}")
	}))
	t.Cleanup(srv.Close)
	var o rest.Options
	require.NoError(t, o.SetBaseURL("svc", srv.URL))
	rc, err := rest.New(&source{}, o, svc)
	require.NoError(t, err)
	var resp api.Response
	_, err = rc.Do(api.WithResponse(t.Context(), &resp), &rest.Request{Method: "GET", URL: srv.URL, What: "GET /", Fail: fail})
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "server-id", resp.RequestID)
	assert.Equal(t, sent, resp.ClientRequestID)
	assert.NotEmpty(t, sent)
	assert.Equal(t, "0.8", resp.Header.Get("x-ms-throttle-limit-percentage"))
}
