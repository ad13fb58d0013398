package testserver

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"
)

// Application registrations (https://learn.microsoft.com/graph/api/resources/application).
// An application lives in World.Apps with its home tenant; a tenant's
// /applications lists the apps whose home it is. Secrets added here are
// App.Passwords, the very ones the token endpoint checks.
func (s *Server) routeGraphApps(api *http.ServeMux) {
	api.HandleFunc("GET /v1.0/applications", s.graphOp(permAppsRead, s.graphListApps))
	api.HandleFunc("POST /v1.0/applications", s.graphOp(permAppsWrite, s.graphCreateApp))
	api.HandleFunc("GET /v1.0/applications/{id}", s.graphOp(permAppsRead, s.graphGetApp))
	api.HandleFunc("PATCH /v1.0/applications/{id}", s.graphOp(permAppsWrite, s.graphUpdateApp))
	api.HandleFunc("DELETE /v1.0/applications/{id}", s.graphOp(permAppsWrite, s.graphDeleteApp))
	api.HandleFunc("POST /v1.0/applications/{id}/addPassword", s.graphOp(permAppsWrite, s.graphAddPassword))
	api.HandleFunc("POST /v1.0/applications/{id}/removePassword", s.graphOp(permAppsWrite, s.graphRemovePassword))
	s.routeGraphAppKeys(api)
}

// Roles that may manage app registrations and service principals in
// delegated calls (https://learn.microsoft.com/graph/api/application-post-applications).
var graphAppAdminRoles = []string{roleApplicationAdmin, roleCloudApplicationAdmin}

var graphAudiences = []string{"AzureADMyOrg", "AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount"}

// applicationBody is what POST and PATCH /applications take. Pointers tell
// a property left out from one set to its zero value.
type applicationBody struct {
	DisplayName            *string                   `json:"displayName"`
	SignInAudience         *string                   `json:"signInAudience"`
	RequiredResourceAccess *[]RequiredResourceAccess `json:"requiredResourceAccess"`
	Web                    *struct {
		RedirectURIs *[]string `json:"redirectUris"`
	} `json:"web"`
	PublicClient *struct {
		RedirectURIs *[]string `json:"redirectUris"`
	} `json:"publicClient"`
	IsFallbackPublicClient *bool `json:"isFallbackPublicClient"`
}

// apply validates b and copies it onto a.
func (b applicationBody) apply(a *App) *graphFail {
	if b.DisplayName != nil {
		if strings.TrimSpace(*b.DisplayName) == "" {
			return graphFailInvalid("displayName", "Application")
		}
		a.DisplayName = *b.DisplayName
	}
	if b.SignInAudience != nil {
		if !slices.Contains(graphAudiences, *b.SignInAudience) {
			return graphFailInvalid("signInAudience", "Application")
		}
		a.SignInAudience = *b.SignInAudience
	}
	if b.RequiredResourceAccess != nil {
		for _, rra := range *b.RequiredResourceAccess {
			for _, ra := range rra.ResourceAccess {
				if ra.Type != "Scope" && ra.Type != "Role" {
					return graphFailInvalid("type", "ResourceAccess")
				}
			}
		}
		a.RequiredResourceAccess = slices.Clone(*b.RequiredResourceAccess)
	}
	if b.Web != nil && b.Web.RedirectURIs != nil {
		a.WebRedirectURIs = slices.Clone(*b.Web.RedirectURIs)
	}
	if b.PublicClient != nil && b.PublicClient.RedirectURIs != nil {
		a.PublicRedirectURIs = slices.Clone(*b.PublicClient.RedirectURIs)
	}
	if b.IsFallbackPublicClient != nil {
		a.IsFallbackPublicClient = *b.IsFallbackPublicClient
	}
	return nil
}

func (s *Server) graphListApps(w http.ResponseWriter, r *http.Request, c Claims) {
	var items []map[string]any
	s.mu.Lock()
	if t := s.graphTenantLocked(c); t != nil {
		for _, a := range s.world.Apps {
			if a.HomeTenant == t.ID && s.graphReplicatedLocked(a.ObjectID) {
				items = append(items, graphAppJSON(a, t))
			}
		}
	}
	s.mu.Unlock()
	graphSortByID(items)
	s.writeGraphCollection(w, r, c, graphCollection{fragment: "applications", resource: "Application", paging: graphDirectoryPaging,
		filterable: []string{"appId", "displayName", "id", "signInAudience"}}, items)
}

