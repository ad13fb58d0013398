package sam

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/samkit/samkit/graph"
)

// Consent drift is the difference, in one customer tenant, between what
// the manifest asks for and what the SAM app's service principal holds
// there: the AllPrincipals delegated grants (oauth2PermissionGrants) and
// the app role assignments. It is read in one Graph $batch request, so
// that a doctor or a plan over thousands of tenants costs one request per
// tenant: it finds the service principals (the SAM app's and each
// resource's) by application id and lists the SAM app's grants and
// assignments, addressing its service principal by appId, which Graph
// takes in place of the object id. The items depend on nothing, so Graph
// runs them in parallel: the batch takes about as long as one read.
// https://learn.microsoft.com/graph/json-batching
// https://learn.microsoft.com/graph/api/serviceprincipal-list-oauth2permissiongrants
// https://learn.microsoft.com/graph/api/serviceprincipal-list-approleassignments

// ConsentDrift is what a tenant lacks, or holds beyond, the manifest.
type ConsentDrift struct {
	Tenant string `json:"tenant"`
	// NoServicePrincipal is set when the SAM app has no service principal
	// in the tenant: nothing is consented, and everything is to add.
	NoServicePrincipal bool `json:"noServicePrincipal,omitzero"`
	// ServicePrincipalID is the SAM app's service principal in the tenant.
	ServicePrincipalID string `json:"servicePrincipalId,omitzero"`
	// GrantsToAdd are resources with no AllPrincipals grant at all, with
	// the scopes the manifest asks for; ScopesToAdd are scopes missing from
	// an existing grant.
	GrantsToAdd []GrantChange `json:"grantsToAdd,omitzero"`
	ScopesToAdd []GrantChange `json:"scopesToAdd,omitzero"`
	// RolesToAdd are application permissions not assigned.
	RolesToAdd []RoleChange `json:"rolesToAdd,omitzero"`
	// ScopesToRemove, GrantsToRemove and RolesToRemove are what the SAM
	// app holds beyond the manifest: what --prune removes.
	ScopesToRemove []GrantChange `json:"scopesToRemove,omitzero"`
	GrantsToRemove []GrantChange `json:"grantsToRemove,omitzero"`
	RolesToRemove  []RoleChange  `json:"rolesToRemove,omitzero"`
	// Err is why the tenant could not be read; the lists are then empty.
	Err error `json:"-"`
}

// GrantChange is a delegated grant, or some of its scopes, on a resource.
type GrantChange struct {
	Resource      string   `json:"resource"`
	ResourceAppID string   `json:"resourceAppId"`
	GrantID       string   `json:"grantId,omitzero"`
	Scopes        []string `json:"scopes"`
}

// RoleChange is an application permission on a resource.
type RoleChange struct {
	Resource      string `json:"resource"`
	ResourceAppID string `json:"resourceAppId"`
	AppRoleID     string `json:"appRoleId"`
	// Name is the permission's value when the manifest names it.
	Name         string `json:"name,omitzero"`
	AssignmentID string `json:"assignmentId,omitzero"`
}

// Missing reports whether the tenant lacks anything the manifest asks for.
func (d ConsentDrift) Missing() bool {
	return d.NoServicePrincipal || len(d.GrantsToAdd)+len(d.ScopesToAdd)+len(d.RolesToAdd) > 0
}

// Extra reports whether the tenant holds anything beyond the manifest.
func (d ConsentDrift) Extra() bool {
	return len(d.ScopesToRemove)+len(d.GrantsToRemove)+len(d.RolesToRemove) > 0
}

