package partner_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/samkit/samkit/internal/faulttest"
	"github.com/samkit/samkit/internal/faulttest/inproc"
	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/partner"
	"github.com/samkit/samkit/token"
)

// source is a token.Source that mints tokens with mint and caches one
// until it is invalidated, as token.Provider's sources do.
type source struct {
	mint func() string

	mu            sync.Mutex
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

// setMint changes how tokens are minted and drops the cached one.
func (s *source) setMint(mint func() string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mint, s.cur = mint, ""
}

func (s *source) Invalidate(t token.Token) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.AccessToken.Reveal() == s.cur {
		s.cur = ""
		s.invalidations++
	}
}

// adminSpec is the partner admin's delegated Partner Center token, signed
// in with MFA.
func adminSpec(srv *testserver.Server) testserver.TokenSpec {
	p := srv.Partner()
	return testserver.TokenSpec{Resource: testserver.PartnerCenterResource, UserID: p.AdminID, UPN: p.AdminUPN,
		Scopes: []string{"user_impersonation"}, MFA: true}
}

// fastRetries keeps retry waits in milliseconds, Retry-After included.
var fastRetries = token.RetryPolicy{MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond, MaxRetryAfter: 20 * time.Millisecond}

type fixture struct {
	srv *testserver.Server
	src *source
	cap *faulttest.Recorder
	pc  *partner.Client
}

// setup starts a fake cloud and a client of its Partner Center that signs
// in as the partner admin with MFA.
func setup(t *testing.T, opts ...partner.Option) *fixture {
	t.Helper()
	srv := testserver.New()
	t.Cleanup(srv.Close)
	f := &fixture{srv: srv, cap: &faulttest.Recorder{Next: inproc.Transport{Handler: srv.Handler()}}}
	f.src = &source{mint: func() string { return srv.IssueAccessToken(adminSpec(srv)) }}
	opts = append([]partner.Option{
		partner.WithCloud(srv.Cloud()),
		partner.WithHTTPClient(&http.Client{Transport: f.cap}),
		partner.WithRetryPolicy(fastRetries),
	}, opts...)
	pc, err := partner.New(f.src, opts...)
	if err != nil {
		t.Fatal(err)
	}
	f.pc = pc
	return f
}
