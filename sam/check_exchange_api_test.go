package sam_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/exchange"
	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/sam"
)

// consentExchangeV2 adds Exchange.ManageV2 to the SAM app's consent in
// tenant, as an admin does by consenting again after adding the permission
// to the app (the fake's Exchange service principal, like samkit's
// catalog, holds no id for it: Microsoft's pages publish none).
func consentExchangeV2(t *testing.T, w *accessWorld, tenant string) {
	t.Helper()
	found := false
	w.s.Mutate(func(world *testserver.World) {
		ten := world.Tenants[tenant]
		client, exo := ten.ServicePrincipalByAppID(w.app.AppID), ten.ServicePrincipalByAppID(testserver.ExchangeAppID)
		if client == nil || exo == nil {
			return
		}
		for _, g := range ten.Grants {
			if g.ClientID == client.ID && g.ResourceID == exo.ID && g.ConsentType == "AllPrincipals" {
				g.Scope = strings.TrimSpace(g.Scope + " Exchange.ManageV2")
				found = true
			}
		}
	})
	require.True(t, found, "no Exchange grant of the SAM app in %s", tenant)
}

// The Exchange check through the Admin API v2.0 passes where the app holds
// Exchange.ManageV2 and, where it holds only Exchange.Manage, fails with
// x-ms-diagnostics 2000008 and a hint that names the V2 permission.
func TestCheckAccessExchangeAPIV2(t *testing.T) {
	t.Parallel()
	w := newAccessWorld(t)
	v2 := w.customer(t, testserver.CustomerSpec{Name: "Has V2", GDAP: true}, true)
	consentExchangeV2(t, w, v2.ID)
	v1 := w.customer(t, testserver.CustomerSpec{Name: "Only Exchange.Manage", GDAP: true}, true)

	opts := w.options([]sam.Tenant{v2, v1}, sam.Checks{DelegatedExchange: true})
	opts.ExchangeAPI = exchange.APIV2
	rep, err := w.check(t.Context(), t, opts)
	require.NoError(t, err)
	require.Len(t, rep.Tenants, 2)

	ok := rep.Tenants[0].Checks[0]
	assert.Equal(t, sam.OutcomePassed, ok.Outcome, "%s: %s", ok.Code, ok.Message)
	failed := rep.Tenants[1].Checks[0]
	assert.Equal(t, sam.OutcomeFailed, failed.Outcome)
	assert.Equal(t, "2000008", failed.Code, failed.Message)
	assert.Contains(t, failed.Hint, "Exchange.ManageV2")

	// Every Exchange request went to the v2.0 endpoint of
	// Get-OrganizationConfig: one for the first tenant, two for the second,
	// whose refused token the client retries once with a fresh one.
	n := w.s.Count(func(r testserver.Request) bool { return strings.Contains(r.Path, "/adminapi/") })
	v2n := w.s.Count(func(r testserver.Request) bool {
		return strings.HasSuffix(r.Path, "/adminapi/v2.0/"+v2.ID+"/OrganizationConfig") ||
			strings.HasSuffix(r.Path, "/adminapi/v2.0/"+v1.ID+"/OrganizationConfig")
	})
	assert.Equal(t, 3, n)
	assert.Equal(t, n, v2n)
}

// With InvokeCommand switched off, the beta check's hint points to
// --exchange-api v2, and the v2 check passes there.
func TestCheckAccessInvokeCommandOffPointsToV2(t *testing.T) {
	t.Parallel()
	w := newAccessWorld(t)
	cust := w.customer(t, testserver.CustomerSpec{GDAP: true}, true)
	consentExchangeV2(t, w, cust.ID)
	require.NoError(t, w.s.Rehearse(testserver.RehearseInvokeCommandOff))

	for _, tc := range []struct {
		api     exchange.API
		outcome sam.Outcome
		hint    string
	}{
		{"", sam.OutcomeFailed, "--exchange-api v2"},
		{exchange.APIBeta, sam.OutcomeFailed, "--exchange-api v2"},
		{exchange.APIV2, sam.OutcomePassed, ""},
	} {
		opts := w.options([]sam.Tenant{cust}, sam.Checks{DelegatedExchange: true})
		opts.ExchangeAPI = tc.api
		rep, err := w.check(t.Context(), t, opts)
		require.NoError(t, err)
		res := rep.Tenants[0].Checks[0]
		assert.Equal(t, tc.outcome, res.Outcome, "api %q: %s %s", tc.api, res.Code, res.Message)
		if tc.hint != "" {
			assert.Contains(t, res.Hint, tc.hint, "api %q", tc.api)
		}
	}
}

func TestCheckAccessRejectsUnknownExchangeAPI(t *testing.T) {
	t.Parallel()
	w := newAccessWorld(t)
	opts := w.options(nil, sam.Checks{DelegatedExchange: true})
	opts.ExchangeAPI = "v3"
	_, err := w.check(t.Context(), t, opts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ExchangeAPI")
}
