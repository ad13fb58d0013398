package graph

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/samkit/samkit/internal/testserver"
)

func TestPartnerData(t *testing.T) {
	t.Parallel()
	s := testserver.New()
	t.Cleanup(s.Close)
	contoso := s.AddCustomer(testserver.CustomerSpec{Name: "Contoso", Contract: true, GDAP: true})
	expired := s.AddCustomer(testserver.CustomerSpec{Name: "Gone", GDAP: true, GDAPStatus: "expired"})
	mlt := s.AddCustomer(testserver.CustomerSpec{Name: "Legacy", MLT: true, Contract: true})
	s.Mutate(func(w *testserver.World) { w.MaxPageSize = 1 })
	f := newFakeOn(t, s, nil)
	ctx := t.Context()

	contracts := collect(t, f.c.Contracts(ctx))
	var ids []string
	for _, c := range contracts {
		ids = append(ids, c.CustomerID)
		if c.CustomerID == contoso && (c.DisplayName != "Contoso" || c.DefaultDomainName != "contoso.onmicrosoft.com" || c.ContractType == "") {
			t.Errorf("contract = %+v", c)
		}
	}
	slices.Sort(ids)
	want := []string{contoso, mlt}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("Contracts customers = %v, want %v", ids, want)
	}

	all := collect(t, f.c.DelegatedAdminRelationships(ctx, ""))
	if len(all) != 3 {
		t.Fatalf("DelegatedAdminRelationships = %d, want 3", len(all))
	}
	active := collect(t, f.c.DelegatedAdminRelationships(ctx, RelationshipActive))
	var activeIDs []string
	for _, r := range active {
		activeIDs = append(activeIDs, r.Customer.TenantID)
		if r.Status != RelationshipActive || len(r.AccessDetails.UnifiedRoles) == 0 || r.Duration == "" || r.EndDateTime.IsZero() {
			t.Errorf("relationship = %+v", r)
		}
		if r.Customer.TenantID == mlt && !strings.HasPrefix(r.DisplayName, "MLT_") {
			t.Errorf("MLT relationship named %q", r.DisplayName)
		}
	}
	if slices.Contains(activeIDs, expired) || len(activeIDs) != 2 {
		t.Errorf("active relationships for %v, want Contoso and Legacy only", activeIDs)
	}
	q := f.graphRequests()
	if last := q[len(q)-1]; !strings.Contains(last.Query.Get("$filter"), "status eq 'active'") {
		t.Errorf("filter sent = %q, want status eq 'active'", last.Query.Get("$filter"))
	}

	customers := collect(t, f.c.DelegatedAdminCustomers(ctx))
	if len(customers) != 2 {
		t.Errorf("DelegatedAdminCustomers = %+v, want 2", customers)
	}
	for _, c := range customers {
		if c.TenantID == expired || c.TenantID != c.ID || c.DisplayName == "" {
			t.Errorf("customer = %+v", c)
		}
	}

	if _, err := Collect(f.c.DelegatedAdminRelationships(ctx, "Active")); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("unknown status: err = %v, want ErrInvalidArgument", err)
	}
}
