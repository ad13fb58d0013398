package sam

import (
	"fmt"
	"slices"
	"strings"
)

// PermissionKind tells delegated permissions from application permissions.
type PermissionKind int

// The kinds of permission.
const (
	DelegatedPermission   PermissionKind = iota + 1 // type "Scope"
	ApplicationPermission                           // type "Role"
)

// String returns "delegated" or "application".
func (k PermissionKind) String() string {
	switch k {
	case DelegatedPermission:
		return "delegated"
	case ApplicationPermission:
		return "application"
	}
	return fmt.Sprintf("PermissionKind(%d)", int(k))
}

// Ids of the non-Graph permissions samkit asks for. Exchange.ManageAsApp is
// in the requiredResourceAccess example of "App-only authentication in
// Exchange Online PowerShell"
// (https://learn.microsoft.com/powershell/exchange/app-only-auth-powershell-v2);
// Exchange.Manage and Partner Center's user_impersonation are the ids that
// partner tooling has granted to SAM apps since the model began.
//
// The Exchange Online Admin API v2.0's permissions, Exchange.ManageV2
// (delegated) and Exchange.ManageAsAppV2 (application), are not in the
// catalog: "Authentication and authorization for the Exchange Online Admin
// API" (https://learn.microsoft.com/exchange/reference/admin-api-authentication)
// names them and has them picked in the portal, but no Microsoft page
// publishes their ids, and an id copied from elsewhere could not be
// confirmed. So the default manifest keeps the permissions of the default
// API, InvokeCommand (exchange.APIBeta); a manifest file adds the V2 ones
// with their ids, read from the Exchange service principal's
// oauth2PermissionScopes and appRoles in the partner's tenant.
const (
	exchangeManageID           = "ab4f2b77-0b06-4fc1-a9de-02113fc2ab7c"
	exchangeManageAsAppID      = "dc50a0fb-09a3-484d-be87-e023b12c6440"
	partnerUserImpersonationID = "1cebfa2a-fb4d-419e-b5f9-839b4383e05a"
)

type knownResource struct {
	appID       string
	name        string
	aliases     []string // lower case; accepted as "resourceName" in a manifest file
	delegated   map[string]string
	application map[string]string
}

