package graph

import (
	"errors"
	"testing"
	"time"

	"github.com/samkit/samkit/internal/testserver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	roleHelpdeskAdmin = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
	roleUserAdmin     = "fe930be7-5e62-47db-91af-98c3a49a38b1"
)

// gdapSpec is the partner admin with DelegatedAdminRelationship.ReadWrite.All.
func gdapSpec(s *testserver.Server) testserver.TokenSpec {
	spec := adminSpec(s)
	spec.Scopes = append([]string{"DelegatedAdminRelationship.ReadWrite.All"}, adminScopes...)
	return spec
}

func roles(ids ...string) DelegatedAdminAccess {
	var a DelegatedAdminAccess
	for _, id := range ids {
		a.UnifiedRoles = append(a.UnifiedRoles, UnifiedRole{RoleDefinitionID: id})
	}
	return a
}

func TestGDAPRelationshipLifecycle(t *testing.T) {
	t.Parallel()
	s := testserver.New()
	t.Cleanup(s.Close)
	cust := s.AddCustomer(testserver.CustomerSpec{Name: "Contoso"})
	s.Mutate(func(w *testserver.World) { w.MaxPageSize = 1 })
	f := newFakeOn(t, s, gdapSpec)
	ctx := t.Context()

	rel, err := f.c.CreateDelegatedAdminRelationship(ctx, NewDelegatedAdminRelationship{
		DisplayName: "Contoso helpdesk", Duration: "P730D",
		Customer: &DelegatedAdminCustomerRef{TenantID: cust}, AccessDetails: roles(roleHelpdeskAdmin, roleUserAdmin)})
	require.NoError(t, err)
	assert.Equal(t, RelationshipCreated, rel.Status)
	require.NotEmpty(t, rel.ETag)

	// An update with the ETag read succeeds; with the old one it fails.
	name := "Contoso support"
	upd, accepted, err := f.c.UpdateDelegatedAdminRelationship(ctx, rel.ID, rel.ETag, DelegatedAdminRelationshipPatch{DisplayName: &name})
	require.NoError(t, err)
	assert.False(t, accepted)
	assert.Equal(t, name, upd.DisplayName)
	_, _, err = f.c.UpdateDelegatedAdminRelationship(ctx, rel.ID, rel.ETag, DelegatedAdminRelationshipPatch{DisplayName: &name})
	assert.ErrorIs(t, err, ErrPreconditionFailed)

	req, err := f.c.RequestDelegatedAdminRelationship(ctx, rel.ID, ActionLockForApproval)
	require.NoError(t, err)
	assert.Equal(t, "succeeded", req.Status)
	got, err := f.c.GetDelegatedAdminRelationship(ctx, rel.ID)
	require.NoError(t, err)
	assert.Equal(t, RelationshipApprovalPending, got.Status)

	require.NoError(t, s.ApproveRelationship(rel.ID, ""))
	got, err = f.c.GetDelegatedAdminRelationship(ctx, rel.ID)
	require.NoError(t, err)
	assert.Equal(t, RelationshipActive, got.Status)
	assert.Equal(t, 730*24*time.Hour, got.EndDateTime.Sub(got.ActivatedDateTime))

	// Two assignments, listed across pages; pending, then active.
	var groups []string
	s.Mutate(func(w *testserver.World) {
		for _, id := range []string{"5f4c1b8e-0f1a-4d7e-9a56-1a2b3c4d5e01", "5f4c1b8e-0f1a-4d7e-9a56-1a2b3c4d5e02"} {
			g := &testserver.Group{ID: id, DisplayName: "GDAP " + id[len(id)-2:], Members: map[string]bool{}}
			w.Partner.Groups[g.ID] = g
			groups = append(groups, g.ID)
		}
	})
	a, err := f.c.CreateDelegatedAdminAccessAssignment(ctx, rel.ID, groups[0], roleHelpdeskAdmin)
	require.NoError(t, err)
	assert.Equal(t, AssignmentPending, a.Status)
	_, err = f.c.CreateDelegatedAdminAccessAssignment(ctx, rel.ID, groups[1], roleUserAdmin)
	require.NoError(t, err)
	s.Clock().Advance(time.Minute)
	as := collect(t, f.c.DelegatedAdminAccessAssignments(ctx, rel.ID))
	require.Len(t, as, 2)
	for _, a := range as {
		assert.Equal(t, AssignmentActive, a.Status)
	}
	require.NoError(t, f.c.DeleteDelegatedAdminAccessAssignment(ctx, rel.ID, as[1].ID, as[1].ETag))

	_, err = f.c.RequestDelegatedAdminRelationship(ctx, rel.ID, ActionTerminate)
	require.NoError(t, err)
	s.Clock().Advance(time.Minute)
	got, err = f.c.GetDelegatedAdminRelationship(ctx, rel.ID)
	require.NoError(t, err)
	assert.Equal(t, RelationshipTerminated, got.Status)
	reqs := collect(t, f.c.DelegatedAdminRelationshipRequests(ctx, rel.ID))
	require.Len(t, reqs, 2)
	assert.Equal(t, ActionTerminate, reqs[1].Action)
	assert.Equal(t, "succeeded", reqs[1].Status)
}

