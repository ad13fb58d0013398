package sam_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/partner"
	"github.com/samkit/samkit/sam"
)

// Role template ids the fake's relationships grant.
const (
	roleGlobalAdmin      = "62e90394-69f5-4237-9190-012177145e10"
	roleDirectoryReaders = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"
)

// enumWorld is a partner whose customers cover every way the three
// sources overlap, with pages of two so that every listing crosses pages.
type enumWorld struct {
	*accessWorld
	alpha, bravo, charlie, delta, echo, golf, hotel string
}

func newEnumWorld(t *testing.T) *enumWorld {
	t.Helper()
	w := &enumWorld{accessWorld: newAccessWorld(t)}
	s := w.s
	s.Mutate(func(world *testserver.World) { world.MaxPageSize = 2 })
	// Alpha is in all three sources, with a GDAP relationship and an MLT
	// one, and a contract whose name is an old snapshot.
	w.alpha = s.AddCustomer(testserver.CustomerSpec{Name: "Alpha", Domain: "alpha.example", GDAP: true, Contract: true, PartnerCenter: true})
	w.bravo = s.AddCustomer(testserver.CustomerSpec{Name: "Bravo", Domain: "bravo.example", Contract: true})
	w.charlie = s.AddCustomer(testserver.CustomerSpec{Name: "charlie", Domain: "charlie.example", PartnerCenter: true})
	w.delta = s.AddCustomer(testserver.CustomerSpec{Name: "Delta", GDAP: true})
	// Echo is reached only through a Microsoft-led transition relationship.
	w.echo = s.AddCustomer(testserver.CustomerSpec{Name: "Echo", MLT: true})
	// Golf's relationship has expired: no source lists it.
	w.golf = s.AddCustomer(testserver.CustomerSpec{Name: "Golf", GDAP: true, GDAPStatus: "expired"})
	// Hotel has a contract under its old name and a Partner Center record
	// under its new one.
	w.hotel = s.AddCustomer(testserver.CustomerSpec{Name: "Hotel", Domain: "hotel.example", Contract: true, PartnerCenter: true})
	s.Mutate(func(world *testserver.World) {
		p := world.Partner
		for _, c := range p.Contracts {
			switch c.CustomerID {
			case w.alpha:
				c.DisplayName = "Alpha Old Name"
			case w.hotel:
				c.DisplayName = "Hotel Old Name"
			}
		}
		for _, c := range p.Customers {
			if c.ID == w.hotel {
				c.CompanyName = "Hotel Renamed"
				c.Domain = "hotelrenamed.onmicrosoft.com"
			}
		}
		// The partner itself appears among the contracts, as a reseller's
		// own tenant can; it is no customer.
		p.Contracts = append(p.Contracts, &testserver.Contract{ID: "self", ContractType: "ResellerPartnerContract",
			CustomerID: p.ID, DefaultDomainName: p.DefaultDomain, DisplayName: p.DisplayName})
		now := time.Now()
		p.Relationships = append(p.Relationships, &testserver.Relationship{ID: "mlt-alpha", DisplayName: "MLT_alpha",
			Status: "active", CustomerTenantID: w.alpha, CustomerName: "Alpha", RoleIDs: []string{roleDirectoryReaders},
			Created: now.Add(-time.Hour), End: now.Add(900 * 24 * time.Hour), AdminInGroups: true})
	})
	return w
}

func ids(ts []sam.Tenant) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.ID
	}
	return out
}

func find(t *testing.T, ts []sam.Tenant, id string) sam.Tenant {
	t.Helper()
	for _, x := range ts {
		if x.ID == id {
			return x
		}
	}
	t.Fatalf("tenant %s not listed", id)
	return sam.Tenant{}
}

