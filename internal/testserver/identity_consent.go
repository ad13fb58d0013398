package testserver

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Who may sign in where, and which delegated permissions a client holds.
//
// A user signs in to their home tenant, and a partner's admin to a customer
// tenant through an active GDAP relationship whose security groups hold
// them; anyone else is a stranger there (AADSTS50020). A client holds the
// delegated permissions its oauth2PermissionGrants give it on a resource
// in that tenant (AllPrincipals, or Principal for that user), plus what
// Microsoft preauthorizes first-party clients for.
// https://learn.microsoft.com/partner-center/customers/gdap-introduction

// preauthorized lists what first-party clients hold on first-party
// resources without any grant: Exchange Online PowerShell may use
// Exchange.Manage wherever its user may sign in.
var preauthorized = map[string]map[string][]string{
	ExchangePowerShellID: {ExchangeAppID: {"Exchange.Manage"}},
}

// signInLocked checks that u may sign in to t on behalf of client.
func (s *Server) signInLocked(u *User, t *Tenant, client *App) *aadError {
	if u.HomeTenant == t.ID {
		return nil
	}
	if _, ok := s.partnerAccessLocked(u, t); ok {
		return nil
	}
	return &aadError{Code: "invalid_grant", AADSTS: 50020, Message: fmt.Sprintf(
		"User account '%s' from identity provider 'https://sts.windows.net/%s/' does not exist in tenant '%s' and cannot access "+
			"the application '%s'(%s) in that tenant. The account needs to be added as an external user in the tenant first. "+
			"Sign out and sign in again with a different Azure Active Directory user account.",
		u.UPN, u.HomeTenant, t.DisplayName, client.AppID, client.DisplayName)}
}

// isAdminIn reports whether u holds the Global Administrator role in t:
// as a member of t, or through the roles of a GDAP relationship.
func (s *Server) isAdminIn(u *User, t *Tenant) bool {
	if u.HomeTenant == t.ID {
		return slices.Contains(u.Roles, GlobalAdminTemplateID)
	}
	roles, _ := s.partnerAccessLocked(u, t)
	return slices.Contains(roles, GlobalAdminTemplateID)
}

// delegatedScopesLocked decides what a delegated token for rr carries in
// t: the scp values (consented permissions, OpenID Connect ones included,
// offline_access left out), or why there is none. Entra issues every
// consented permission of the resource, not only those requested.
func (s *Server) delegatedScopesLocked(t *Tenant, client *App, u *User, rr *resourceRequest) ([]string, *aadError) {
	if rr.app == nil {
		return nil, resourceNotFound(rr.ident, t)
	}
	if len(rr.unknown) > 0 {
		return nil, invalidScope(rr.format(rr.unknown[0]))
	}
	resSP := t.ServicePrincipalByAppID(rr.app.AppID)
	if resSP == nil {
		return nil, resourceNotFound(rr.app.Resource, t)
	}
	held := slices.Clone(preauthorized[client.AppID][rr.app.AppID])
	clientSP := t.ServicePrincipalByAppID(client.AppID)
	if clientSP == nil && len(held) == 0 {
		if u.HomeTenant != t.ID {
			// A partner's delegated admin meets an app the customer never
			// authorized: AADSTS90099, not 65001.
			return nil, partnerAppNotAuthorized(client, t)
		}
		return nil, consentRequired(client)
	}
	if clientSP != nil {
		for _, sc := range t.DelegatedScopes(clientSP.ID, resSP.ID, u.ID) {
			if !slices.Contains(held, sc) {
				held = append(held, sc)
			}
		}
	}
	var scp []string
	resourceScopes := 0
	for _, sc := range held {
		if !oidcScopes[sc] {
			resourceScopes++
		}
		if sc != "offline_access" {
			scp = append(scp, sc)
		}
	}
	if rr.dflt && resourceScopes == 0 {
		return nil, consentRequired(client)
	}
	for _, n := range rr.names {
		if !slices.ContainsFunc(held, func(h string) bool { return strings.EqualFold(h, n) }) {
			return nil, consentRequired(client)
		}
	}
	return scp, nil
}

