package graph

import (
	"context"
	"iter"
	"net/http"
	"strings"
)

// User is a directory user.
type User struct {
	ID                string `json:"id"`
	DisplayName       string `json:"displayName,omitzero"`
	UserPrincipalName string `json:"userPrincipalName,omitzero"`
	Mail              string `json:"mail,omitzero"`
	UserType          string `json:"userType,omitzero"`
	AccountEnabled    *bool  `json:"accountEnabled,omitzero"`
}

// Me returns the signed-in user of a delegated token.
//
// See https://learn.microsoft.com/graph/api/user-get.
func (c *Client) Me(ctx context.Context) (User, error) {
	var u User
	err := c.do(ctx, request{method: http.MethodGet, path: "/me"}, &u)
	return u, err
}

// Users lists the tenant's users.
//
// See https://learn.microsoft.com/graph/api/user-list.
func (c *Client) Users(ctx context.Context, opts ListOptions) iter.Seq2[User, error] {
	q, err := opts.values()
	if err != nil {
		return fail[User](err)
	}
	return list[User](ctx, c, "/users", q)
}

// OData types of the directory objects membership lists return.
const (
	ODataTypeGroup         = "#microsoft.graph.group"
	ODataTypeDirectoryRole = "#microsoft.graph.directoryRole"
)

// GlobalAdminRoleTemplateID is the role template id of Global
// Administrator, the same in every tenant.
const GlobalAdminRoleTemplateID = "62e90394-69f5-4237-9190-012177145e10"

// DirectoryObject is an entry of a membership list: a group, a directory
// role or an administrative unit, told apart by ODataType.
type DirectoryObject struct {
	ODataType   string `json:"@odata.type"`
	ID          string `json:"id"`
	DisplayName string `json:"displayName,omitzero"`
	Description string `json:"description,omitzero"`
	// RoleTemplateID is set for directory roles.
	RoleTemplateID string `json:"roleTemplateId,omitzero"`
}

// IsGroup reports whether o is a group.
func (o DirectoryObject) IsGroup() bool { return o.ODataType == ODataTypeGroup }

// IsDirectoryRole reports whether o is an (activated) directory role.
func (o DirectoryObject) IsDirectoryRole() bool { return o.ODataType == ODataTypeDirectoryRole }

// MemberOf lists the groups, directory roles and administrative units the
// signed-in user is a direct member of.
//
// See https://learn.microsoft.com/graph/api/user-list-memberof.
func (c *Client) MemberOf(ctx context.Context) iter.Seq2[DirectoryObject, error] {
	return list[DirectoryObject](ctx, c, "/me/memberOf", nil)
}

// TransitiveMemberOf lists what the signed-in user is a member of,
// directly or through nested groups.
//
// See https://learn.microsoft.com/graph/api/user-list-transitivememberof.
func (c *Client) TransitiveMemberOf(ctx context.Context) iter.Seq2[DirectoryObject, error] {
	return list[DirectoryObject](ctx, c, "/me/transitiveMemberOf", nil)
}

// IsGlobalAdmin reports whether the signed-in user holds the Global
// Administrator role, directly or through a role-assignable group. A role
// only eligible through Privileged Identity Management, not activated,
// does not count: Graph lists active roles only.
func (c *Client) IsGlobalAdmin(ctx context.Context) (bool, error) {
	for o, err := range c.TransitiveMemberOf(ctx) {
		if err != nil {
			return false, err
		}
		if o.IsDirectoryRole() && strings.EqualFold(o.RoleTemplateID, GlobalAdminRoleTemplateID) {
			return true, nil
		}
	}
	return false, nil
}

// IsMemberOfGroup reports whether the signed-in user is a direct member of
// the group called name (compared without regard to case), such as the
// partner tenant's AdminAgents group.
func (c *Client) IsMemberOfGroup(ctx context.Context, name string) (bool, error) {
	if name == "" {
		return false, invalidArg("empty group name")
	}
	for o, err := range c.MemberOf(ctx) {
		if err != nil {
			return false, err
		}
		if o.IsGroup() && strings.EqualFold(o.DisplayName, name) {
			return true, nil
		}
	}
	return false, nil
}
