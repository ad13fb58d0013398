package token_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/internal/faulttest"
	"github.com/samkit/samkit/internal/faulttest/inproc"
	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/token"
)

// env is a fake cloud with a consented SAM app, its refresh token, and
// customers reachable through GDAP.
type env struct {
	srv       *testserver.Server
	app       testserver.AppInfo
	rt        string
	customers []string
	store     *recordingStore
	logs      *syncBuffer
}

type recordingStore struct {
	mu    sync.Mutex
	saved []string
}

func (s *recordingStore) SaveRefreshToken(_ context.Context, _ token.RefreshKind, rt token.Secret) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.saved = append(s.saved, rt.Reveal())
	return nil
}

func (s *recordingStore) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.saved...)
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func newEnv(t *testing.T, customers ...testserver.CustomerSpec) *env {
	t.Helper()
	srv := testserver.New()
	t.Cleanup(srv.Close)
	app, err := srv.RegisterApp(testserver.AppSpec{})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{srv: srv, app: app, store: &recordingStore{}, logs: &syncBuffer{}}
	for _, spec := range customers {
		id := srv.AddCustomer(spec)
		if err := srv.GrantConsent(app.AppID, id); err != nil {
			t.Fatal(err)
		}
		e.customers = append(e.customers, id)
	}
	if e.rt, err = srv.MintRefreshToken(app.AppID); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) credentials() token.Credentials {
	return token.Credentials{
		TenantID: e.srv.Partner().TenantID, ApplicationID: e.app.AppID,
		ClientSecret: token.NewSecret(e.app.Secret), RefreshToken: token.NewSecret(e.rt),
	}
}

func (e *env) provider(t *testing.T, c token.Credentials, opts ...token.Option) *token.Provider {
	t.Helper()
	log := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p, err := token.NewProvider(c, append([]token.Option{
		token.WithCloud(e.srv.Cloud()), token.WithHTTPClient(e.srv.Client()), token.WithClock(e.srv.Clock().Now),
		token.WithRefreshTokenStore(e.store), token.WithLogger(log),
		token.WithRetryPolicy(token.RetryPolicy{MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond, MaxRetryAfter: 5 * time.Second}),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (e *env) tokenRequests() int {
	return e.srv.Count(func(r testserver.Request) bool { return r.IsToken() })
}

var gdap = testserver.CustomerSpec{GDAP: true, Contract: true}

func TestIntegrationDelegatedTenantsAndResources(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gdap, gdap, gdap)
	p := e.provider(t, e.credentials())
	c := e.srv.Cloud()
	tenants := append([]string{e.srv.Partner().TenantID}, e.customers...)
	for _, tenant := range tenants {
		for _, svc := range []struct{ scope, aud string }{
			{c.Graph.Scope(), testserver.GraphResource},
			{c.Exchange.Scope(), testserver.ExchangeResource},
			{c.PartnerCenter.Scope(), testserver.PartnerCenterResource},
		} {
			if svc.aud == testserver.PartnerCenterResource && tenant != e.srv.Partner().TenantID {
				continue // Partner Center is called in the partner's own tenant
			}
			tok, err := p.Token(t.Context(), tenant, svc.scope)
			if err != nil {
				t.Fatalf("Token(%s, %s): %v", tenant, svc.scope, err)
			}
			cl, err := tok.Claims()
			if err != nil {
				t.Fatal(err)
			}
			if cl.TenantID != tenant || cl.Audience != svc.aud || cl.AppID != e.app.AppID || !cl.MFA() || len(cl.Scopes) == 0 {
				t.Errorf("token for %s/%s: tid %s aud %s appid %s mfa %v scp %v", tenant, svc.aud, cl.TenantID, cl.Audience, cl.AppID, cl.MFA(), cl.Scopes)
			}
		}
	}
	if got, want := e.tokenRequests(), 3*2+3; got != want {
		t.Errorf("token requests = %d, want %d", got, want)
	}
}

func TestIntegrationRotationPersisted(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gdap, gdap, gdap)
	p := e.provider(t, e.credentials())
	for i, tenant := range e.customers {
		if _, err := p.Token(t.Context(), tenant, e.srv.Cloud().Graph.Scope()); err != nil {
			t.Fatal(err)
		}
		if saved := e.store.list(); len(saved) != i+1 {
			t.Fatalf("after %d redemptions the store saw %d tokens", i+1, len(saved))
		}
	}
	saved := e.store.list()
	seen := map[string]bool{e.rt: true}
	for _, rt := range saved {
		if seen[rt] {
			t.Errorf("store saw a token that is not new")
		}
		seen[rt] = true
	}
	// Each redemption used the token the previous one saved.
	var used []string
	for _, r := range e.srv.Requests() {
		if r.IsToken() {
			used = append(used, r.Form.Get("refresh_token"))
		}
	}
	for i := 1; i < len(used); i++ {
		if used[i] != testserver.Fingerprint(saved[i-1]) {
			t.Errorf("redemption %d used %s, want the previously saved %s", i+1, used[i], testserver.Fingerprint(saved[i-1]))
		}
	}
	// The fake accepts the newest token in a fresh Provider.
	c := e.credentials()
	c.RefreshToken = token.NewSecret(saved[len(saved)-1])
	if _, err := e.provider(t, c).Token(t.Context(), e.customers[0], e.srv.Cloud().Exchange.Scope()); err != nil {
		t.Errorf("newest saved refresh token refused: %v", err)
	}
}

// TestIntegrationConcurrentCallersOneRequest runs in a bubble: the
// callers all start before the delayed answer, whatever the load.
func TestIntegrationConcurrentCallersOneRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gdap)
	p := e.inprocProvider(t)
	faulttest.Bubble(t, e.srv, func(t *testing.T) {
		e.srv.Inject(testserver.Fault{Kind: testserver.Latency, Service: "login", Latency: 100 * time.Millisecond})
		var wg sync.WaitGroup
		for range 100 {
			wg.Go(func() {
				_, err := p.Token(t.Context(), e.customers[0], e.srv.Cloud().Graph.Scope())
				assert.NoError(t, err)
			})
		}
		wg.Wait()
		assert.Equal(t, 1, e.tokenRequests(), "token requests of 100 concurrent callers")
	})
}

