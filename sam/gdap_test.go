package sam_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/sam"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newGDAP returns GDAP operations as the partner's admin in w, with the
// rights they need.
func newGDAP(t *testing.T, w *accessWorld) *sam.GDAP {
	t.Helper()
	g, err := graph.New(w.adminSource(testserver.GraphResource, true, "DelegatedAdminRelationship.ReadWrite.All", "Directory.ReadWrite.All"),
		graph.WithCloud(w.s.Cloud()), graph.WithHTTPClient(w.s.Client()), graph.WithRetryPolicy(fastRetry))
	require.NoError(t, err)
	d, err := sam.NewGDAP(nil, "", sam.WithGDAPGraph(g), sam.WithGDAPClock(w.s.Clock().Now))
	require.NoError(t, err)
	return d
}

func TestGDAPInviteApproveAssign(t *testing.T) {
	t.Parallel()
	w := newAccessWorld(t)
	cust := w.s.AddCustomer(testserver.CustomerSpec{Name: "Contoso"})
	d := newGDAP(t, w)
	ctx := t.Context()

	inv, err := d.Invite(ctx, sam.InviteOptions{Customer: cust, DisplayName: "Contoso samkit", AutoExtend: true})
	require.NoError(t, err)
	assert.Equal(t, graph.RelationshipApprovalPending, inv.Relationship.Status)
	assert.Equal(t, "https://admin.microsoft.com/AdminPortal/Home#/partners/invitation/granularAdminRelationships/"+inv.Relationship.ID, inv.Link)
	assert.Len(t, inv.Relationship.AccessDetails.UnifiedRoles, len(sam.DefaultRoleTemplate().Roles))
	assert.Equal(t, "P180D", inv.Relationship.AutoExtendDuration)

	// A re-run continues the same relationship.
	again, err := d.Invite(ctx, sam.InviteOptions{Customer: cust, DisplayName: "Contoso samkit"})
	require.NoError(t, err)
	assert.True(t, again.Resumed)
	assert.Equal(t, inv.Relationship.ID, again.Relationship.ID)

	_, err = d.Assign(ctx, inv.Relationship.ID, sam.AssignOptions{})
	require.ErrorContains(t, err, "approvalPending", "assign before approval")

	st, err := d.Status(ctx, inv.Relationship.ID)
	require.NoError(t, err)
	assert.Equal(t, inv.Link, st.Link)

	require.NoError(t, w.s.ApproveRelationship(inv.Relationship.ID, ""))
	st, err = d.Status(ctx, inv.Relationship.ID)
	require.NoError(t, err)
	assert.Equal(t, graph.RelationshipActive, st.Relationship.Status)
	assert.Empty(t, st.Link)

	first, err := d.Assign(ctx, inv.Relationship.ID, sam.AssignOptions{Members: []string{w.partner.AdminID}})
	require.NoError(t, err)
	require.Len(t, first, len(sam.DefaultRoleTemplate().Roles))
	for _, ra := range first {
		assert.True(t, ra.GroupCreated, ra.GroupName)
		assert.False(t, ra.AlreadyAssigned, ra.GroupName)
		assert.Equal(t, graph.AssignmentPending, ra.Status)
		assert.True(t, strings.HasPrefix(ra.GroupName, "GDAP - "), ra.GroupName)
	}
	assert.Equal(t, "GDAP - Exchange Administrator", sam.GroupName("", "29232cdf-9323-42fd-ade2-1d097af3e4de"))

	// Idempotent: a second run finds the groups and their assignments.
	w.s.Clock().Advance(time.Minute)
	second, err := d.Assign(ctx, inv.Relationship.ID, sam.AssignOptions{Members: []string{w.partner.AdminID}})
	require.NoError(t, err)
	require.Len(t, second, len(first))
	for i, ra := range second {
		assert.False(t, ra.GroupCreated, ra.GroupName)
		assert.True(t, ra.AlreadyAssigned, ra.GroupName)
		assert.Equal(t, first[i].GroupID, ra.GroupID)
		assert.Equal(t, first[i].AssignmentID, ra.AssignmentID)
		assert.Equal(t, graph.AssignmentActive, ra.Status)
	}
	st, err = d.Status(ctx, inv.Relationship.ID)
	require.NoError(t, err)
	assert.Len(t, st.Assignments, len(first), "no assignment added by the re-run")

	// The admin, now in every group, holds every role of the template.
	w.s.Read(func(world *testserver.World) {
		for _, ra := range second {
			assert.True(t, world.Partner.Groups[ra.GroupID].Members[w.partner.AdminID], ra.GroupName)
		}
	})
}

