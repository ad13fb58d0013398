package testserver

import (
	"net/http"
	"slices"
	"strings"
)

// Service principals and the two halves of admin consent: delegated
// permission grants (oauth2PermissionGrants) and application permissions
// (appRoleAssignments). They are the same Tenant state the token endpoint
// reads to decide what a token may carry.
func (s *Server) routeGraphConsent(api *http.ServeMux) {
	api.HandleFunc("GET /v1.0/servicePrincipals", s.graphOp(permAppsRead, s.graphListSPs))
	api.HandleFunc("POST /v1.0/servicePrincipals", s.graphOp(permAppsWrite, s.graphCreateSP))
	api.HandleFunc("GET /v1.0/servicePrincipals/{id}", s.graphOp(permAppsRead, s.graphGetSP))
	api.HandleFunc("DELETE /v1.0/servicePrincipals/{id}", s.graphOp(permAppsWrite, s.graphDeleteSP))

	api.HandleFunc("GET /v1.0/oauth2PermissionGrants", s.graphOp(permGrantsRead, s.graphListGrants))
	api.HandleFunc("POST /v1.0/oauth2PermissionGrants", s.graphOp(permGrantsWrite, s.graphCreateGrant))
	api.HandleFunc("GET /v1.0/oauth2PermissionGrants/{id}", s.graphOp(permGrantsRead, s.graphGetGrant))
	api.HandleFunc("PATCH /v1.0/oauth2PermissionGrants/{id}", s.graphOp(permGrantsWrite, s.graphUpdateGrant))
	api.HandleFunc("DELETE /v1.0/oauth2PermissionGrants/{id}", s.graphOp(permGrantsWrite, s.graphDeleteGrant))
	api.HandleFunc("GET /v1.0/servicePrincipals/{id}/oauth2PermissionGrants", s.graphOp(slices.Concat(permAppsRead, permGrantsRead), s.graphSPGrants))

	assignRead := slices.Concat([]string{"AppRoleAssignment.ReadWrite.All"}, permAppsRead)
	api.HandleFunc("GET /v1.0/servicePrincipals/{id}/appRoleAssignments", s.graphOp(assignRead, s.graphListAssignments(false)))
	api.HandleFunc("GET /v1.0/servicePrincipals/{id}/appRoleAssignedTo", s.graphOp(assignRead, s.graphListAssignments(true)))
	api.HandleFunc("POST /v1.0/servicePrincipals/{id}/appRoleAssignments", s.graphOp(permAssignmentsWrite, s.graphAssign(false)))
	api.HandleFunc("POST /v1.0/servicePrincipals/{id}/appRoleAssignedTo", s.graphOp(permAssignmentsWrite, s.graphAssign(true)))
	api.HandleFunc("DELETE /v1.0/servicePrincipals/{id}/appRoleAssignments/{aid}", s.graphOp(permAssignmentsWrite, s.graphUnassign(false)))
	api.HandleFunc("DELETE /v1.0/servicePrincipals/{id}/appRoleAssignedTo/{aid}", s.graphOp(permAssignmentsWrite, s.graphUnassign(true)))
}

// graphMicrosoftTenant owns Microsoft's first-party apps.
const graphMicrosoftTenant = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"

// Roles that may grant admin consent in delegated calls
// (https://learn.microsoft.com/entra/identity/enterprise-apps/grant-admin-consent):
// Privileged Role Administrator for any permission; Cloud Application and
// Application Administrators for any but Microsoft Graph's app roles.
var (
	graphConsentRoles        = []string{rolePrivilegedRoleAdmin, roleCloudApplicationAdmin, roleApplicationAdmin}
	graphAppRoleConsentRoles = []string{rolePrivilegedRoleAdmin}
)

func (s *Server) graphListSPs(w http.ResponseWriter, r *http.Request, c Claims) {
	var items []map[string]any
	s.mu.Lock()
	if t := s.graphTenantLocked(c); t != nil {
		for _, sp := range t.ServicePrincipals {
			if s.graphReplicatedLocked(sp.ID) {
				items = append(items, s.spJSONLocked(sp))
			}
		}
	}
	s.mu.Unlock()
	graphSortByID(items)
	s.writeGraphCollection(w, r, c, graphCollection{fragment: "servicePrincipals", resource: "ServicePrincipal", paging: graphDirectoryPaging,
		filterable: []string{"appId", "displayName", "id", "servicePrincipalType"}}, items)
}

