package graph

import (
	"fmt"
	"testing"

	"github.com/samkit/samkit/internal/testserver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The access assignments of many relationships come in one $batch call,
// and a relationship with more than a page follows its nextLink.
func TestDelegatedAdminAccessAssignmentsOf(t *testing.T) {
	t.Parallel()
	s := testserver.New()
	t.Cleanup(s.Close)
	var custs []string
	for range 3 {
		custs = append(custs, s.AddCustomer(testserver.CustomerSpec{Name: "Customer", Users: 1, GDAP: true}))
	}
	var ids []string
	s.Mutate(func(w *testserver.World) {
		w.MaxPageSize = 2
		for _, r := range w.Partner.Relationships {
			ids = append(ids, r.ID)
		}
		// The first holds five assignments: three pages of two.
		first := w.Partner.Relationships[0]
		for range 4 {
			first.GDAP.Assignments = append(first.GDAP.Assignments, &testserver.AccessAssignment{ID: fmt.Sprintf("extra-%d", len(first.GDAP.Assignments)),
				GroupID: first.GDAP.Assignments[0].GroupID, RoleIDs: first.RoleIDs, Status: "active"})
		}
	})
	f := newFakeOn(t, s, gdapSpec)
	ctx := t.Context()

	got, err := f.c.DelegatedAdminAccessAssignmentsOf(ctx, ids)
	require.NoError(t, err)
	require.Len(t, got, 3)
	assert.Len(t, got[0], 5)
	assert.Len(t, got[1], 1)
	assert.Len(t, got[2], 1)
	reqs := f.graphRequests()
	require.Len(t, reqs, 3, "one $batch for the three first pages, two more pages of the first relationship")
	assert.Equal(t, "/graph/v1.0/$batch", reqs[0].Path)

	_, err = f.c.DelegatedAdminAccessAssignmentsOf(ctx, []string{"not/an/id"})
	require.ErrorIs(t, err, ErrInvalidArgument)

	// One customer's relationships, filtered by Graph, in pages of 300.
	s.ResetRequests()
	rels := collect(t, f.c.DelegatedAdminRelationshipsFor(ctx, custs[1]))
	require.Len(t, rels, 1)
	assert.Equal(t, custs[1], rels[0].Customer.TenantID)
	q := f.graphRequests()[0].Query
	assert.Equal(t, "300", q.Get("$top"))
	assert.Equal(t, "customer/tenantId eq '"+custs[1]+"'", q.Get("$filter"))
	assert.Len(t, collect(t, f.c.DelegatedAdminRelationshipsFor(ctx, "")), 3)
}

// A user's memberships, the signed-in one's or another's, and a group read
// by id.
func TestMembershipsAndGroup(t *testing.T) {
	t.Parallel()
	s := testserver.New()
	t.Cleanup(s.Close)
	s.AddCustomer(testserver.CustomerSpec{Name: "Contoso", Users: 1, GDAP: true})
	// Another user's memberships need User.Read.All (or a group or
	// directory read permission), which adminScopes lack.
	f := newFakeOn(t, s, func(s *testserver.Server) testserver.TokenSpec {
		spec := adminSpec(s)
		spec.Scopes = append(spec.Scopes, "User.Read.All")
		return spec
	})
	ctx := t.Context()
	p := s.Partner()

	denied := newFakeOn(t, s, nil)
	_, err := Collect(denied.c.TransitiveMemberOfUser(ctx, p.AdminUPN, ListOptions{}))
	require.ErrorIs(t, err, ErrForbidden, "another user's memberships without User.Read.All")

	u, err := f.c.User(ctx, p.AdminUPN)
	require.NoError(t, err)
	assert.Equal(t, p.AdminID, u.ID)

	groupsOf := func(user string) map[string]string {
		out := map[string]string{}
		for _, o := range collect(t, f.c.TransitiveMemberOfUser(ctx, user, ListOptions{Top: 999, Select: []string{"id", "displayName"}})) {
			if o.IsGroup() {
				out[o.ID] = o.DisplayName
			}
		}
		return out
	}
	mine := groupsOf("")
	assert.Equal(t, mine, groupsOf(p.AdminUPN), "/me and /users/{upn} list the same")
	var gdap string
	for id, name := range mine {
		if name == "GDAP - Global Administrator" {
			gdap = id
		}
	}
	require.NotEmpty(t, gdap, "the seeded relationship's group: %v", mine)
	g, err := f.c.Group(ctx, gdap)
	require.NoError(t, err)
	assert.Equal(t, "GDAP - Global Administrator", g.DisplayName)

	_, err = f.c.Group(ctx, "00000000-0000-0000-0000-000000000001")
	require.ErrorIs(t, err, ErrNotFound)
	_, err = f.c.User(ctx, "a/b")
	require.ErrorIs(t, err, ErrInvalidArgument)
}
