package sam_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/sam"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Role template ids the tests name.
const (
	directoryReaders = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"
	cloudAppAdmin    = "158c047a-c907-4556-b7ef-446551a6b5f7"
	privRoleAdmin    = "e8611ab8-c189-46e8-94e1-60213ab1f814"
	exchangeAdmin    = "29232cdf-9323-42fd-ade2-1d097af3e4de"
)

// approved makes an active relationship with cust from tpl, approved by
// the customer, its roles assigned to "GDAP - <role>" groups holding
// members, and the assignments active. It returns the relationship id and
// the assignments.
func approved(t *testing.T, w *accessWorld, d *sam.GDAP, cust, name string, tpl sam.RoleTemplate, members ...string) (string, []sam.RoleAssignment) {
	t.Helper()
	inv, err := d.Invite(t.Context(), sam.InviteOptions{Customer: cust, DisplayName: name, Template: tpl})
	require.NoError(t, err)
	require.NoError(t, w.s.ApproveRelationship(inv.Relationship.ID, ""))
	as, err := d.Assign(t.Context(), inv.Relationship.ID, sam.AssignOptions{Members: members})
	require.NoError(t, err)
	w.s.Clock().Advance(2 * time.Minute) // past World.GDAPDelay: the assignments are active
	return inv.Relationship.ID, as
}

func links(steps []sam.TraceStep) []string {
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = fmt.Sprintf("%s:%v", s.Link, s.Found)
	}
	return out
}

func onlyTenant(t *testing.T, rep *sam.CoverageReport, tenant string) sam.TenantCoverage {
	t.Helper()
	require.Len(t, rep.Tenants, 1)
	require.Equal(t, tenant, rep.Tenants[0].TenantID)
	return rep.Tenants[0]
}

// A user outside the groups: every role is missing at the membership
// link, and the fix, once run, covers them all.
func TestCoverageUserMissingGroup(t *testing.T) {
	t.Parallel()
	w := newAccessWorld(t)
	cust := w.s.AddCustomer(testserver.CustomerSpec{Name: "Contoso"})
	d := newGDAP(t, w)
	rel, as := approved(t, w, d, cust, "Contoso samkit", sam.RoleTemplate{})
	ctx := t.Context()

	rep, err := d.Coverage(ctx, sam.CoverageOptions{})
	require.NoError(t, err)
	assert.Equal(t, w.partner.AdminID, rep.User.ID)
	assert.False(t, rep.Complete())
	tc := onlyTenant(t, rep, cust)
	assert.Empty(t, tc.Covered)
	require.Len(t, tc.Missing, 4)
	for i, m := range tc.Missing {
		assert.Equal(t, sam.LinkMembership, m.Link, m.Role.Name)
		assert.Equal(t, as[i].RoleID, m.Role.ID)
		assert.Equal(t, fmt.Sprintf("%s is not a member of group %s, which holds %s in relationship %q: add them to it",
			w.partner.AdminUPN, as[i].GroupID, m.Role.Name, "Contoso samkit"), m.Why)
		assert.Equal(t, "samctl gdap assign "+rel+" --add-member "+w.partner.AdminID, m.Fix)
	}

	tr, err := d.Trace(ctx, sam.TraceOptions{Tenant: cust, User: w.partner.AdminUPN, Role: "Exchange Administrator"})
	require.NoError(t, err)
	require.Len(t, tr.Roles, 1)
	rt := tr.Roles[0]
	assert.False(t, rt.Covered)
	assert.Equal(t, []string{"relationship:true", "role:true", "assignment:true", "membership:false"}, links(rt.Steps))
	last := rt.Steps[len(rt.Steps)-1]
	assert.Equal(t, "GDAP - Exchange Administrator", last.Name, "a trace names the group the user is not in")
	assert.Equal(t, as[3].GroupID, last.ID)

	// The fix puts the user in the groups: then all is covered.
	_, err = d.Assign(ctx, rel, sam.AssignOptions{Members: []string{w.partner.AdminID}})
	require.NoError(t, err)
	rep, err = d.Coverage(ctx, sam.CoverageOptions{Tenants: []string{cust}})
	require.NoError(t, err)
	assert.True(t, rep.Complete(), "%+v", rep.Tenants)
}

