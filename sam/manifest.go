package sam

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/samkit/samkit/internal/httpx"
)

// The resource applications a SAM app asks permissions of. These app ids are
// the same in every tenant and every cloud.
const (
	GraphAppID         = "00000003-0000-0000-c000-000000000000" // Microsoft Graph
	ExchangeAppID      = "00000002-0000-0ff1-ce00-000000000000" // Office 365 Exchange Online
	PartnerCenterAppID = "fa3d9a0c-3fb0-42cc-9193-47c7ecd2edbd" // Microsoft Partner Center
)

// The values of the "type" member of a requiredResourceAccess entry.
const (
	AccessScope = "Scope" // a delegated permission (an oauth2PermissionScope)
	AccessRole  = "Role"  // an application permission (an appRole)
)

// Permission is one permission of a resource application.
type Permission struct {
	// ID is the permission's GUID: the id of an oauth2PermissionScope for a
	// delegated permission, of an appRole for an application permission.
	ID string
	// Name is the permission's value, such as "User.Read.All". Delegated
	// permissions must have one: admin-consent grants and Partner Center
	// consents list scopes by name.
	Name string
}

// String returns the name, or the id when the name is not known.
func (p Permission) String() string {
	if p.Name != "" {
		return p.Name
	}
	return p.ID
}

// ResourceAccess is what the SAM app asks of one resource application.
type ResourceAccess struct {
	// ResourceAppID is the resource's application id, such as GraphAppID.
	ResourceAppID string
	// Name is the resource's display name, for messages; it is not sent.
	Name string
	// Delegated permissions are used when the app acts as the signed-in admin
	// (requiredResourceAccess type "Scope").
	Delegated []Permission
	// Application permissions are used with app-only tokens
	// (requiredResourceAccess type "Role").
	Application []Permission
}

func (r ResourceAccess) label() string {
	if r.Name != "" {
		return fmt.Sprintf("%s (%s)", r.Name, r.ResourceAppID)
	}
	return r.ResourceAppID
}

// GrantScope returns the delegated permission names separated by spaces: the
// scope of an oauth2PermissionGrant that admin-consents them.
func (r ResourceAccess) GrantScope() string { return r.joinDelegated(" ") }

// PartnerConsentScope returns the delegated permission names separated by
// commas: the scope of an applicationGrant in a Partner Center application
// consent, which uses commas where Graph uses spaces.
func (r ResourceAccess) PartnerConsentScope() string { return r.joinDelegated(",") }

func (r ResourceAccess) joinDelegated(sep string) string {
	names := make([]string, 0, len(r.Delegated))
	for _, p := range r.Delegated {
		names = append(names, p.Name)
	}
	return strings.Join(names, sep)
}

// AppRoleIDs returns the ids of the application permissions: each one is
// granted by its own appRoleAssignment.
func (r ResourceAccess) AppRoleIDs() []string {
	ids := make([]string, 0, len(r.Application))
	for _, p := range r.Application {
		ids = append(ids, p.ID)
	}
	return ids
}

// Manifest is the set of permissions the SAM app asks for, per resource.
// The zero Manifest asks for nothing; DefaultManifest is what samkit needs.
type Manifest struct {
	Resources []ResourceAccess
}

// DefaultManifest returns the smallest manifest with which every part of
// the model works: Graph reads as the admin and as the app, Exchange
// administration both ways, and Partner Center as the admin, for the
// access check; DelegatedAdminRelationship.Read.All, for Partner.Tenants to read
// the partner's GDAP relationships; AppRoleAssignment.ReadWrite.All, for
// PushConsent to assign the app's application permissions inside a
// customer tenant (Partner Center's consent carries delegated permissions
// only); and DelegatedPermissionGrant.ReadWrite.All, for PushConsent to
// complete a customer's grant once the manifest has grown (Partner Center
// only answers that the consent exists). Each call returns a new copy.
//
// Every id is checked against Microsoft's published tables; see catalog.
func DefaultManifest() Manifest {
	graph := func(kind PermissionKind, names ...string) []Permission {
		ps := make([]Permission, 0, len(names))
		for _, n := range names {
			id, ok := LookupPermission(GraphAppID, kind, n)
			if !ok {
				panic("sam: default permission missing from catalog: " + n)
			}
			ps = append(ps, Permission{ID: id, Name: n})
		}
		return ps
	}
	return Manifest{Resources: []ResourceAccess{
		{
			ResourceAppID: GraphAppID,
			Name:          "Microsoft Graph",
			Delegated: graph(DelegatedPermission, "User.Read", "Directory.Read.All", "User.Read.All",
				"DelegatedAdminRelationship.Read.All", "AppRoleAssignment.ReadWrite.All", "DelegatedPermissionGrant.ReadWrite.All",
				"offline_access", "openid", "profile"),
			Application: graph(ApplicationPermission, "Directory.Read.All"),
		},
		{
			ResourceAppID: ExchangeAppID,
			Name:          "Office 365 Exchange Online",
			Delegated:     []Permission{{ID: exchangeManageID, Name: "Exchange.Manage"}},
			Application:   []Permission{{ID: exchangeManageAsAppID, Name: "Exchange.ManageAsApp"}},
		},
		{
			ResourceAppID: PartnerCenterAppID,
			Name:          "Microsoft Partner Center",
			Delegated:     []Permission{{ID: partnerUserImpersonationID, Name: "user_impersonation"}},
		},
	}}
}

