package sam

import (
	"context"

	"github.com/samkit/samkit/internal/testserver"
	"github.com/samkit/samkit/token"
)

// TenantSources lets the external tests list tenants from clients holding
// tokens minted for them, with rights a real sign-in would not choose.
type TenantSources = tenantSources

// ListTenants is Partner.Tenants on given clients, for the partner tenant
// partnerID ("": read from Graph).
func ListTenants(ctx context.Context, src TenantSources, opts ListOptions, partnerID string) ([]Tenant, error) {
	return listTenants(ctx, src, opts, partnerID)
}

// Unrotated makes p as if built with the refresh token it holds now, and so
// never rotated since: a Partner whose token came without a new refresh
// token, which Entra may do, and the fake never does.
func Unrotated(p *Partner) { p.refresh = p.p.RefreshToken(token.RefreshSAM) }

// ClockWaits is a Sleep that moves a fake's clock instead of waiting, and
// keeps the waits it was asked for.
type ClockWaits = clockWaits

// NewClockWaits returns a ClockWaits moving s's clock.
func NewClockWaits(s *testserver.Server) *ClockWaits { return &clockWaits{s: s} }
