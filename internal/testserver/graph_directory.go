package testserver

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// The directory reads SAM's checks make: the organization, the signed-in
// user and what they are a member of, users and domains.
func (s *Server) routeGraphDirectory(api *http.ServeMux) {
	api.HandleFunc("GET /v1.0/organization", s.graphOp(permOrganization, s.graphOrganization))
	api.HandleFunc("GET /v1.0/me", s.graphOp(nil, s.graphMe))
	api.HandleFunc("GET /v1.0/me/memberOf", s.graphOp(nil, s.graphMemberOf))
	api.HandleFunc("GET /v1.0/me/transitiveMemberOf", s.graphOp(nil, s.graphMemberOf))
	api.HandleFunc("GET /v1.0/users", s.graphOp(permUsersRead, s.graphUsers))
	api.HandleFunc("GET /v1.0/users/{id}", s.graphOp(permUsersRead, s.graphUser))
	api.HandleFunc("GET /v1.0/users/{id}/memberOf", s.graphOp(nil, s.graphUserMemberOf))
	api.HandleFunc("GET /v1.0/users/{id}/transitiveMemberOf", s.graphOp(nil, s.graphUserMemberOf))
	api.HandleFunc("GET /v1.0/domains", s.graphOp(permDomains, s.graphDomains))
}

// graphOrganization lists the caller's tenant
// (https://learn.microsoft.com/graph/api/organization-list).
func (s *Server) graphOrganization(w http.ResponseWriter, r *http.Request, c Claims) {
	var items []map[string]any
	s.mu.Lock()
	if t := s.graphTenantLocked(c); t != nil {
		var verified []map[string]any
		for i, d := range t.Domains {
			verified = append(verified, map[string]any{
				"capabilities": "Email, OfficeCommunicationsOnline", "isDefault": d == t.DefaultDomain,
				"isInitial": i == 0, "name": d, "type": "Managed",
			})
		}
		items = append(items, map[string]any{
			"@odata.type": "#microsoft.graph.organization",
			"id":          t.ID, "displayName": t.DisplayName, "tenantType": "AAD",
			"verifiedDomains": verified, "countryLetterCode": "US", "preferredLanguage": "en",
			"businessPhones": []string{}, "technicalNotificationMails": []string{}, "deletedDateTime": nil,
		})
	}
	s.mu.Unlock()
	s.writeGraphCollection(w, r, c, graphCollection{fragment: "organization", resource: "Organization", paging: graphDirectoryPaging}, items)
}

// graphMeLocked resolves /me: the token's user, who must be a member of the
// tenant. The partner's admin in a customer tenant is a foreign principal
// there (reached through GDAP), with no user object: Graph answers 404.
func (s *Server) graphMeLocked(c Claims, perms []string) (*Tenant, *User, *graphFail) {
	if c.AppOnly() {
		// https://learn.microsoft.com/graph/api/user-get: "Calling the /me
		// endpoint requires a signed-in user and therefore a delegated
		// permission."
		return nil, nil, graphFailBadRequest("BadRequest", "/me request is only valid with delegated authentication flow.")
	}
	if !c.Has(perms...) {
		return nil, nil, graphFailDenied()
	}
	t := s.graphTenantLocked(c)
	if t == nil || t.Users[c.String("oid")] == nil {
		return nil, nil, graphFailNotFound(c.String("oid"))
	}
	return t, t.Users[c.String("oid")], nil
}

func (s *Server) graphMe(w http.ResponseWriter, r *http.Request, c Claims) {
	s.mu.Lock()
	_, u, fail := s.graphMeLocked(c, permMe)
	var obj map[string]any
	if fail == nil {
		obj = graphUserJSON(u)
	}
	s.mu.Unlock()
	if fail != nil {
		s.writeGraphFail(w, r, fail)
		return
	}
	s.writeGraphEntity(w, r, http.StatusOK, "users", obj)
}

// graphMemberOf lists the groups and directory roles the signed-in user is
// a member of (https://learn.microsoft.com/graph/api/user-list-memberof).
// The fake has no nested groups, so transitiveMemberOf lists the same.
func (s *Server) graphMemberOf(w http.ResponseWriter, r *http.Request, c Claims) {
	s.mu.Lock()
	t, u, fail := s.graphMeLocked(c, permMemberOf)
	s.writeMemberOfLocked(w, r, c, t, u, fail)
}

// permUserMemberOf reads another user's memberships
// (https://learn.microsoft.com/graph/api/user-list-transitivememberof,
// "Permissions for another user's memberships").
var permUserMemberOf = []string{"User.Read.All", "GroupMember.Read.All", "Group.Read.All", "Directory.Read.All", "Directory.ReadWrite.All"}

// graphUserMemberOf lists what user {id} (an id or userPrincipalName) is a
// member of, as graphMemberOf does for the signed-in user.
func (s *Server) graphUserMemberOf(w http.ResponseWriter, r *http.Request, c Claims) {
	id := r.PathValue("id")
	s.mu.Lock()
	var (
		t    = s.graphTenantLocked(c)
		u    *User
		fail *graphFail
	)
	if !c.Has(permUserMemberOf...) {
		fail = graphFailDenied()
	} else if t != nil {
		for _, x := range t.Users {
			if strings.EqualFold(x.ID, id) || strings.EqualFold(x.UPN, id) {
				u = x
			}
		}
	}
	if fail == nil && u == nil {
		fail = graphFailNotFound(id)
	}
	s.writeMemberOfLocked(w, r, c, t, u, fail)
}

