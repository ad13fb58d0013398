package token

import (
	"context"
	"crypto/rsa"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *fakeClock { return &fakeClock{now: time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// memStore records every save.
type memStore struct {
	mu    sync.Mutex
	saved []string
	kinds []RefreshKind
	err   error
}

func (m *memStore) SaveRefreshToken(_ context.Context, kind RefreshKind, rt Secret) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	m.saved = append(m.saved, rt.Reveal())
	m.kinds = append(m.kinds, kind)
	return nil
}

func (m *memStore) list() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.saved...)
}

func TestDelegatedTokens(t *testing.T) {
	t.Parallel()
	s := newSTS(t)
	p := newTestProvider(t, s, testCredentials())
	tests := []struct{ tenant, scope, wantTID, wantAud string }{
		{customerA, graphScope, customerA, "https://graph.microsoft.com"},
		{"Contoso.com", pcScope, customerA, "https://api.partnercenter.microsoft.com"},
		{customerB, exoResource + "/.default", customerB, exoResource},
		{partnerTID, graphScope, partnerTID, "https://graph.microsoft.com"},
	}
	for _, tt := range tests {
		tok, err := p.Token(t.Context(), tt.tenant, tt.scope)
		if err != nil {
			t.Fatalf("Token(%s, %s): %v", tt.tenant, tt.scope, err)
		}
		c := s.lastCall()
		for field, want := range map[string]string{
			"grant_type": "refresh_token", "client_id": testAppID, "client_secret": testSecret,
			"scope": tt.scope + " offline_access",
		} {
			if got := c.form.Get(field); got != want {
				t.Errorf("request %s = %q, want %q", field, got, want)
			}
		}
		if c.tenant != strings.ToLower(tt.tenant) {
			t.Errorf("request went to tenant %q, want %q", c.tenant, tt.tenant)
		}
		if c.header.Get("client-request-id") == "" {
			t.Error("request has no client-request-id")
		}
		claims, err := tok.Claims()
		if err != nil {
			t.Fatal(err)
		}
		if claims.TenantID != tt.wantTID || claims.Audience != tt.wantAud || !claims.MFA() {
			t.Errorf("claims tid=%s aud=%s mfa=%v; want %s, %s, true", claims.TenantID, claims.Audience, claims.MFA(), tt.wantTID, tt.wantAud)
		}
		if tok.Kind != Delegated || tok.Scope != tt.scope || tok.TenantID != strings.ToLower(tt.tenant) {
			t.Errorf("token = %v/%s/%s, want delegated/%s/%s", tok.Kind, tok.TenantID, tok.Scope, tt.tenant, tt.scope)
		}
	}
	// Each redemption after the first used the newest rotated token.
	if got := s.lastCall().form.Get("refresh_token"); got != "1.AQ-rotated-3" {
		t.Errorf("last redemption used %q, want the newest rotation 1.AQ-rotated-3", got)
	}
}

func TestCertificateAuthentication(t *testing.T) {
	t.Parallel()
	s := newSTS(t)
	cert := testCertificate(t)
	s.certKey = cert.Chain[0].PublicKey.(*rsa.PublicKey)
	c := testCredentials()
	c.ClientSecret, c.Certificate = Secret{}, cert
	p := newTestProvider(t, s, c)
	for _, get := range []func() (Token, error){
		func() (Token, error) { return p.Token(t.Context(), customerA, graphScope) },
		func() (Token, error) { return p.AppToken(t.Context(), customerA, graphScope) },
	} {
		if _, err := get(); err != nil {
			t.Fatalf("token with a certificate: %v", err)
		}
		if f := s.lastCall().form; f.Has("client_secret") || f.Get("client_assertion") == "" {
			t.Errorf("request authenticated with %v, want a client assertion only", f)
		}
	}
}

func TestAppToken(t *testing.T) {
	t.Parallel()
	s := newSTS(t)
	store := &memStore{}
	p := newTestProvider(t, s, testCredentials(), WithRefreshTokenStore(store))
	tok, err := p.AppToken(t.Context(), customerB, graphScope)
	if err != nil {
		t.Fatal(err)
	}
	f := s.lastCall().form
	if f.Get("grant_type") != "client_credentials" || f.Has("refresh_token") || f.Get("scope") != graphScope {
		t.Errorf("request form = %v, want client_credentials with the bare scope", f)
	}
	claims, _ := tok.Claims()
	if tok.Kind != AppOnly || claims.TenantID != customerB || len(claims.Roles) == 0 {
		t.Errorf("token kind %v, tid %s, roles %v; want app-only in %s with roles", tok.Kind, claims.TenantID, claims.Roles, customerB)
	}
	if len(store.list()) != 0 {
		t.Errorf("store saw %v, want nothing for client_credentials", store.list())
	}
	if _, err := p.AppToken(t.Context(), customerB, "https://graph.microsoft.com/User.Read"); err == nil || !strings.Contains(err.Error(), ".default") {
		t.Errorf("app-only with a named scope: err = %v, want one asking for .default", err)
	}
}