// UnattendedRotationManifest returns m with Microsoft Graph's delegated
// Application.ReadWrite.All added: with it, RotateCredentials with
// Unattended adds and removes the app's secrets and certificates through
// the SAM refresh token, as the admin who consented, with no sign-in
// (https://learn.microsoft.com/graph/api/application-addpassword,
// https://learn.microsoft.com/graph/api/application-addkey). It lets
// whoever holds the refresh token manage every app registration the
// admin may, so add it only where rotation must run unattended.
func UnattendedRotationManifest(m Manifest) Manifest {
	id, _ := LookupPermission(GraphAppID, DelegatedPermission, "Application.ReadWrite.All")
	return m.Merge(Manifest{Resources: []ResourceAccess{{ResourceAppID: GraphAppID, Name: "Microsoft Graph",
		Delegated: []Permission{{ID: id, Name: "Application.ReadWrite.All"}}}}})
}

// Resource returns what m asks of the resource with the given app id.
func (m Manifest) Resource(resourceAppID string) (ResourceAccess, bool) {
	for _, r := range m.Resources {
		if strings.EqualFold(r.ResourceAppID, resourceAppID) {
			return r, true
		}
	}
	return ResourceAccess{}, false
}

// Merge returns the union of m and o: every resource and permission of m, in
// m's order, followed by what o adds. A permission is the same when its
// resource, kind and id are. Neither m nor o is modified. Loading a larger
// manifest and merging it into DefaultManifest keeps what samkit itself needs.
func (m Manifest) Merge(o Manifest) Manifest {
	out := Manifest{Resources: make([]ResourceAccess, 0, len(m.Resources)+len(o.Resources))}
	index := map[string]int{}
	for _, src := range [][]ResourceAccess{m.Resources, o.Resources} {
		for _, r := range src {
			key := strings.ToLower(r.ResourceAppID)
			i, ok := index[key]
			if !ok {
				index[key] = len(out.Resources)
				out.Resources = append(out.Resources, ResourceAccess{
					ResourceAppID: r.ResourceAppID,
					Name:          r.Name,
					Delegated:     slices.Clone(r.Delegated),
					Application:   slices.Clone(r.Application),
				})
				continue
			}
			dst := &out.Resources[i]
			if dst.Name == "" {
				dst.Name = r.Name
			}
			dst.Delegated = mergePermissions(dst.Delegated, r.Delegated)
			dst.Application = mergePermissions(dst.Application, r.Application)
		}
	}
	return out
}

func mergePermissions(dst, add []Permission) []Permission {
	for _, p := range add {
		i := slices.IndexFunc(dst, func(q Permission) bool { return strings.EqualFold(q.ID, p.ID) })
		switch {
		case i < 0:
			dst = append(dst, p)
		case dst[i].Name == "":
			dst[i].Name = p.Name
		}
	}
	return dst
}

// Validate reports the first problem that would make Graph refuse the
// manifest or make samkit's grants incomplete: a malformed GUID, a resource
// listed twice, a duplicate permission, a delegated permission without a
// name (or with a space or comma in it), or an id that contradicts the
// catalog for a well-known name.
func (m Manifest) Validate() error {
	seen := map[string]bool{}
	for _, r := range m.Resources {
		if !httpx.IsGUID(r.ResourceAppID) {
			return fmt.Errorf("manifest: resource %s: resourceAppId %q is not a GUID", r.Name, r.ResourceAppID)
		}
		key := strings.ToLower(r.ResourceAppID)
		if seen[key] {
			return fmt.Errorf("manifest: resource %s is listed twice; list each resource once", r.label())
		}
		seen[key] = true
		for _, kp := range []struct {
			kind PermissionKind
			ps   []Permission
		}{{DelegatedPermission, r.Delegated}, {ApplicationPermission, r.Application}} {
			ids := map[string]bool{}
			for _, p := range kp.ps {
				if err := checkPermission(r.ResourceAppID, kp.kind, p); err != nil {
					return fmt.Errorf("manifest: resource %s: %w", r.label(), err)
				}
				id := strings.ToLower(p.ID)
				if ids[id] {
					return fmt.Errorf("manifest: resource %s: %s permission %s is listed twice", r.label(), kp.kind, p)
				}
				ids[id] = true
			}
		}
	}
	return nil
}

