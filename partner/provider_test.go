package partner_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/partner"
	"github.com/samkit/samkit/token"
)

// samProvider registers a consented SAM app in the fake's partner tenant
// and returns a token.Provider holding its credentials and a refresh token
// of the partner admin minted with opts.
func samProvider(t *testing.T, srv *testserver.Server, opts ...testserver.MintOption) (*token.Provider, testserver.AppInfo) {
	t.Helper()
	app, err := srv.RegisterApp(testserver.AppSpec{})
	if err != nil {
		t.Fatal(err)
	}
	rt, err := srv.MintRefreshToken(app.AppID, opts...)
	if err != nil {
		t.Fatal(err)
	}
	p, err := token.NewProvider(token.Credentials{
		TenantID: srv.Partner().TenantID, ApplicationID: app.AppID,
		ClientSecret: token.NewSecret(app.Secret), RefreshToken: token.NewSecret(rt),
	}, token.WithCloud(srv.Cloud()), token.WithHTTPClient(srv.Client()), token.WithRetryPolicy(fastRetries))
	if err != nil {
		t.Fatal(err)
	}
	return p, app
}

// TestConsentThroughProvider runs the SAM consent push end to end: the
// partner admin's refresh token reaches Partner Center, pushes the SAM
// app's consent to a customer, after which the same refresh token yields
// delegated tokens in that customer's tenant.
func TestConsentThroughProvider(t *testing.T) {
	t.Parallel()
	srv := testserver.New()
	defer srv.Close()
	p, app := samProvider(t, srv)
	cust := srv.AddCustomer(testserver.CustomerSpec{PartnerCenter: true, GDAP: true})
	cloud := srv.Cloud()

	if _, err := p.Token(t.Context(), cust, cloud.Graph.Scope()); !errors.Is(err, token.ErrConsentRequired) {
		t.Fatalf("Graph token before consent: %v, want ErrConsentRequired", err)
	}

	pc, err := partner.New(p.Source(srv.Partner().TenantID, cloud.PartnerCenter.Scope()),
		partner.WithCloud(cloud), partner.WithHTTPClient(p.HTTPClient()))
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for c, err := range pc.Customers(t.Context(), partner.ListOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		listed = append(listed, c.TenantID())
	}
	if !slices.Contains(listed, cust) {
		t.Fatalf("customers %v lack %s", listed, cust)
	}

	res, err := pc.CreateApplicationConsent(t.Context(), cust, partner.ApplicationConsent{
		ApplicationID: app.AppID, DisplayName: "SAM",
		Grants: []partner.ApplicationGrant{
			{EnterpriseApplicationID: testserver.GraphAppID, Scopes: []string{"Directory.Read.All", "User.Read.All"}},
			{EnterpriseApplicationID: testserver.ExchangeAppID, Scopes: []string{"Exchange.Manage"}},
		},
	})
	if err != nil || res.AlreadyExisted {
		t.Fatalf("consent: %+v, %v", res, err)
	}

	tok, err := p.Token(t.Context(), cust, cloud.Graph.Scope())
	if err != nil {
		t.Fatalf("Graph token after consent: %v", err)
	}
	claims, err := tok.Claims()
	if err != nil || claims.TenantID != cust || !slices.Contains(claims.Scopes, "Directory.Read.All") {
		t.Errorf("claims %+v, %v; want a token of the customer with Directory.Read.All", claims, err)
	}
}

func TestMFAlessRefreshToken(t *testing.T) {
	t.Parallel()
	srv := testserver.New()
	defer srv.Close()
	p, _ := samProvider(t, srv, testserver.MintWithoutMFA())
	pc, err := partner.New(p.Source(srv.Partner().TenantID, srv.Cloud().PartnerCenter.Scope()),
		partner.WithCloud(srv.Cloud()), partner.WithHTTPClient(p.HTTPClient()))
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range pc.Customers(t.Context(), partner.ListOptions{}) {
		var e *partner.Error
		if !errors.Is(err, partner.ErrMFARequired) || !errors.As(err, &e) || e.Hint() == "" {
			t.Errorf("got %v, want ErrMFARequired with a hint", err)
		}
		break
	}
}