// graphCreateSP creates an app's service principal in the caller's tenant
// (https://learn.microsoft.com/graph/api/serviceprincipal-post-serviceprincipals).
// A second one for the same app is refused with 409
// Request_MultipleObjectsWithSameKeyValue; an appId that names no
// application the tenant may instantiate (unknown, single-tenant elsewhere,
// or not yet replicated) with 400 and NoBackingApplicationObject — the
// directory's own answers.
func (s *Server) graphCreateSP(w http.ResponseWriter, r *http.Request, c Claims) {
	var b struct {
		AppID string `json:"appId"`
	}
	if !s.readGraphBody(w, r, &b) {
		return
	}
	var obj map[string]any
	var fail *graphFail
	s.mu.Lock()
	t := s.graphTenantLocked(c)
	app := s.world.Apps[strings.ToLower(b.AppID)]
	switch {
	case t == nil || !s.graphAdminMayLocked(t, c, graphAppAdminRoles...):
		fail = graphFailDenied()
	case app == nil || !s.graphReplicatedLocked(app.ObjectID) ||
		(app.HomeTenant != "" && app.HomeTenant != t.ID && app.SignInAudience == "AzureADMyOrg"):
		msg := "The appId '" + b.AppID + "' of the service principal does not reference a valid application object."
		fail = &graphFail{status: http.StatusBadRequest, code: graphCodeBadRequest, message: msg, detailCode: "NoBackingApplicationObject", target: "appId"}
	case t.ServicePrincipalByAppID(app.AppID) != nil:
		msg := "The service principal cannot be created, updated, or restored because the service principal name " + app.AppID + " is already in use."
		fail = &graphFail{status: http.StatusConflict, code: "Request_MultipleObjectsWithSameKeyValue", message: msg, detailCode: "ObjectConflict", target: "servicePrincipalNames"}
	default:
		now := s.clock.Now()
		sp := t.AddServicePrincipal(app, now)
		s.graphReplicatingLocked(sp.ID, now)
		obj = s.spJSONLocked(sp)
	}
	s.mu.Unlock()
	if fail != nil {
		s.writeGraphFail(w, r, fail)
		return
	}
	w.Header().Set("Location", s.URL()+"/graph/v1.0/servicePrincipals/"+obj["id"].(string))
	s.writeGraphEntity(w, r, http.StatusCreated, "servicePrincipals", obj)
}

// graphSPLocked finds a replicated service principal of the caller's tenant.
func (s *Server) graphSPLocked(c Claims, id string) (*Tenant, *ServicePrincipal, *graphFail) {
	t := s.graphTenantLocked(c)
	if t == nil {
		return nil, nil, graphFailNotFound(id)
	}
	for _, sp := range t.ServicePrincipals {
		if strings.EqualFold(sp.ID, id) && s.graphReplicatedLocked(sp.ID) {
			return t, sp, nil
		}
	}
	return nil, nil, graphFailNotFound(id)
}

func (s *Server) graphGetSP(w http.ResponseWriter, r *http.Request, c Claims) {
	s.mu.Lock()
	_, sp, fail := s.graphSPLocked(c, r.PathValue("id"))
	var obj map[string]any
	if fail == nil {
		obj = s.spJSONLocked(sp)
	}
	s.mu.Unlock()
	if fail != nil {
		s.writeGraphFail(w, r, fail)
		return
	}
	s.writeGraphEntity(w, r, http.StatusOK, "servicePrincipals", obj)
}

// graphDeleteSP deletes a service principal, which revokes the app's
// consent in the tenant: its grants and assignments go with it
// (https://learn.microsoft.com/graph/api/serviceprincipal-delete).
func (s *Server) graphDeleteSP(w http.ResponseWriter, r *http.Request, c Claims) {
	s.mu.Lock()
	t, sp, fail := s.graphSPLocked(c, r.PathValue("id"))
	if fail == nil && !s.graphAdminMayLocked(t, c, graphAppAdminRoles...) {
		fail = graphFailDenied()
	}
	if fail == nil {
		graphDeleteSPLocked(t, sp.ID)
	}
	s.mu.Unlock()
	if fail != nil {
		s.writeGraphFail(w, r, fail)
		return
	}
	s.writeGraphNoContent(w, r)
}

