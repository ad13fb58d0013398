package sam_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/sam"
	"github.com/samkit/samkit/token"
)

// Permissions of the fake's default app that the tests take away.
const (
	profileScope        = "profile"
	exchangeManageAsApp = "dc50a0fb-09a3-484d-be87-e023b12c6440"
)

// fakeManifest makes the fake's app ask for sam.DefaultManifest, with
// admin consent in the partner tenant, and returns it: the app samctl
// setup makes. Customers added afterwards are consented to all of it.
func fakeManifest(tb testing.TB, w *accessWorld) sam.Manifest {
	tb.Helper()
	return grantManifest(tb, w, sam.DefaultManifest())
}

// grantManifest makes the fake's app ask for m, with admin consent in the
// partner tenant, and returns it.
func grantManifest(tb testing.TB, w *accessWorld, m sam.Manifest) sam.Manifest {
	tb.Helper()
	w.s.Mutate(func(world *testserver.World) {
		app := world.Apps[w.app.AppID]
		app.RequiredResourceAccess = nil
		for _, r := range m.RequiredResourceAccess() {
			rra := testserver.RequiredResourceAccess{ResourceAppID: r.ResourceAppID}
			for _, a := range r.ResourceAccess {
				rra.ResourceAccess = append(rra.ResourceAccess, testserver.ResourceAccess{ID: a.ID, Type: a.Type})
			}
			app.RequiredResourceAccess = append(app.RequiredResourceAccess, rra)
		}
	})
	require.NoError(tb, w.s.GrantConsent(w.app.AppID, w.partner.TenantID))
	return m
}

// drifted adds a consented customer, then takes profile from
// its Graph grant and Exchange.ManageAsApp from its assignments.
func (w *accessWorld) drifted(tb testing.TB, name string) sam.Tenant {
	tb.Helper()
	t := w.customer(tb, testserver.CustomerSpec{Name: name, GDAP: true}, true)
	require.NoError(tb, w.s.RemoveGrantScope(t.ID, w.app.AppID, testserver.GraphAppID, profileScope))
	require.NoError(tb, w.s.RemoveAppRoleAssignment(t.ID, w.app.AppID, testserver.ExchangeAppID, exchangeManageAsApp))
	return t
}

func findings(rep *sam.DoctorReport, kind, where string) []sam.Finding {
	var out []sam.Finding
	for _, f := range rep.Findings {
		if f.Kind == kind && f.Where == where {
			out = append(out, f)
		}
	}
	return out
}