func TestGDAPRemoveGlobalAdminIsAnOperation(t *testing.T) {
	t.Parallel()
	_, f, rel := activeRelationship(t, "ga", roleHelpdeskAdmin, GlobalAdminRoleTemplateID)
	ctx := t.Context()
	rel, err := f.c.GetDelegatedAdminRelationship(ctx, rel.ID)
	require.NoError(t, err)

	extend := "P180D"
	_, _, err = f.c.UpdateDelegatedAdminRelationship(ctx, rel.ID, rel.ETag, DelegatedAdminRelationshipPatch{AutoExtendDuration: &extend})
	require.ErrorIs(t, err, ErrBadRequest, "auto-extend with Global Administrator")

	less := roles(roleHelpdeskAdmin)
	_, accepted, err := f.c.UpdateDelegatedAdminRelationship(ctx, rel.ID, rel.ETag, DelegatedAdminRelationshipPatch{AccessDetails: &less})
	require.NoError(t, err)
	assert.True(t, accepted)
	ops := collect(t, f.c.DelegatedAdminRelationshipOperations(ctx, rel.ID))
	require.Len(t, ops, 1)
	assert.Equal(t, "delegatedAdminRelationshipUpdate", ops[0].OperationType)
}

func TestGDAPArgumentsRefusedLocally(t *testing.T) {
	t.Parallel()
	s := testserver.New()
	t.Cleanup(s.Close)
	f := newFakeOn(t, s, gdapSpec)
	ctx := t.Context()
	for name, err := range map[string]error{
		"no name": func() error {
			_, err := f.c.CreateDelegatedAdminRelationship(ctx, NewDelegatedAdminRelationship{Duration: "P1D", AccessDetails: roles(roleUserAdmin)})
			return err
		}(),
		"hostile id": func() error { _, err := f.c.GetDelegatedAdminRelationship(ctx, "../applications"); return err }(),
		"no etag": func() error {
			_, _, err := f.c.UpdateDelegatedAdminRelationship(ctx, "abc", "", DelegatedAdminRelationshipPatch{})
			return err
		}(),
		"unknown action": func() error { _, err := f.c.RequestDelegatedAdminRelationship(ctx, "abc", "approveAll"); return err }(),
		"group not a GUID": func() error {
			_, err := f.c.CreateDelegatedAdminAccessAssignment(ctx, "abc", "group", roleUserAdmin)
			return err
		}(),
		"assignment update without etag": func() error {
			_, _, err := f.c.UpdateDelegatedAdminAccessAssignment(ctx, "abc", "a1", "", roleUserAdmin)
			return err
		}(),
		"assignment update without roles": func() error {
			_, _, err := f.c.UpdateDelegatedAdminAccessAssignment(ctx, "abc", "a1", `W/"1"`)
			return err
		}(),
		"assignment update, hostile id": func() error {
			_, _, err := f.c.UpdateDelegatedAdminAccessAssignment(ctx, "abc", "../x", `W/"1"`, roleUserAdmin)
			return err
		}(),
	} {
		assert.True(t, errors.Is(err, ErrInvalidArgument), "%s: %v", name, err)
	}
	assert.Empty(t, f.graphRequests(), "nothing sent")
}

