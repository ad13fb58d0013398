package graph

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"time"
)

// Organization is the tenant the client's token is for.
type Organization struct {
	ID                string           `json:"id"`
	DisplayName       string           `json:"displayName"`
	TenantType        string           `json:"tenantType,omitzero"`
	CountryLetterCode string           `json:"countryLetterCode,omitzero"`
	VerifiedDomains   []VerifiedDomain `json:"verifiedDomains,omitzero"`
	CreatedDateTime   time.Time        `json:"createdDateTime,omitzero"`
}

// VerifiedDomain is one of an organization's verified domains.
type VerifiedDomain struct {
	Name         string `json:"name"`
	Type         string `json:"type,omitzero"`
	IsDefault    bool   `json:"isDefault"`
	IsInitial    bool   `json:"isInitial"`
	Capabilities string `json:"capabilities,omitzero"`
}

// DefaultDomain returns the organization's default domain, or its initial
// (onmicrosoft.com) one when none is marked default.
func (o Organization) DefaultDomain() string {
	initial := ""
	for _, d := range o.VerifiedDomains {
		if d.IsDefault {
			return d.Name
		}
		if d.IsInitial {
			initial = d.Name
		}
	}
	return initial
}

// Organization returns the tenant the client's token is for.
//
// See https://learn.microsoft.com/graph/api/organization-list.
func (c *Client) Organization(ctx context.Context) (Organization, error) {
	var p page[Organization]
	if err := c.do(ctx, request{method: http.MethodGet, path: "/organization"}, &p); err != nil {
		return Organization{}, err
	}
	if len(p.Value) == 0 {
		return Organization{}, fmt.Errorf("graph: GET /organization returned no organization")
	}
	return p.Value[0], nil
}

// Domain is a domain of the tenant.
type Domain struct {
	ID                 string   `json:"id"`
	AuthenticationType string   `json:"authenticationType,omitzero"`
	IsDefault          bool     `json:"isDefault"`
	IsInitial          bool     `json:"isInitial"`
	IsVerified         bool     `json:"isVerified"`
	IsAdminManaged     bool     `json:"isAdminManaged"`
	SupportedServices  []string `json:"supportedServices,omitzero"`
}

// Domains lists the tenant's domains.
//
// See https://learn.microsoft.com/graph/api/domain-list.
func (c *Client) Domains(ctx context.Context) iter.Seq2[Domain, error] {
	return list[Domain](ctx, c, "/domains", nil)
}