// checkPermission is shared by Validate and LoadManifest so that both give
// the same answer for the same permission.
func checkPermission(resourceAppID string, kind PermissionKind, p Permission) error {
	if !httpx.IsGUID(p.ID) {
		return fmt.Errorf("%s permission %q: id %q is not a GUID", kind, p.Name, p.ID)
	}
	if kind == DelegatedPermission {
		if p.Name == "" {
			return fmt.Errorf("delegated permission %s has no name: delegated permissions are granted by name, so give its value (as in the resource's oauth2PermissionScopes)", p.ID)
		}
		if strings.ContainsAny(p.Name, " ,\t\n") {
			return fmt.Errorf("delegated permission %q: a name cannot contain spaces or commas", p.Name)
		}
	}
	if p.Name == "" {
		return nil
	}
	if want, ok := LookupPermission(resourceAppID, kind, p.Name); ok && !strings.EqualFold(want, p.ID) {
		return fmt.Errorf("%s permission %s: id %s is wrong, Microsoft's id for it is %s", kind, p.Name, p.ID, want)
	}
	if name, ok := PermissionName(resourceAppID, kind, p.ID); ok && !strings.EqualFold(name, p.Name) {
		return fmt.Errorf("%s permission %q: id %s belongs to %s", kind, p.Name, p.ID, name)
	}
	return nil
}

// RequiredResourceAccess is one entry of an application's
// requiredResourceAccess, in the shape Microsoft Graph reads and writes
// (POST/PATCH /applications).
type RequiredResourceAccess struct {
	ResourceAppID  string        `json:"resourceAppId"`
	ResourceAccess []AccessEntry `json:"resourceAccess"`
}

// AccessEntry is one permission in a RequiredResourceAccess.
type AccessEntry struct {
	ID   string `json:"id"`
	Type string `json:"type"` // AccessScope or AccessRole
}

// RequiredResourceAccess returns m in the shape of an application's
// requiredResourceAccess, delegated permissions before application ones.
func (m Manifest) RequiredResourceAccess() []RequiredResourceAccess {
	out := make([]RequiredResourceAccess, 0, len(m.Resources))
	for _, r := range m.Resources {
		e := RequiredResourceAccess{ResourceAppID: r.ResourceAppID, ResourceAccess: []AccessEntry{}}
		for _, p := range r.Delegated {
			e.ResourceAccess = append(e.ResourceAccess, AccessEntry{ID: p.ID, Type: AccessScope})
		}
		for _, p := range r.Application {
			e.ResourceAccess = append(e.ResourceAccess, AccessEntry{ID: p.ID, Type: AccessRole})
		}
		out = append(out, e)
	}
	return out
}

// MarshalJSON writes m as a requiredResourceAccess array that also carries
// the names ("resourceName" per resource, "name" per permission), so that
// LoadManifest reads it back whole, permissions outside the catalog
// included. Graph does not know these extensions: send
// RequiredResourceAccess, not this, to Graph.
func (m Manifest) MarshalJSON() ([]byte, error) {
	type entry struct {
		ID   string `json:"id"`
		Name string `json:"name,omitempty"`
		Type string `json:"type"`
	}
	type resource struct {
		ResourceAppID  string  `json:"resourceAppId"`
		ResourceName   string  `json:"resourceName,omitempty"`
		ResourceAccess []entry `json:"resourceAccess"`
	}
	out := make([]resource, 0, len(m.Resources))
	for _, r := range m.Resources {
		e := resource{ResourceAppID: r.ResourceAppID, ResourceName: r.Name, ResourceAccess: []entry{}}
		for _, p := range r.Delegated {
			e.ResourceAccess = append(e.ResourceAccess, entry{ID: p.ID, Name: p.Name, Type: AccessScope})
		}
		for _, p := range r.Application {
			e.ResourceAccess = append(e.ResourceAccess, entry{ID: p.ID, Name: p.Name, Type: AccessRole})
		}
		out = append(out, e)
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads what LoadManifest reads.
func (m *Manifest) UnmarshalJSON(b []byte) error {
	got, err := parseManifest(b)
	if err != nil {
		return err
	}
	*m = got
	return nil
}