func TestLegacyExchangeToken(t *testing.T) {
	t.Parallel()
	s := newSTS(t)
	store := &memStore{}
	p := newTestProvider(t, s, testCredentials(), WithRefreshTokenStore(store))
	tok, err := p.LegacyExchangeToken(t.Context(), customerA)
	if err != nil {
		t.Fatal(err)
	}
	f := s.lastCall().form
	if f.Get("client_id") != ExchangePowerShellClientID || f.Has("client_secret") || f.Has("client_assertion") ||
		f.Get("refresh_token") != testExRT || f.Get("scope") != exoResource+"/.default offline_access" {
		t.Errorf("request form = %v, want the public Exchange client with its refresh token", f)
	}
	if claims, _ := tok.Claims(); claims.Audience != exoResource || tok.Kind != LegacyExchange {
		t.Errorf("aud = %s, kind %v; want %s, legacy-exchange", claims.Audience, tok.Kind, exoResource)
	}
	if got := store.list(); len(got) != 1 || store.kinds[0] != RefreshExchange {
		t.Errorf("store saw %v %v, want one Exchange rotation", got, store.kinds)
	}
	if !p.RefreshToken(RefreshSAM).Equal(NewSecret(testRT)) {
		t.Error("an Exchange rotation changed the SAM refresh token")
	}
}

func TestCacheAndExpiryWindow(t *testing.T) {
	t.Parallel()
	s := newSTS(t)
	clock := newClock()
	p := newTestProvider(t, s, testCredentials(), WithClock(clock.Now))
	first, err := p.Token(t.Context(), customerA, graphScope)
	if err != nil {
		t.Fatal(err)
	}
	if want := clock.Now().Add(3599 * time.Second); !first.Expiry.Equal(want) {
		t.Errorf("Expiry = %v, want %v", first.Expiry, want)
	}
	clock.Advance(3599*time.Second - DefaultExpiryWindow - time.Second)
	again, err := p.Token(t.Context(), customerA, graphScope)
	if err != nil || !again.AccessToken.Equal(first.AccessToken) || s.callCount() != 1 {
		t.Fatalf("inside the window: calls %d, same token %v, err %v; want the cached token", s.callCount(), again.AccessToken.Equal(first.AccessToken), err)
	}
	clock.Advance(time.Second)
	if _, err := p.Token(t.Context(), customerA, graphScope); err != nil || s.callCount() != 2 {
		t.Errorf("at expiry - window: calls %d, err %v; want a refresh", s.callCount(), err)
	}
	// Other scopes and tenants are separate entries.
	_, _ = p.Token(t.Context(), customerA, pcScope)
	_, _ = p.AppToken(t.Context(), customerA, graphScope)
	if s.callCount() != 4 {
		t.Errorf("calls = %d, want 4 (one per kind, tenant and scope)", s.callCount())
	}
}

func TestShortLivedTokensStillCached(t *testing.T) {
	t.Parallel()
	s := newSTS(t)
	s.expiresIn = 120 // shorter than the 5-minute window
	clock := newClock()
	p := newTestProvider(t, s, testCredentials(), WithClock(clock.Now))
	for range 3 {
		if _, err := p.Token(t.Context(), customerA, graphScope); err != nil {
			t.Fatal(err)
		}
	}
	if s.callCount() != 1 {
		t.Errorf("calls = %d, want 1: a token is served for half its life when the window is longer", s.callCount())
	}
}

// TestConcurrentCallersShareOneRequest runs in a synctest bubble: once
// every goroutine waits, all the callers are queued on the held request.
func TestConcurrentCallersShareOneRequest(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s := newSTS(t)
		s.gate = make(chan struct{})
		p := newTestProvider(t, s, testCredentials())
		const n = 100
		var wg sync.WaitGroup
		var failures atomic.Int32
		for range n {
			wg.Go(func() {
				if _, err := p.Token(t.Context(), customerA, graphScope); err != nil {
					failures.Add(1)
				}
			})
		}
		synctest.Wait() // every caller is waiting on the held request
		require.Equal(t, 1, s.callCount(), "requests while the callers wait")
		close(s.gate)
		wg.Wait()
		assert.Equal(t, 1, s.callCount(), "requests of %d callers", n)
		assert.Zero(t, failures.Load(), "failures")
	})
}

// TestCallerCancellationLeavesFlight runs in a synctest bubble, so that the
// caller's deadline is fake time and its return can be judged exactly.
func TestCallerCancellationLeavesFlight(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) { callerCancellationLeavesFlight(t) })
}

