package graph

import (
	"context"
	"iter"
	"net/url"
	"time"
)

// Contract is a partner's relationship with a customer as /contracts
// lists it: reseller and DAP-era relationships. Names are snapshots taken
// when the relationship began.
type Contract struct {
	ID           string `json:"id"`
	ContractType string `json:"contractType"`
	// CustomerID is the customer's tenant id.
	CustomerID        string `json:"customerId"`
	DefaultDomainName string `json:"defaultDomainName"`
	DisplayName       string `json:"displayName"`
}

// Contracts lists the partner tenant's contracts with customers.
//
// See https://learn.microsoft.com/graph/api/contract-list.
func (c *Client) Contracts(ctx context.Context) iter.Seq2[Contract, error] {
	return list[Contract](ctx, c, "/contracts", nil)
}

// Statuses of a delegated admin (GDAP) relationship.
const (
	RelationshipActive          = "active"
	RelationshipApprovalPending = "approvalPending"
	RelationshipExpired         = "expired"
	RelationshipTerminated      = "terminated"
	// Created and TerminationRequested appear while a relationship is
	// prepared and while it ends (gdap.go).
	RelationshipCreated              = "created"
	RelationshipTerminationRequested = "terminationRequested"
	// Approved and Activating pass between the customer's approval and
	// active, for minutes; a client polling then sees them.
	RelationshipApproved   = "approved"
	RelationshipActivating = "activating"
)

// relationshipStatuses are the values of Graph's
// delegatedAdminRelationshipStatus.
var relationshipStatuses = map[string]bool{
	"activating": true, "active": true, "approvalPending": true, "approved": true, "created": true,
	"expired": true, "expiring": true, "terminated": true, "terminating": true, "terminationRequested": true,
}

// DelegatedAdminRelationship is a GDAP relationship: the roles a partner
// holds in a customer tenant, for a time.
type DelegatedAdminRelationship struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	// Status is "active" for a usable relationship; see the Relationship
	// constants.
	Status        string                    `json:"status"`
	Customer      DelegatedAdminCustomerRef `json:"customer"`
	AccessDetails DelegatedAdminAccess      `json:"accessDetails"`
	// Duration and AutoExtendDuration are ISO 8601 durations ("P730D").
	Duration             string    `json:"duration,omitzero"`
	AutoExtendDuration   string    `json:"autoExtendDuration,omitzero"`
	CreatedDateTime      time.Time `json:"createdDateTime,omitzero"`
	ActivatedDateTime    time.Time `json:"activatedDateTime,omitzero"`
	LastModifiedDateTime time.Time `json:"lastModifiedDateTime,omitzero"`
	EndDateTime          time.Time `json:"endDateTime,omitzero"`
	// ETag is the relationship's @odata.etag, which an update or delete
	// sends back in If-Match (see gdap.go).
	ETag string `json:"@odata.etag,omitempty"`
}

// DelegatedAdminCustomerRef names the customer of a relationship.
type DelegatedAdminCustomerRef struct {
	TenantID    string `json:"tenantId"`
	DisplayName string `json:"displayName"`
}

// DelegatedAdminAccess lists the roles a relationship grants.
type DelegatedAdminAccess struct {
	UnifiedRoles []UnifiedRole `json:"unifiedRoles"`
}

// UnifiedRole names a directory role by its role definition (template) id.
type UnifiedRole struct {
	RoleDefinitionID string `json:"roleDefinitionId"`
}

// DelegatedAdminRelationships lists the partner's GDAP relationships; with
// a non-empty status ("active", "expired"…), only those in that status.
// Microsoft-led transition relationships (named MLT_…) are listed too:
// they are read-only leftovers of the move from DAP.
//
// See https://learn.microsoft.com/graph/api/tenantrelationship-list-delegatedadminrelationships.
func (c *Client) DelegatedAdminRelationships(ctx context.Context, status string) iter.Seq2[DelegatedAdminRelationship, error] {
	var q url.Values
	if status != "" {
		if !relationshipStatuses[status] {
			return fail[DelegatedAdminRelationship](invalidArg("unknown GDAP relationship status %s", shorten(status)))
		}
		q = url.Values{"$filter": {"status eq " + Quote(status)}}
	}
	return list[DelegatedAdminRelationship](ctx, c, "/tenantRelationships/delegatedAdminRelationships", q)
}

// DelegatedAdminCustomer is a customer with which the partner has at least
// one GDAP relationship.
type DelegatedAdminCustomer struct {
	ID          string `json:"id"`
	TenantID    string `json:"tenantId"`
	DisplayName string `json:"displayName"`
}

// DelegatedAdminCustomers lists the partner's GDAP customers.
//
// See https://learn.microsoft.com/graph/api/tenantrelationship-list-delegatedadmincustomers.
func (c *Client) DelegatedAdminCustomers(ctx context.Context) iter.Seq2[DelegatedAdminCustomer, error] {
	return list[DelegatedAdminCustomer](ctx, c, "/tenantRelationships/delegatedAdminCustomers", nil)
}