// graphCreateApp registers an application in the caller's tenant
// (https://learn.microsoft.com/graph/api/application-post-applications):
// 201 with the new object. displayName is required.
func (s *Server) graphCreateApp(w http.ResponseWriter, r *http.Request, c Claims) {
	var b applicationBody
	if !s.readGraphBody(w, r, &b) {
		return
	}
	if b.DisplayName == nil {
		s.writeGraphFail(w, r, graphFailInvalid("displayName", "Application"))
		return
	}
	var obj map[string]any
	var fail *graphFail
	s.mu.Lock()
	if t := s.graphTenantLocked(c); t == nil || !s.graphAdminMayLocked(t, c, graphAppAdminRoles...) {
		fail = graphFailDenied()
	} else {
		now := s.clock.Now()
		a := &App{ObjectID: newID(), AppID: newID(), HomeTenant: t.ID, SignInAudience: "AzureADMyOrg", CreatedAt: now}
		if fail = b.apply(a); fail == nil {
			s.world.Apps[a.AppID] = a
			s.graphReplicatingLocked(a.ObjectID, now)
			obj = graphAppJSON(a, t)
		}
	}
	s.mu.Unlock()
	if fail != nil {
		s.writeGraphFail(w, r, fail)
		return
	}
	w.Header().Set("Location", s.URL()+"/graph/v1.0/applications/"+obj["id"].(string))
	s.writeGraphEntity(w, r, http.StatusCreated, "applications", obj)
}

// graphAppToChangeLocked is graphAppLocked for a change of the app: the
// caller must hold a role that may manage applications.
func (s *Server) graphAppToChangeLocked(c Claims, id string) (*Tenant, *App, *graphFail) {
	t, a, fail := s.graphAppLocked(c, id)
	if fail == nil && !s.graphAdminMayLocked(t, c, graphAppAdminRoles...) {
		fail = graphFailDenied()
	}
	return t, a, fail
}

// graphAppLocked finds the caller's application by object id, if replicated.
func (s *Server) graphAppLocked(c Claims, id string) (*Tenant, *App, *graphFail) {
	t := s.graphTenantLocked(c)
	if t == nil {
		return nil, nil, graphFailNotFound(id)
	}
	for _, a := range s.world.Apps {
		if a.HomeTenant == t.ID && strings.EqualFold(a.ObjectID, id) && s.graphReplicatedLocked(a.ObjectID) {
			return t, a, nil
		}
	}
	return nil, nil, graphFailNotFound(id)
}

// graphAppByAppIDLocked finds the application appID registered in tenant.
func (s *Server) graphAppByAppIDLocked(tenant, appID string) *App {
	if a := s.world.Apps[strings.ToLower(appID)]; a != nil && a.HomeTenant == tenant {
		return a
	}
	for _, a := range s.world.Apps {
		if a.HomeTenant == tenant && strings.EqualFold(a.AppID, appID) {
			return a
		}
	}
	return nil
}

func (s *Server) graphGetApp(w http.ResponseWriter, r *http.Request, c Claims) {
	s.mu.Lock()
	t, a, fail := s.graphAppLocked(c, r.PathValue("id"))
	var obj map[string]any
	if fail == nil {
		obj = graphAppJSON(a, t)
		// "key … Returned only on $select for a single object, that is,
		// GET applications/{applicationId}?$select=keyCredentials"
		// (https://learn.microsoft.com/graph/api/resources/keycredential).
		if slices.ContainsFunc(graphParseSelect(r.URL.Query().Get("$select")), func(p string) bool { return strings.EqualFold(p, "keyCredentials") }) {
			for i, k := range a.Certificates {
				if k.Certificate != nil {
					obj["keyCredentials"].([]map[string]any)[i]["key"] = base64.StdEncoding.EncodeToString(k.Certificate.Raw)
				}
			}
		}
	}
	s.mu.Unlock()
	if fail != nil {
		s.writeGraphFail(w, r, fail)
		return
	}
	s.writeGraphEntity(w, r, http.StatusOK, "applications", obj)
}

