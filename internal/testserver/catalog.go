package testserver

// The first-party apps every tenant holds, with the scopes and roles samkit
// uses. Ids from Microsoft's Graph permissions reference
// (https://learn.microsoft.com/graph/permissions-reference) and
// MICROSOFT-APIS.md §2.
func firstPartyApps() []*App {
	return []*App{
		{
			AppID: GraphAppID, DisplayName: "Microsoft Graph", Resource: GraphResource,
			Scopes: map[string]string{
				"e1fe6dd8-ba31-4d61-89e7-88639da4683d": "User.Read",
				"a154be20-db9c-4678-8ab7-66f6cc099a59": "User.Read.All",
				"06da0dbc-49e2-44d2-8312-53f166ab848a": "Directory.Read.All",
				"0e263e50-5827-48a4-b97c-d940288653c7": "Directory.AccessAsUser.All",
				"c5366453-9fb0-48a5-a156-24f0c49a4b84": "Directory.ReadWrite.All",
				"bdfbf15f-ee85-4955-8675-146e8e5296b5": "Application.ReadWrite.All",
				"7427e0e9-2fba-42fe-b0c0-848c9e6a8182": "offline_access",
				"37f7f235-527c-4136-accd-4a02d197296e": "openid",
				"14dad69e-099b-42c9-810b-d002981feec1": "profile",
				"0c0064ea-477b-4130-82a5-4c2cc4ff68aa": "DelegatedAdminRelationship.Read.All",
				"885f682f-a990-4bad-a642-36736a74b0c7": "DelegatedAdminRelationship.ReadWrite.All",
				"84bccea3-f856-4a8a-967b-dbe0a3d53a64": "AppRoleAssignment.ReadWrite.All",
				"41ce6ca6-6826-4807-84f1-1c82854f7ee5": "DelegatedPermissionGrant.ReadWrite.All",
				"4e46008b-f24c-477d-8fff-7bb4ec7aafe0": "Group.ReadWrite.All",
			},
			Roles: map[string]string{
				"7ab1d382-f21e-4acd-a863-ba3e13f7da61": "Directory.Read.All",
				"df021288-bdef-4463-88db-98f22de89214": "User.Read.All",
				"bf394140-e372-4bf9-a898-299cfc7564e5": "SecurityEvents.Read.All",
				"1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9": "Application.ReadWrite.All",
				"f6e9e124-4586-492f-adc0-c6f96e4823fd": "DelegatedAdminRelationship.Read.All",
				"cc13eba4-8cd8-44c6-b4d4-f93237adce58": "DelegatedAdminRelationship.ReadWrite.All",
				"06b708a9-e830-4db3-a914-8e69da51d44f": "AppRoleAssignment.ReadWrite.All",
				"8e8e4742-1d95-4f68-9d56-6ee75648c72a": "DelegatedPermissionGrant.ReadWrite.All",
				"62a82d76-70ea-41e2-9197-370581804d09": "Group.ReadWrite.All",
			},
		},
		{
			AppID: ExchangeAppID, DisplayName: "Office 365 Exchange Online", Resource: ExchangeResource,
			Scopes: map[string]string{"ab4f2b77-0b06-4fc1-a9de-02113fc2ab7c": "Exchange.Manage"},
			Roles:  map[string]string{"dc50a0fb-09a3-484d-be87-e023b12c6440": "Exchange.ManageAsApp"},
		},
		{
			AppID: PartnerCenterAppID, DisplayName: "Microsoft Partner Center", Resource: PartnerCenterResource,
			Scopes: map[string]string{"1cebfa2a-fb4d-419e-b5f9-839b4383e05a": "user_impersonation"},
			Roles:  map[string]string{},
		},
		{AppID: ExchangePowerShellID, DisplayName: "Microsoft Exchange REST API Based Powershell", PublicClient: true,
			PublicRedirectURIs: []string{"https://login.microsoftonline.com/common/oauth2/nativeclient"}},
	}
}