// A relationship without Exchange Administrator: that role is missing at
// the role link, the others are held; a new relationship is the fix.
func TestCoverageRelationshipMissingRole(t *testing.T) {
	t.Parallel()
	w := newAccessWorld(t)
	cust := w.s.AddCustomer(testserver.CustomerSpec{Name: "Fabrikam"})
	d := newGDAP(t, w)
	tpl := sam.RoleTemplate{Name: "no-exchange", Roles: []sam.EntraRole{{ID: directoryReaders}, {ID: cloudAppAdmin}, {ID: privRoleAdmin}}}
	rel, _ := approved(t, w, d, cust, "Fabrikam samkit", tpl, w.partner.AdminID)
	ctx := t.Context()

	rep, err := d.Coverage(ctx, sam.CoverageOptions{Tenants: []string{cust}})
	require.NoError(t, err)
	tc := onlyTenant(t, rep, cust)
	require.Len(t, tc.Covered, 3)
	for _, c := range tc.Covered {
		assert.Equal(t, c.Role.ID, c.Via.ID, "held as itself")
		assert.Equal(t, rel, c.RelationshipID)
		assert.Equal(t, "GDAP - "+c.Role.Name, c.GroupName)
	}
	require.Len(t, tc.Missing, 1)
	m := tc.Missing[0]
	assert.Equal(t, exchangeAdmin, m.Role.ID)
	assert.Equal(t, []sam.Operation{sam.OperationCheckAccess, sam.OperationExchange}, m.Operations)
	assert.Equal(t, sam.LinkRole, m.Link)
	assert.Equal(t, fmt.Sprintf("no active relationship includes Exchange Administrator: %q (%s) does not, and an active relationship's roles cannot change",
		"Fabrikam samkit", rel), m.Why)
	assert.Regexp(t, `^samctl gdap invite --customer `+cust+` --name samkit-`+cust[:8]+`-\d{8}$`, m.Fix)

	tr, err := d.Trace(ctx, sam.TraceOptions{Tenant: cust, Operation: "checkaccess"})
	require.NoError(t, err)
	assert.Equal(t, sam.OperationCheckAccess, tr.Operation)
	require.Len(t, tr.Roles, 2)
	assert.True(t, tr.Roles[0].Covered, "Directory Readers")
	assert.Equal(t, []string{"relationship:true", "role:true", "assignment:true", "membership:true"}, links(tr.Roles[0].Steps))
	assert.False(t, tr.Roles[1].Covered, "Exchange Administrator")
	assert.Equal(t, []string{"relationship:true", "role:false"}, links(tr.Roles[1].Steps))
	assert.Equal(t, sam.LinkRole, tr.Roles[1].Missing)
	assert.False(t, tr.Covered())

	// A template asks for its own roles: this one is all there.
	rep, err = d.Coverage(ctx, sam.CoverageOptions{Tenants: []string{cust}, Template: tpl})
	require.NoError(t, err)
	assert.True(t, rep.Complete())
}

