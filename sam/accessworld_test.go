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
	// sp is the Partner of the world's credentials; p is its Provider.
	sp *sam.Partner
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
	w.sp = w.newPartner(tb, w.creds(rt), w.hc, 0)
	w.p = w.sp.Provider()
	return w
}

// creds are the world's credentials with refresh token rt.
func (w *accessWorld) creds(rt string) token.Credentials {
	return token.Credentials{TenantID: w.partner.TenantID, ApplicationID: w.app.AppID,
		ClientSecret: token.NewSecret(w.app.Secret), RefreshToken: token.NewSecret(rt)}
}

// newPartner opens creds on the fake, through hc, with concurrency
// workers (0: the default).
func (w *accessWorld) newPartner(tb testing.TB, creds token.Credentials, hc *http.Client, concurrency int) *sam.Partner {
	tb.Helper()
	opts := []sam.Option{sam.WithCloud(w.s.Cloud()), sam.WithHTTPClient(hc), sam.WithRetryPolicy(fastRetry)}
	if concurrency != 0 {
		opts = append(opts, sam.WithConcurrency(concurrency))
	}
	sp, err := sam.New(creds, opts...)
	if err != nil {
		tb.Fatalf("sam.New: %v", err)
	}
	return sp
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

// checkRun is one Check of a test: the tenants, the call's options, and
// what the Partner it runs on differs in from the world's.
type checkRun struct {
	tenants []sam.Tenant
	sam.CheckOptions
	// hc and concurrency, when set, run the check on a Partner of the
	// world's credentials (or creds) with them.
	hc          *http.Client
	concurrency int
	creds       *token.Credentials
}

func (w *accessWorld) options(tenants []sam.Tenant, checks sam.Checks) *checkRun {
	return &checkRun{tenants: tenants, CheckOptions: sam.CheckOptions{Checks: checks}}
}

// check runs r on the world's Partner, or on one built for r.
func (w *accessWorld) check(ctx context.Context, tb testing.TB, r *checkRun) (*sam.AccessReport, error) {
	tb.Helper()
	sp := w.sp
	if r.hc != nil || r.concurrency != 0 || r.creds != nil {
		creds, hc := w.creds(""), w.hc
		if r.creds != nil {
			creds = *r.creds
		} else {
			creds.RefreshToken = w.p.RefreshToken(token.RefreshSAM)
		}
		if r.hc != nil {
			hc = r.hc
		}
		sp = w.newPartner(tb, creds, hc, r.concurrency)
	}
	return sp.Check(ctx, r.tenants, r.CheckOptions)
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

// sources returns the clients listing tenants reads: Graph with the
// rights GDAP and contracts need, Partner Center with an MFA sign-in.
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
