package exchange_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/samkit/samkit/exchange"
	"github.com/samkit/samkit/internal/faulttest"
	"github.com/samkit/samkit/internal/faulttest/inproc"
	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/token"
)

// source is a token.Source that mints tokens with mint and caches one
// until it is invalidated, as token.Provider's sources do.
type source struct {
	mu            sync.Mutex
	mint          func() string
	cur           string
	invalidations int
}

func (s *source) Token(context.Context) (token.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == "" {
		s.cur = s.mint()
	}
	return token.Token{AccessToken: token.NewSecret(s.cur), Expiry: time.Now().Add(time.Hour), Kind: token.Delegated}, nil
}

func (s *source) Invalidate(t token.Token) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.AccessToken.Reveal() == s.cur {
		s.cur = ""
		s.invalidations++
	}
}

func (s *source) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.invalidations
}

// adminSpec is a delegated Exchange token for tenant, with Exchange.Manage.
func adminSpec(tenant string) testserver.TokenSpec {
	return testserver.TokenSpec{Tenant: tenant, Resource: testserver.ExchangeResource, UPN: "admin@partner.example",
		Scopes: []string{"Exchange.Manage"}, MFA: true}
}

// fastRetries keeps retry waits in milliseconds, Retry-After included.
var fastRetries = token.RetryPolicy{MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond, MaxRetryAfter: 20 * time.Millisecond}

type fixture struct {
	srv    *testserver.Server
	tenant string
	src    *source
	cap    *faulttest.Recorder
	exo    *exchange.Client
}

// setup starts a fake cloud with one customer and a client of its Exchange
// admin API in that customer's tenant.
func setup(t *testing.T, spec testserver.CustomerSpec, opts ...exchange.Option) *fixture {
	t.Helper()
	srv := testserver.New()
	t.Cleanup(srv.Close)
	f := &fixture{srv: srv, tenant: srv.AddCustomer(spec), cap: &faulttest.Recorder{Next: inproc.Transport{Handler: srv.Handler()}}}
	f.src = &source{mint: func() string { return srv.IssueAccessToken(adminSpec(f.tenant)) }}
	opts = append([]exchange.Option{
		exchange.WithCloud(srv.Cloud()),
		exchange.WithHTTPClient(&http.Client{Transport: f.cap}),
		exchange.WithRetryPolicy(fastRetries),
	}, opts...)
	exo, err := exchange.New(f.src, f.tenant, opts...)
	if err != nil {
		t.Fatal(err)
	}
	f.exo = exo
	return f
}
