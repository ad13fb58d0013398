package graph

import (
	"context"
	"iter"
	"net/http"
	"time"

	"github.com/samkit/samkit/internal/httpx"
)

// AppRoleAssignment grants an app role (an application permission) of a
// resource to a principal, such as a client app's service principal.
type AppRoleAssignment struct {
	ID string `json:"id,omitzero"`
	// PrincipalID is the object id of the service principal (or user or
	// group) the role is granted to.
	PrincipalID          string `json:"principalId"`
	PrincipalType        string `json:"principalType,omitzero"`
	PrincipalDisplayName string `json:"principalDisplayName,omitzero"`
	// ResourceID is the object id of the resource's service principal.
	ResourceID          string `json:"resourceId"`
	ResourceDisplayName string `json:"resourceDisplayName,omitzero"`
	// AppRoleID is the id of the app role in the resource's AppRoles.
	AppRoleID       string    `json:"appRoleId"`
	CreatedDateTime time.Time `json:"createdDateTime,omitzero"`
}

// AssignAppRole grants a.AppRoleID of the resource service principal
// resourceSPID to a.PrincipalID: admin consent to an application
// permission. a.ResourceID may be left empty; it is resourceSPID.
//
// See https://learn.microsoft.com/graph/api/serviceprincipal-post-approleassignedto.
func (c *Client) AssignAppRole(ctx context.Context, resourceSPID string, a AppRoleAssignment) (AppRoleAssignment, error) {
	if err := checkGUID("resource service principal id", resourceSPID); err != nil {
		return AppRoleAssignment{}, err
	}
	if a.ResourceID == "" {
		a.ResourceID = resourceSPID
	}
	if a.ResourceID != resourceSPID {
		return AppRoleAssignment{}, invalidArg("assignment resourceId %s differs from the resource service principal %s", shorten(a.ResourceID), resourceSPID)
	}
	if err := checkGUID("assignment principalId", a.PrincipalID); err != nil {
		return AppRoleAssignment{}, err
	}
	if err := checkGUID("assignment appRoleId", a.AppRoleID); err != nil {
		return AppRoleAssignment{}, err
	}
	body := struct {
		PrincipalID string `json:"principalId"`
		ResourceID  string `json:"resourceId"`
		AppRoleID   string `json:"appRoleId"`
	}{a.PrincipalID, a.ResourceID, a.AppRoleID}
	var out AppRoleAssignment
	err := c.do(ctx, request{method: http.MethodPost, path: "/servicePrincipals/" + resourceSPID + "/appRoleAssignedTo", body: body,
		class: httpx.RetryThrottleOnly, refs: []string{resourceSPID, a.PrincipalID}}, &out)
	if err != nil {
		return AppRoleAssignment{}, err
	}
	c.MarkCreated(out.ID)
	return out, nil
}

// AppRoleAssignments lists the app roles granted to the service principal
// spID: the application permissions it holds.
//
// See https://learn.microsoft.com/graph/api/serviceprincipal-list-approleassignments.
func (c *Client) AppRoleAssignments(ctx context.Context, spID string) iter.Seq2[AppRoleAssignment, error] {
	if err := checkGUID("service principal id", spID); err != nil {
		return fail[AppRoleAssignment](err)
	}
	return list[AppRoleAssignment](ctx, c, "/servicePrincipals/"+spID+"/appRoleAssignments", nil, spID)
}

// DeleteAppRoleAssignment removes the app role assignment id from the
// service principal spID it was granted to (its PrincipalID).
//
// See https://learn.microsoft.com/graph/api/serviceprincipal-delete-approleassignments.
func (c *Client) DeleteAppRoleAssignment(ctx context.Context, spID, id string) error {
	if err := checkGUID("service principal id", spID); err != nil {
		return err
	}
	if err := checkSegment("app role assignment id", id); err != nil {
		return err
	}
	return c.do(ctx, request{method: http.MethodDelete, path: "/servicePrincipals/" + spID + "/appRoleAssignments/" + id,
		refs: []string{spID, id}}, nil)
}
