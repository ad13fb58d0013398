package testserver

import (
	"fmt"
	"slices"
	"strings"
)

// Consent drift: a customer whose consent lacks a permission added to the
// manifest later, or lost an application permission, as an admin removing
// it in the portal leaves it.

// RemoveGrantScope removes scope from the AllPrincipals grant of app
// appID on resource resourceAppID in tenantID, as a PATCH of its scope
// would.
func (s *Server) RemoveGrantScope(tenantID, appID, resourceAppID, scope string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, client, res, err := s.consentPair(tenantID, appID, resourceAppID)
	if err != nil {
		return err
	}
	for _, g := range t.Grants {
		if g.ClientID == client && g.ResourceID == res && g.ConsentType == "AllPrincipals" {
			have := strings.Fields(g.Scope)
			i := slices.IndexFunc(have, func(h string) bool { return strings.EqualFold(h, scope) })
			if i < 0 {
				return fmt.Errorf("testserver: the grant has no scope %s", scope)
			}
			g.Scope = strings.Join(slices.Delete(have, i, i+1), " ")
			return nil
		}
	}
	return fmt.Errorf("testserver: no AllPrincipals grant of %s on %s in %s", appID, resourceAppID, tenantID)
}

// RemoveAppRoleAssignment removes the assignment of app role roleID on
// resource resourceAppID to app appID in tenantID.
func (s *Server) RemoveAppRoleAssignment(tenantID, appID, resourceAppID, roleID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, client, res, err := s.consentPair(tenantID, appID, resourceAppID)
	if err != nil {
		return err
	}
	for id, a := range t.AppRoleAssignments {
		if a.PrincipalID == client && a.ResourceID == res && strings.EqualFold(a.AppRoleID, roleID) {
			delete(t.AppRoleAssignments, id)
			return nil
		}
	}
	return fmt.Errorf("testserver: no assignment of role %s to %s in %s", roleID, appID, tenantID)
}

func (s *Server) consentPair(tenantID, appID, resourceAppID string) (*Tenant, string, string, error) {
	t := s.world.TenantByIDOrDomain(tenantID)
	if t == nil {
		return nil, "", "", fmt.Errorf("testserver: no tenant %s", tenantID)
	}
	client, res := t.ServicePrincipalByAppID(appID), t.ServicePrincipalByAppID(resourceAppID)
	if client == nil || res == nil {
		return nil, "", "", fmt.Errorf("testserver: %s or %s has no service principal in %s", appID, resourceAppID, tenantID)
	}
	return t, client.ID, res.ID, nil
}