// inprocProvider is provider over the fake served in process, for a test
// in a bubble (faulttest.Bubble).
func (e *env) inprocProvider(t *testing.T) *token.Provider {
	t.Helper()
	return e.provider(t, e.credentials(), token.WithHTTPClient(&http.Client{Transport: inproc.Transport{Handler: e.srv.Handler()}}))
}

func TestIntegrationCachedUntilExpiryWindow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gdap)
	p := e.provider(t, e.credentials())
	scope := e.srv.Cloud().Graph.Scope()
	first, err := p.Token(t.Context(), e.customers[0], scope)
	if err != nil {
		t.Fatal(err)
	}
	e.srv.Clock().Advance(time.Until(first.Expiry) - token.DefaultExpiryWindow - time.Minute)
	again, err := p.Token(t.Context(), e.customers[0], scope)
	if err != nil || !again.AccessToken.Equal(first.AccessToken) || e.tokenRequests() != 1 {
		t.Fatalf("before the window: requests %d, err %v; want the cached token", e.tokenRequests(), err)
	}
	e.srv.Clock().Advance(2 * time.Minute)
	fresh, err := p.Token(t.Context(), e.customers[0], scope)
	if err != nil || fresh.AccessToken.Equal(first.AccessToken) || e.tokenRequests() != 2 {
		t.Errorf("inside the window: requests %d, err %v; want a new token", e.tokenRequests(), err)
	}
}

