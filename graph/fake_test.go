package graph

import (
	"context"
	"iter"
	"sync"
	"testing"
	"time"

	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/token"
)

// adminScopes are the delegated permissions of the partner admin's token
// in tests against the fake cloud.
var adminScopes = []string{"User.Read", "Directory.AccessAsUser.All", "DelegatedAdminRelationship.Read.All"}

// fakeSource is a token.Source over the fake cloud's signing key: it
// issues the token spec describes and keeps it until told it was refused.
type fakeSource struct {
	s    *testserver.Server
	spec testserver.TokenSpec

	mu     sync.Mutex
	cached string
	issued int
}

func (f *fakeSource) Token(context.Context) (token.Token, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cached == "" {
		f.cached = f.s.IssueAccessToken(f.spec)
		f.issued++
		// Later tokens are ordinary ones, whatever the first was.
		f.spec.Lifetime = 0
	}
	return token.Token{AccessToken: token.NewSecret(f.cached), Expiry: time.Now().Add(time.Hour)}, nil
}

func (f *fakeSource) Invalidate(t token.Token) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t.AccessToken.Reveal() == f.cached {
		f.cached = ""
	}
}

// adminSpec is a token of the partner's admin (a Global Administrator, in
// AdminAgents) for Graph.
func adminSpec(s *testserver.Server) testserver.TokenSpec {
	p := s.Partner()
	return testserver.TokenSpec{Tenant: p.TenantID, Resource: testserver.GraphResource, UserID: p.AdminID, UPN: p.AdminUPN,
		Scopes: adminScopes, MFA: true}
}

// fake is a client of a fresh fake cloud, with the waits it asks for.
type fake struct {
	s   *testserver.Server
	c   *Client
	src *fakeSource
	// waits are the client's own waits (replication, $batch items), which
	// move the fake's clock instead of passing.
	waits *sleeps
}

// newFake starts a fake cloud and returns a client acting as its partner
// admin, with millisecond retry waits. opts may change the token.
func newFake(t *testing.T, spec func(*testserver.Server) testserver.TokenSpec, opts ...Option) *fake {
	t.Helper()
	s := testserver.New()
	t.Cleanup(s.Close)
	return newFakeOn(t, s, spec, opts...)
}

// newFakeOn is newFake on a server the test has prepared.
func newFakeOn(t *testing.T, s *testserver.Server, spec func(*testserver.Server) testserver.TokenSpec, opts ...Option) *fake {
	t.Helper()
	if spec == nil {
		spec = adminSpec
	}
	src := &fakeSource{s: s, spec: spec(s)}
	all := append([]Option{WithCloud(s.Cloud()), WithHTTPClient(s.Client()), WithRetryPolicy(fastPolicy)}, opts...)
	c, err := New(src, all...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	f := &fake{s: s, c: c, src: src, waits: &sleeps{}}
	c.sleep = func(ctx context.Context, d time.Duration) error {
		if err := f.waits.sleep(ctx, d); err != nil {
			return err
		}
		s.Clock().Advance(d)
		return nil
	}
	return f
}

// graphRequests returns the Graph requests the fake has seen.
func (f *fake) graphRequests() []testserver.Request {
	var out []testserver.Request
	for _, r := range f.s.Requests() {
		if r.Service == "graph" {
			out = append(out, r)
		}
	}
	return out
}

func collect[T any](t *testing.T, seq iter.Seq2[T, error]) []T {
	t.Helper()
	var out []T
	for v, err := range seq {
		if err != nil {
			t.Fatalf("listing: %v", err)
		}
		out = append(out, v)
	}
	return out
}