func TestListTenantsMergesSources(t *testing.T) {
	t.Parallel()
	w := newEnumWorld(t)
	got, err := sam.ListTenants(t.Context(), w.sources(t), sam.ListOptions{}, "")
	if err != nil {
		t.Fatalf("ListTenants: %v", err)
	}
	// By display name without regard to case; Golf (expired), Echo (MLT
	// only) and the partner are left out.
	if want := []string{w.alpha, w.bravo, w.charlie, w.delta, w.hotel}; !slices.Equal(ids(got), want) {
		t.Fatalf("tenants %v, want %v", ids(got), want)
	}

	a := find(t, got, w.alpha)
	if want := []sam.Source{sam.SourceGDAP, sam.SourceContract, sam.SourcePartnerCenter}; !slices.Equal(a.Sources, want) {
		t.Errorf("Alpha sources %v, want %v", a.Sources, want)
	}
	if a.DisplayName != "Alpha" {
		t.Errorf("Alpha's name %q, want GDAP's current name over the contract's snapshot", a.DisplayName)
	}
	if a.DefaultDomain != "alpha.example" || a.ReadOnlyMLT {
		t.Errorf("Alpha domain %q, ReadOnlyMLT %v; want alpha.example, false", a.DefaultDomain, a.ReadOnlyMLT)
	}
	if !slices.Equal(a.GDAPRoles, []string{roleGlobalAdmin}) || len(a.Relationships) != 1 || a.Relationships[0].MLT {
		t.Errorf("Alpha roles %v, relationships %+v; want the active non-MLT one only", a.GDAPRoles, a.Relationships)
	}
	if a.RelationshipEnd.Before(time.Now().Add(600 * 24 * time.Hour)) {
		t.Errorf("Alpha RelationshipEnd %v, want the relationship's end (about 700 days out)", a.RelationshipEnd)
	}

	h := find(t, got, w.hotel)
	if h.DisplayName != "Hotel Renamed" {
		t.Errorf("Hotel's name %q, want Partner Center's over the contract's snapshot", h.DisplayName)
	}
	if h.DefaultDomain != "hotel.example" || !slices.Equal(h.Domains, []string{"hotel.example", "hotelrenamed.onmicrosoft.com"}) {
		t.Errorf("Hotel domain %q, domains %v; want the contract's default first, then Partner Center's", h.DefaultDomain, h.Domains)
	}
	if b := find(t, got, w.bravo); !slices.Equal(b.Sources, []sam.Source{sam.SourceContract}) || b.RelationshipEnd != (time.Time{}) {
		t.Errorf("Bravo %+v, want a contract-only tenant without GDAP data", b)
	}
	if d := find(t, got, w.delta); d.DefaultDomain != "" || d.DisplayName != "Delta" || !d.Has(sam.SourceGDAP) {
		t.Errorf("Delta %+v, want a GDAP-only tenant named by GDAP, without a domain", d)
	}

	// Every source was read page by page.
	pages := map[string]int{}
	for _, r := range w.s.Requests() {
		pages[r.Service+" "+r.Path]++
	}
	for path, min := range map[string]int{
		"graph /graph/v1.0/tenantRelationships/delegatedAdminRelationships": 2,
		"graph /graph/v1.0/contracts":                                       2,
		"partner /partner/v1/customers":                                     2,
	} {
		if pages[path] < min {
			t.Errorf("%d requests to %s, want at least %d pages", pages[path], path, min)
		}
	}
}

func TestListTenantsMLT(t *testing.T) {
	t.Parallel()
	w := newEnumWorld(t)
	got, err := sam.ListTenants(t.Context(), w.sources(t), sam.ListOptions{IncludeMLT: true}, "")
	if err != nil {
		t.Fatalf("ListTenants: %v", err)
	}
	e := find(t, got, w.echo)
	if !e.ReadOnlyMLT || len(e.Relationships) != 1 || !e.Relationships[0].MLT || !strings.HasPrefix(e.Relationships[0].DisplayName, "MLT_") {
		t.Errorf("Echo %+v, want it marked read-only MLT", e)
	}
	a := find(t, got, w.alpha)
	if a.ReadOnlyMLT {
		t.Error("Alpha marked read-only MLT although it has an active GDAP relationship too")
	}
	if !slices.Equal(a.GDAPRoles, []string{roleGlobalAdmin, roleDirectoryReaders}) || len(a.Relationships) != 2 {
		t.Errorf("Alpha roles %v, relationships %d; want both relationships' roles", a.GDAPRoles, len(a.Relationships))
	}
	if !a.RelationshipEnd.After(time.Now().Add(800 * 24 * time.Hour)) {
		t.Errorf("Alpha RelationshipEnd %v, want the later end, the MLT relationship's", a.RelationshipEnd)
	}
}