// graphDeleteSPLocked removes a service principal and every grant
// and app role assignment that names it.
func graphDeleteSPLocked(t *Tenant, id string) {
	delete(t.ServicePrincipals, id)
	for k, g := range t.Grants {
		if g.ClientID == id || g.ResourceID == id {
			delete(t.Grants, k)
		}
	}
	for k, a := range t.AppRoleAssignments {
		if a.PrincipalID == id || a.ResourceID == id {
			delete(t.AppRoleAssignments, k)
		}
	}
}

// spJSONLocked renders a service principal with the app roles and
// delegated scopes its app publishes, which clients read to turn a
// permission's name into its id.
func (s *Server) spJSONLocked(sp *ServicePrincipal) map[string]any {
	app := s.world.Apps[sp.AppID]
	roles, scopes := []map[string]any{}, []map[string]any{}
	names := []string{sp.AppID}
	owner, audience := any(nil), any(nil)
	if app != nil {
		for _, id := range graphSortedKeys(app.Roles) {
			v := app.Roles[id]
			roles = append(roles, map[string]any{"id": id, "value": v, "displayName": v, "description": v,
				"isEnabled": true, "allowedMemberTypes": []string{"Application"}, "origin": "Application"})
		}
		for _, id := range graphSortedKeys(app.Scopes) {
			v := app.Scopes[id]
			scopes = append(scopes, map[string]any{"id": id, "value": v, "type": "Admin", "isEnabled": true,
				"adminConsentDisplayName": v, "adminConsentDescription": v, "userConsentDisplayName": v, "userConsentDescription": v})
		}
		if app.Resource != "" {
			names = append(names, app.Resource)
		}
		owner = app.HomeTenant
		if app.HomeTenant == "" {
			owner = graphMicrosoftTenant
		}
		if app.SignInAudience != "" {
			audience = app.SignInAudience
		}
	}
	return map[string]any{
		"id": sp.ID, "appId": sp.AppID, "displayName": sp.DisplayName, "appDisplayName": sp.DisplayName,
		"deletedDateTime": nil, "accountEnabled": true, "servicePrincipalType": "Application",
		"appOwnerOrganizationId": owner, "signInAudience": audience, "servicePrincipalNames": names,
		"appRoles": roles, "oauth2PermissionScopes": scopes, "tags": []string{}, "replyUrls": []string{},
		"appRoleAssignmentRequired": false, "keyCredentials": []any{}, "passwordCredentials": []any{},
	}
}

func (s *Server) graphListGrants(w http.ResponseWriter, r *http.Request, c Claims) {
	var items []map[string]any
	s.mu.Lock()
	if t := s.graphTenantLocked(c); t != nil {
		for _, g := range t.Grants {
			if s.graphReplicatedLocked(g.ID) {
				items = append(items, graphGrantJSON(g))
			}
		}
	}
	s.mu.Unlock()
	graphSortByID(items)
	s.writeGraphCollection(w, r, c, graphGrantCollection, items)
}

var graphGrantCollection = graphCollection{fragment: "oauth2PermissionGrants", resource: "OAuth2PermissionGrant", paging: graphDirectoryPaging,
	filterable: []string{"clientId", "resourceId", "consentType", "principalId", "id"}}

// graphSPGrants lists the delegated grants a service principal holds as
// the client (https://learn.microsoft.com/graph/api/serviceprincipal-list-oauth2permissiongrants).
func (s *Server) graphSPGrants(w http.ResponseWriter, r *http.Request, c Claims) {
	s.mu.Lock()
	t, sp, fail := s.graphSPLocked(c, r.PathValue("id"))
	var items []map[string]any
	if fail == nil {
		for _, g := range t.Grants {
			if g.ClientID == sp.ID && s.graphReplicatedLocked(g.ID) {
				items = append(items, graphGrantJSON(g))
			}
		}
	}
	s.mu.Unlock()
	if fail != nil {
		s.writeGraphFail(w, r, fail)
		return
	}
	graphSortByID(items)
	s.writeGraphCollection(w, r, c, graphGrantCollection, items)
}

