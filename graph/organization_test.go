package graph

import (
	"testing"
)

func TestOrganization(t *testing.T) {
	t.Parallel()
	f := newFake(t, nil)
	p := f.s.Partner()
	org, err := f.c.Organization(t.Context())
	if err != nil {
		t.Fatalf("Organization: %v", err)
	}
	if org.ID != p.TenantID || org.DisplayName != p.Name || org.DefaultDomain() != p.Domain {
		t.Errorf("Organization = %s %q %s, want %s %q %s", org.ID, org.DisplayName, org.DefaultDomain(), p.TenantID, p.Name, p.Domain)
	}
	if got := f.graphRequests(); len(got) != 1 || got[0].Method != "GET" || got[0].Path != "/graph/v1.0/organization" {
		t.Errorf("requests = %+v, want GET /graph/v1.0/organization", got)
	}
}

func TestDomains(t *testing.T) {
	t.Parallel()
	f := newFake(t, nil)
	p := f.s.Partner()
	domains := collect(t, f.c.Domains(t.Context()))
	if len(domains) != 1 || domains[0].ID != p.Domain || !domains[0].IsDefault || !domains[0].IsVerified {
		t.Errorf("Domains = %+v, want the verified default %s", domains, p.Domain)
	}
}