func TestIntegrationAADSTS(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		spec    testserver.CustomerSpec
		consent bool
		// prepare changes the world or the credentials; it returns the
		// tenant to ask for ("" for the customer).
		prepare func(t *testing.T, e *env, c *token.Credentials) string
		app     bool
		is      []error
		status  int
		hint    string
	}{
		{name: "65001 not consented", spec: gdap, is: []error{token.ErrConsentRequired}, hint: "push CPV consent to this customer (samctl consent push"},
		{name: "50020 outside GDAP groups", spec: testserver.CustomerSpec{GDAP: true, AdminOutsideGDAPGroups: true}, consent: true,
			is: []error{token.ErrNotInGDAPGroups}, hint: "GDAP"},
		{name: "50076 MFA with claims", spec: testserver.CustomerSpec{GDAP: true, DemandMFA: true}, consent: true,
			is: []error{token.ErrMFARequired}, hint: "complete MFA"},
		{name: "90002 unknown tenant", spec: gdap, consent: true,
			prepare: func(*testing.T, *env, *token.Credentials) string { return "no-such-tenant.onmicrosoft.com" },
			is:      []error{token.ErrTenantNotFound}, hint: "was not found"},
		{name: "7000215 wrong secret", spec: gdap, consent: true, app: true,
			prepare: func(_ *testing.T, _ *env, c *token.Credentials) string {
				c.ClientSecret = token.NewSecret("d2a6e1f0-wrong-secret-value-000000000")
				return ""
			},
			is: []error{token.ErrInvalidClient}, status: 401, hint: "paste the secret value"},
		{name: "7000222 secret expired", spec: gdap, consent: true,
			prepare: func(t *testing.T, e *env, _ *token.Credentials) string {
				if err := e.srv.ExpireSecrets(e.app.AppID); err != nil {
					t.Fatal(err)
				}
				return ""
			},
			is: []error{token.ErrSecretExpired, token.ErrInvalidClient}, status: 401, hint: "samctl rotate-secret"},
		{name: "700082 idle 90 days", spec: gdap, consent: true,
			prepare: func(_ *testing.T, e *env, _ *token.Credentials) string {
				e.srv.Clock().Advance(91 * 24 * time.Hour)
				return ""
			},
			is: []error{token.ErrRefreshTokenExpired}, hint: "persist rotated tokens so it never idles"},
		{name: "50173 sessions revoked", spec: gdap, consent: true,
			prepare: func(t *testing.T, e *env, _ *token.Credentials) string {
				e.srv.Clock().Advance(time.Second)
				if err := e.srv.RevokeSessions(e.srv.Partner().AdminID); err != nil {
					t.Fatal(err)
				}
				return ""
			},
			is: []error{token.ErrRevoked}, hint: "re-run the consent sign-in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			tenant := e.srv.AddCustomer(tt.spec)
			if tt.consent {
				if err := e.srv.GrantConsent(e.app.AppID, tenant); err != nil {
					t.Fatal(err)
				}
			}
			c := e.credentials()
			if tt.prepare != nil {
				if other := tt.prepare(t, e, &c); other != "" {
					tenant = other
				}
			}
			p := e.provider(t, c)
			var err error
			if tt.app {
				_, err = p.AppToken(t.Context(), tenant, e.srv.Cloud().Graph.Scope())
			} else {
				_, err = p.Token(t.Context(), tenant, e.srv.Cloud().Graph.Scope())
			}
			var te *token.Error
			if !errors.As(err, &te) {
				t.Fatalf("err = %v, want a *token.Error", err)
			}
			for _, s := range tt.is {
				if !errors.Is(err, s) {
					t.Errorf("errors.Is(%v, %v) = false", err, s)
				}
			}
			if tt.status != 0 && te.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", te.StatusCode, tt.status)
			}
			if !strings.Contains(te.Hint(), tt.hint) {
				t.Errorf("Hint() = %q, want it to contain %q", te.Hint(), tt.hint)
			}
			if errors.Is(err, token.ErrMFARequired) && te.Claims == "" {
				t.Error("MFA error without its claims challenge")
			}
			if !strings.HasPrefix(err.Error(), "token: AADSTS") || !strings.Contains(err.Error(), "for tenant "+tenant) {
				t.Errorf("Error() = %q, want the AADSTS code and tenant", err)
			}
		})
	}
}

func TestIntegrationThrottledRetryAfter(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gdap)
	p := e.inprocProvider(t)
	faulttest.Bubble(t, e.srv, func(t *testing.T) {
		e.srv.Inject(testserver.Fault{Kind: testserver.Throttle, Service: "login", RetryAfter: "0.2", Count: 1})
		start := time.Now()
		_, err := p.Token(t.Context(), e.customers[0], e.srv.Cloud().Graph.Scope())
		require.NoError(t, err)
		assert.Equal(t, 200*time.Millisecond, time.Since(start), "the one wait, Retry-After's 200ms")
	})
	var faults []string
	for _, r := range e.srv.Requests() {
		if r.IsToken() {
			faults = append(faults, r.Fault)
		}
	}
	if len(faults) != 2 || faults[0] != "throttle" || faults[1] != "" {
		t.Errorf("token requests %q, want a throttled one then a served one", faults)
	}
}

