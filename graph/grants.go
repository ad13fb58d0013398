package graph

import (
	"context"
	"iter"
	"net/http"
	"strings"

	"github.com/samkit/samkit/internal/httpx"
)

// Consent types of an OAuth2PermissionGrant.
const (
	// ConsentAllPrincipals is admin consent: for every user of the tenant.
	ConsentAllPrincipals = "AllPrincipals"
	// ConsentPrincipal is one user's consent.
	ConsentPrincipal = "Principal"
)

// OAuth2PermissionGrant is a delegated permission grant: client may call
// resource with the scopes in Scope on behalf of users.
type OAuth2PermissionGrant struct {
	ID string `json:"id,omitzero"`
	// ClientID is the object id of the client's service principal (not its
	// application id).
	ClientID    string `json:"clientId"`
	ConsentType string `json:"consentType"`
	// PrincipalID is the user of a Principal grant; empty for
	// AllPrincipals.
	PrincipalID string `json:"principalId,omitzero"`
	// ResourceID is the object id of the resource's service principal.
	ResourceID string `json:"resourceId"`
	// Scope lists the delegated permissions, separated by spaces.
	Scope string `json:"scope"`
}

// Scopes returns the grant's permissions.
func (g OAuth2PermissionGrant) Scopes() []string { return strings.Fields(g.Scope) }

// CreateOAuth2PermissionGrant grants delegated permissions: with
// ConsentType AllPrincipals, it is admin consent for the whole tenant.
//
// See https://learn.microsoft.com/graph/api/oauth2permissiongrant-post.
func (c *Client) CreateOAuth2PermissionGrant(ctx context.Context, g OAuth2PermissionGrant) (OAuth2PermissionGrant, error) {
	if err := checkGUID("grant clientId", g.ClientID); err != nil {
		return OAuth2PermissionGrant{}, err
	}
	if err := checkGUID("grant resourceId", g.ResourceID); err != nil {
		return OAuth2PermissionGrant{}, err
	}
	refs := []string{g.ClientID, g.ResourceID}
	switch g.ConsentType {
	case ConsentAllPrincipals:
		if g.PrincipalID != "" {
			return OAuth2PermissionGrant{}, invalidArg("an AllPrincipals grant has no principalId")
		}
	case ConsentPrincipal:
		if err := checkGUID("grant principalId", g.PrincipalID); err != nil {
			return OAuth2PermissionGrant{}, err
		}
		refs = append(refs, g.PrincipalID)
	default:
		return OAuth2PermissionGrant{}, invalidArg("grant consentType %s is neither %s nor %s", shorten(g.ConsentType), ConsentAllPrincipals, ConsentPrincipal)
	}
	if strings.TrimSpace(g.Scope) == "" {
		return OAuth2PermissionGrant{}, invalidArg("a grant needs a scope")
	}
	g.ID = ""
	var out OAuth2PermissionGrant
	err := c.do(ctx, request{method: http.MethodPost, path: "/oauth2PermissionGrants", body: g,
		class: httpx.RetryThrottleOnly, refs: refs}, &out)
	if err != nil {
		return OAuth2PermissionGrant{}, err
	}
	c.MarkCreated(out.ID)
	return out, nil
}

// OAuth2PermissionGrants lists the delegated permission grants of the
// client service principal clientSPID: what it may call, on whose behalf.
//
// See https://learn.microsoft.com/graph/api/serviceprincipal-list-oauth2permissiongrants.
func (c *Client) OAuth2PermissionGrants(ctx context.Context, clientSPID string) iter.Seq2[OAuth2PermissionGrant, error] {
	if err := checkGUID("service principal id", clientSPID); err != nil {
		return fail[OAuth2PermissionGrant](err)
	}
	return list[OAuth2PermissionGrant](ctx, c, "/servicePrincipals/"+clientSPID+"/oauth2PermissionGrants", nil, clientSPID)
}

// UpdateOAuth2PermissionGrantScope replaces the scopes of grant id with
// scope (space separated).
//
// See https://learn.microsoft.com/graph/api/oauth2permissiongrant-update.
func (c *Client) UpdateOAuth2PermissionGrantScope(ctx context.Context, id, scope string) error {
	if err := checkSegment("grant id", id); err != nil {
		return err
	}
	body := struct {
		Scope string `json:"scope"`
	}{scope}
	return c.do(ctx, request{method: http.MethodPatch, path: "/oauth2PermissionGrants/" + id, body: body,
		class: httpx.RetryAlways, refs: []string{id}}, nil)
}

// DeleteOAuth2PermissionGrant revokes the delegated permission grant id.
//
// See https://learn.microsoft.com/graph/api/oauth2permissiongrant-delete.
func (c *Client) DeleteOAuth2PermissionGrant(ctx context.Context, id string) error {
	if err := checkSegment("grant id", id); err != nil {
		return err
	}
	return c.do(ctx, request{method: http.MethodDelete, path: "/oauth2PermissionGrants/" + id, refs: []string{id}}, nil)
}
