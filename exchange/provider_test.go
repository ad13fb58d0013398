package exchange_test

import (
	"errors"
	"testing"

	"github.com/samkit/samkit/exchange"
	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/token"
)

// TestTokenKinds runs Get-OrganizationConfig in a customer's tenant with
// each kind of token a token.Provider issues for Exchange Online: delegated
// (the SAM refresh token, through GDAP), app-only (the SAM app's secret)
// and legacy (the Exchange Online PowerShell refresh token).
func TestTokenKinds(t *testing.T) {
	t.Parallel()
	srv := testserver.New()
	defer srv.Close()
	app, err := srv.RegisterApp(testserver.AppSpec{})
	if err != nil {
		t.Fatal(err)
	}
	cust := srv.AddCustomer(testserver.CustomerSpec{Name: "Fabrikam", GDAP: true})
	// Consent in the customer's tenant, delegated and application
	// permissions both, as "Grant admin consent" does.
	if err := srv.GrantConsent(app.AppID, cust); err != nil {
		t.Fatal(err)
	}
	rt, err := srv.MintRefreshToken(app.AppID)
	if err != nil {
		t.Fatal(err)
	}
	exoRT, err := srv.MintRefreshToken(testserver.ExchangePowerShellID, testserver.MintPublic(),
		testserver.MintScope(testserver.ExchangeResource+"/.default offline_access"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := token.NewProvider(token.Credentials{
		TenantID: srv.Partner().TenantID, ApplicationID: app.AppID, ClientSecret: token.NewSecret(app.Secret),
		RefreshToken: token.NewSecret(rt), ExchangeRefreshToken: token.NewSecret(exoRT),
	}, token.WithCloud(srv.Cloud()), token.WithHTTPClient(srv.Client()), token.WithRetryPolicy(fastRetries))
	if err != nil {
		t.Fatal(err)
	}
	scope := srv.Cloud().Exchange.Scope()
	for name, src := range map[string]token.Source{
		"delegated": p.Source(cust, scope),
		"app-only":  p.AppSource(cust, scope),
		"legacy":    p.LegacyExchangeSource(cust),
	} {
		t.Run(name, func(t *testing.T) {
			exo, err := exchange.New(src, cust, exchange.WithCloud(srv.Cloud()), exchange.WithHTTPClient(p.HTTPClient()))
			if err != nil {
				t.Fatal(err)
			}
			type org struct{ DisplayName string }
			n := 0
			for o, err := range exchange.InvokeInto[org](t.Context(), exo, "Get-OrganizationConfig", nil) {
				if err != nil {
					t.Fatal(err)
				}
				if o.DisplayName != "Fabrikam" {
					t.Errorf("organization %+v", o)
				}
				n++
			}
			if n != 1 {
				t.Errorf("%d rows, want 1", n)
			}
		})
	}

	// Without consent in the tenant there is no delegated token to send.
	other := srv.AddCustomer(testserver.CustomerSpec{GDAP: true})
	exo, err := exchange.New(p.Source(other, scope), other, exchange.WithCloud(srv.Cloud()), exchange.WithHTTPClient(p.HTTPClient()))
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range exo.Invoke(t.Context(), "Get-OrganizationConfig", nil) {
		if !errors.Is(err, token.ErrConsentRequired) {
			t.Errorf("got %v, want the token error ErrConsentRequired", err)
		}
		break
	}
}