func TestIntegrationAppOnlyAndCertificate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gdap)
	p := e.provider(t, e.credentials())
	tok, err := p.AppToken(t.Context(), e.customers[0], e.srv.Cloud().Graph.Scope())
	if err != nil {
		t.Fatal(err)
	}
	if cl, _ := tok.Claims(); cl.TenantID != e.customers[0] || len(cl.Roles) == 0 || cl.UPN != "" {
		t.Errorf("app-only claims %+v, want roles in %s and no user", cl, e.customers[0])
	}
	if n := len(e.store.list()); n != 0 {
		t.Errorf("client_credentials saved %d refresh tokens, want 0", n)
	}

	certApp, err := e.srv.RegisterApp(testserver.AppSpec{DisplayName: "SAM cert", NoSecret: true, Certificate: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.srv.GrantConsent(certApp.AppID, e.customers[0]); err != nil {
		t.Fatal(err)
	}
	cert, err := token.ParseCertificate(certApp.CertificatePEM(), "")
	if err != nil {
		t.Fatal(err)
	}
	rt, err := e.srv.MintRefreshToken(certApp.AppID)
	if err != nil {
		t.Fatal(err)
	}
	cp := e.provider(t, token.Credentials{TenantID: e.srv.Partner().TenantID, ApplicationID: certApp.AppID, Certificate: cert, RefreshToken: token.NewSecret(rt)})
	if _, err := cp.AppToken(t.Context(), e.customers[0], e.srv.Cloud().Graph.Scope()); err != nil {
		t.Errorf("app-only with a certificate: %v", err)
	}
	if _, err := cp.Token(t.Context(), e.customers[0], e.srv.Cloud().Graph.Scope()); err != nil {
		t.Errorf("delegated with a certificate: %v", err)
	}
}

func TestIntegrationLegacyExchange(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gdap)
	exRT, err := e.srv.MintRefreshToken(testserver.ExchangePowerShellID, testserver.MintPublic(),
		testserver.MintScope(testserver.ExchangeResource+"/.default offline_access"))
	if err != nil {
		t.Fatal(err)
	}
	c := e.credentials()
	c.ExchangeRefreshToken = token.NewSecret(exRT)
	p := e.provider(t, c)
	tok, err := p.LegacyExchangeToken(t.Context(), e.customers[0])
	if err != nil {
		t.Fatal(err)
	}
	if cl, _ := tok.Claims(); cl.Audience != testserver.ExchangeResource || cl.AppID != testserver.ExchangePowerShellID || cl.TenantID != e.customers[0] {
		t.Errorf("legacy Exchange claims %+v", cl)
	}
	if got := p.RefreshToken(token.RefreshExchange).Reveal(); got == exRT || got == "" {
		t.Error("the Exchange refresh token did not rotate")
	}
}

func TestIntegrationNoSecretInLogsOrErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gdap)
	p := e.provider(t, e.credentials())
	scope := e.srv.Cloud().Graph.Scope()
	var secrets, errs []string
	tok, err := p.Token(t.Context(), e.customers[0], scope)
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, tok.AccessToken.Reveal())
	app, err := p.AppToken(t.Context(), e.customers[0], scope)
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, app.AccessToken.Reveal())
	// Failures: an unknown tenant, a wrong secret, a throttled endpoint.
	_, err = p.Token(t.Context(), "unknown.example", scope)
	errs = append(errs, err.Error())
	bad := e.credentials()
	bad.ClientSecret = token.NewSecret("zzz8Q~wrong-but-secret-looking-value-1")
	secrets = append(secrets, bad.ClientSecret.Reveal())
	_, err = e.provider(t, bad).AppToken(t.Context(), e.customers[0], scope)
	errs = append(errs, err.Error())
	e.srv.Inject(testserver.Fault{Kind: testserver.Throttle, Service: "login", RetryAfter: "0"})
	_, err = p.Token(t.Context(), e.srv.Partner().TenantID, scope)
	errs = append(errs, err.Error())

	secrets = append(secrets, e.app.Secret, e.rt)
	secrets = append(secrets, e.store.list()...)
	out := e.logs.String() + strings.Join(errs, "\n")
	if !strings.Contains(out, `"msg":"token request"`) || !strings.Contains(out, `"msg":"http retry"`) {
		t.Errorf("debug log lacks the token and retry lines:\n%s", out)
	}
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("a secret (%d chars) appears in the logs or errors", len(s))
		}
	}
	if strings.Contains(out, "eyJ") {
		t.Error("a JWT appears in the logs or errors")
	}
}
