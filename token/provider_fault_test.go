package token_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/internal/faulttest"
	"github.com/samkit/samkit/internal/httpx"
	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/token"
)

// tokenService describes token's errors to the fault sweep.
var tokenService = faulttest.Service{
	Fault:  "login",
	Prefix: "token: ",
	Status: func(err error) (int, bool) {
		var e *token.Error
		if errors.As(err, &e) {
			return e.StatusCode, true
		}
		return 0, false
	},
	Throttled: token.ErrThrottled,
}

// faultEnv is a fake cloud with a consented SAM app (with a certificate),
// a GDAP customer, and refresh tokens of the SAM app and of the Exchange
// Online PowerShell client.
type faultEnv struct {
	srv      *testserver.Server
	wire     *faulttest.Wire
	customer string
	creds    token.Credentials
}

func newFaultEnv(t *testing.T) *faultEnv {
	t.Helper()
	srv := testserver.New()
	t.Cleanup(srv.Close)
	app, err := srv.RegisterApp(testserver.AppSpec{Certificate: true})
	if err != nil {
		t.Fatal(err)
	}
	cust := srv.AddCustomer(testserver.CustomerSpec{GDAP: true})
	if err := srv.GrantConsent(app.AppID, cust); err != nil {
		t.Fatal(err)
	}
	rt, err := srv.MintRefreshToken(app.AppID)
	if err != nil {
		t.Fatal(err)
	}
	exRT, err := srv.MintRefreshToken(testserver.ExchangePowerShellID, testserver.MintPublic(),
		testserver.MintScope(testserver.ExchangeResource+"/.default offline_access"))
	if err != nil {
		t.Fatal(err)
	}
	cert, err := token.ParseCertificate(app.CertificatePEM(), "")
	if err != nil {
		t.Fatal(err)
	}
	return &faultEnv{srv: srv, wire: faulttest.NewWire(srv), customer: cust, creds: token.Credentials{
		TenantID: srv.Partner().TenantID, ApplicationID: app.AppID, ClientSecret: token.NewSecret(app.Secret),
		Certificate: cert, RefreshToken: token.NewSecret(rt), ExchangeRefreshToken: token.NewSecret(exRT),
	}}
}

// provider returns a Provider of c on the env's wire, with the sweep's
// retry policy.
func (e *faultEnv) provider(c token.Credentials) (*token.Provider, error) {
	return token.NewProvider(c, token.WithCloud(e.srv.Cloud()), token.WithHTTPClient(e.wire.Client()),
		token.WithClock(e.srv.Clock().Now), token.WithRetryPolicy(faulttest.Policy))
}

// TestFaultSweep drives every grant of the Provider into every fault of
// the identity platform's answers.
func TestFaultSweep(t *testing.T) {
	faulttest.NoLeaks(t)
	graphScope := testserver.GraphResource + "/.default"
	ops := []struct {
		name string
		call func(ctx context.Context, p *token.Provider, e *faultEnv) (token.Token, error)
		// certOnly drops the client secret, so that the Provider signs a
		// client assertion with the certificate.
		certOnly bool
	}{
		{name: "refresh_token", call: func(ctx context.Context, p *token.Provider, e *faultEnv) (token.Token, error) {
			return p.Token(ctx, e.customer, graphScope)
		}},
		{name: "client_credentials secret", call: func(ctx context.Context, p *token.Provider, e *faultEnv) (token.Token, error) {
			return p.AppToken(ctx, e.customer, graphScope)
		}},
		{name: "client_credentials certificate", certOnly: true, call: func(ctx context.Context, p *token.Provider, e *faultEnv) (token.Token, error) {
			return p.AppToken(ctx, e.customer, graphScope)
		}},
		{name: "legacy exchange", call: func(ctx context.Context, p *token.Provider, e *faultEnv) (token.Token, error) {
			return p.LegacyExchangeToken(ctx, e.customer)
		}},
	}
	var names []string
	for _, op := range ops {
		names = append(names, op.name)
	}
	faulttest.Concurrently(t, names, func(t *testing.T, i int) {
		op := ops[i]
		e := newFaultEnv(t)
		c := e.creds
		if op.certOnly {
			c.ClientSecret = token.Secret{}
		}
		// One Provider for the whole sweep, so that a request abandoned
		// under one fault is still around for the next call; each
		// success is dropped from its cache so that every call reaches
		// the token endpoint.
		p, err := e.provider(c)
		if err != nil {
			t.Fatal(err)
		}
		faulttest.Sweep(t, faulttest.Target{Server: e.srv, Wire: e.wire, Service: tokenService, Op: faulttest.Op{
			Name:  op.name,
			Class: httpx.RetryAlways,
			Run: func(ctx context.Context) error {
				tok, err := op.call(ctx, p, e)
				if err == nil {
					p.Invalidate(tok)
				}
				return err
			},
		}})
	})
}

