package sam

import "context"

// TenantSources lets the external tests list tenants from clients holding
// tokens minted for them, with rights a real sign-in would not choose.
type TenantSources = tenantSources

// ListTenants is Partner.Tenants on given clients, for the partner tenant
// partnerID ("": read from Graph).
func ListTenants(ctx context.Context, src TenantSources, opts ListOptions, partnerID string) ([]Tenant, error) {
	return listTenants(ctx, src, opts, partnerID)
}