// graphGrantLocked finds a grant by its id (the map key may differ from it).
func (s *Server) graphGrantLocked(c Claims, id string) (*Tenant, string, *Grant, *graphFail) {
	if t := s.graphTenantLocked(c); t != nil {
		for k, g := range t.Grants {
			if strings.EqualFold(g.ID, id) && s.graphReplicatedLocked(g.ID) {
				return t, k, g, nil
			}
		}
	}
	return nil, "", nil, graphFailNotFound(id)
}

// graphCheckScopesLocked validates a grant's scope: every value must be a
// delegated permission the resource publishes.
func (s *Server) graphCheckScopesLocked(resource *ServicePrincipal, scope string) *graphFail {
	app := s.world.Apps[resource.AppID]
	for _, v := range strings.Fields(scope) {
		if app == nil || !graphPublishes(app.Scopes, v) {
			return graphFailInvalid("scope", "OAuth2PermissionGrant")
		}
	}
	return nil
}

// graphCreateGrant records a delegated permission grant
// (https://learn.microsoft.com/graph/api/oauth2permissiongrant-post): 201.
// A second grant for the same client, resource and principal is refused
// with 409 "Permission entry already exists."; the existing one is changed
// with PATCH.
func (s *Server) graphCreateGrant(w http.ResponseWriter, r *http.Request, c Claims) {
	var b struct {
		ClientID    string  `json:"clientId"`
		ConsentType string  `json:"consentType"`
		PrincipalID *string `json:"principalId"`
		ResourceID  string  `json:"resourceId"`
		Scope       string  `json:"scope"`
	}
	if !s.readGraphBody(w, r, &b) {
		return
	}
	principal := ""
	if b.PrincipalID != nil {
		principal = *b.PrincipalID
	}
	var obj map[string]any
	s.mu.Lock()
	fail := func() *graphFail {
		t, client, fail := s.graphSPLocked(c, b.ClientID)
		if fail != nil {
			return fail
		}
		_, resource, fail := s.graphSPLocked(c, b.ResourceID)
		if fail != nil {
			return fail
		}
		switch b.ConsentType {
		case "AllPrincipals":
			if principal != "" {
				return graphFailInvalid("principalId", "OAuth2PermissionGrant")
			}
		case "Principal":
			if t.Users[principal] == nil {
				return graphFailInvalid("principalId", "OAuth2PermissionGrant")
			}
		default:
			return graphFailInvalid("consentType", "OAuth2PermissionGrant")
		}
		if fail := s.graphCheckScopesLocked(resource, b.Scope); fail != nil {
			return fail
		}
		if !s.graphAdminMayLocked(t, c, graphConsentRoles...) {
			return graphFailDenied()
		}
		for _, g := range t.Grants {
			if g.ClientID == client.ID && g.ResourceID == resource.ID && g.ConsentType == b.ConsentType && g.PrincipalID == principal {
				return &graphFail{status: http.StatusConflict, code: "Request_MultipleObjectsWithSameKeyValue", message: "Permission entry already exists."}
			}
		}
		now := s.clock.Now()
		g := &Grant{ID: newID(), ClientID: client.ID, ConsentType: b.ConsentType, PrincipalID: principal,
			ResourceID: resource.ID, Scope: strings.Join(strings.Fields(b.Scope), " "), CreatedAt: now}
		t.Grants[g.ID] = g
		s.graphReplicatingLocked(g.ID, now)
		obj = graphGrantJSON(g)
		return nil
	}()
	s.mu.Unlock()
	if fail != nil {
		s.writeGraphFail(w, r, fail)
		return
	}
	s.writeGraphEntity(w, r, http.StatusCreated, "oauth2PermissionGrants", obj)
}

func (s *Server) graphGetGrant(w http.ResponseWriter, r *http.Request, c Claims) {
	s.mu.Lock()
	_, _, g, fail := s.graphGrantLocked(c, r.PathValue("id"))
	var obj map[string]any
	if fail == nil {
		obj = graphGrantJSON(g)
	}
	s.mu.Unlock()
	if fail != nil {
		s.writeGraphFail(w, r, fail)
		return
	}
	s.writeGraphEntity(w, r, http.StatusOK, "oauth2PermissionGrants", obj)
}