// An expired relationship holds nothing: every role is missing at the
// relationship link, which says when it expired.
func TestCoverageExpiredRelationship(t *testing.T) {
	t.Parallel()
	w := newAccessWorld(t)
	cust := w.s.AddCustomer(testserver.CustomerSpec{Name: "Northwind"})
	d := newGDAP(t, w)
	rel, _ := approved(t, w, d, cust, "Northwind samkit", sam.RoleTemplate{}, w.partner.AdminID)
	ended := w.s.Clock().Now().Add(-24 * time.Hour)
	w.s.Mutate(func(world *testserver.World) {
		for _, r := range world.Partner.Relationships {
			if r.ID == rel {
				r.End = ended // the fake expires it at its next read
			}
		}
	})
	ctx := t.Context()
	want := fmt.Sprintf("relationship %q (%s) expired on %s; no relationship with the tenant is active", "Northwind samkit", rel, ended.UTC().Format(time.DateOnly))

	rep, err := d.Coverage(ctx, sam.CoverageOptions{})
	require.NoError(t, err)
	tc := onlyTenant(t, rep, cust)
	assert.Empty(t, tc.Covered)
	require.Len(t, tc.Missing, 4)
	for _, m := range tc.Missing {
		assert.Equal(t, sam.LinkRelationship, m.Link)
		assert.Equal(t, want, m.Why)
		assert.Contains(t, m.Fix, "samctl gdap invite --customer "+cust)
	}

	tr, err := d.Trace(ctx, sam.TraceOptions{Tenant: cust, Role: exchangeAdmin})
	require.NoError(t, err)
	require.Len(t, tr.Roles, 1)
	assert.Equal(t, []sam.TraceStep{{Link: sam.LinkRelationship, ID: rel, Name: "Northwind samkit", Detail: want}}, tr.Roles[0].Steps)

	// A new relationship covers the roles; the trace still shows the
	// expired one, after the active one.
	again, _ := approved(t, w, d, cust, "Northwind samkit 2", sam.RoleTemplate{}, w.partner.AdminID)
	tr, err = d.Trace(ctx, sam.TraceOptions{Tenant: cust, Role: exchangeAdmin})
	require.NoError(t, err)
	require.True(t, tr.Covered())
	steps := tr.Roles[0].Steps
	assert.Equal(t, []string{"relationship:true", "relationship:false", "role:true", "assignment:true", "membership:true"}, links(steps))
	assert.Equal(t, again, steps[0].ID)
	assert.Equal(t, fmt.Sprintf("relationship %q (%s) expired on %s", "Northwind samkit", rel, ended.UTC().Format(time.DateOnly)), steps[1].Detail)
}

// All links in place: every role covered, each through its group.
func TestCoverageFullyCovered(t *testing.T) {
	t.Parallel()
	w := newAccessWorld(t)
	cust := w.s.AddCustomer(testserver.CustomerSpec{Name: "Tailspin"})
	d := newGDAP(t, w)
	rel, as := approved(t, w, d, cust, "Tailspin samkit", sam.RoleTemplate{}, w.partner.AdminID)
	ctx := t.Context()

	rep, err := d.Coverage(ctx, sam.CoverageOptions{User: w.partner.AdminUPN})
	require.NoError(t, err)
	assert.True(t, rep.Complete())
	assert.Equal(t, sam.DefaultRoleTemplateName, rep.Template)
	tc := onlyTenant(t, rep, cust)
	assert.Equal(t, "Tailspin", tc.DisplayName)
	assert.Empty(t, tc.Missing)
	require.Len(t, tc.Covered, 4)
	for i, c := range tc.Covered {
		assert.Equal(t, as[i].RoleID, c.Role.ID)
		assert.Equal(t, as[i].GroupID, c.GroupID)
		assert.Equal(t, as[i].GroupName, c.GroupName)
		assert.Equal(t, rel, c.RelationshipID)
	}

	tr, err := d.Trace(ctx, sam.TraceOptions{Tenant: cust, Operation: string(sam.OperationPushConsent)})
	require.NoError(t, err)
	assert.True(t, tr.Covered())
	require.Len(t, tr.Roles, 2)
	for _, rt := range tr.Roles {
		assert.Equal(t, []string{"relationship:true", "role:true", "assignment:true", "membership:true"}, links(rt.Steps), rt.Role.Name)
	}

	// A tenant named with no relationship at all misses the first link.
	other := w.s.AddCustomer(testserver.CustomerSpec{Name: "Stranger", Users: 1})
	rep, err = d.Coverage(ctx, sam.CoverageOptions{Tenants: []string{other, cust}})
	require.NoError(t, err)
	require.Len(t, rep.Tenants, 2)
	assert.True(t, rep.Tenants[1].Complete())
	require.Len(t, rep.Tenants[0].Missing, 4)
	assert.Equal(t, sam.LinkRelationship, rep.Tenants[0].Missing[0].Link)
	assert.Equal(t, "the partner has no GDAP relationship with tenant "+other, rep.Tenants[0].Missing[0].Why)

	// ListTenants needs no role in a customer.
	tr, err = d.Trace(ctx, sam.TraceOptions{Tenant: cust, Operation: "ListTenants"})
	require.NoError(t, err)
	assert.Empty(t, tr.Roles)
}

