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
			w := newAccessWorld(t)
			m := fakeManifest(t, w)
			now := w.s.Clock().Now()
			opts := sam.DoctorOptions{Manifest: m,
				StoredSecret: token.NewSecret(w.app.Secret), Now: func() time.Time { return now }}
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
			if tc.when == 0 {
				assert.True(t, got[0].When.IsZero(), "broken now: %v", got[0].When)
			} else {
				assert.WithinDuration(t, now.Add(tc.when), got[0].When, time.Second)
			}
			assert.Len(t, rep.Findings, 1, "nothing else is reported: %+v", rep.Findings)
		})
	}
}