// consentLocked is the simulated admin meeting the consent prompt at
// sign-in (/authorize, the device code page): for what q asks that the
// client does not yet hold, a Global Administrator consents on behalf of
// the organization (an AllPrincipals grant; with .default, every
// permission in the app's registration, application permissions included,
// as "Grant admin consent" does), anyone else for themselves (a Principal
// grant). First-party clients are preauthorized and meet no prompt.
func (s *Server) consentLocked(t *Tenant, client *App, u *User, q scopeRequest) *aadError {
	for _, rr := range q.resources {
		if rr.app == nil {
			return resourceNotFound(rr.ident, t)
		}
		if len(rr.unknown) > 0 {
			return &aadError{Code: "invalid_client", AADSTS: 650053, Message: fmt.Sprintf(
				"The application '%s' asked for scope '%s' that doesn't exist on the resource '%s'. Contact the app vendor.",
				client.DisplayName, rr.unknown[0], rr.app.AppID)}
		}
	}
	if preauthorized[client.AppID] != nil {
		return nil
	}
	org := s.isAdminIn(u, t)
	if !org && u.HomeTenant != t.ID {
		return consentRequired(client)
	}
	now := s.clock.Now()
	clientSP := t.AddServicePrincipal(client, now)
	grant := func(res *App, scopes []string) {
		if len(scopes) == 0 {
			return
		}
		resSP := t.AddServicePrincipal(res, now)
		if org {
			mergeGrant(t, clientSP.ID, resSP.ID, scopes, now)
		} else {
			mergePrincipalGrant(t, clientSP.ID, resSP.ID, u.ID, scopes, now)
		}
	}
	if slices.ContainsFunc(q.resources, func(rr *resourceRequest) bool { return rr.dflt }) {
		if org {
			if err := s.grantConsentLocked(client.AppID, t.ID); err != nil {
				return consentRequired(client)
			}
		} else {
			for _, rra := range client.RequiredResourceAccess {
				if res := s.world.Apps[rra.ResourceAppID]; res != nil {
					grant(res, staticScopes(res, rra))
				}
			}
		}
	}
	for _, rr := range q.resources {
		grant(rr.app, rr.names)
	}
	graph := s.world.Apps[GraphAppID]
	var oidc []string
	for _, sc := range slices.Sorted(maps.Keys(q.oidc)) {
		if _, ok := publishedScope(graph, sc); ok {
			oidc = append(oidc, sc)
		}
	}
	grant(graph, oidc)
	return nil
}

// staticScopes returns the delegated permissions rra declares on res.
func staticScopes(res *App, rra RequiredResourceAccess) []string {
	var out []string
	for _, ra := range rra.ResourceAccess {
		if v, ok := res.Scopes[ra.ID]; ok && ra.Type == "Scope" {
			out = append(out, v)
		}
	}
	return out
}

// mergePrincipalGrant adds scopes to u's own grant of client on resource,
// creating it if needed.
func mergePrincipalGrant(t *Tenant, client, resource, principal string, scopes []string, now time.Time) {
	for _, g := range t.Grants {
		if g.ClientID == client && g.ResourceID == resource && g.ConsentType == "Principal" && g.PrincipalID == principal {
			have := strings.Fields(g.Scope)
			for _, sc := range scopes {
				if !slices.Contains(have, sc) {
					have = append(have, sc)
				}
			}
			g.Scope = strings.Join(have, " ")
			return
		}
	}
	id := newID()
	t.Grants[id] = &Grant{ID: id, ClientID: client, ConsentType: "Principal", PrincipalID: principal, ResourceID: resource,
		Scope: strings.Join(scopes, " "), CreatedAt: now}
}
