package graph

import (
	"strings"
	"testing"

	"github.com/samkit/samkit/internal/testserver"
)

func TestMe(t *testing.T) {
	t.Parallel()
	f := newFake(t, nil)
	p := f.s.Partner()
	me, err := f.c.Me(t.Context())
	if err != nil {
		t.Fatalf("Me: %v", err)
	}
	if me.ID != p.AdminID || me.UserPrincipalName != p.AdminUPN || me.AccountEnabled == nil || !*me.AccountEnabled {
		t.Errorf("Me = %+v, want the partner admin %s", me, p.AdminUPN)
	}
}

// customerToken is a token of a customer tenant's own admin.
func customerToken(tenant string) func(*testserver.Server) testserver.TokenSpec {
	return func(s *testserver.Server) testserver.TokenSpec {
		var spec testserver.TokenSpec
		s.Read(func(w *testserver.World) {
			for _, u := range w.Tenants[tenant].Users {
				if strings.HasPrefix(u.UPN, "admin@") {
					spec = testserver.TokenSpec{Tenant: tenant, Resource: testserver.GraphResource, UserID: u.ID, UPN: u.UPN, Scopes: adminScopes}
				}
			}
		})
		return spec
	}
}

func TestUsersPages(t *testing.T) {
	t.Parallel()
	s := testserver.New()
	t.Cleanup(s.Close)
	tenant := s.AddCustomer(testserver.CustomerSpec{Name: "Fabrikam", Users: 6})
	f := newFakeOn(t, s, customerToken(tenant))
	s.Mutate(func(w *testserver.World) { w.MaxPageSize = 2 })

	var upns []string
	for u, err := range f.c.Users(t.Context(), ListOptions{Select: []string{"id", "userPrincipalName"}}) {
		if err != nil {
			t.Fatalf("Users: %v", err)
		}
		if u.DisplayName != "" {
			t.Errorf("user %s has displayName %q though not selected", u.ID, u.DisplayName)
		}
		upns = append(upns, u.UserPrincipalName)
	}
	if len(upns) != 7 {
		t.Errorf("Users listed %d (%v), want 7", len(upns), upns)
	}
	if n := len(f.graphRequests()); n != 4 {
		t.Errorf("%d requests, want 4 pages of 2", n)
	}
	seen := map[string]bool{}
	for _, u := range upns {
		if seen[u] || !strings.HasSuffix(u, "@fabrikam.onmicrosoft.com") {
			t.Errorf("user %q repeated or foreign", u)
		}
		seen[u] = true
	}

	got := collect(t, f.c.Users(t.Context(), ListOptions{Top: 1, Filter: "userPrincipalName eq " + Quote("user3@fabrikam.onmicrosoft.com")}))
	if len(got) != 1 || got[0].DisplayName != "User 3" {
		t.Errorf("filtered Users = %+v, want User 3 alone", got)
	}
}

func TestMembership(t *testing.T) {
	t.Parallel()
	f := newFake(t, nil)
	var groups, roles []string
	for o, err := range f.c.MemberOf(t.Context()) {
		if err != nil {
			t.Fatalf("MemberOf: %v", err)
		}
		switch {
		case o.IsGroup():
			groups = append(groups, o.DisplayName)
		case o.IsDirectoryRole():
			roles = append(roles, o.RoleTemplateID)
		}
	}
	if len(groups) != 1 || groups[0] != testserver.AdminAgentsGroupName || len(roles) != 1 || roles[0] != GlobalAdminRoleTemplateID {
		t.Errorf("MemberOf groups %v, roles %v; want AdminAgents and Global Administrator", groups, roles)
	}
	trans := collect(t, f.c.TransitiveMemberOf(t.Context()))
	if len(trans) != 2 {
		t.Errorf("TransitiveMemberOf = %+v, want the group and the role", trans)
	}

	tests := []struct {
		name string
		call func() (bool, error)
		want bool
	}{
		{"global admin", func() (bool, error) { return f.c.IsGlobalAdmin(t.Context()) }, true},
		{"in AdminAgents, any case", func() (bool, error) { return f.c.IsMemberOfGroup(t.Context(), "adminagents") }, true},
		{"not in another group", func() (bool, error) { return f.c.IsMemberOfGroup(t.Context(), "HelpdeskAgents") }, false},
	}
	for _, tt := range tests {
		got, err := tt.call()
		if err != nil || got != tt.want {
			t.Errorf("%s: got %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
	if _, err := f.c.IsMemberOfGroup(t.Context(), ""); err == nil {
		t.Error("IsMemberOfGroup(\"\") succeeded, want an error")
	}
}

func TestIsGlobalAdminFalse(t *testing.T) {
	t.Parallel()
	s := testserver.New()
	t.Cleanup(s.Close)
	tenant := s.AddCustomer(testserver.CustomerSpec{Name: "Tailspin", Users: 1})
	f := newFakeOn(t, s, func(s *testserver.Server) testserver.TokenSpec {
		var spec testserver.TokenSpec
		s.Read(func(w *testserver.World) {
			for _, u := range w.Tenants[tenant].Users {
				if strings.HasPrefix(u.UPN, "user1@") {
					spec = testserver.TokenSpec{Tenant: tenant, Resource: testserver.GraphResource, UserID: u.ID, UPN: u.UPN, Scopes: []string{"User.Read"}}
				}
			}
		})
		return spec
	})
	if ok, err := f.c.IsGlobalAdmin(t.Context()); err != nil || ok {
		t.Errorf("IsGlobalAdmin = %v, %v; want false for an ordinary user", ok, err)
	}
	if ok, err := f.c.IsMemberOfGroup(t.Context(), testserver.AdminAgentsGroupName); err != nil || ok {
		t.Errorf("IsMemberOfGroup = %v, %v; want false", ok, err)
	}
}