// catalog names the permissions MSPs commonly give a SAM app, so that a
// manifest can list them by name. Every Graph id below was checked against
// the "All permissions and IDs" table of the Microsoft Graph permissions
// reference (https://learn.microsoft.com/graph/permissions-reference), which
// Microsoft generates from Graph's own service principal. A wrong id would
// fail only against the real cloud, so add an id here only from that table.
var catalog = []knownResource{
	{
		appID:   GraphAppID,
		name:    "Microsoft Graph",
		aliases: []string{"microsoft graph", "graph", "msgraph"},
		delegated: map[string]string{
			"Application.ReadWrite.All":                "bdfbf15f-ee85-4955-8675-146e8e5296b5",
			"AppRoleAssignment.ReadWrite.All":          "84bccea3-f856-4a8a-967b-dbe0a3d53a64",
			"AuditLog.Read.All":                        "e4c9e354-4dc5-45b8-9e7c-e1393b0b1a20",
			"DelegatedAdminRelationship.Read.All":      "0c0064ea-477b-4130-82a5-4c2cc4ff68aa",
			"DelegatedAdminRelationship.ReadWrite.All": "885f682f-a990-4bad-a642-36736a74b0c7",
			"DelegatedPermissionGrant.ReadWrite.All":   "41ce6ca6-6826-4807-84f1-1c82854f7ee5",
			"Directory.Read.All":                       "06da0dbc-49e2-44d2-8312-53f166ab848a",
			"Directory.ReadWrite.All":                  "c5366453-9fb0-48a5-a156-24f0c49a4b84",
			"Domain.Read.All":                          "2f9ee017-59c1-4f1d-9472-bd5529a7b311",
			"Group.Read.All":                           "5f8c59db-677d-491f-a6b8-5f174b11ec1d",
			"Group.ReadWrite.All":                      "4e46008b-f24c-477d-8fff-7bb4ec7aafe0",
			"offline_access":                           "7427e0e9-2fba-42fe-b0c0-848c9e6a8182",
			"openid":                                   "37f7f235-527c-4136-accd-4a02d197296e",
			"Organization.Read.All":                    "4908d5b9-3fb2-4b1e-9336-1888b7937185",
			"Policy.Read.All":                          "572fea84-0151-49b2-9301-11cb16974376",
			"profile":                                  "14dad69e-099b-42c9-810b-d002981feec1",
			"Reports.Read.All":                         "02e97553-ed7b-43d0-ab3c-f8bace0d040c",
			"SecurityEvents.Read.All":                  "64733abd-851e-478a-bffb-e47a14b18235",
			"User.Read":                                "e1fe6dd8-ba31-4d61-89e7-88639da4683d",
			"User.Read.All":                            "a154be20-db9c-4678-8ab7-66f6cc099a59",
			"User.ReadWrite.All":                       "204e0828-b5ca-4ad8-b9f3-f32a958e7cc4",
		},
		application: map[string]string{
			"AppRoleAssignment.ReadWrite.All":          "06b708a9-e830-4db3-a914-8e69da51d44f",
			"AuditLog.Read.All":                        "b0afded3-3588-46d8-8b3d-9842eff778da",
			"DelegatedAdminRelationship.Read.All":      "f6e9e124-4586-492f-adc0-c6f96e4823fd",
			"DelegatedAdminRelationship.ReadWrite.All": "cc13eba4-8cd8-44c6-b4d4-f93237adce58",
			"DelegatedPermissionGrant.ReadWrite.All":   "8e8e4742-1d95-4f68-9d56-6ee75648c72a",
			"Directory.Read.All":                       "7ab1d382-f21e-4acd-a863-ba3e13f7da61",
			"Directory.ReadWrite.All":                  "19dbc75e-c2e2-444c-a770-ec69d8559fc7",
			"Domain.Read.All":                          "dbb9058a-0e50-45d7-ae91-66909b5d4664",
			"Group.Read.All":                           "5b567255-7703-4780-807c-7be8301ae99b",
			"Group.ReadWrite.All":                      "62a82d76-70ea-41e2-9197-370581804d09",
			"Organization.Read.All":                    "498476ce-e0fe-48b0-b801-37ba7e2685c6",
			"Policy.Read.All":                          "246dd0d5-5bd0-4def-940b-0421030a5b68",
			"Reports.Read.All":                         "230c1aed-a721-4c5d-9cb4-a90514e508ef",
			"SecurityEvents.Read.All":                  "bf394140-e372-4bf9-a898-299cfc7564e5",
			"User.Read.All":                            "df021288-bdef-4463-88db-98f22de89214",
			"User.ReadWrite.All":                       "741f803b-c850-494e-b5df-cde7c675a1ca",
		},
	},
	{
		appID:       ExchangeAppID,
		name:        "Office 365 Exchange Online",
		aliases:     []string{"office 365 exchange online", "exchange online", "exchange"},
		delegated:   map[string]string{"Exchange.Manage": exchangeManageID},
		application: map[string]string{"Exchange.ManageAsApp": exchangeManageAsAppID},
	},
	{
		appID:     PartnerCenterAppID,
		name:      "Microsoft Partner Center",
		aliases:   []string{"microsoft partner center", "partner center", "partnercenter"},
		delegated: map[string]string{"user_impersonation": partnerUserImpersonationID},
	},
}

func knownResourceByID(appID string) *knownResource {
	for i := range catalog {
		if strings.EqualFold(catalog[i].appID, appID) {
			return &catalog[i]
		}
	}
	return nil
}

func knownResourceByName(name string) *knownResource {
	name = strings.ToLower(strings.TrimSpace(name))
	for i := range catalog {
		if slices.Contains(catalog[i].aliases, name) {
			return &catalog[i]
		}
	}
	return nil
}

func (r *knownResource) table(kind PermissionKind) map[string]string {
	if kind == DelegatedPermission {
		return r.delegated
	}
	return r.application
}

// LookupPermission returns the id of a well-known permission, given its
// resource's app id, its kind and its name (in any case, as Entra ID
// compares permission values without regard to case).
func LookupPermission(resourceAppID string, kind PermissionKind, name string) (id string, ok bool) {
	_, id, ok = lookupName(resourceAppID, kind, name)
	return id, ok
}

// lookupName is LookupPermission that also returns the name as Microsoft
// spells it.
func lookupName(resourceAppID string, kind PermissionKind, name string) (canonical, id string, ok bool) {
	r := knownResourceByID(resourceAppID)
	if r == nil {
		return "", "", false
	}
	for n, v := range r.table(kind) {
		if strings.EqualFold(n, name) {
			return n, v, true
		}
	}
	return "", "", false
}

// PermissionName returns the name of a well-known permission, given its
// resource's app id, its kind and its id.
func PermissionName(resourceAppID string, kind PermissionKind, id string) (name string, ok bool) {
	r := knownResourceByID(resourceAppID)
	if r == nil {
		return "", false
	}
	for n, v := range r.table(kind) {
		if strings.EqualFold(v, id) {
			return n, true
		}
	}
	return "", false
}