// graphUpdateGrant replaces a grant's scope: 204
// (https://learn.microsoft.com/graph/api/oauth2permissiongrant-update).
func (s *Server) graphUpdateGrant(w http.ResponseWriter, r *http.Request, c Claims) {
	var b struct {
		Scope *string `json:"scope"`
	}
	if !s.readGraphBody(w, r, &b) {
		return
	}
	s.mu.Lock()
	fail := func() *graphFail {
		t, _, g, fail := s.graphGrantLocked(c, r.PathValue("id"))
		if fail != nil {
			return fail
		}
		if b.Scope == nil {
			return nil
		}
		resource := t.ServicePrincipals[g.ResourceID]
		if resource == nil {
			return graphFailNotFound(g.ResourceID)
		}
		if fail := s.graphCheckScopesLocked(resource, *b.Scope); fail != nil {
			return fail
		}
		if !s.graphAdminMayLocked(t, c, graphConsentRoles...) {
			return graphFailDenied()
		}
		g.Scope = strings.Join(strings.Fields(*b.Scope), " ")
		return nil
	}()
	s.mu.Unlock()
	if fail != nil {
		s.writeGraphFail(w, r, fail)
		return
	}
	s.writeGraphNoContent(w, r)
}

func (s *Server) graphDeleteGrant(w http.ResponseWriter, r *http.Request, c Claims) {
	s.mu.Lock()
	t, key, _, fail := s.graphGrantLocked(c, r.PathValue("id"))
	if fail == nil && !s.graphAdminMayLocked(t, c, graphConsentRoles...) {
		fail = graphFailDenied()
	}
	if fail == nil {
		delete(t.Grants, key)
	}
	s.mu.Unlock()
	if fail != nil {
		s.writeGraphFail(w, r, fail)
		return
	}
	s.writeGraphNoContent(w, r)
}

func graphGrantJSON(g *Grant) map[string]any {
	var principal any
	if g.PrincipalID != "" {
		principal = g.PrincipalID
	}
	return map[string]any{"id": g.ID, "clientId": g.ClientID, "consentType": g.ConsentType,
		"principalId": principal, "resourceId": g.ResourceID, "scope": g.Scope}
}

// graphListAssignments lists the app role assignments a service principal
// holds (appRoleAssignments) or has granted as the resource
// (appRoleAssignedTo).
func (s *Server) graphListAssignments(asResource bool) graphOp {
	fragment := "appRoleAssignments"
	if asResource {
		fragment = "appRoleAssignedTo"
	}
	return func(w http.ResponseWriter, r *http.Request, c Claims) {
		s.mu.Lock()
		t, sp, fail := s.graphSPLocked(c, r.PathValue("id"))
		var items []map[string]any
		if fail == nil {
			for _, a := range t.AppRoleAssignments {
				if (asResource && a.ResourceID == sp.ID || !asResource && a.PrincipalID == sp.ID) && s.graphReplicatedLocked(a.ID) {
					items = append(items, graphAssignmentJSON(t, a))
				}
			}
		}
		s.mu.Unlock()
		if fail != nil {
			s.writeGraphFail(w, r, fail)
			return
		}
		graphSortByID(items)
		s.writeGraphCollection(w, r, c, graphCollection{fragment: "servicePrincipals('" + r.PathValue("id") + "')/" + fragment,
			resource: "AppRoleAssignment", paging: graphDirectoryPaging, filterable: []string{"appRoleId", "principalId", "resourceId"}}, items)
	}
}