func callerCancellationLeavesFlight(t *testing.T) {
	s := newSTS(t)
	s.gate = make(chan struct{})
	p := newTestProvider(t, s, testCredentials())
	const deadline = 20 * time.Millisecond
	ctx, cancel := context.WithTimeout(t.Context(), deadline)
	defer cancel()
	start := time.Now()
	_, err := p.Token(ctx, customerA, graphScope)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, deadline, time.Since(start), "returned at the deadline")
	close(s.gate)
	// The request nobody waited for any more was cancelled: a later caller
	// sends its own instead of queueing behind one that may never answer.
	_, err = p.Token(t.Context(), customerA, graphScope)
	require.NoError(t, err)
	calls := s.callCount()
	if calls < 1 || calls > 2 {
		t.Errorf("calls = %d, want the abandoned request and at most one more", calls)
	}
	done, cancelDone := context.WithCancel(t.Context())
	cancelDone()
	if _, err := p.Token(done, customerB, graphScope); !errors.Is(err, context.Canceled) || s.callCount() != calls {
		t.Errorf("cancelled context: err %v, calls %d; want context.Canceled and no request", err, s.callCount())
	}
}

func TestInvalidate(t *testing.T) {
	t.Parallel()
	s := newSTS(t)
	p := newTestProvider(t, s, testCredentials())
	src := p.Source(customerA, graphScope)
	old, err := src.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	src.(Invalidator).Invalidate(old)
	fresh, err := src.Token(t.Context())
	if err != nil || fresh.AccessToken.Equal(old.AccessToken) || s.callCount() != 2 {
		t.Fatalf("after Invalidate: calls %d, err %v; want a new request", s.callCount(), err)
	}
	// A stale token does not evict the fresh one.
	src.(Invalidator).Invalidate(old)
	p.Invalidate(old)
	if _, err := src.Token(t.Context()); err != nil || s.callCount() != 2 {
		t.Errorf("Invalidate(stale): calls %d, err %v; want the fresh token kept", s.callCount(), err)
	}
	p.Invalidate(fresh)
	if _, err := p.Token(t.Context(), customerA, graphScope); err != nil || s.callCount() != 3 {
		t.Errorf("Provider.Invalidate(fresh): calls %d, err %v; want a new request", s.callCount(), err)
	}
}

func TestSources(t *testing.T) {
	t.Parallel()
	s := newSTS(t)
	p := newTestProvider(t, s, testCredentials())
	for _, tt := range []struct {
		src  Source
		kind Kind
	}{
		{p.Source("CONTOSO.COM", graphScope), Delegated},
		{p.AppSource(customerB, graphScope), AppOnly},
		{p.LegacyExchangeSource(customerB), LegacyExchange},
	} {
		tok, err := tt.src.Token(t.Context())
		if err != nil || tok.Kind != tt.kind {
			t.Errorf("Source kind %v: got %v, %v", tt.kind, tok.Kind, err)
		}
		ot, err := OAuth2(t.Context(), tt.src).Token()
		if err != nil || ot.AccessToken != tok.AccessToken.Reveal() || ot.TokenType != "Bearer" || !ot.Expiry.Equal(tok.Expiry) {
			t.Errorf("OAuth2 adapter = %+v, %v; want the same token", ot, err)
		}
	}
	if s.callCount() != 3 {
		t.Errorf("calls = %d, want 3 (the adapter reuses the cache)", s.callCount())
	}
}

func TestRequestValidation(t *testing.T) {
	t.Parallel()
	s := newSTS(t)
	c := testCredentials()
	c.RefreshToken, c.ExchangeRefreshToken = Secret{}, Secret{}
	p := newTestProvider(t, s, c)
	ctx := t.Context()
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"path in tenant", func() error { _, err := p.Token(ctx, "../../applications", graphScope); return err }, "neither a GUID nor a domain"},
		{"empty tenant", func() error { _, err := p.AppToken(ctx, "", graphScope); return err }, "empty tenant"},
		{"empty scope", func() error { _, err := p.AppToken(ctx, customerA, " "); return err }, "empty scope"},
		{"no refresh token", func() error { _, err := p.Token(ctx, customerA, graphScope); return err }, "Credentials.RefreshToken is empty"},
		{"no exchange token", func() error { _, err := p.LegacyExchangeToken(ctx, customerA); return err }, "Credentials.ExchangeRefreshToken is empty"},
	}
	for _, tt := range tests {
		err := tt.call()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want one containing %q", tt.name, err, tt.want)
		}
	}
	if _, err := p.Token(ctx, customerA, graphScope); !errors.Is(err, ErrNoRefreshToken) {
		t.Errorf("err = %v, want ErrNoRefreshToken", err)
	}
	if s.callCount() != 0 {
		t.Errorf("calls = %d, want none for invalid requests", s.callCount())
	}
}