// TestAbandonedRequestFreesTheKey: a token request whose answer never
// comes is cancelled once its last caller gives up, so the next caller
// for the same tenant and scope gets a token as soon as the identity
// platform answers again, instead of queueing behind the lost request.
// In a bubble, the callers give up at their deadline of fake time, and
// the next caller must not wait at all.
func TestAbandonedRequestFreesTheKey(t *testing.T) {
	faulttest.NoLeaks(t)
	e := newFaultEnv(t)
	p, err := e.provider(e.creds)
	require.NoError(t, err)
	scope := testserver.GraphResource + "/.default"
	faulttest.Bubble(t, e.srv, func(t *testing.T) {
		e.srv.Inject(testserver.Fault{Kind: testserver.Hang, Service: "login", Count: 1})
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(t.Context(), faulttest.HangDeadline)
				defer cancel()
				_, err := p.Token(ctx, e.customer, scope)
				assert.ErrorIs(t, err, context.DeadlineExceeded, "Token under a hang")
			})
		}
		wg.Wait()
		start := time.Now()
		_, err := p.Token(t.Context(), e.customer, scope)
		require.NoError(t, err, "Token after the hang")
		assert.Zero(t, time.Since(start), "the next caller waited")
		assert.Equal(t, 2, e.wire.Count("login"), "token requests: the hung one and the next")
	})
}

// TestCallerLeavingDoesNotFailOthers: a caller that gives up leaves the
// shared request running for the callers still waiting on it. In a
// bubble, both callers have joined the request before the impatient one's
// deadline, whatever the machine's load.
func TestCallerLeavingDoesNotFailOthers(t *testing.T) {
	t.Parallel()
	e := newFaultEnv(t)
	p, err := e.provider(e.creds)
	require.NoError(t, err)
	scope := testserver.GraphResource + "/.default"
	faulttest.Bubble(t, e.srv, func(t *testing.T) {
		const latency = 200 * time.Millisecond
		e.srv.Inject(testserver.Fault{Kind: testserver.Latency, Latency: latency, Service: "login", Count: 1})
		impatient, cancel := context.WithTimeout(t.Context(), latency/10)
		defer cancel()
		var wg sync.WaitGroup
		wg.Go(func() {
			_, err := p.Token(impatient, e.customer, scope)
			assert.ErrorIs(t, err, context.DeadlineExceeded, "impatient caller")
		})
		start := time.Now()
		_, err := p.Token(t.Context(), e.customer, scope)
		assert.NoError(t, err, "patient caller")
		assert.Equal(t, latency, time.Since(start), "the patient caller waited for the shared request only")
		wg.Wait()
		assert.Equal(t, 1, e.wire.Count("login"), "token requests: want the one both callers shared")
	})
}

// TestFaultHostileTenants: a tenant read from a hostile contract row is
// refused before it reaches the token endpoint's path.
func TestFaultHostileTenants(t *testing.T) {
	t.Parallel()
	e := newFaultEnv(t)
	p, err := e.provider(e.creds)
	if err != nil {
		t.Fatal(err)
	}
	ctx, scope := t.Context(), testserver.GraphResource+"/.default"
	for _, id := range faulttest.ServeHostileContracts(t, e.srv) {
		short := faulttest.Short(id)
		faulttest.Refused(t, e.srv, "Token("+short+")", func() error { _, err := p.Token(ctx, id, scope); return err })
		faulttest.Refused(t, e.srv, "AppToken("+short+")", func() error { _, err := p.AppToken(ctx, id, scope); return err })
		faulttest.Refused(t, e.srv, "LegacyExchangeToken("+short+")", func() error { _, err := p.LegacyExchangeToken(ctx, id); return err })
		faulttest.Refused(t, e.srv, "Source("+short+")", func() error { _, err := p.Source(id, scope).Token(ctx); return err })
	}
}
