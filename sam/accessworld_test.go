package sam_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/partner"
	"github.com/samkit/samkit/sam"
	"github.com/samkit/samkit/token"
)

// fastRetry keeps every retry and throttling pause of a test to
// milliseconds, whatever Retry-After the fake sends.
var fastRetry = token.RetryPolicy{MaxAttempts: 4, MinWait: time.Millisecond, MaxWait: 5 * time.Millisecond, MaxRetryAfter: 10 * time.Millisecond}

// accessWorld is a fake cloud with a consented SAM app and a Provider
// holding its credentials: the setting of ListTenants and CheckAccess.
type accessWorld struct {
	s       *testserver.Server
	app     testserver.AppInfo
	partner testserver.PartnerInfo
	p       *token.Provider
	// hc is the base client every request goes through; ct counts them.
	hc *http.Client
	ct *sam.CountingTransport
}

func newAccessWorld(tb testing.TB, opts ...testserver.Option) *accessWorld {
	tb.Helper()
	s := testserver.New(opts...)
	tb.Cleanup(s.Close)
	app, err := s.RegisterApp(testserver.AppSpec{})
	if err != nil {
		tb.Fatalf("RegisterApp: %v", err)
	}
	rt, err := s.MintRefreshToken(app.AppID)
	if err != nil {
		tb.Fatalf("MintRefreshToken: %v", err)
	}
	w := &accessWorld{s: s, app: app, partner: s.Partner()}
	base := s.Client()
	w.ct = &sam.CountingTransport{Base: base.Transport}
	w.hc = &http.Client{Transport: w.ct}
	w.p, err = token.NewProvider(token.Credentials{
		TenantID:      w.partner.TenantID,
		ApplicationID: app.AppID,
		ClientSecret:  token.NewSecret(app.Secret),
		RefreshToken:  token.NewSecret(rt),
	}, token.WithCloud(s.Cloud()), token.WithHTTPClient(w.hc), token.WithRetryPolicy(fastRetry))
	if err != nil {
		tb.Fatalf("NewProvider: %v", err)
	}
	return w
}

// customer adds a customer tenant, consents the SAM app there when
// consent is set, and returns it as ListTenants would.
func (w *accessWorld) customer(tb testing.TB, spec testserver.CustomerSpec, consent bool) sam.Tenant {
	tb.Helper()
	id := w.s.AddCustomer(spec)
	if consent {
		if err := w.s.GrantConsent(w.app.AppID, id); err != nil {
			tb.Fatalf("GrantConsent(%s): %v", id, err)
		}
	}
	var t sam.Tenant
	w.s.Read(func(world *testserver.World) {
		ct := world.Tenants[id]
		t = sam.Tenant{ID: id, DisplayName: ct.DisplayName, DefaultDomain: ct.DefaultDomain, Domains: []string{ct.DefaultDomain}}
	})
	return t
}

func (w *accessWorld) options(tenants []sam.Tenant, checks sam.Checks) sam.CheckOptions {
	return sam.CheckOptions{Provider: w.p, Tenants: tenants, Checks: checks, HTTPClient: w.hc, RetryPolicy: fastRetry,
		PartnerTenantID: w.partner.TenantID}
}

// staticSource hands out one access token, minted by the fake with exactly
// the claims a test needs.
type staticSource struct{ tok token.Token }

func (s staticSource) Token(context.Context) (token.Token, error) { return s.tok, nil }

// adminSource is a delegated token of the partner's admin in the partner
// tenant for resource, with scopes and MFA.
func (w *accessWorld) adminSource(resource string, mfa bool, scopes ...string) token.Source {
	jwt := w.s.IssueAccessToken(testserver.TokenSpec{Resource: resource, AppID: w.app.AppID, UserID: w.partner.AdminID,
		UPN: w.partner.AdminUPN, Scopes: scopes, MFA: mfa})
	return staticSource{tok: token.Token{AccessToken: token.NewSecret(jwt), Expiry: time.Now().Add(time.Hour),
		TenantID: w.partner.TenantID, Kind: token.Delegated}}
}

// sources returns the clients ListTenants reads: Graph with the rights
// GDAP and contracts need, Partner Center with an MFA sign-in.
func (w *accessWorld) sources(tb testing.TB) sam.TenantSources {
	tb.Helper()
	g, err := graph.New(w.adminSource(testserver.GraphResource, true, "Directory.Read.All", "DelegatedAdminRelationship.Read.All"),
		graph.WithCloud(w.s.Cloud()), graph.WithHTTPClient(w.s.Client()), graph.WithRetryPolicy(fastRetry))
	if err != nil {
		tb.Fatal(err)
	}
	return sam.TenantSources{Graph: g, Partner: w.partnerClient(tb, true)}
}

func (w *accessWorld) partnerClient(tb testing.TB, mfa bool) *partner.Client {
	tb.Helper()
	pc, err := partner.New(w.adminSource(testserver.PartnerCenterResource, mfa, "user_impersonation"),
		partner.WithCloud(w.s.Cloud()), partner.WithHTTPClient(w.s.Client()), partner.WithRetryPolicy(fastRetry))
	if err != nil {
		tb.Fatal(err)
	}
	return pc
}