// graphUpdateApp patches an application: 204 and no body
// (https://learn.microsoft.com/graph/api/application-update).
// graphUpdateApp serves PATCH /applications/{id}: the properties named
// are set, keyCredentials replaced; an unknown or read-only property is
// refused (graph_apps_patch.go).
func (s *Server) graphUpdateApp(w http.ResponseWriter, r *http.Request, c Claims) {
	raw, b, ok := s.readAppPatch(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	t, a, fail := s.graphAppToChangeLocked(c, r.PathValue("id"))
	if fail == nil {
		fail = checkAppPatch(raw, graphAppJSON(a, t))
	}
	if fail == nil {
		// Validate on a copy so that a bad request changes nothing.
		next := *a
		if fail = b.apply(&next); fail == nil {
			if kc, ok := raw["keyCredentials"]; ok {
				var in []keyCredentialBody
				if json.Unmarshal(kc, &in) != nil {
					fail = graphFailInvalid("keyCredentials", "Application")
				} else {
					next.Certificates, fail = keyCredentials(in, a.Certificates)
					for _, k := range next.Certificates {
						if !slices.Contains(a.Certificates, k) {
							s.credentialAddedLocked(&k.ReadyAt)
						}
					}
				}
			}
		}
		if fail == nil {
			*a = next
		}
	}
	s.mu.Unlock()
	if fail != nil {
		s.writeGraphFail(w, r, fail)
		return
	}
	s.writeGraphNoContent(w, r)
}

// graphDeleteApp deletes an application
// (https://learn.microsoft.com/graph/api/application-delete). Its secrets
// go with it, so the token endpoint no longer knows the client, and, as
// Entra does, its service principal in the home tenant is deleted too
// ("If you deleted an application registration in its home tenant …, the
// enterprise application, which is its corresponding service principal also
// got deleted", https://learn.microsoft.com/entra/identity/enterprise-apps/restore-application)
// together with the grants and assignments that name it. Entra keeps both in
// deleted items for 30 days; the fake does not model restoring them.
// Service principals in other tenants stay, orphaned, as they do in Entra.
func (s *Server) graphDeleteApp(w http.ResponseWriter, r *http.Request, c Claims) {
	s.mu.Lock()
	t, a, fail := s.graphAppToChangeLocked(c, r.PathValue("id"))
	if fail == nil {
		delete(s.world.Apps, a.AppID)
		a.Passwords, a.Certificates = nil, nil
		if sp := t.ServicePrincipalByAppID(a.AppID); sp != nil {
			graphDeleteSPLocked(t, sp.ID)
		}
	}
	s.mu.Unlock()
	if fail != nil {
		s.writeGraphFail(w, r, fail)
		return
	}
	s.writeGraphNoContent(w, r)
}

// graphAddPassword adds a client secret
// (https://learn.microsoft.com/graph/api/application-addpassword): 200 with
// the passwordCredential, whose secretText is shown this once. The default
// lifetime is two years from startDateTime.
func (s *Server) graphAddPassword(w http.ResponseWriter, r *http.Request, c Claims) {
	var b struct {
		PasswordCredential *struct {
			DisplayName   string     `json:"displayName"`
			StartDateTime *time.Time `json:"startDateTime"`
			EndDateTime   *time.Time `json:"endDateTime"`
		} `json:"passwordCredential"`
	}
	if !s.readGraphBody(w, r, &b) {
		return
	}
	s.mu.Lock()
	_, a, fail := s.graphAppToChangeLocked(c, r.PathValue("id"))
	var obj map[string]any
	if fail == nil {
		start := s.clock.Now()
		p := &PasswordCredential{KeyID: newID(), Secret: graphSecretText()}
		if pc := b.PasswordCredential; pc != nil {
			p.DisplayName = pc.DisplayName
			if pc.StartDateTime != nil {
				start = pc.StartDateTime.UTC()
			}
			if pc.EndDateTime != nil {
				p.End = pc.EndDateTime.UTC()
			}
		}
		p.Start = start
		s.credentialAddedLocked(&p.ReadyAt)
		if p.End.IsZero() {
			p.End = start.AddDate(2, 0, 0)
		}
		if !p.End.After(p.Start) {
			fail = graphFailInvalid("endDateTime", "PasswordCredential")
		} else {
			a.Passwords = append(a.Passwords, p)
			obj = graphPasswordJSON(p)
			obj["secretText"] = p.Secret
		}
	}
	s.mu.Unlock()
	if fail != nil {
		s.writeGraphFail(w, r, fail)
		return
	}
	obj["@odata.context"] = s.graphContext("microsoft.graph.passwordCredential")
	s.writeGraphJSON(w, r, http.StatusOK, obj)
}

// graphRemovePassword removes a client secret by keyId: 204
// (https://learn.microsoft.com/graph/api/application-removepassword). The
// secret stops working at the token endpoint at once.
func (s *Server) graphRemovePassword(w http.ResponseWriter, r *http.Request, c Claims) {
	var b struct {
		KeyID string `json:"keyId"`
	}
	if !s.readGraphBody(w, r, &b) {
		return
	}
	s.mu.Lock()
	_, a, fail := s.graphAppToChangeLocked(c, r.PathValue("id"))
	if fail == nil {
		i := slices.IndexFunc(a.Passwords, func(p *PasswordCredential) bool { return strings.EqualFold(p.KeyID, b.KeyID) })
		if i < 0 {
			fail = graphFailInvalid("keyId", "PasswordCredential")
		} else {
			a.Passwords = slices.Delete(a.Passwords, i, i+1)
		}
	}
	s.mu.Unlock()
	if fail != nil {
		s.writeGraphFail(w, r, fail)
		return
	}
	s.writeGraphNoContent(w, r)
}

// secretAlphabet holds the characters of generated client secrets.
const secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.~"

// graphSecretText makes a client secret shaped like Entra's: 40 characters,
// with "8Q~" after the three that make the hint.
func graphSecretText() string {
	var b [37]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	out := make([]byte, 0, 40)
	for i, x := range b {
		out = append(out, secretAlphabet[int(x)%len(secretAlphabet)])
		if i == 2 {
			out = append(out, "8Q~"...)
		}
	}
	return string(out)
}

// graphAppJSON renders an application. passwordCredentials carry the hint, key
// id and dates; secretText is null on every read.
func graphAppJSON(a *App, t *Tenant) map[string]any {
	pw := make([]map[string]any, 0, len(a.Passwords))
	for _, p := range a.Passwords {
		pw = append(pw, graphPasswordJSON(p))
	}
	keys := graphKeysJSON(a.Certificates)
	// Copies throughout: the object is encoded after the lock is released.
	rra := make([]RequiredResourceAccess, 0, len(a.RequiredResourceAccess))
	for _, x := range a.RequiredResourceAccess {
		x.ResourceAccess = append([]ResourceAccess{}, x.ResourceAccess...)
		rra = append(rra, x)
	}
	return map[string]any{
		"id": a.ObjectID, "appId": a.AppID, "displayName": a.DisplayName, "deletedDateTime": nil,
		"createdDateTime": graphTime(a.CreatedAt), "signInAudience": a.SignInAudience,
		"publisherDomain": t.DefaultDomain, "identifierUris": []string{}, "tags": []string{},
		"isFallbackPublicClient": a.IsFallbackPublicClient,
		"requiredResourceAccess": rra,
		"web": map[string]any{"redirectUris": graphStrings(a.WebRedirectURIs), "homePageUrl": nil, "logoutUrl": nil,
			"implicitGrantSettings": map[string]any{"enableIdTokenIssuance": false, "enableAccessTokenIssuance": false}},
		"publicClient":        map[string]any{"redirectUris": graphStrings(a.PublicRedirectURIs)},
		"spa":                 map[string]any{"redirectUris": []string{}},
		"passwordCredentials": pw,
		"keyCredentials":      keys,
		"appRoles":            []any{},
		"api": map[string]any{"requestedAccessTokenVersion": nil, "oauth2PermissionScopes": []any{},
			"knownClientApplications": []string{}, "preAuthorizedApplications": []any{}},
	}
}

func graphPasswordJSON(p *PasswordCredential) map[string]any {
	hint := p.Secret
	if len(hint) > 3 {
		hint = hint[:3]
	}
	var name any
	if p.DisplayName != "" {
		name = p.DisplayName
	}
	return map[string]any{
		"customKeyIdentifier": nil, "displayName": name, "hint": hint, "keyId": p.KeyID, "secretText": nil,
		"startDateTime": graphTime(p.Start), "endDateTime": graphTime(p.End),
	}
}

// graphStrings copies a list of strings, an empty one for none (Graph
// writes [] rather than null).
func graphStrings(v []string) []string {
	return append([]string{}, v...)
}

// graphSortedKeys returns m's keys in order.
func graphSortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
