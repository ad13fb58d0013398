package sam

// GDAPManifest returns what managing GDAP adds to DefaultManifest, for
// Setup to ask for when the SAM app is to invite, assign, onboard and
// offboard customers (Partner.Onboard, Partner.Offboard, GDAP's writes):
//
//   - DelegatedAdminRelationship.ReadWrite.All: creating, locking,
//     changing and terminating relationships and their access
//     assignments; Microsoft's least-privileged permission for each of
//     those calls ("Create delegatedAdminRelationship",
//     https://learn.microsoft.com/graph/api/tenantrelationship-post-delegatedadminrelationships).
//   - Group.ReadWrite.All: finding or creating the partner's security
//     groups that receive the roles, and adding the admin to them;
//     creating a group as a signed-in user has no narrower delegated
//     permission (https://learn.microsoft.com/graph/api/group-post-groups).
//
// They are not in DefaultManifest on purpose: the SAM app's refresh token
// lives for months on the machines that run automation, and with these a
// stolen one could end every customer relationship, invite customers to
// new ones, and change any group of the partner's tenant. Most automation
// only reads; a partner opts in where it onboards. Merge it:
// DefaultManifest().Merge(GDAPManifest()). Each call returns a new copy.
func GDAPManifest() Manifest {
	ps := make([]Permission, 0, 2)
	for _, n := range []string{"DelegatedAdminRelationship.ReadWrite.All", "Group.ReadWrite.All"} {
		id, ok := LookupPermission(GraphAppID, DelegatedPermission, n)
		if !ok {
			panic("sam: GDAP permission missing from catalog: " + n)
		}
		ps = append(ps, Permission{ID: id, Name: n})
	}
	return Manifest{Resources: []ResourceAccess{{ResourceAppID: GraphAppID, Name: "Microsoft Graph", Delegated: ps}}}
}
