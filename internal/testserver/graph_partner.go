package testserver

import (
	"encoding/base64"
	"fmt"
	"math"
	"net/http"
)

// The partner's view of its customers: DAP-era contracts and GDAP
// relationships. Both live in the partner tenant; other tenants have none.
func (s *Server) routeGraphPartner(api *http.ServeMux) {
	api.HandleFunc("GET /v1.0/contracts", s.graphOp(permContracts, s.graphContracts))
	api.HandleFunc("GET /v1.0/tenantRelationships/delegatedAdminRelationships", s.graphOp(permGDAP, s.graphRelationships))
	api.HandleFunc("GET /v1.0/tenantRelationships/delegatedAdminCustomers", s.graphOp(permGDAP, s.graphGDAPCustomers))
	s.routeGraphGDAP(api)
}

// graphContracts lists the partner's contracts
// (https://learn.microsoft.com/graph/api/contract-list): "contract objects
// associated to a partner tenant", so any other tenant lists none.
func (s *Server) graphContracts(w http.ResponseWriter, r *http.Request, c Claims) {
	items := []map[string]any{}
	s.mu.Lock()
	if t := s.graphTenantLocked(c); t != nil && t == s.world.Partner {
		for _, k := range t.Contracts {
			items = append(items, map[string]any{
				"@odata.type": "#microsoft.graph.contract", "id": k.ID, "deletedDateTime": nil,
				"contractType": k.ContractType, "customerId": k.CustomerID,
				"defaultDomainName": k.DefaultDomainName, "displayName": k.DisplayName,
			})
		}
	}
	s.mu.Unlock()
	s.writeGraphCollection(w, r, c, graphCollection{fragment: "contracts", resource: "Contract", paging: graphDirectoryPaging,
		filterable: []string{"customerId", "defaultDomainName", "displayName"}}, items)
}

// graphRelationships lists the partner's GDAP relationships in the shape of
// https://learn.microsoft.com/graph/api/resources/delegatedadminrelationship.
func (s *Server) graphRelationships(w http.ResponseWriter, r *http.Request, c Claims) {
	items := []map[string]any{}
	s.mu.Lock()
	if t := s.graphTenantLocked(c); t != nil && t == s.world.Partner {
		now := s.clock.Now()
		for _, rel := range t.Relationships {
			gdapAdvance(rel, now)
			items = append(items, graphRelationshipJSON(rel, t.ID))
		}
	}
	s.mu.Unlock()
	s.writeGraphCollection(w, r, c, graphCollection{fragment: "delegatedAdminRelationships", resource: "DelegatedAdminRelationship",
		paging: graphGDAPPaging, filterable: []string{"status", "displayName", "id", "customer/tenantId", "customer/displayName"}}, items)
}

// graphGDAPCustomers lists the customers the partner holds an active GDAP
// relationship with (https://learn.microsoft.com/graph/api/tenantrelationship-list-delegatedadmincustomers).
func (s *Server) graphGDAPCustomers(w http.ResponseWriter, r *http.Request, c Claims) {
	items := []map[string]any{}
	s.mu.Lock()
	if t := s.graphTenantLocked(c); t != nil && t == s.world.Partner {
		seen := map[string]bool{}
		now := s.clock.Now()
		for _, rel := range t.Relationships {
			gdapAdvance(rel, now)
			if rel.Status != "active" || seen[rel.CustomerTenantID] {
				continue
			}
			seen[rel.CustomerTenantID] = true
			items = append(items, map[string]any{
				"@odata.type": "#microsoft.graph.delegatedAdminCustomer", "@odata.etag": graphETag(rel.CustomerTenantID),
				"id": rel.CustomerTenantID, "tenantId": rel.CustomerTenantID, "displayName": rel.CustomerName,
			})
		}
	}
	s.mu.Unlock()
	s.writeGraphCollection(w, r, c, graphCollection{fragment: "tenantRelationships/delegatedAdminCustomers", resource: "DelegatedAdminCustomer",
		paging: graphGDAPPaging, filterable: []string{"id", "tenantId", "displayName"}}, items)
}

// graphRelationshipJSON renders a relationship. Its duration is the span from
// creation to end in whole days ("P730D"); autoExtendDuration is "P180D"
// when it extends itself and "PT0S" when it does not, the two values the
// resource documents.
func graphRelationshipJSON(rel *Relationship, partnerID string) map[string]any {
	roles := make([]map[string]any, 0, len(rel.RoleIDs))
	for _, id := range rel.RoleIDs {
		roles = append(roles, map[string]any{"roleDefinitionId": id})
	}
	extend := "PT0S"
	if rel.AutoExtend {
		extend = "P180D"
	}
	st := rel.GDAP
	duration := st.Duration
	if duration == "" {
		duration = fmt.Sprintf("P%dD", int(math.Round(rel.End.Sub(rel.Created).Hours()/24)))
	}
	var activated, end any
	switch {
	case !st.Activated.IsZero():
		activated = graphTime(st.Activated)
	case rel.Status != RelApprovalPending && rel.Status != RelCreated:
		activated = graphTime(rel.Created)
	}
	if !rel.End.IsZero() {
		end = graphTime(rel.End)
	}
	modified := rel.Created
	if !st.Modified.IsZero() {
		modified = st.Modified
	}
	var customer any
	if rel.CustomerTenantID != "" {
		customer = map[string]any{"tenantId": rel.CustomerTenantID, "displayName": rel.CustomerName}
	}
	return map[string]any{
		"@odata.type": "#microsoft.graph.delegatedAdminRelationship", "@odata.etag": graphETag(fmt.Sprintf("%s/%d", rel.ID, st.Version)),
		"id": rel.ID, "displayName": rel.DisplayName, "status": rel.Status,
		"duration": duration, "autoExtendDuration": extend,
		"customer":        customer,
		"partner":         map[string]any{"tenantId": partnerID},
		"accessDetails":   map[string]any{"unifiedRoles": roles},
		"createdDateTime": graphTime(rel.Created), "lastModifiedDateTime": graphTime(modified),
		"activatedDateTime": activated, "endDateTime": end,
	}
}

// graphETag makes a weak entity tag in the form the GDAP API uses.
func graphETag(seed string) string {
	return `W/"` + base64.StdEncoding.EncodeToString([]byte(`"`+seed+`"`)) + `"`
}