// Assignments still pending: the assignment link is missing, and the fix
// is to wait.
func TestCoveragePendingAssignment(t *testing.T) {
	t.Parallel()
	w := newAccessWorld(t)
	cust := w.s.AddCustomer(testserver.CustomerSpec{Name: "Adatum"})
	d := newGDAP(t, w)
	inv, err := d.Invite(t.Context(), sam.InviteOptions{Customer: cust, DisplayName: "Adatum samkit"})
	require.NoError(t, err)
	require.NoError(t, w.s.ApproveRelationship(inv.Relationship.ID, ""))
	_, err = d.Assign(t.Context(), inv.Relationship.ID, sam.AssignOptions{Members: []string{w.partner.AdminID}})
	require.NoError(t, err)

	rep, err := d.Coverage(t.Context(), sam.CoverageOptions{})
	require.NoError(t, err)
	tc := onlyTenant(t, rep, cust)
	require.Len(t, tc.Missing, 4)
	for _, m := range tc.Missing {
		assert.Equal(t, sam.LinkAssignment, m.Link)
		assert.Contains(t, m.Why, "pending: ")
		assert.Equal(t, "wait a few minutes, then run samctl gdap coverage again", m.Fix)
	}
}

func TestTraceRefusesBadInput(t *testing.T) {
	t.Parallel()
	w := newAccessWorld(t)
	d := newGDAP(t, w)
	cust := "6f1c3c1e-1111-4a2b-9c3d-222233334444"
	for _, c := range []struct {
		o    sam.TraceOptions
		want string
	}{
		{sam.TraceOptions{Tenant: "contoso", Role: exchangeAdmin}, "not a tenant id"},
		{sam.TraceOptions{Tenant: cust}, "give an operation"},
		{sam.TraceOptions{Tenant: cust, Operation: "Exchange", Role: exchangeAdmin}, "one of the two"},
		{sam.TraceOptions{Tenant: cust, Operation: "Backup"}, "ListTenants, CheckAccess, PushConsent, Exchange"},
		{sam.TraceOptions{Tenant: cust, Role: "Chief Wizard"}, "not a Microsoft Entra built-in role"},
	} {
		_, err := d.Trace(t.Context(), c.o)
		require.ErrorContains(t, err, c.want, "%+v", c.o)
	}
	_, err := d.Coverage(t.Context(), sam.CoverageOptions{Tenants: []string{"contoso"}})
	require.ErrorContains(t, err, "not a tenant id")
}

// Every role of the default template serves an operation, and each
// operation's roles are in the default template.
func TestOperationRoles(t *testing.T) {
	t.Parallel()
	def := sam.DefaultRoleTemplate()
	used := map[string]bool{}
	for _, op := range sam.Operations() {
		_, roles, err := sam.OperationRoles(string(op))
		require.NoError(t, err)
		for _, r := range roles {
			assert.Contains(t, def.RoleIDs(), r.ID, "%s needs %s", op, r.Name)
			used[r.ID] = true
		}
	}
	for _, r := range def.Roles {
		assert.True(t, used[r.ID], "no operation needs %s", r.Name)
	}
}

// plantCustomers adds n customers, each with a seeded relationship: most
// active with the admin in its groups (Global Administrator covers every
// role), every fourth expired, every fifth active with the admin outside
// its groups.
func plantCustomers(w *accessWorld, n int) map[string]string {
	kind := map[string]string{}
	for i := range n {
		spec := testserver.CustomerSpec{Name: fmt.Sprintf("Customer %04d", i), Users: 1, GDAP: true}
		k := "covered"
		switch {
		case i%4 == 3:
			spec.GDAPStatus, k = "expired", "expired"
		case i%5 == 4:
			spec.AdminOutsideGDAPGroups, k = true, "unassigned"
		}
		kind[w.s.AddCustomer(spec)] = k
	}
	return kind
}

