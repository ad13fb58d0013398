package testserver

import (
	"strings"
	"testing"
)

func TestGraphPartnerData(t *testing.T) {
	t.Parallel()
	s := newGraphServer(t)
	active := s.AddCustomer(CustomerSpec{Name: "Fabrikam", GDAP: true, Contract: true})
	s.AddCustomer(CustomerSpec{Name: "Old Co", GDAP: true, GDAPStatus: "expired"})
	mlt := s.AddCustomer(CustomerSpec{Name: "Tailspin", MLT: true})
	tok := graphAdminToken(s, "", graphAllScopes...)
	custTok := graphAdminToken(s, active, graphAllScopes...)

	t.Run("contracts", func(t *testing.T) {
		t.Parallel()
		status, body := graphGet(t, s, tok, "/contracts")
		cs := graphValues(t, body)
		if status != 200 || len(cs) != 1 || cs[0]["customerId"] != active || cs[0]["displayName"] != "Fabrikam" ||
			cs[0]["defaultDomainName"] != "fabrikam.onmicrosoft.com" || cs[0]["contractType"] == nil {
			t.Errorf("partner: got %d %v", status, body)
		}
		status, body = graphGet(t, s, custTok, "/contracts")
		if status != 200 || len(graphValues(t, body)) != 0 {
			t.Errorf("customer tenant: got %d %v, want none", status, body)
		}
	})

	t.Run("relationships", func(t *testing.T) {
		t.Parallel()
		status, body := graphGet(t, s, tok, "/tenantRelationships/delegatedAdminRelationships")
		if rels := graphValues(t, body); status != 200 || len(rels) != 3 {
			t.Fatalf("all: got %d, %d relationships, want 3", status, len(rels))
		}
		status, body = graphGet(t, s, tok, "/tenantRelationships/delegatedAdminRelationships?$filter=status%20eq%20'active'&$top=300")
		rels := graphValues(t, body)
		if status != 200 || len(rels) != 2 {
			t.Fatalf("active: got %d %v, want 2", status, rels)
		}
		byTenant := map[string]map[string]any{}
		for _, r := range rels {
			byTenant[r["customer"].(map[string]any)["tenantId"].(string)] = r
		}
		r := byTenant[active]
		roles := r["accessDetails"].(map[string]any)["unifiedRoles"].([]any)
		if r["duration"] != "P730D" || r["autoExtendDuration"] != "PT0S" || r["status"] != "active" ||
			r["customer"].(map[string]any)["displayName"] != "Fabrikam" || r["createdDateTime"] == nil || r["endDateTime"] == nil ||
			len(roles) != 1 || roles[0].(map[string]any)["roleDefinitionId"] != GlobalAdminTemplateID {
			t.Errorf("relationship = %v", r)
		}
		if name, _ := byTenant[mlt]["displayName"].(string); !strings.HasPrefix(name, "MLT_") {
			t.Errorf("Microsoft-led transition relationship named %q, want MLT_…", name)
		}
		status, body = graphGet(t, s, custTok, "/tenantRelationships/delegatedAdminRelationships")
		if status != 200 || len(graphValues(t, body)) != 0 {
			t.Errorf("customer tenant: got %d %v, want none", status, body)
		}
	})

	t.Run("customers", func(t *testing.T) {
		t.Parallel()
		status, body := graphGet(t, s, tok, "/tenantRelationships/delegatedAdminCustomers")
		cs := graphValues(t, body)
		if status != 200 || len(cs) != 2 {
			t.Fatalf("got %d %v, want the two customers with active relationships", status, cs)
		}
		for _, c := range cs {
			if c["id"] != c["tenantId"] || c["displayName"] == nil {
				t.Errorf("customer = %v", c)
			}
		}
	})
}
