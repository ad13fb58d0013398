package graph

import (
	"context"
	"iter"
	"net/http"

	"github.com/samkit/samkit/internal/httpx"
)

// ServicePrincipal is an application's instance in one tenant. Its
// presence there is what lets the tenant's users sign in to the app, and
// grants and role assignments hang off it.
type ServicePrincipal struct {
	ID                     string `json:"id"`
	AppID                  string `json:"appId"`
	DisplayName            string `json:"displayName,omitzero"`
	AppDisplayName         string `json:"appDisplayName,omitzero"`
	ServicePrincipalType   string `json:"servicePrincipalType,omitzero"`
	AppOwnerOrganizationID string `json:"appOwnerOrganizationId,omitzero"`
	AccountEnabled         *bool  `json:"accountEnabled,omitzero"`
	// AppRoles are the application permissions a resource publishes.
	AppRoles []AppRole `json:"appRoles,omitzero"`
	// OAuth2PermissionScopes are the delegated permissions a resource
	// publishes.
	OAuth2PermissionScopes []PermissionScope `json:"oauth2PermissionScopes,omitzero"`
}

// AppRole is an application permission (or a role users can be assigned).
type AppRole struct {
	ID                 string   `json:"id"`
	Value              string   `json:"value"`
	DisplayName        string   `json:"displayName,omitzero"`
	Description        string   `json:"description,omitzero"`
	AllowedMemberTypes []string `json:"allowedMemberTypes,omitzero"`
	IsEnabled          bool     `json:"isEnabled"`
}

// PermissionScope is a delegated permission.
type PermissionScope struct {
	ID                      string `json:"id"`
	Value                   string `json:"value"`
	Type                    string `json:"type,omitzero"` // "Admin" or "User": who may consent
	AdminConsentDisplayName string `json:"adminConsentDisplayName,omitzero"`
	IsEnabled               bool   `json:"isEnabled"`
}

// CreateServicePrincipal creates the service principal of application
// appID in the client's tenant. For an app this client has just created,
// Graph may first answer that appID "does not reference a valid
// application object"; the call is retried through that (see the package
// documentation).
//
// See https://learn.microsoft.com/graph/api/serviceprincipal-post-serviceprincipals.
func (c *Client) CreateServicePrincipal(ctx context.Context, appID string) (ServicePrincipal, error) {
	if err := checkGUID("application id", appID); err != nil {
		return ServicePrincipal{}, err
	}
	body := struct {
		AppID string `json:"appId"`
	}{appID}
	var out ServicePrincipal
	err := c.do(ctx, request{method: http.MethodPost, path: "/servicePrincipals", body: body,
		class: httpx.RetryThrottleOnly, refs: []string{appID}}, &out)
	if err != nil {
		return ServicePrincipal{}, err
	}
	c.MarkCreated(out.ID)
	return out, nil
}

// GetServicePrincipal returns the service principal with object id id.
//
// See https://learn.microsoft.com/graph/api/serviceprincipal-get.
func (c *Client) GetServicePrincipal(ctx context.Context, id string) (ServicePrincipal, error) {
	if err := checkGUID("service principal id", id); err != nil {
		return ServicePrincipal{}, err
	}
	var out ServicePrincipal
	err := c.do(ctx, request{method: http.MethodGet, path: "/servicePrincipals/" + id, refs: []string{id}}, &out)
	return out, err
}

// DeleteServicePrincipal deletes the service principal with object id id,
// and with it every consent (grants and app role assignments) given to it
// in the client's tenant.
//
// See https://learn.microsoft.com/graph/api/serviceprincipal-delete.
func (c *Client) DeleteServicePrincipal(ctx context.Context, id string) error {
	if err := checkGUID("service principal id", id); err != nil {
		return err
	}
	return c.do(ctx, request{method: http.MethodDelete, path: "/servicePrincipals/" + id, refs: []string{id}}, nil)
}

// ServicePrincipalByAppID returns the service principal of application
// appID in the client's tenant, or an error matching ErrNotFound when the
// app has none there (it was never consented in that tenant).
//
// See https://learn.microsoft.com/graph/api/serviceprincipal-list.
func (c *Client) ServicePrincipalByAppID(ctx context.Context, appID string) (ServicePrincipal, error) {
	if err := checkGUID("application id", appID); err != nil {
		return ServicePrincipal{}, err
	}
	return firstMatch[ServicePrincipal](ctx, c, "/servicePrincipals", "appId eq "+Quote(appID), "service principal with appId "+appID, appID)
}

// ServicePrincipals lists the tenant's service principals.
//
// See https://learn.microsoft.com/graph/api/serviceprincipal-list.
func (c *Client) ServicePrincipals(ctx context.Context, opts ListOptions) iter.Seq2[ServicePrincipal, error] {
	q, err := opts.values()
	if err != nil {
		return fail[ServicePrincipal](err)
	}
	return list[ServicePrincipal](ctx, c, "/servicePrincipals", q)
}