func TestSecurityGroups(t *testing.T) {
	t.Parallel()
	s := testserver.New()
	t.Cleanup(s.Close)
	spec := func(s *testserver.Server) testserver.TokenSpec {
		sp := adminSpec(s)
		sp.Scopes = append([]string{"Directory.ReadWrite.All"}, adminScopes...)
		return sp
	}
	f := newFakeOn(t, s, spec)
	ctx := t.Context()
	g, err := f.c.CreateSecurityGroup(ctx, "GDAP - Helpdesk Administrator", "gdap-helpdesk-administrator", "")
	require.NoError(t, err)
	found := collect(t, f.c.GroupsByDisplayName(ctx, "GDAP - Helpdesk Administrator"))
	require.Len(t, found, 1)
	assert.Equal(t, g.ID, found[0].ID)
	admin := s.Partner().AdminID
	require.NoError(t, f.c.AddGroupMember(ctx, g.ID, admin))
	require.NoError(t, f.c.AddGroupMember(ctx, g.ID, admin), "adding again is done already")
	s.Read(func(w *testserver.World) { assert.True(t, w.Partner.Groups[g.ID].Members[admin]) })
	_, err = f.c.CreateSecurityGroup(ctx, "x", "", "")
	assert.ErrorIs(t, err, ErrInvalidArgument)
}

// TestGDAPUpdateAccessAssignment: the same roles answer 200 with the
// assignment; other roles 202 and a long-running operation that sets them;
// a stale ETag 412; a role outside the relationship 400.
func TestGDAPUpdateAccessAssignment(t *testing.T) {
	t.Parallel()
	s, f, rel := activeRelationship(t, "two roles", roleHelpdeskAdmin, roleUserAdmin)
	ctx := t.Context()
	const group = "5f4c1b8e-0f1a-4d7e-9a56-1a2b3c4d5e01"
	s.Mutate(func(w *testserver.World) {
		w.Partner.Groups[group] = &testserver.Group{ID: group, DisplayName: "GDAP tier 1", Members: map[string]bool{}}
	})
	a, err := f.c.CreateDelegatedAdminAccessAssignment(ctx, rel.ID, group, roleHelpdeskAdmin)
	require.NoError(t, err)

	same, accepted, err := f.c.UpdateDelegatedAdminAccessAssignment(ctx, rel.ID, a.ID, a.ETag, roleHelpdeskAdmin)
	require.NoError(t, err)
	assert.False(t, accepted, "the roles it holds: 200")
	assert.Equal(t, a.ID, same.ID)

	_, _, err = f.c.UpdateDelegatedAdminAccessAssignment(ctx, rel.ID, a.ID, a.ETag, GlobalAdminRoleTemplateID)
	require.ErrorIs(t, err, ErrBadRequest, "a role the relationship lacks")

	_, accepted, err = f.c.UpdateDelegatedAdminAccessAssignment(ctx, rel.ID, a.ID, a.ETag, roleHelpdeskAdmin, roleUserAdmin)
	require.NoError(t, err)
	assert.True(t, accepted, "new roles: 202, a long-running operation")
	_, _, err = f.c.UpdateDelegatedAdminAccessAssignment(ctx, rel.ID, a.ID, a.ETag, roleUserAdmin)
	require.ErrorIs(t, err, ErrPreconditionFailed, "the ETag changed with the update")

	s.Clock().Advance(time.Minute)
	ops := collect(t, f.c.DelegatedAdminRelationshipOperations(ctx, rel.ID))
	require.Len(t, ops, 1)
	assert.Equal(t, "delegatedAdminAccessAssignmentUpdate", ops[0].OperationType)
	assert.Equal(t, "succeeded", ops[0].Status)
	as := collect(t, f.c.DelegatedAdminAccessAssignments(ctx, rel.ID))
	require.Len(t, as, 1)
	assert.Len(t, as[0].AccessDetails.UnifiedRoles, 2, "the operation set both roles")
}

// activeRelationship is a fake with a customer, Contoso, and a 30-day
// relationship with it called name, holding roleIDs, that its admin has
// approved.
func activeRelationship(t *testing.T, name string, roleIDs ...string) (*testserver.Server, *fake, DelegatedAdminRelationship) {
	t.Helper()
	s := testserver.New()
	t.Cleanup(s.Close)
	cust := s.AddCustomer(testserver.CustomerSpec{Name: "Contoso"})
	f := newFakeOn(t, s, gdapSpec)
	rel, err := f.c.CreateDelegatedAdminRelationship(t.Context(), NewDelegatedAdminRelationship{DisplayName: name, Duration: "P30D",
		Customer: &DelegatedAdminCustomerRef{TenantID: cust}, AccessDetails: roles(roleIDs...)})
	require.NoError(t, err)
	_, err = f.c.RequestDelegatedAdminRelationship(t.Context(), rel.ID, ActionLockForApproval)
	require.NoError(t, err)
	require.NoError(t, s.ApproveRelationship(rel.ID, ""))
	return s, f, rel
}
