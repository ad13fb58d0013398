package sam_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/sam"
)

func TestPlanShowsExactlyThePlantedDriftAndApplyRemovesIt(t *testing.T) {
	t.Parallel()
	w := newAccessWorld(t)
	m := fakeManifest(t, w)
	spec := testserver.CustomerSpec{GDAP: true, PartnerCenter: true}
	healthy := w.customer(t, spec, true)
	spec.Name = "Drifted"
	drifted := w.customer(t, spec, true)
	require.NoError(t, w.s.RemoveGrantScope(drifted.ID, w.app.AppID, testserver.GraphAppID, profileScope))
	require.NoError(t, w.s.RemoveAppRoleAssignment(drifted.ID, w.app.AppID, testserver.ExchangeAppID, exchangeManageAsApp))
	tenants := []sam.Tenant{healthy, drifted}
	opts := sam.ConsentPlanOptions{Manifest: m}

	plan, err := w.sp.PlanConsent(t.Context(), tenants, opts)
	require.NoError(t, err)
	require.Len(t, plan, 2)
	require.NoError(t, plan[0].Err)
	assert.False(t, plan[0].Missing() || plan[0].Extra(), "the healthy tenant has no drift: %+v", plan[0])
	d := plan[1]
	require.NoError(t, d.Err)
	assert.Empty(t, d.GrantsToAdd)
	require.Len(t, d.ScopesToAdd, 1, "%+v", d)
	assert.Equal(t, testserver.GraphAppID, d.ScopesToAdd[0].ResourceAppID)
	assert.Equal(t, []string{profileScope}, d.ScopesToAdd[0].Scopes)
	require.Len(t, d.RolesToAdd, 1, "%+v", d)
	assert.Equal(t, exchangeManageAsApp, d.RolesToAdd[0].AppRoleID)
	assert.False(t, d.Extra(), "nothing beyond the manifest was planted: %+v", d)

	applied, err := w.sp.ApplyConsent(t.Context(), tenants, opts)
	require.NoError(t, err)
	require.Len(t, applied, 2)
	assert.Nil(t, applied[0].Pushed, "a tenant without drift is not written to")
	require.NoError(t, applied[1].Err)
	require.NotNil(t, applied[1].Pushed)
	assert.Equal(t, 1, applied[1].Pushed.GrantsUpdated)
	assert.Equal(t, 1, applied[1].Pushed.AssignmentsCreated)

	plan, err = w.sp.PlanConsent(t.Context(), tenants, opts)
	require.NoError(t, err)
	for _, p := range plan {
		assert.False(t, p.Missing() || p.Extra(), "after apply, %s has drift: %+v", p.Tenant, p)
	}
	applied, err = w.sp.ApplyConsent(t.Context(), tenants, opts)
	require.NoError(t, err)
	for _, a := range applied {
		assert.Nil(t, a.Pushed, "applying again changes nothing in %s", a.Tenant)
	}
}

func TestApplyPrunesWhatTheManifestNoLongerAsks(t *testing.T) {
	t.Parallel()
	w := newAccessWorld(t)
	m := fakeManifest(t, w)
	tenant := w.customer(t, testserver.CustomerSpec{GDAP: true, PartnerCenter: true}, true)
	// A manifest without Exchange's application permission and without
	// profile: both are now beyond it.
	for i := range m.Resources {
		r := &m.Resources[i]
		switch r.ResourceAppID {
		case testserver.ExchangeAppID:
			r.Application = nil
		case testserver.GraphAppID:
			for j, p := range r.Delegated {
				if p.Name == profileScope {
					r.Delegated = append(r.Delegated[:j:j], r.Delegated[j+1:]...)
					break
				}
			}
		}
	}
	tenants := []sam.Tenant{tenant}
	opts := sam.ConsentPlanOptions{Manifest: m}
	plan, err := w.sp.PlanConsent(t.Context(), tenants, opts)
	require.NoError(t, err)
	require.False(t, plan[0].Missing(), "%+v", plan[0])
	require.Len(t, plan[0].RolesToRemove, 1, "%+v", plan[0])
	assert.Equal(t, exchangeManageAsApp, plan[0].RolesToRemove[0].AppRoleID)
	require.Len(t, plan[0].ScopesToRemove, 1)
	assert.Equal(t, []string{profileScope}, plan[0].ScopesToRemove[0].Scopes)

	applied, err := w.sp.ApplyConsent(t.Context(), tenants, opts)
	require.NoError(t, err)
	assert.Zero(t, applied[0].Removed, "without Prune nothing is removed")
	opts.Prune = true
	applied, err = w.sp.ApplyConsent(t.Context(), tenants, opts)
	require.NoError(t, err)
	require.NoError(t, applied[0].Err)
	assert.Equal(t, 2, applied[0].Removed)
	assert.False(t, applied[0].After.Extra() || applied[0].After.Missing(), "%+v", applied[0].After)
}