func TestGDAPExtend(t *testing.T) {
	t.Parallel()
	w := newAccessWorld(t)
	cust := w.s.AddCustomer(testserver.CustomerSpec{Name: "Contoso"})
	d := newGDAP(t, w)
	ctx := t.Context()

	ga, err := sam.RoleTemplateByName("msp-standard")
	require.NoError(t, err)
	ga.Roles = append(ga.Roles, sam.EntraRole{ID: graph.GlobalAdminRoleTemplateID})
	_, err = d.Invite(ctx, sam.InviteOptions{Customer: cust, DisplayName: "with GA", Template: ga, AutoExtend: true})
	require.ErrorIs(t, err, sam.ErrCannotAutoExtend, "refused before any request")

	withGA, err := d.Invite(ctx, sam.InviteOptions{Customer: cust, DisplayName: "with GA", Template: ga})
	require.NoError(t, err)
	plain, err := d.Invite(ctx, sam.InviteOptions{Customer: cust, DisplayName: "plain", Duration: "P30D"})
	require.NoError(t, err)
	for _, id := range []string{withGA.Relationship.ID, plain.Relationship.ID} {
		require.NoError(t, w.s.ApproveRelationship(id, ""))
	}

	_, err = d.Extend(ctx, withGA.Relationship.ID)
	require.ErrorIs(t, err, sam.ErrCannotAutoExtend)
	assert.ErrorContains(t, err, "Global Administrator")

	ext, err := d.Extend(ctx, plain.Relationship.ID)
	require.NoError(t, err)
	assert.True(t, ext.Changed)
	assert.Equal(t, "P180D", ext.Relationship.AutoExtendDuration)
	ext, err = d.Extend(ctx, plain.Relationship.ID)
	require.NoError(t, err)
	assert.False(t, ext.Changed, "already extending")

	// Expiring: within 31 days only the 30-day one, which will extend;
	// within 731 days both, the other with the reason it will not.
	soon, err := d.Expiring(ctx, 31*24*time.Hour)
	require.NoError(t, err)
	require.Len(t, soon, 1)
	assert.Equal(t, plain.Relationship.ID, soon[0].Relationship.ID)
	assert.True(t, soon[0].AutoExtends)
	all, err := d.Expiring(ctx, 731*24*time.Hour)
	require.NoError(t, err)
	require.Len(t, all, 2)
	assert.False(t, all[1].AutoExtends)
	assert.Contains(t, all[1].WhyNot, "Global Administrator")
}

func TestRoleTemplates(t *testing.T) {
	t.Parallel()
	def := sam.DefaultRoleTemplate()
	assert.False(t, def.HasGlobalAdmin(), "the default template must be able to auto-extend")
	for _, r := range def.Roles {
		assert.Equal(t, r.Name, sam.EntraRoleName(r.ID), "role %s", r.ID)
		assert.NotEmpty(t, r.Why, "role %s says why it is there", r.Name)
	}

	for _, tc := range []struct {
		name, json, err string
		roles           int
	}{
		{"by id and by name", `[{"name":"t","roles":[{"roleDefinitionId":"729827E3-9c14-49f7-bb1b-9608f156bbb8"},{"name":"global reader"}]}]`, "", 2},
		{"one object", `{"name":"t","roles":[{"name":"Exchange Administrator"}]}`, "", 1},
		{"unknown id", `[{"name":"t","roles":[{"roleDefinitionId":"00000000-0000-0000-0000-000000000001"}]}]`, "not a Microsoft Entra built-in role id", 0},
		{"unknown name", `[{"name":"t","roles":[{"name":"Coffee Administrator"}]}]`, "not a Microsoft Entra built-in role", 0},
		{"wrong name for id", `[{"name":"t","roles":[{"roleDefinitionId":"729827e3-9c14-49f7-bb1b-9608f156bbb8","name":"User Administrator"}]}]`, "is Helpdesk Administrator", 0},
		{"no roles", `[{"name":"t","roles":[]}]`, "names no role", 0},
		{"no name", `[{"roles":[{"name":"Global Reader"}]}]`, "needs a name", 0},
		{"twice", `[{"name":"t","roles":[{"name":"Global Reader"},{"roleDefinitionId":"f2ef992c-3afb-46b9-b7cf-a126ee74c451"}]}]`, "appears twice", 0},
		{"not JSON", `roles: all`, "not JSON", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts, err := sam.LoadRoleTemplates(strings.NewReader(tc.json))
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			require.Len(t, ts, 1)
			require.Len(t, ts[0].Roles, tc.roles)
			for _, r := range ts[0].Roles {
				assert.NotEmpty(t, r.ID)
				assert.Equal(t, sam.EntraRoleName(r.ID), r.Name)
			}
		})
	}

	_, err := sam.RoleTemplateByName("nope")
	assert.True(t, err != nil && !errors.Is(err, sam.ErrCannotAutoExtend) && strings.Contains(err.Error(), sam.DefaultRoleTemplateName))
}

