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

// TestDoctorFindsEachKindOfPartnerProblem plants one problem of the
// partner's setup at a time and checks the doctor names it, with its date
// and fix.
func TestDoctorFindsEachKindOfPartnerProblem(t *testing.T) {
	t.Parallel()
	const day = 24 * time.Hour
	tests := []struct {
		name     string
		plant    func(t *testing.T, w *accessWorld, now time.Time) *sam.Partner
		kind     string
		severity sam.Severity
		when     time.Duration // from now; 0 means now
		fix      string
		// besides is a kind of finding that follows from the planted one.
		besides string
	}{
		{name: "sign-in without MFA", kind: sam.FindingRefreshTokenMFA, severity: sam.SeverityBroken, fix: "samctl setup (sign in with MFA)",
			plant: func(t *testing.T, w *accessWorld, _ time.Time) *sam.Partner {
				rt, err := w.s.MintRefreshToken(w.app.AppID, testserver.MintWithoutMFA())
				require.NoError(t, err)
				return w.newPartner(t, w.creds(rt), w.hc, 0)
			}},
		{name: "leftover secret", kind: sam.FindingLeftoverSecret, severity: sam.SeverityWarning, fix: "samctl rotate-secret",
			plant: func(t *testing.T, w *accessWorld, now time.Time) *sam.Partner {
				w.s.Mutate(func(world *testserver.World) {
					app := world.Apps[w.app.AppID]
					app.Passwords = append(app.Passwords, &testserver.PasswordCredential{KeyID: "0f0f0f0f-0000-4000-8000-000000000001",
						DisplayName: "samkit-managed 2026-01-01", Secret: "Lft8Q~leftover", Start: now, End: now.Add(700 * day)})
				})
				return nil
			}},
		{name: "another secret expiring", kind: sam.FindingSecretExpiry, severity: sam.SeverityWarning, when: 5 * day,
			fix: "renew it for the tool that uses it (app registration, Certificates & secrets), or remove it",
			plant: func(t *testing.T, w *accessWorld, now time.Time) *sam.Partner {
				w.s.Mutate(func(world *testserver.World) {
					app := world.Apps[w.app.AppID]
					// One ending in five days, and one long expired, which
					// breaks nothing and is not reported.
					app.Passwords = append(app.Passwords, &testserver.PasswordCredential{KeyID: "0f0f0f0f-0000-4000-8000-000000000002",
						DisplayName: "CI pipeline", Secret: "Man8Q~manual", Start: now, End: now.Add(5 * day)},
						&testserver.PasswordCredential{KeyID: "0f0f0f0f-0000-4000-8000-000000000004",
							DisplayName: "old script", Secret: "Old8Q~expired", Start: now.Add(-800 * day), End: now.Add(-70 * day)})
				})
				return nil
			}},
		{name: "certificate expired", kind: sam.FindingCertificateExpiry, severity: sam.SeverityBroken, when: -day,
			fix: "samctl rotate-credentials --kind certificate (or, for a certificate another tool uses, renew it there)",
			plant: func(t *testing.T, w *accessWorld, now time.Time) *sam.Partner {
				w.s.Mutate(func(world *testserver.World) {
					app := world.Apps[w.app.AppID]
					app.Certificates = append(app.Certificates, &testserver.KeyCredential{KeyID: "0f0f0f0f-0000-4000-8000-000000000003",
						Start: now.Add(-400 * day), End: now.Add(-day)})
				})
				return nil
			}},
		{name: "admin consent missing", kind: sam.FindingAdminConsent, severity: sam.SeverityBroken, fix: "samctl setup",
			plant: func(t *testing.T, w *accessWorld, _ time.Time) *sam.Partner {
				require.NoError(t, w.s.RemoveGrantScope(w.partner.TenantID, w.app.AppID, testserver.GraphAppID, profileScope))
				return nil
			}},
		{name: "stored secret removed from the app", kind: sam.FindingStoredSecret, severity: sam.SeverityBroken, fix: "samctl rotate-secret",
			plant: func(t *testing.T, w *accessWorld, now time.Time) *sam.Partner {
				// The token is cached (the doctor ran before planting), so
				// the app can still be read.
				w.s.Mutate(func(world *testserver.World) {
					world.Apps[w.app.AppID].Passwords = []*testserver.PasswordCredential{{KeyID: "0f0f0f0f-0000-4000-8000-000000000005",
						DisplayName: "Portal", Secret: "Prt8Q~portal", Start: now, End: now.Add(700 * day)}}
				})
				return nil
			}},
		{name: "no service principal", kind: sam.FindingNoServicePrincipal, severity: sam.SeverityBroken, fix: "samctl setup",
			besides: sam.FindingAdminConsent, // its grants went with it
			plant: func(t *testing.T, w *accessWorld, _ time.Time) *sam.Partner {
				w.s.Mutate(func(world *testserver.World) {
					tenant := world.Tenants[w.partner.TenantID]
					sp := tenant.ServicePrincipalByAppID(w.app.AppID)
					require.NotNil(t, sp)
					delete(tenant.ServicePrincipals, sp.ID)
				})
				return nil
			}},
		{name: "no loopback redirect URI", kind: sam.FindingRedirectURI, severity: sam.SeverityBroken, fix: "samctl setup",
			plant: func(t *testing.T, w *accessWorld, _ time.Time) *sam.Partner {
				w.s.Mutate(func(world *testserver.World) {
					world.Apps[w.app.AppID].WebRedirectURIs = []string{"https://portal.example.com/signin"}
				})
				return nil
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w, opts, now := plantedWorld(t)
			rep, err := w.sp.Doctor(t.Context(), nil, opts)
			require.NoError(t, err)
			require.Empty(t, rep.Findings, "before planting, the partner's setup is healthy")

			sp := w.sp
			if p := tc.plant(t, w, now); p != nil {
				sp = p
			}
			rep, err = sp.Doctor(t.Context(), nil, opts)
			require.NoError(t, err)
			got := findings(rep, tc.kind, sam.WherePartner)
			require.Len(t, got, 1, "one %s finding: %+v", tc.kind, rep.Findings)
			assert.Equal(t, tc.severity, got[0].Severity)
			assert.Equal(t, tc.fix, got[0].Fix)
			assertWhen(t, now, tc.when, got[0])
			for _, f := range rep.Findings {
				assert.Contains(t, []string{tc.kind, tc.besides}, f.Kind, "nothing else is reported: %+v", rep.Findings)
			}
		})
	}
}

