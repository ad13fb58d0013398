package sam_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/sam"
)

// The doctor reports, per tenant, the GDAP roles samkit's operations need
// that the admin lacks, with the command that adds them; a tenant whose
// relationship holds Global Administrator, with the admin in its group,
// has none.
func TestDoctorReportsMissingGDAPRoles(t *testing.T) {
	t.Parallel()
	w := newAccessWorld(t)
	m := fakeManifest(t, w)
	healthy := w.customer(t, testserver.CustomerSpec{Name: "Healthy", GDAP: true}, true)
	lacking := w.customer(t, testserver.CustomerSpec{Name: "Lacking"}, true)
	d := newGDAP(t, w)
	tpl := sam.RoleTemplate{Name: "no-exchange", Roles: []sam.EntraRole{{ID: directoryReaders}, {ID: cloudAppAdmin}, {ID: privRoleAdmin}}}
	approved(t, w, d, lacking.ID, "Lacking samkit", tpl, w.partner.AdminID)
	opts := sam.DoctorOptions{Checks: sam.Checks{DelegatedGraph: true}, Manifest: m, Now: w.s.Clock().Now}

	rep, err := w.sp.Doctor(t.Context(), []sam.Tenant{healthy, lacking}, opts)
	require.NoError(t, err)
	assert.Empty(t, findings(rep, sam.FindingGDAPRoles, sam.WherePartner), "coverage was read: %+v", rep.Findings)
	assert.Empty(t, findings(rep, sam.FindingGDAPRoles, healthy.ID))
	got := findings(rep, sam.FindingGDAPRoles, lacking.ID)
	require.Len(t, got, 1, "%+v", rep.Findings)
	assert.Equal(t, sam.SeverityBroken, got[0].Severity)
	assert.Contains(t, got[0].What, "Exchange Administrator (role link: no active relationship includes Exchange Administrator")
	assert.NotContains(t, got[0].What, "Directory Readers", "held")
	assert.Regexp(t, `^samctl gdap invite --customer `+lacking.ID+` --name samkit-\S+$`, got[0].Fix)

	// A relationships-only run (keepalive) reads no coverage.
	opts.RelationshipsOnly = true
	rep, err = w.sp.Doctor(t.Context(), []sam.Tenant{healthy, lacking}, opts)
	require.NoError(t, err)
	assert.Empty(t, findings(rep, sam.FindingGDAPRoles, lacking.ID))
}
