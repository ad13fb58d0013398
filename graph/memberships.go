package graph

import (
	"context"
	"iter"
	"net/http"
)

// User reads user idOrUPN: an object id or a userPrincipalName.
//
// See https://learn.microsoft.com/graph/api/user-get.
func (c *Client) User(ctx context.Context, idOrUPN string) (User, error) {
	if err := checkSegment("user id or userPrincipalName", idOrUPN); err != nil {
		return User{}, err
	}
	var u User
	err := c.do(ctx, request{method: http.MethodGet, path: "/users/" + idOrUPN}, &u)
	return u, err
}

// TransitiveMemberOfUser lists what user idOrUPN is a member of, directly
// or through nested groups; "" means the signed-in user (/me). Another
// user's memberships need User.Read.All (or GroupMember.Read.All,
// Directory.Read.All). opts.Top may be up to 999, Graph's largest page.
//
// See https://learn.microsoft.com/graph/api/user-list-transitivememberof.
func (c *Client) TransitiveMemberOfUser(ctx context.Context, idOrUPN string, opts ListOptions) iter.Seq2[DirectoryObject, error] {
	q, err := opts.values()
	if err != nil {
		return fail[DirectoryObject](err)
	}
	if idOrUPN == "" {
		return list[DirectoryObject](ctx, c, "/me/transitiveMemberOf", q)
	}
	if err := checkSegment("user id or userPrincipalName", idOrUPN); err != nil {
		return fail[DirectoryObject](err)
	}
	return list[DirectoryObject](ctx, c, "/users/"+idOrUPN+"/transitiveMemberOf", q)
}

// Group reads group id.
//
// See https://learn.microsoft.com/graph/api/group-get.
func (c *Client) Group(ctx context.Context, id string) (Group, error) {
	if err := checkGUID("group id", id); err != nil {
		return Group{}, err
	}
	var g Group
	err := c.do(ctx, request{method: http.MethodGet, path: "/groups/" + id}, &g)
	return g, err
}
