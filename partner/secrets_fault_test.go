package partner_test

import (
	"context"
	"testing"

	"github.com/samkit/samkit/internal/faulttest"
	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/partner"
	"github.com/samkit/samkit/token"
)

// TestFaultNoSecretInLogsOrErrors calls Partner Center with the partner
// admin's delegated token from a Provider, consents the SAM app in many
// customers, and fails in every way Partner Center and the wire allow,
// logging at debug level throughout: no credential that crossed the wire
// may appear in a log line or an error.
func TestFaultNoSecretInLogsOrErrors(t *testing.T) {
	t.Parallel()
	w := faulttest.NewSecretWorld(t, 8)
	ctx := t.Context()
	scope := w.Server.Cloud().PartnerCenter.Scope()
	newClient := func(src token.Source) *partner.Client {
		c, err := partner.New(src, partner.WithCloud(w.Server.Cloud()), partner.WithHTTPClient(w.Provider.HTTPClient()),
			partner.WithLogger(w.Logs.Logger()), partner.WithRetryPolicy(faulttest.Policy))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	pc := newClient(w.Provider.Source(w.Partner, scope))
	consent := partner.ApplicationConsent{ApplicationID: w.App.AppID, DisplayName: "SAM",
		Grants: []partner.ApplicationGrant{{EnterpriseApplicationID: testserver.GraphAppID, Scopes: []string{"Directory.Read.All"}}}}
	for _, err := range pc.Customers(ctx, partner.ListOptions{PageSize: 3}) {
		w.Errors.Add(err)
	}
	for _, cust := range w.Customers {
		w.Errors.Add(pc.DeleteApplicationConsent(ctx, cust, w.App.AppID))
		_, err := pc.CreateApplicationConsent(ctx, cust, consent)
		w.Errors.Add(err)
	}
	if n := w.Errors.Len(); n > 0 {
		t.Fatalf("%d calls failed:\n%s", n, w.Errors.String())
	}

	// Partner Center's refusals: no MFA, an app-only token, a consent that
	// is not there, a customer that is not one, and no token at all.
	p := w.Server.Partner()
	noMFA := newClient(faulttest.StaticSource(w.Server.IssueAccessToken(testserver.TokenSpec{Resource: testserver.PartnerCenterResource,
		UserID: p.AdminID, UPN: p.AdminUPN, Scopes: []string{"user_impersonation"}})))
	appOnly := newClient(faulttest.StaticSource(w.Server.IssueAccessToken(testserver.TokenSpec{Resource: testserver.PartnerCenterResource,
		AppID: w.App.AppID})))
	for _, c := range []*partner.Client{noMFA, appOnly, newClient(w.Provider.AppSource(w.Partner, scope))} {
		for _, err := range c.Customers(ctx, partner.ListOptions{}) {
			w.Errors.Add(err)
		}
		_, err := c.CreateApplicationConsent(ctx, w.Customers[0], consent)
		w.Errors.Add(err)
	}
	w.Errors.Add(pc.DeleteApplicationConsent(ctx, w.Customers[0], "6e1a2b3c-0000-4000-8000-000000000000"))
	w.Errors.Add(pc.DeleteApplicationConsent(ctx, "6e1a2b3c-0000-4000-8000-000000000000", w.App.AppID))

	// Broken answers.
	w.UnderFaults(t, "partner", func(_ *testing.T, fctx context.Context) {
		for _, err := range pc.Customers(fctx, partner.ListOptions{}) {
			w.Errors.Add(err)
		}
		_, err := pc.CreateApplicationConsent(fctx, w.Customers[1], consent)
		w.Errors.Add(err)
	})
	w.Check(t, 25)
}