// coverageCost is the exact number of Graph requests Coverage makes in
// w: the user, their memberships, the relationships, and the access
// assignments of the active ones in $batch calls.
func coverageCost(w *accessWorld) (cost, tenants int) {
	pages := func(n, size int) int { return max(1, (n+size-1)/size) }
	w.s.Read(func(world *testserver.World) {
		p := world.Partner
		admin := p.Admin()
		member := len(admin.Roles)
		for _, g := range p.Groups {
			if g.Members[admin.ID] {
				member++
			}
		}
		active := 0
		for _, r := range p.Relationships {
			if r.Status == testserver.RelActive {
				active++
			}
		}
		// Coverage asks for the largest pages ($top 999 and 300); the fake
		// serves them whole unless MaxPageSize caps them.
		page := func(top int) int {
			if world.MaxPageSize > 0 {
				return min(top, world.MaxPageSize)
			}
			return top
		}
		cost = 1 + pages(member, page(999)) + pages(len(p.Relationships), page(300)) + (active+graph.BatchLimit-1)/graph.BatchLimit
		tenants = len(p.Relationships)
	})
	return cost, tenants
}

// Coverage over 350 tenants costs requests for the relationships and the
// groups, not for tenants × roles: exactly coverageCost. 350 relationships
// fill more than one page of 300, the most Graph serves, so the listing
// crosses pages.
func TestCoverageRequestsBounded(t *testing.T) {
	t.Parallel()
	w := newAccessWorld(t)
	kind := plantCustomers(w, 350)
	d := newGDAP(t, w)
	want, rels := coverageCost(w)
	require.Equal(t, 350, rels)

	w.s.ResetRequests()
	rep, err := d.Coverage(t.Context(), sam.CoverageOptions{})
	require.NoError(t, err)
	got := w.s.Count(func(r testserver.Request) bool { return r.Service == "graph" })
	assert.Equal(t, want, got, "1 user + membership pages + relationship pages + ⌈active/20⌉ batches")
	assert.Equal(t, got, w.s.TotalRequests(), "no token or other request")
	assert.Less(t, got, 25, "far fewer requests than 350 tenants × 4 roles")
	listed := w.s.Count(func(r testserver.Request) bool {
		return r.Service == "graph" && strings.HasSuffix(r.Path, "/delegatedAdminRelationships")
	})
	assert.Equal(t, 2, listed, "350 relationships in pages of 300: two requests")

	require.Len(t, rep.Tenants, 350)
	for _, tc := range rep.Tenants {
		switch kind[tc.TenantID] {
		case "covered":
			require.Len(t, tc.Covered, 4, tc.DisplayName)
			for _, c := range tc.Covered {
				assert.Equal(t, graph.GlobalAdminRoleTemplateID, c.Via.ID, "Global Administrator holds every role")
				assert.Equal(t, "GDAP - Global Administrator", c.GroupName)
			}
		case "expired":
			require.Len(t, tc.Missing, 4, tc.DisplayName)
			assert.Equal(t, sam.LinkRelationship, tc.Missing[0].Link)
		case "unassigned":
			require.Len(t, tc.Missing, 4, tc.DisplayName)
			assert.Equal(t, sam.LinkAssignment, tc.Missing[0].Link)
		default:
			t.Fatalf("tenant %s was not planted", tc.TenantID)
		}
	}
}

// BenchmarkCoverage runs Coverage over 1,000 tenants in the in-process
// fake and reports the Graph requests each run makes:
//
//	go test ./sam -run '^$' -bench BenchmarkCoverage -benchtime 10x
func BenchmarkCoverage(b *testing.B) {
	w := newAccessWorld(b)
	plantCustomers(w, 1000)
	g, err := graph.New(w.adminSource(testserver.GraphResource, true, "DelegatedAdminRelationship.Read.All", "Directory.Read.All"),
		graph.WithCloud(w.s.Cloud()), graph.WithHTTPClient(w.hc), graph.WithRetryPolicy(fastRetry))
	require.NoError(b, err)
	d, err := sam.NewGDAP(nil, "", sam.WithGDAPGraph(g), sam.WithGDAPClock(w.s.Clock().Now))
	require.NoError(b, err)
	before := w.ct.Requests()
	b.ResetTimer()
	for b.Loop() {
		rep, err := d.Coverage(b.Context(), sam.CoverageOptions{})
		if err != nil || len(rep.Tenants) != 1000 {
			b.Fatalf("coverage: %v (%d tenants)", err, len(rep.Tenants))
		}
	}
	b.ReportMetric(float64(w.ct.Requests()-before)/float64(b.N), "requests/op")
}