func TestGDAPWaitActive(t *testing.T) {
	t.Parallel()
	w := newAccessWorld(t)
	cust := w.s.AddCustomer(testserver.CustomerSpec{Name: "Contoso"})
	d := newGDAP(t, w)
	ctx := t.Context()
	inv, err := d.Invite(ctx, sam.InviteOptions{Customer: cust, DisplayName: "waited"})
	require.NoError(t, err)

	// The customer approves during the second pause.
	var seen []string
	waits := 0
	rel, err := d.WaitActive(ctx, inv.Relationship.ID, sam.WaitOptions{Poll: time.Minute, Timeout: time.Hour,
		Progress: func(s string) { seen = append(seen, s) },
		Sleep: func(_ context.Context, _ time.Duration) error {
			if waits++; waits == 2 {
				return w.s.ApproveRelationship(inv.Relationship.ID, "")
			}
			return nil
		}})
	require.NoError(t, err)
	assert.Equal(t, graph.RelationshipActive, rel.Status)
	assert.Equal(t, 2, waits)
	assert.Equal(t, []string{"approvalPending", "approvalPending", "active"}, seen)

	// Never approved: the timeout counts polls, not wall-clock time.
	other, err := d.Invite(ctx, sam.InviteOptions{Customer: cust, DisplayName: "never"})
	require.NoError(t, err)
	waits = 0
	_, err = d.WaitActive(ctx, other.Relationship.ID, sam.WaitOptions{Poll: time.Minute, Timeout: 5 * time.Minute,
		Sleep: func(context.Context, time.Duration) error { waits++; return nil }})
	require.ErrorIs(t, err, sam.ErrWaitTimedOut)
	assert.Equal(t, 5, waits, "five one-minute pauses fit in five minutes")
}

func TestGDAPTerminate(t *testing.T) {
	t.Parallel()
	w := newAccessWorld(t)
	cust := w.s.AddCustomer(testserver.CustomerSpec{Name: "Contoso"})
	d := newGDAP(t, w)
	ctx := t.Context()
	inv, err := d.Invite(ctx, sam.InviteOptions{Customer: cust, DisplayName: "ending"})
	require.NoError(t, err)

	_, err = d.Terminate(ctx, inv.Relationship.ID)
	require.ErrorContains(t, err, "approvalPending", "awaiting approval: nothing the partner can end")

	require.NoError(t, w.s.ApproveRelationship(inv.Relationship.ID, ""))
	rel, err := d.Terminate(ctx, inv.Relationship.ID)
	require.NoError(t, err)
	assert.Equal(t, graph.RelationshipTerminationRequested, rel.Status)
	rel, err = d.Terminate(ctx, inv.Relationship.ID)
	require.NoError(t, err, "a second call changes nothing")
	assert.Equal(t, graph.RelationshipTerminationRequested, rel.Status)
	w.s.Clock().Advance(time.Minute)
	st, err := d.Status(ctx, inv.Relationship.ID)
	require.NoError(t, err)
	assert.Equal(t, graph.RelationshipTerminated, st.Relationship.Status)
}

func TestPartnerGDAP(t *testing.T) {
	t.Parallel()
	w := newAccessWorld(t)
	rt, err := w.s.MintRefreshToken(w.app.AppID)
	require.NoError(t, err)
	d, err := w.newPartner(t, w.creds(rt), w.s.Client(), 0).GDAP()
	require.NoError(t, err)
	// The call reaches Graph as the partner's admin; this world's app has
	// no GDAP permission, so Graph refuses it there.
	_, err = d.Expiring(t.Context(), 24*time.Hour)
	require.ErrorIs(t, err, graph.ErrForbidden)
	assert.NotEmpty(t, w.s.Requests())
}

// The name is stored trimmed, so a re-run finds the relationship whatever
// spaces surround the name it is given, instead of creating it again.
func TestInviteFindsAnUntrimmedNameAgain(t *testing.T) {
	t.Parallel()
	w := newAccessWorld(t)
	cust := w.s.AddCustomer(testserver.CustomerSpec{Name: "Contoso"})
	d := newGDAP(t, w)

	first, err := d.Invite(t.Context(), sam.InviteOptions{Customer: cust, DisplayName: " Contoso samkit "})
	require.NoError(t, err)
	assert.False(t, first.Resumed)
	again, err := d.Invite(t.Context(), sam.InviteOptions{Customer: cust, DisplayName: " Contoso samkit "})
	require.NoError(t, err, "the re-run finds the relationship it made")
	assert.True(t, again.Resumed)
	assert.Equal(t, first.Relationship.ID, again.Relationship.ID, "one relationship, not two")
}