func TestListTenantsFilters(t *testing.T) {
	t.Parallel()
	w := newEnumWorld(t)
	src := w.sources(t)
	cases := []struct {
		name      string
		opts      sam.ListOptions
		want      []string
		partnerID string
	}{
		{"include by id and domain", sam.ListOptions{Include: []string{strings.ToUpper(w.delta), "BRAVO.example"}}, []string{w.bravo, w.delta}, ""},
		{"include by second domain", sam.ListOptions{Include: []string{"hotelrenamed.onmicrosoft.com"}}, []string{w.hotel}, ""},
		{"exclude wins", sam.ListOptions{Include: []string{w.alpha, w.bravo}, Exclude: []string{"alpha.example"}}, []string{w.bravo}, ""},
		{"contracts only", sam.ListOptions{Contracts: true}, []string{w.alpha, w.bravo, w.hotel}, ""},
		{"partner given", sam.ListOptions{PartnerCenter: true}, []string{w.alpha, w.charlie, w.hotel}, w.partner.TenantID},
	}
	for _, c := range cases {
		got, err := sam.ListTenants(t.Context(), src, c.opts, c.partnerID)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !slices.Equal(ids(got), c.want) {
			t.Errorf("%s: %v, want %v", c.name, ids(got), c.want)
		}
	}

	got, err := sam.ListTenants(t.Context(), src, sam.ListOptions{Include: []string{w.alpha, "typo.example"}}, "")
	if !errors.Is(err, sam.ErrTenantNotListed) || !strings.Contains(err.Error(), "typo.example") {
		t.Errorf("unmatched Include: error %v, want ErrTenantNotListed naming it", err)
	}
	if !slices.Equal(ids(got), []string{w.alpha}) {
		t.Errorf("unmatched Include: %v, want the matched tenant still listed", ids(got))
	}
}

func TestListTenantsSourceFails(t *testing.T) {
	t.Parallel()
	w := newEnumWorld(t)
	src := w.sources(t)
	// A sign-in without MFA: Partner Center refuses it (900421).
	src.Partner = w.partnerClient(t, false)
	got, err := sam.ListTenants(t.Context(), src, sam.ListOptions{}, "")
	var se *sam.SourceError
	if !errors.As(err, &se) || se.Source != sam.SourcePartnerCenter || !errors.Is(err, partner.ErrMFARequired) {
		t.Fatalf("error %v, want a SourceError of Partner Center matching partner.ErrMFARequired", err)
	}
	if !strings.Contains(err.Error(), "Partner Center customers") {
		t.Errorf("error %q does not name the source", err)
	}
	if want := []string{w.alpha, w.bravo, w.delta, w.hotel}; !slices.Equal(ids(got), want) {
		t.Errorf("tenants %v, want the Graph sources' %v", ids(got), want)
	}
}

func TestListTenantsOptions(t *testing.T) {
	t.Parallel()
	w := newAccessWorld(t)
	src := w.sources(t)
	for name, c := range map[string]struct {
		src  sam.TenantSources
		opts sam.ListOptions
	}{
		"no client":                 {sam.TenantSources{}, sam.ListOptions{}},
		"GDAP without Graph":        {sam.TenantSources{Partner: src.Partner}, sam.ListOptions{GDAP: true}},
		"Partner Center, no client": {sam.TenantSources{Graph: src.Graph}, sam.ListOptions{PartnerCenter: true}},
	} {
		if _, err := sam.ListTenants(t.Context(), c.src, c.opts, ""); err == nil {
			t.Errorf("%s: nil error", name)
		}
	}
}