func TestDoctorReportsEveryPlantedFinding(t *testing.T) {
	t.Parallel()
	w := newAccessWorld(t)
	m := fakeManifest(t, w)
	healthy := w.customer(t, testserver.CustomerSpec{Name: "Healthy", GDAP: true}, true)
	drifted := w.drifted(t, "Drifted")
	now := w.s.Clock().Now()
	// A relationship with Global Administrator ending in ten days, and one
	// ending next year, which is not reported.
	gaEnd := now.Add(10 * 24 * time.Hour)
	healthy.Relationships = []sam.RelationshipInfo{
		{ID: "r1", DisplayName: "Full", Roles: []string{sam.GlobalAdministratorRole}, End: gaEnd},
		{ID: "r2", DisplayName: "Later", Roles: []string{"88d8e3e3-8f55-4a1e-953a-9b9898b8876b"}, End: now.AddDate(1, 0, 0)},
	}
	obtained := now.Add(-85 * 24 * time.Hour)
	var secretEnd time.Time
	w.s.Read(func(world *testserver.World) { secretEnd = world.Apps[w.app.AppID].Passwords[0].End })

	tenants := []sam.Tenant{healthy, drifted}
	opts := sam.DoctorOptions{
		Manifest:               m,
		RefreshTokenObtainedAt: obtained,
		StoredSecret:           token.NewSecret(w.app.Secret),
		Now:                    func() time.Time { return now },
	}
	// The partner tenant's token is in the cache already, and came without
	// a new refresh token: the stored one ages on.
	_, err := w.p.Token(t.Context(), w.partner.TenantID, w.s.Cloud().Graph.Scope())
	require.NoError(t, err)
	sam.Unrotated(w.sp)
	rep, err := w.sp.Doctor(t.Context(), tenants, opts)
	require.NoError(t, err)

	idle := findings(rep, sam.FindingRefreshTokenIdle, sam.WherePartner)
	require.Len(t, idle, 1, "the refresh token obtained 85 days ago idles out within 30 days: %+v", rep.Findings)
	assert.Equal(t, sam.SeverityWarning, idle[0].Severity)
	assert.True(t, idle[0].When.Equal(obtained.Add(sam.RefreshTokenIdleLifetime)), "idle expiry %v", idle[0].When)
	assert.Equal(t, "samctl keepalive (any use renews it); once expired: samctl setup", idle[0].Fix)

	gdap := findings(rep, sam.FindingGDAPEnding, healthy.ID)
	require.Len(t, gdap, 1, "only the relationship ending within 30 days: %+v", rep.Findings)
	assert.True(t, gdap[0].When.Equal(gaEnd))
	assert.Contains(t, gdap[0].What, "cannot auto-extend")
	assert.Equal(t, "create a new GDAP relationship without Global Administrator in Partner Center", gdap[0].Fix)

	drift := findings(rep, sam.FindingConsentDrift, drifted.ID)
	require.Len(t, drift, 1, "%+v", rep.Findings)
	assert.Equal(t, sam.SeverityBroken, drift[0].Severity)
	assert.Contains(t, drift[0].What, profileScope)
	assert.Contains(t, drift[0].What, "Exchange.ManageAsApp")
	assert.Equal(t, "samctl consent apply "+drifted.ID, drift[0].Fix)
	assert.Empty(t, findings(rep, sam.FindingConsentDrift, healthy.ID), "the healthy tenant has no drift")
	assert.Empty(t, findings(rep, sam.FindingStoredSecret, sam.WherePartner), "the stored secret is two years from its end")
	assert.True(t, rep.Broken())

	// Ten days before the secret's end, the stored secret is reported
	// with its date.
	opts.Now = func() time.Time { return secretEnd.Add(-10 * 24 * time.Hour) }
	// The customers' tokens of the first run renewed the refresh token;
	// again as if they had not.
	sam.Unrotated(w.sp)
	rep, err = w.sp.Doctor(t.Context(), nil, opts)
	require.NoError(t, err)
	sec := findings(rep, sam.FindingStoredSecret, sam.WherePartner)
	require.Len(t, sec, 1, "%+v", rep.Findings)
	assert.WithinDuration(t, secretEnd, sec[0].When, time.Second, "Graph shows the end to the second")
	assert.Equal(t, "samctl rotate-secret", sec[0].Fix)
	idle = findings(rep, sam.FindingRefreshTokenIdle, sam.WherePartner)
	require.Len(t, idle, 1)
	assert.Equal(t, sam.SeverityBroken, idle[0].Severity, "long past its idle expiry")
}

func TestDoctorCostsOneGraphRequestPerTenantBeyondTheCheck(t *testing.T) {
	t.Parallel()
	w := newAccessWorld(t)
	m := fakeManifest(t, w)
	var tenants []sam.Tenant
	for range 5 {
		tenants = append(tenants, w.customer(t, testserver.CustomerSpec{GDAP: true}, true))
	}
	checks := sam.Checks{DelegatedGraph: true}
	_, err := w.sp.Check(t.Context(), tenants, sam.CheckOptions{Checks: checks})
	require.NoError(t, err)
	// Warm run: tokens are cached, so both runs below count API requests.
	before := w.apiRequests()
	_, err = w.sp.Check(t.Context(), tenants, sam.CheckOptions{Checks: checks})
	require.NoError(t, err)
	check := w.apiRequests() - before

	before = w.apiRequests()
	_, err = w.sp.Doctor(t.Context(), tenants, sam.DoctorOptions{Checks: checks, Manifest: m})
	require.NoError(t, err)
	doctor := w.apiRequests() - before
	// The partner reads are the same whatever the number of tenants: find
	// them with no tenant.
	before = w.apiRequests()
	_, err = w.sp.Doctor(t.Context(), nil, sam.DoctorOptions{Checks: checks, Manifest: m})
	require.NoError(t, err)
	partner := w.apiRequests() - before
	// Beyond the consent reads (one $batch per tenant), GDAP coverage reads
	// the admin, their groups and the relationships once, and the access
	// assignments of 20 relationships per $batch request.
	coverage := 3 + (len(tenants)+19)/20
	assert.Equal(t, len(tenants)+coverage, doctor-partner-check, "doctor %d, of which partner %d, check %d", doctor, partner, check)
}