// writeMemberOfLocked answers a membership list of u in t, or fail; it
// releases s.mu.
func (s *Server) writeMemberOfLocked(w http.ResponseWriter, r *http.Request, c Claims, t *Tenant, u *User, fail *graphFail) {
	var items []map[string]any
	if fail == nil {
		for _, g := range t.Groups {
			if g.Members[u.ID] {
				items = append(items, map[string]any{
					"@odata.type": "#microsoft.graph.group", "id": g.ID, "displayName": g.DisplayName,
					"securityEnabled": true, "mailEnabled": false, "groupTypes": []string{}, "deletedDateTime": nil,
				})
			}
		}
		for _, role := range u.Roles {
			items = append(items, graphRoleJSON(t.ID, role))
		}
	}
	s.mu.Unlock()
	if fail != nil {
		s.writeGraphFail(w, r, fail)
		return
	}
	graphSortByID(items)
	s.writeGraphCollection(w, r, c, graphCollection{fragment: "directoryObjects", resource: "DirectoryObject", paging: graphDirectoryPaging}, items)
}

// graphUsers lists the tenant's users (https://learn.microsoft.com/graph/api/user-list).
func (s *Server) graphUsers(w http.ResponseWriter, r *http.Request, c Claims) {
	var items []map[string]any
	s.mu.Lock()
	if t := s.graphTenantLocked(c); t != nil {
		for _, u := range t.Users {
			items = append(items, graphUserJSON(u))
		}
	}
	s.mu.Unlock()
	graphSortByID(items)
	s.writeGraphCollection(w, r, c, graphCollection{fragment: "users", resource: "User", paging: graphDirectoryPaging,
		filterable: []string{"accountEnabled", "userPrincipalName", "displayName", "id", "mail"}}, items)
}

// graphUser reads one user by id or userPrincipalName.
func (s *Server) graphUser(w http.ResponseWriter, r *http.Request, c Claims) {
	id := r.PathValue("id")
	var obj map[string]any
	s.mu.Lock()
	if t := s.graphTenantLocked(c); t != nil {
		for _, u := range t.Users {
			if strings.EqualFold(u.ID, id) || strings.EqualFold(u.UPN, id) {
				obj = graphUserJSON(u)
			}
		}
	}
	s.mu.Unlock()
	if obj == nil {
		s.writeGraphFail(w, r, graphFailNotFound(id))
		return
	}
	s.writeGraphEntity(w, r, http.StatusOK, "users", obj)
}

// graphDomains lists the tenant's domains (https://learn.microsoft.com/graph/api/domain-list).
func (s *Server) graphDomains(w http.ResponseWriter, r *http.Request, c Claims) {
	var items []map[string]any
	s.mu.Lock()
	if t := s.graphTenantLocked(c); t != nil {
		for i, d := range t.Domains {
			items = append(items, map[string]any{
				"id": d, "authenticationType": "Managed", "isAdminManaged": true,
				"isDefault": d == t.DefaultDomain, "isInitial": i == 0, "isRoot": true, "isVerified": true,
				"supportedServices":                []string{"Email", "OfficeCommunicationsOnline"},
				"passwordValidityPeriodInDays":     nil,
				"passwordNotificationWindowInDays": nil,
			})
		}
	}
	s.mu.Unlock()
	s.writeGraphCollection(w, r, c, graphCollection{fragment: "domains", resource: "Domain", paging: graphDirectoryPaging,
		filterable: []string{"id", "isDefault", "isVerified"}}, items)
}

// graphUserJSON renders a user with Graph's default properties
// (https://learn.microsoft.com/graph/api/user-get) and accountEnabled,
// which $select and $filter reach; every user of the fake is enabled.
func graphUserJSON(u *User) map[string]any {
	given, surname, _ := strings.Cut(u.DisplayName, " ")
	return map[string]any{
		"id": u.ID, "userPrincipalName": u.UPN, "displayName": u.DisplayName,
		"givenName": given, "surname": surname, "mail": u.UPN,
		"businessPhones": []string{}, "jobTitle": nil, "mobilePhone": nil, "officeLocation": nil,
		"preferredLanguage": nil, "accountEnabled": true,
	}
}

// graphRoleJSON renders an activated directory role. Its object id is
// per tenant (the template id is the same everywhere), so the fake derives
// a stable one from both.
func graphRoleJSON(tenantID, templateID string) map[string]any {
	name := graphRoleNames[templateID]
	if name == "" {
		name = "Directory role " + templateID
	}
	sum := sha256.Sum256([]byte(tenantID + "/" + templateID))
	id := fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
	return map[string]any{
		"@odata.type": "#microsoft.graph.directoryRole", "id": id, "deletedDateTime": nil,
		"displayName": name, "description": name + ".", "roleTemplateId": templateID,
	}
}

// graphSortByID orders rendered objects by id so that pages are stable.
func graphSortByID(items []map[string]any) {
	sort.SliceStable(items, func(i, j int) bool {
		return fmt.Sprint(items[i]["id"]) < fmt.Sprint(items[j]["id"])
	})
}