// TestDoctorFindsEachKindOfTenantProblem plants one problem in one
// customer tenant at a time, beside a healthy one, and checks the doctor
// names it there, with its date and fix, and nothing else.
func TestDoctorFindsEachKindOfTenantProblem(t *testing.T) {
	t.Parallel()
	const day = 24 * time.Hour
	tests := []struct {
		name string
		// plant returns the tenant with its problem.
		plant    func(t *testing.T, w *accessWorld, now time.Time) sam.Tenant
		kind     string
		severity sam.Severity
		when     time.Duration // from now; 0 means now
		fix      string
	}{
		{name: "not consented", kind: sam.FindingAccess, severity: sam.SeverityBroken,
			fix: "samctl consent push ", // and the tenant, within the check's hint
			plant: func(t *testing.T, w *accessWorld, _ time.Time) sam.Tenant {
				return w.customer(t, testserver.CustomerSpec{Name: "Unconsented", GDAP: true}, false)
			}},
		{name: "GDAP relationship ending", kind: sam.FindingGDAPEnding, severity: sam.SeverityWarning, when: 20 * day,
			fix: "create a new GDAP relationship in Partner Center before it ends",
			plant: func(t *testing.T, w *accessWorld, now time.Time) sam.Tenant {
				c := w.customer(t, testserver.CustomerSpec{Name: "Ending", GDAP: true}, true)
				c.Relationships = []sam.RelationshipInfo{{ID: "r1", DisplayName: "Helpdesk",
					Roles: []string{"729827e3-9c14-49f7-bb1b-9608f156bbb8"}, End: now.Add(20 * day)}}
				return c
			}},
		{name: "GDAP relationship ended", kind: sam.FindingGDAPEnding, severity: sam.SeverityBroken, when: -day,
			fix: "create a new GDAP relationship without Global Administrator in Partner Center",
			plant: func(t *testing.T, w *accessWorld, now time.Time) sam.Tenant {
				c := w.customer(t, testserver.CustomerSpec{Name: "Ended", GDAP: true}, true)
				c.Relationships = []sam.RelationshipInfo{{ID: "r1", DisplayName: "Full",
					Roles: []string{sam.GlobalAdministratorRole}, End: now.Add(-day)}}
				return c
			}},
		{name: "consent drift", kind: sam.FindingConsentDrift, severity: sam.SeverityBroken,
			plant: func(t *testing.T, w *accessWorld, _ time.Time) sam.Tenant {
				return w.drifted(t, "Drifted")
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w, opts, now := plantedWorld(t)
			healthy := w.customer(t, testserver.CustomerSpec{Name: "Healthy", GDAP: true}, true)
			planted := tc.plant(t, w, now)
			// One check, so that a tenant without access has one finding.
			opts.Checks = sam.Checks{DelegatedGraph: true}
			rep, err := w.sp.Doctor(t.Context(), []sam.Tenant{healthy, planted}, opts)
			require.NoError(t, err)

			got := findings(rep, tc.kind, planted.ID)
			require.Len(t, got, 1, "one %s finding in %s: %+v", tc.kind, planted.ID, rep.Findings)
			assert.Len(t, rep.Findings, 1, "nothing else, and nothing in the healthy tenant: %+v", rep.Findings)
			assert.Equal(t, tc.severity, got[0].Severity)
			switch tc.kind {
			case sam.FindingAccess:
				assert.Contains(t, got[0].Fix, tc.fix+planted.ID, "the check's hint names the command")
			case sam.FindingConsentDrift:
				assert.Equal(t, "samctl consent apply "+planted.ID, got[0].Fix)
			default:
				assert.Equal(t, tc.fix, got[0].Fix)
			}
			assertWhen(t, now, tc.when, got[0])
		})
	}
}

// plantedWorld starts a world whose app holds the default manifest, with
// the doctor's options for it, dated at the fake's now.
func plantedWorld(t *testing.T) (*accessWorld, sam.DoctorOptions, time.Time) {
	t.Helper()
	w := newAccessWorld(t)
	m := fakeManifest(t, w)
	now := w.s.Clock().Now()
	return w, sam.DoctorOptions{Manifest: m, StoredSecret: token.NewSecret(w.app.Secret), Now: func() time.Time { return now }}, now
}

// assertWhen checks that f breaks at now+when, or now (no date) when when
// is 0.
func assertWhen(t *testing.T, now time.Time, when time.Duration, f sam.Finding) {
	t.Helper()
	if when == 0 {
		assert.True(t, f.When.IsZero(), "broken now: %v", f.When)
		return
	}
	assert.WithinDuration(t, now.Add(when), f.When, time.Second)
}