// apiRequests counts the requests sent other than for tokens.
func (w *accessWorld) apiRequests() int { return int(w.ct.Requests() - w.ct.TokenRequests()) }

func TestDoctorRefreshToken(t *testing.T) {
	t.Parallel()
	w := newAccessWorld(t)
	m := fakeManifest(t, w)
	now := w.s.Clock().Now()
	opts := sam.DoctorOptions{Manifest: m,
		RefreshTokenObtainedAt: now.Add(-89 * 24 * time.Hour), Now: func() time.Time { return now }}

	// The doctor's own redemption rotates the token: its idle lifetime
	// starts again.
	rep, err := w.sp.Doctor(t.Context(), nil, opts)
	require.NoError(t, err)
	assert.Empty(t, findings(rep, sam.FindingRefreshTokenIdle, sam.WherePartner), "renewed by the run: %+v", rep.Findings)

	// A program that lists the tenants before the doctor (as samctl does)
	// renewed it then: the doctor, finding the partner's token cached,
	// still knows.
	fresh := w.newPartner(t, w.creds(w.p.RefreshToken(token.RefreshSAM).Reveal()), w.hc, 0)
	_, err = fresh.Provider().Token(t.Context(), w.partner.TenantID, w.s.Cloud().Graph.Scope())
	require.NoError(t, err)
	rep, err = fresh.Doctor(t.Context(), nil, opts)
	require.NoError(t, err)
	assert.Empty(t, findings(rep, sam.FindingRefreshTokenIdle, sam.WherePartner), "renewed before the run: %+v", rep.Findings)

	// Revoked sessions: the one finding is that the credentials are refused.
	require.NoError(t, w.s.RevokeSessions(w.partner.AdminID))
	creds := w.creds("")
	creds.RefreshToken = w.p.RefreshToken(token.RefreshSAM)
	rep, err = w.newPartner(t, creds, w.hc, 0).Doctor(t.Context(), nil, opts)
	require.NoError(t, err)
	require.Len(t, rep.Findings, 1, "%+v", rep.Findings)
	assert.Equal(t, sam.FindingCredentials, rep.Findings[0].Kind)
	assert.Equal(t, sam.SeverityBroken, rep.Findings[0].Severity)
	assert.Equal(t, "samctl setup", rep.Findings[0].Fix)
}

func TestDoctorTakesNowFromGraphsDate(t *testing.T) {
	t.Parallel()
	const day = 24 * time.Hour
	w := newAccessWorld(t)
	m := fakeManifest(t, w)
	// A certificate ending 50 days from the machine's now, and the fake's
	// clock (so Graph's Date) 40 days ahead: it ends in ten days.
	end := time.Now().Add(50 * day)
	w.s.Mutate(func(world *testserver.World) {
		app := world.Apps[w.app.AppID]
		app.Certificates = append(app.Certificates, &testserver.KeyCredential{KeyID: "0f0f0f0f-0000-4000-8000-000000000006",
			Start: end.Add(-365 * day), End: end})
	})
	w.s.Clock().Advance(40 * day)

	rep, err := w.sp.Doctor(t.Context(), nil, sam.DoctorOptions{Manifest: m, StoredSecret: token.NewSecret(w.app.Secret)})
	require.NoError(t, err)
	assert.WithinDuration(t, w.s.Clock().Now(), rep.Checked, time.Minute, "checked at Graph's time, 40 days ahead of the machine's")
	cert := findings(rep, sam.FindingCertificateExpiry, sam.WherePartner)
	require.Len(t, cert, 1, "ten days from Graph's now, within 30: %+v", rep.Findings)
	assert.Equal(t, sam.SeverityWarning, cert[0].Severity)
	assert.WithinDuration(t, end, cert[0].When, time.Second)
}