// readConsentDrift reads the consent of the SAM app appID in the tenant of
// g and compares it with m, in one request.
func readConsentDrift(ctx context.Context, g *graph.Client, tenant, appID string, m Manifest) ConsentDrift {
	d := ConsentDrift{Tenant: tenant}
	ids := []string{appID}
	for _, r := range m.Resources {
		ids = append(ids, r.ResourceAppID)
	}
	var reqs []graph.BatchRequest
	for i, id := range ids {
		q := url.Values{"$filter": {"appId eq " + graph.Quote(id)}, "$select": {"id,appId,displayName"}}
		reqs = append(reqs, graph.BatchRequest{ID: fmt.Sprint(i), URL: "/servicePrincipals?" + q.Encode()})
	}
	client := "/servicePrincipals(appId=" + graph.Quote(appID) + ")"
	reqs = append(reqs,
		graph.BatchRequest{ID: "grants", URL: client + "/oauth2PermissionGrants"},
		graph.BatchRequest{ID: "roles", URL: client + "/appRoleAssignments"})
	resp, err := g.Batch(ctx, reqs)
	if err != nil {
		d.Err = fmt.Errorf("reading the SAM app's consent: %w", err)
		return d
	}
	sps := make([]*graph.ServicePrincipal, len(ids))
	for i := range ids {
		var page struct {
			Value []graph.ServicePrincipal `json:"value"`
		}
		if err := resp[i].Decode(&page); err != nil {
			d.Err = fmt.Errorf("reading the service principal of %s: %w", ids[i], err)
			return d
		}
		if len(page.Value) > 0 {
			sps[i] = &page.Value[0]
		}
	}
	if sps[0] == nil {
		// The grants and assignments answered 404: there is no service
		// principal to hold them.
		d.NoServicePrincipal = true
		for _, r := range m.Resources {
			if len(r.Delegated) > 0 {
				d.GrantsToAdd = append(d.GrantsToAdd, GrantChange{Resource: cmp.Or(r.Name, r.ResourceAppID), ResourceAppID: r.ResourceAppID, Scopes: names(r.Delegated)})
			}
			for _, p := range r.Application {
				d.RolesToAdd = append(d.RolesToAdd, RoleChange{Resource: cmp.Or(r.Name, r.ResourceAppID), ResourceAppID: r.ResourceAppID, AppRoleID: p.ID, Name: p.Name})
			}
		}
		return d
	}
	d.ServicePrincipalID = sps[0].ID
	// One page is all there is: the SAM app holds one grant per resource
	// (AllPrincipals) and a few app roles, far below Graph's page of 100.
	var grants struct {
		Value []graph.OAuth2PermissionGrant `json:"value"`
	}
	var roles struct {
		Value []graph.AppRoleAssignment `json:"value"`
	}
	if err := errors.Join(resp[len(ids)].Decode(&grants), resp[len(ids)+1].Decode(&roles)); err != nil {
		d.Err = fmt.Errorf("reading the SAM app's consent: %w", err)
		return d
	}
	resources := map[string]ResourceAccess{}
	for i, r := range m.Resources {
		if sps[i+1] != nil {
			resources[sps[i+1].ID] = r
		}
	}
	d.compare(m, sps[1:], grants.Value, roles.Value, resources)
	return d
}

// compare fills d from the grants and assignments held, given the
// resources' service principals (nil when a resource has none in the
// tenant, so nothing on it can be granted).
func (d *ConsentDrift) compare(m Manifest, rsps []*graph.ServicePrincipal, grants []graph.OAuth2PermissionGrant, roles []graph.AppRoleAssignment, byID map[string]ResourceAccess) {
	for i, r := range m.Resources {
		rsp := rsps[i]
		if len(r.Delegated) > 0 {
			j := -1
			if rsp != nil {
				j = slices.IndexFunc(grants, func(g graph.OAuth2PermissionGrant) bool {
					return g.ResourceID == rsp.ID && g.ConsentType == graph.ConsentAllPrincipals
				})
			}
			if j < 0 {
				d.GrantsToAdd = append(d.GrantsToAdd, GrantChange{Resource: cmp.Or(r.Name, r.ResourceAppID), ResourceAppID: r.ResourceAppID, Scopes: names(r.Delegated)})
			} else {
				have := grants[j].Scopes()
				var add, extra []string
				for _, p := range r.Delegated {
					if !containsFold(have, p.Name) {
						add = append(add, p.Name)
					}
				}
				for _, s := range have {
					if !slices.ContainsFunc(r.Delegated, func(p Permission) bool { return strings.EqualFold(p.Name, s) }) {
						extra = append(extra, s)
					}
				}
				if add != nil {
					d.ScopesToAdd = append(d.ScopesToAdd, GrantChange{Resource: cmp.Or(r.Name, r.ResourceAppID), ResourceAppID: r.ResourceAppID, GrantID: grants[j].ID, Scopes: add})
				}
				if extra != nil {
					d.ScopesToRemove = append(d.ScopesToRemove, GrantChange{Resource: cmp.Or(r.Name, r.ResourceAppID), ResourceAppID: r.ResourceAppID, GrantID: grants[j].ID, Scopes: extra})
				}
			}
		}
		for _, p := range r.Application {
			if rsp == nil || !slices.ContainsFunc(roles, func(a graph.AppRoleAssignment) bool {
				return a.ResourceID == rsp.ID && strings.EqualFold(a.AppRoleID, p.ID)
			}) {
				d.RolesToAdd = append(d.RolesToAdd, RoleChange{Resource: cmp.Or(r.Name, r.ResourceAppID), ResourceAppID: r.ResourceAppID, AppRoleID: p.ID, Name: p.Name})
			}
		}
	}
	for _, g := range grants {
		if _, ok := byID[g.ResourceID]; !ok && g.ConsentType == graph.ConsentAllPrincipals {
			d.GrantsToRemove = append(d.GrantsToRemove, GrantChange{Resource: g.ResourceID, GrantID: g.ID, Scopes: g.Scopes()})
		}
	}
	for _, a := range roles {
		r, ok := byID[a.ResourceID]
		if ok && slices.ContainsFunc(r.Application, func(p Permission) bool { return strings.EqualFold(p.ID, a.AppRoleID) }) {
			continue
		}
		rc := RoleChange{Resource: a.ResourceID, AppRoleID: a.AppRoleID, AssignmentID: a.ID}
		if ok {
			rc.Resource, rc.ResourceAppID = cmp.Or(r.Name, r.ResourceAppID), r.ResourceAppID
		}
		d.RolesToRemove = append(d.RolesToRemove, rc)
	}
}

func names(ps []Permission) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name
	}
	return out
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(h string) bool { return strings.EqualFold(h, s) })
}