// graphAssign grants an application permission
// (https://learn.microsoft.com/graph/api/serviceprincipal-post-approleassignedto
// and serviceprincipal-post-approleassignments): 201. The directory
// refuses an appRoleId the resource does not publish ("Permission being
// assigned was not found on application") and a repeat ("Permission being
// assigned already exists on the object."), both 400 Request_BadRequest.
func (s *Server) graphAssign(asResource bool) graphOp {
	fragment := "appRoleAssignments"
	if asResource {
		fragment = "appRoleAssignedTo"
	}
	return func(w http.ResponseWriter, r *http.Request, c Claims) {
		var b struct {
			PrincipalID string `json:"principalId"`
			ResourceID  string `json:"resourceId"`
			AppRoleID   string `json:"appRoleId"`
		}
		if !s.readGraphBody(w, r, &b) {
			return
		}
		pathID := r.PathValue("id")
		var obj map[string]any
		s.mu.Lock()
		fail := func() *graphFail {
			if _, _, fail := s.graphSPLocked(c, pathID); fail != nil {
				return fail
			}
			// The path names one side of the assignment; the body must agree.
			if asResource && !strings.EqualFold(b.ResourceID, pathID) {
				return graphFailInvalid("resourceId", "AppRoleAssignment")
			}
			if !asResource && !strings.EqualFold(b.PrincipalID, pathID) {
				return graphFailInvalid("principalId", "AppRoleAssignment")
			}
			t, principal, fail := s.graphSPLocked(c, b.PrincipalID)
			if fail != nil {
				return fail
			}
			_, resource, fail := s.graphSPLocked(c, b.ResourceID)
			if fail != nil {
				return fail
			}
			app := s.world.Apps[resource.AppID]
			if app == nil || app.Roles[strings.ToLower(b.AppRoleID)] == "" {
				return graphFailBadRequest(graphCodeBadRequest, "Permission being assigned was not found on application '"+resource.AppID+"'.")
			}
			roles := graphConsentRoles
			if resource.AppID == GraphAppID {
				roles = graphAppRoleConsentRoles
			}
			if !s.graphAdminMayLocked(t, c, roles...) {
				return graphFailDenied()
			}
			role := strings.ToLower(b.AppRoleID)
			if hasAssignment(t, principal.ID, resource.ID, role) {
				return graphFailBadRequest(graphCodeBadRequest, "Permission being assigned already exists on the object.")
			}
			now := s.clock.Now()
			a := &AppRoleAssignment{ID: newID(), PrincipalID: principal.ID, ResourceID: resource.ID, AppRoleID: role, CreatedAt: now}
			t.AppRoleAssignments[a.ID] = a
			s.graphReplicatingLocked(a.ID, now)
			obj = graphAssignmentJSON(t, a)
			return nil
		}()
		s.mu.Unlock()
		if fail != nil {
			s.writeGraphFail(w, r, fail)
			return
		}
		s.writeGraphEntity(w, r, http.StatusCreated, "servicePrincipals('"+pathID+"')/"+fragment, obj)
	}
}

// graphUnassign deletes an app role assignment: 204
// (https://learn.microsoft.com/graph/api/serviceprincipal-delete-approleassignedto).
func (s *Server) graphUnassign(asResource bool) graphOp {
	return func(w http.ResponseWriter, r *http.Request, c Claims) {
		aid := r.PathValue("aid")
		s.mu.Lock()
		fail := func() *graphFail {
			t, sp, fail := s.graphSPLocked(c, r.PathValue("id"))
			if fail != nil {
				return fail
			}
			for k, a := range t.AppRoleAssignments {
				side := a.PrincipalID
				if asResource {
					side = a.ResourceID
				}
				if strings.EqualFold(a.ID, aid) && side == sp.ID && s.graphReplicatedLocked(a.ID) {
					if !s.graphAdminMayLocked(t, c, graphConsentRoles...) {
						return graphFailDenied()
					}
					delete(t.AppRoleAssignments, k)
					return nil
				}
			}
			return graphFailNotFound(aid)
		}()
		s.mu.Unlock()
		if fail != nil {
			s.writeGraphFail(w, r, fail)
			return
		}
		s.writeGraphNoContent(w, r)
	}
}

func graphAssignmentJSON(t *Tenant, a *AppRoleAssignment) map[string]any {
	name := func(id string) string {
		if sp := t.ServicePrincipals[id]; sp != nil {
			return sp.DisplayName
		}
		return ""
	}
	return map[string]any{
		"id": a.ID, "deletedDateTime": nil, "appRoleId": a.AppRoleID, "createdDateTime": graphTime(a.CreatedAt),
		"principalId": a.PrincipalID, "principalDisplayName": name(a.PrincipalID), "principalType": "ServicePrincipal",
		"resourceId": a.ResourceID, "resourceDisplayName": name(a.ResourceID),
	}
}

// graphPublishes reports whether m holds v as a value (ignoring case), as
// permission values are matched.
func graphPublishes(m map[string]string, v string) bool {
	for _, x := range m {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}
