// Package azsam lets the Azure SDK for Go, and every client built on it
// (msgraph-sdk-go, the Key Vault, Resource Manager and Storage clients…),
// take its tokens from samkit: a Credential is an azcore.TokenCredential
// whose tokens come from a token.Provider, in any customer tenant, as the
// partner's admin (delegated, through GDAP) or as the SAM app itself
// (app-only).
//
//	p, err := token.NewProvider(creds)
//	…
//	cred, err := azsam.NewCredential(p, customerTenantID, nil)
//	…
//	client, err := msgraphsdk.NewGraphServiceClientWithCredentials(cred, nil)
//
// The Provider caches and refreshes; the Credential adds nothing but the
// translation, so a Credential per customer costs nothing and shares the
// Provider's cache with samkit's own clients.
//
// It is a package of its own so that token, and programs that do not use
// the Azure SDK, do not depend on azcore.
package azsam

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/samkit/samkit/token"
)

// CredentialOptions configures a Credential. Nil means the defaults.
type CredentialOptions struct {
	// AppOnly makes the Credential ask for app-only tokens (the client
	// credentials grant with the SAM app's secret or certificate) instead of
	// delegated ones (the partner admin's refresh token). App-only tokens
	// take one resource's ".default" scope.
	AppOnly bool
}

// Credential is an azcore.TokenCredential backed by a token.Provider. It is
// safe for concurrent use.
type Credential struct {
	p       tokens
	tenant  string
	appOnly bool
}

// tokens is what a Credential needs of a *token.Provider.
type tokens interface {
	Token(ctx context.Context, tenant, scope string) (token.Token, error)
	AppToken(ctx context.Context, tenant, scope string) (token.Token, error)
	Invalidate(t token.Token)
}

var _ azcore.TokenCredential = (*Credential)(nil)

// NewCredential returns a Credential that gets its tokens from p, in
// tenantID (a customer's tenant id or domain, or the partner's) unless a
// request names another in TokenRequestOptions.TenantID.
func NewCredential(p *token.Provider, tenantID string, options *CredentialOptions) (*Credential, error) {
	if p == nil {
		return nil, errors.New("azsam: NewCredential needs a token.Provider (token.NewProvider)")
	}
	if strings.TrimSpace(tenantID) == "" {
		return nil, errors.New("azsam: NewCredential needs a tenant: the customer's tenant id or domain, or the partner's")
	}
	if options == nil {
		options = &CredentialOptions{}
	}
	return &Credential{p: p, tenant: tenantID, appOnly: options.AppOnly}, nil
}

// GetToken returns a token for opts.Scopes in opts.TenantID, or in the
// Credential's tenant when that is empty.
//
// The scopes must belong to one resource: "https://graph.microsoft.com/.default",
// or delegated permissions such as "https://graph.microsoft.com/User.Read"
// (a scope without a resource is Graph's, as for the identity platform).
// openid, profile, email and offline_access belong to no resource and are
// left to the Provider. A token for several resources does not exist: such
// a request is an error.
//
// opts.Claims, set after a service answered with a claims challenge, drops
// the cached token and gets a new one. The claims themselves cannot be
// passed on: a refresh token cannot answer a challenge that needs the admin
// to sign in again, and the identity platform says so (for example
// token.ErrMFARequired). opts.EnableCAE is ignored: the Provider does not ask
// for CAE tokens, so services do not send CAE challenges for them.
//
// Errors from the Provider are returned as they are, so that errors.Is and
// errors.As find token's sentinels and *token.Error.
func (c *Credential) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	scope, err := c.scope(opts.Scopes)
	if err != nil {
		return azcore.AccessToken{}, err
	}
	tenant := cmp.Or(opts.TenantID, c.tenant)
	get := c.p.Token
	if c.appOnly {
		get = c.p.AppToken
	}
	tok, err := get(ctx, tenant, scope)
	if err == nil && opts.Claims != "" {
		c.p.Invalidate(tok)
		tok, err = get(ctx, tenant, scope)
	}
	if err != nil {
		return azcore.AccessToken{}, err
	}
	return azcore.AccessToken{Token: tok.AccessToken.Reveal(), ExpiresOn: tok.Expiry}, nil
}

// oidcScopes are the OpenID Connect scopes, which name no resource.
var oidcScopes = []string{"openid", "profile", "email", "offline_access"}

// graphResource is the resource of a scope that names none.
const graphResource = "https://graph.microsoft.com"

// scope turns azcore's list of scopes into the Provider's one scope string.
func (c *Credential) scope(scopes []string) (string, error) {
	var kept, resources []string
	for _, s := range scopes {
		s = strings.TrimSpace(s)
		if s == "" || slices.Contains(oidcScopes, strings.ToLower(s)) {
			continue
		}
		resource := graphResource
		if i := strings.LastIndex(s, "/"); i > 0 {
			resource = s[:i]
		}
		if !slices.ContainsFunc(resources, func(r string) bool { return strings.EqualFold(r, resource) }) {
			resources = append(resources, resource)
		}
		kept = append(kept, s)
	}
	switch {
	case len(kept) == 0:
		return "", fmt.Errorf("azsam: no resource scope asked for (got %q): ask for one resource's scopes, e.g. https://graph.microsoft.com/.default", scopes)
	case len(resources) > 1:
		return "", fmt.Errorf("azsam: scopes %q name %d resources (%s): a token is for one resource; use one client, or one request, per resource",
			kept, len(resources), strings.Join(resources, ", "))
	case c.appOnly && (len(kept) != 1 || !strings.HasSuffix(kept[0], "/.default")):
		return "", fmt.Errorf("azsam: app-only tokens take one resource's .default scope (e.g. %s/.default), not %q", resources[0], kept)
	}
	return strings.Join(kept, " "), nil
}
