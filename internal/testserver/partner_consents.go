package testserver

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// pcConsent is the body of POST …/applicationconsents and of its answer.
type pcConsent struct {
	ApplicationID     string             `json:"applicationId"`
	DisplayName       string             `json:"displayName,omitempty"`
	ApplicationGrants []ApplicationGrant `json:"applicationGrants"`
}

// multiTenantAudiences are the signInAudience values of apps that other
// tenants can consent to.
var multiTenantAudiences = map[string]bool{"AzureADMultipleOrgs": true, "AzureADandPersonalMicrosoftAccount": true}

// pcCreateConsent serves POST /v1/customers/{customer}/applicationconsents,
// the CPV consent: it creates the application's service principal in the
// customer's tenant and, per enterprise application (resource), an
// AllPrincipals delegated grant of the comma-separated scopes — after which
// delegated tokens for the customer work. A second consent for the same
// app conflicts (409) and changes nothing.
func (s *Server) pcCreateConsent(w http.ResponseWriter, r *http.Request) {
	if !s.pcAuth(w, r, false) {
		return
	}
	custID, ok := s.pcCustomerID(w, r)
	if !ok {
		return
	}
	var body pcConsent
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || json.Unmarshal(raw, &body) != nil {
		s.writePartnerError(w, r, http.StatusBadRequest, pcInvalidProperty, "Invalid property: the request body is not an application consent in JSON.")
		return
	}
	if !isGUIDValue(body.ApplicationID) {
		s.writePartnerError(w, r, http.StatusBadRequest, pcInvalidProperty, "Invalid property: applicationId must be the application (client) id, a GUID.")
		return
	}
	if len(body.ApplicationGrants) == 0 {
		s.writePartnerError(w, r, http.StatusBadRequest, pcInvalidProperty, "Invalid property: applicationGrants must name at least one enterprise application.")
		return
	}
	// scopes by resource app id, in request order, duplicates merged.
	var resources []string
	scopes := map[string][]string{}
	for _, g := range body.ApplicationGrants {
		id := strings.ToLower(g.EnterpriseApplicationID)
		var names []string
		for _, sc := range strings.Split(g.Scope, ",") {
			if sc = strings.TrimSpace(sc); sc != "" {
				names = append(names, sc)
			}
		}
		if !isGUIDValue(id) || len(names) == 0 {
			s.writePartnerError(w, r, http.StatusBadRequest, pcInvalidProperty,
				"Invalid property: each application grant needs an enterpriseApplicationId (GUID) and a comma-separated scope.")
			return
		}
		if _, seen := scopes[id]; !seen {
			resources = append(resources, id)
		}
		scopes[id] = append(scopes[id], names...)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	w0 := s.world
	cust, t := s.pcCustomerLocked(custID)
	if cust == nil {
		s.writePartnerError(w, r, http.StatusNotFound, pcTenantNotFound, "Tenant not found: "+custID+" is not a customer of this partner.")
		return
	}
	if t.ConsentBlocked {
		s.writePartnerError(w, r, http.StatusForbidden, pcInsufficientPrivileges,
			"Insufficient privileges to complete the operation. The partner has no delegated admin rights to consent applications in tenant "+t.ID+".")
		return
	}
	app := w0.Apps[strings.ToLower(body.ApplicationID)]
	if app == nil {
		s.writePartnerError(w, r, http.StatusBadRequest, pcInvalidProperty, "Invalid property: no application with applicationId "+body.ApplicationID+" exists.")
		return
	}
	if !multiTenantAudiences[app.SignInAudience] {
		s.writePartnerError(w, r, http.StatusBadRequest, pcInvalidProperty,
			"Invalid property: application "+app.AppID+" has signInAudience "+strconv.Quote(app.SignInAudience)+"; only multi-tenant applications can be consented in customer tenants.")
		return
	}
	for _, id := range resources {
		if res := w0.Apps[id]; res == nil || res.Resource == "" {
			s.writePartnerError(w, r, http.StatusBadRequest, pcInvalidProperty, "Invalid property: enterpriseApplicationId "+id+" is not a resource application.")
			return
		}
	}
	if s.pcConsentExistsLocked(cust, t, app, resources) {
		s.writePartnerError(w, r, http.StatusConflict, pcUndefined, "Permission entry already exists.")
		return
	}

	now := s.clock.Now()
	client := t.AddServicePrincipal(app, now)
	var grants []ApplicationGrant
	for _, id := range resources {
		resSP := t.AddServicePrincipal(w0.Apps[id], now)
		mergeGrant(t, client.ID, resSP.ID, scopes[id], now)
		grants = append(grants, ApplicationGrant{EnterpriseApplicationID: id, Scope: strings.Join(scopes[id], ",")})
	}
	cust.Consents[app.AppID] = grants
	echoPartnerHeaders(w, r)
	writeJSON(w, http.StatusCreated, pcConsent{ApplicationID: app.AppID, DisplayName: body.DisplayName, ApplicationGrants: grants})
}

// pcConsentExistsLocked reports whether app is already consented in t, by
// Partner Center or by a grant the directory holds for one of resources.
func (s *Server) pcConsentExistsLocked(cust *PCCustomer, t *Tenant, app *App, resources []string) bool {
	if _, ok := cust.Consents[app.AppID]; ok {
		return true
	}
	sp := t.ServicePrincipalByAppID(app.AppID)
	if sp == nil {
		return false
	}
	for _, id := range resources {
		res := t.ServicePrincipalByAppID(id)
		if res == nil {
			continue
		}
		for _, g := range t.Grants {
			if g.ClientID == sp.ID && g.ResourceID == res.ID && g.ConsentType == "AllPrincipals" {
				return true
			}
		}
	}
	return false
}

// pcDeleteConsent serves DELETE /v1/customers/{customer}/applicationconsents/{app}:
// it removes the application's service principal from the customer's
// tenant, and with it every grant and app role assignment it held, as
// deleting a service principal does in the directory. The documentation
// lists 200 and 201 as successes; the fake answers 204 No Content, as
// Partner Center's other DELETE operations do.
func (s *Server) pcDeleteConsent(w http.ResponseWriter, r *http.Request) {
	if !s.pcAuth(w, r, false) {
		return
	}
	custID, ok := s.pcCustomerID(w, r)
	if !ok {
		return
	}
	appID := strings.ToLower(r.PathValue("app"))
	if !isGUIDValue(appID) {
		s.writePartnerError(w, r, http.StatusBadRequest, pcInvalidProperty, "Invalid property: the application id "+strconv.Quote(r.PathValue("app"))+" is not a GUID.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cust, t := s.pcCustomerLocked(custID)
	if cust == nil {
		s.writePartnerError(w, r, http.StatusNotFound, pcTenantNotFound, "Tenant not found: "+custID+" is not a customer of this partner.")
		return
	}
	_, consented := cust.Consents[appID]
	sp := t.ServicePrincipalByAppID(appID)
	if !consented && sp == nil {
		s.writePartnerError(w, r, http.StatusNotFound, pcNotFound, "Not found: application "+appID+" has no consent in tenant "+t.ID+".")
		return
	}
	delete(cust.Consents, appID)
	if sp != nil {
		for id, g := range t.Grants {
			if g.ClientID == sp.ID {
				delete(t.Grants, id)
			}
		}
		for id, a := range t.AppRoleAssignments {
			if a.PrincipalID == sp.ID {
				delete(t.AppRoleAssignments, id)
			}
		}
		delete(t.ServicePrincipals, sp.ID)
	}
	echoPartnerHeaders(w, r)
	w.WriteHeader(http.StatusNoContent)
}
