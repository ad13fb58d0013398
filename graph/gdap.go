package graph

import (
	"context"
	"iter"
	"net/http"
	"regexp"
	"time"

	"github.com/samkit/samkit/internal/httpx"
)

// Managing GDAP relationships: create one, lock it for the customer's
// approval, assign its roles to the partner's security groups, change it
// and end it. Every write needs DelegatedAdminRelationship.ReadWrite.All.
// Listing is in partner.go.
//
// See https://learn.microsoft.com/graph/api/resources/delegatedadminrelationship.

const relationshipsPath = "/tenantRelationships/delegatedAdminRelationships"

// relationshipIDRE matches a relationship id: Microsoft's are two GUIDs
// joined by a dash, but any run of hex digits and dashes is accepted.
var relationshipIDRE = regexp.MustCompile(`^[0-9A-Fa-f][0-9A-Fa-f-]{0,99}$`)

func checkRelationshipID(id string) error {
	if !relationshipIDRE.MatchString(id) {
		return invalidArg("GDAP relationship id %s is not hex digits and dashes", shorten(id))
	}
	return nil
}

// NewDelegatedAdminRelationship is what a new relationship asks for.
type NewDelegatedAdminRelationship struct {
	// DisplayName is unique among the partner's relationships, at most 50
	// characters.
	DisplayName string `json:"displayName"`
	// Duration is an ISO 8601 duration from P1D to P2Y ("P730D").
	Duration string `json:"duration"`
	// Customer names the customer; nil invites a tenant not yet known
	// (whichever customer admin approves the invitation).
	Customer      *DelegatedAdminCustomerRef `json:"customer,omitempty"`
	AccessDetails DelegatedAdminAccess       `json:"accessDetails"`
	// AutoExtendDuration is "P180D" to extend automatically, "PT0S" (the
	// default) not to; empty leaves Graph's default.
	AutoExtendDuration string `json:"autoExtendDuration,omitempty"`
}

// CreateDelegatedAdminRelationship creates a relationship in status
// created. It grants nothing until locked for approval
// (LockDelegatedAdminRelationship) and approved by the customer.
//
// See https://learn.microsoft.com/graph/api/tenantrelationship-post-delegatedadminrelationships.
func (c *Client) CreateDelegatedAdminRelationship(ctx context.Context, rel NewDelegatedAdminRelationship) (DelegatedAdminRelationship, error) {
	switch {
	case rel.DisplayName == "":
		return DelegatedAdminRelationship{}, invalidArg("a GDAP relationship needs a display name")
	case len([]rune(rel.DisplayName)) > 50:
		return DelegatedAdminRelationship{}, invalidArg("GDAP relationship display name %s is longer than 50 characters", shorten(rel.DisplayName))
	case rel.Duration == "":
		return DelegatedAdminRelationship{}, invalidArg("a GDAP relationship needs a duration (P1D to P2Y)")
	case len(rel.AccessDetails.UnifiedRoles) == 0:
		return DelegatedAdminRelationship{}, invalidArg("a GDAP relationship needs at least one role")
	}
	var out DelegatedAdminRelationship
	err := c.do(ctx, request{method: http.MethodPost, path: relationshipsPath, body: rel, class: httpx.RetryThrottleOnly}, &out)
	return out, err
}

// GetDelegatedAdminRelationship returns relationship id, with its ETag.
//
// See https://learn.microsoft.com/graph/api/delegatedadminrelationship-get.
func (c *Client) GetDelegatedAdminRelationship(ctx context.Context, id string) (DelegatedAdminRelationship, error) {
	if err := checkRelationshipID(id); err != nil {
		return DelegatedAdminRelationship{}, err
	}
	var out DelegatedAdminRelationship
	err := c.do(ctx, request{method: http.MethodGet, path: relationshipsPath + "/" + id}, &out)
	return out, err
}

// DelegatedAdminRelationshipPatch holds the properties an update changes;
// nil fields stay. While a relationship is created all may change; while
// active only AutoExtendDuration, and AccessDetails only to remove Global
// Administrator.
type DelegatedAdminRelationshipPatch struct {
	DisplayName        *string                    `json:"displayName,omitempty"`
	Duration           *string                    `json:"duration,omitempty"`
	Customer           *DelegatedAdminCustomerRef `json:"customer,omitempty"`
	AccessDetails      *DelegatedAdminAccess      `json:"accessDetails,omitempty"`
	AutoExtendDuration *string                    `json:"autoExtendDuration,omitempty"`
}

// UpdateDelegatedAdminRelationship changes relationship id if it still has
// etag (its @odata.etag when read); otherwise the error matches
// ErrPreconditionFailed and nothing changed: read it again and retry.
// Removing Global Administrator from an active relationship is a
// long-running operation: the answer is then accepted=true with no
// relationship, and DelegatedAdminRelationshipOperations follows it.
//
// See https://learn.microsoft.com/graph/api/delegatedadminrelationship-update.
func (c *Client) UpdateDelegatedAdminRelationship(ctx context.Context, id, etag string, patch DelegatedAdminRelationshipPatch) (rel DelegatedAdminRelationship, accepted bool, err error) {
	if err := checkRelationshipID(id); err != nil {
		return DelegatedAdminRelationship{}, false, err
	}
	if etag == "" {
		return DelegatedAdminRelationship{}, false, invalidArg("updating GDAP relationship %s needs its ETag", id)
	}
	// A replay with the same ETag fails with 412 once the first landed,
	// so the update is retried on throttling only.
	err = c.do(ctx, request{method: http.MethodPatch, path: relationshipsPath + "/" + id, body: patch,
		class: httpx.RetryThrottleOnly, header: http.Header{"If-Match": {etag}}}, &rel)
	return rel, err == nil && rel.ID == "", err
}

// DeleteDelegatedAdminRelationship deletes relationship id, which must
// still be in status created (later ones end by TerminateDelegatedAdminRelationship).
//
// See https://learn.microsoft.com/graph/api/delegatedadminrelationship-delete.
func (c *Client) DeleteDelegatedAdminRelationship(ctx context.Context, id, etag string) error {
	if err := checkRelationshipID(id); err != nil {
		return err
	}
	if etag == "" {
		return invalidArg("deleting GDAP relationship %s needs its ETag", id)
	}
	return c.do(ctx, request{method: http.MethodDelete, path: relationshipsPath + "/" + id,
		class: httpx.RetryThrottleOnly, header: http.Header{"If-Match": {etag}}}, nil)
}

// Actions of a relationship request.
const (
	ActionLockForApproval = "lockForApproval"
	ActionApprove         = "approve"
	ActionTerminate       = "terminate"
	ActionReject          = "reject"
)

// DelegatedAdminRelationshipRequest is an action taken on a relationship
// and how it went: status created, pending, succeeded or failed.
type DelegatedAdminRelationshipRequest struct {
	ID                   string    `json:"id"`
	Action               string    `json:"action"`
	Status               string    `json:"status"`
	CreatedDateTime      time.Time `json:"createdDateTime,omitzero"`
	LastModifiedDateTime time.Time `json:"lastModifiedDateTime,omitzero"`
}

// RequestDelegatedAdminRelationship takes action on relationship id:
// ActionLockForApproval (created → approvalPending, ready for the
// customer's approval), ActionTerminate (active → terminated), and, for
// an indirect reseller's relationships, ActionApprove or ActionReject.
//
// See https://learn.microsoft.com/graph/api/delegatedadminrelationship-post-requests.
func (c *Client) RequestDelegatedAdminRelationship(ctx context.Context, id, action string) (DelegatedAdminRelationshipRequest, error) {
	if err := checkRelationshipID(id); err != nil {
		return DelegatedAdminRelationshipRequest{}, err
	}
	switch action {
	case ActionLockForApproval, ActionApprove, ActionTerminate, ActionReject:
	default:
		return DelegatedAdminRelationshipRequest{}, invalidArg("unknown GDAP relationship action %s", shorten(action))
	}
	var out DelegatedAdminRelationshipRequest
	err := c.do(ctx, request{method: http.MethodPost, path: relationshipsPath + "/" + id + "/requests",
		body: map[string]string{"action": action}, class: httpx.RetryThrottleOnly}, &out)
	return out, err
}

// DelegatedAdminRelationshipRequests lists the requests made on
// relationship id.
//
// See https://learn.microsoft.com/graph/api/delegatedadminrelationship-list-requests.
func (c *Client) DelegatedAdminRelationshipRequests(ctx context.Context, id string) iter.Seq2[DelegatedAdminRelationshipRequest, error] {
	if err := checkRelationshipID(id); err != nil {
		return fail[DelegatedAdminRelationshipRequest](err)
	}
	return list[DelegatedAdminRelationshipRequest](ctx, c, relationshipsPath+"/"+id+"/requests", nil)
}

// Statuses of an access assignment.
const (
	AssignmentPending = "pending"
	AssignmentActive  = "active"
	AssignmentDeleted = "deleted"
	// Deleting and Error never turn active: an assignment that failed
	// stays in error.
	AssignmentDeleting = "deleting"
	AssignmentError    = "error"
)

// DelegatedAdminAccessAssignment gives a partner security group roles of
// a relationship in its customer. Status is pending, active, deleting,
// deleted or error; members get the roles once it is active.
type DelegatedAdminAccessAssignment struct {
	ID                   string                        `json:"id,omitempty"`
	Status               string                        `json:"status,omitempty"`
	AccessContainer      DelegatedAdminAccessContainer `json:"accessContainer"`
	AccessDetails        DelegatedAdminAccess          `json:"accessDetails"`
	CreatedDateTime      time.Time                     `json:"createdDateTime,omitzero"`
	LastModifiedDateTime time.Time                     `json:"lastModifiedDateTime,omitzero"`
	ETag                 string                        `json:"@odata.etag,omitempty"`
}

// DelegatedAdminAccessContainer is the group an assignment names.
type DelegatedAdminAccessContainer struct {
	// AccessContainerID is a security group's object id in the partner tenant.
	AccessContainerID string `json:"accessContainerId"`
	// AccessContainerType is "securityGroup".
	AccessContainerType string `json:"accessContainerType"`
}

// CreateDelegatedAdminAccessAssignment gives security group groupID
// (in the partner tenant) roles of active relationship id; the roles
// must be among the relationship's. The assignment starts pending.
//
// See https://learn.microsoft.com/graph/api/delegatedadminrelationship-post-accessassignments.
func (c *Client) CreateDelegatedAdminAccessAssignment(ctx context.Context, id, groupID string, roleIDs ...string) (DelegatedAdminAccessAssignment, error) {
	if err := checkRelationshipID(id); err != nil {
		return DelegatedAdminAccessAssignment{}, err
	}
	if err := checkGUID("security group id", groupID); err != nil {
		return DelegatedAdminAccessAssignment{}, err
	}
	if len(roleIDs) == 0 {
		return DelegatedAdminAccessAssignment{}, invalidArg("an access assignment needs at least one role")
	}
	in := DelegatedAdminAccessAssignment{AccessContainer: DelegatedAdminAccessContainer{AccessContainerID: groupID, AccessContainerType: "securityGroup"}}
	for _, r := range roleIDs {
		if err := checkGUID("role definition id", r); err != nil {
			return DelegatedAdminAccessAssignment{}, err
		}
		in.AccessDetails.UnifiedRoles = append(in.AccessDetails.UnifiedRoles, UnifiedRole{RoleDefinitionID: r})
	}
	var out DelegatedAdminAccessAssignment
	err := c.do(ctx, request{method: http.MethodPost, path: relationshipsPath + "/" + id + "/accessAssignments", body: in,
		class: httpx.RetryThrottleOnly}, &out)
	return out, err
}

// DelegatedAdminAccessAssignments lists relationship id's access
// assignments, deleted ones included.
//
// See https://learn.microsoft.com/graph/api/delegatedadminrelationship-list-accessassignments.
func (c *Client) DelegatedAdminAccessAssignments(ctx context.Context, id string) iter.Seq2[DelegatedAdminAccessAssignment, error] {
	if err := checkRelationshipID(id); err != nil {
		return fail[DelegatedAdminAccessAssignment](err)
	}
	return list[DelegatedAdminAccessAssignment](ctx, c, relationshipsPath+"/"+id+"/accessAssignments", nil)
}

// DeleteDelegatedAdminAccessAssignment removes an access assignment whose
// ETag is etag; it turns deleting, then deleted.
//
// See https://learn.microsoft.com/graph/api/delegatedadminaccessassignment-delete.
func (c *Client) DeleteDelegatedAdminAccessAssignment(ctx context.Context, id, assignmentID, etag string) error {
	if err := checkRelationshipID(id); err != nil {
		return err
	}
	if err := checkSegment("access assignment id", assignmentID); err != nil {
		return err
	}
	if etag == "" {
		return invalidArg("deleting access assignment %s needs its ETag", assignmentID)
	}
	return c.do(ctx, request{method: http.MethodDelete, path: relationshipsPath + "/" + id + "/accessAssignments/" + assignmentID,
		class: httpx.RetryThrottleOnly, header: http.Header{"If-Match": {etag}}}, nil)
}

// Operation types and statuses of a DelegatedAdminRelationshipOperation
// (delegatedAdminRelationshipOperationType and longRunningOperationStatus,
// https://learn.microsoft.com/graph/api/resources/delegatedadminrelationshipoperation).
const (
	OperationAccessAssignmentUpdate = "delegatedAdminAccessAssignmentUpdate"
	OperationRelationshipUpdate     = "delegatedAdminRelationshipUpdate"

	OperationNotStarted = "notStarted"
	OperationRunning    = "running"
	OperationSucceeded  = "succeeded"
	OperationFailed     = "failed"
)

// DelegatedAdminRelationshipOperation is a long-running change of a
// relationship or an assignment; Status is notStarted, running, succeeded
// or failed.
type DelegatedAdminRelationshipOperation struct {
	ID                   string    `json:"id"`
	OperationType        string    `json:"operationType"`
	Status               string    `json:"status"`
	Data                 string    `json:"data,omitempty"`
	CreatedDateTime      time.Time `json:"createdDateTime,omitzero"`
	LastModifiedDateTime time.Time `json:"lastModifiedDateTime,omitzero"`
}

// DelegatedAdminRelationshipOperations lists relationship id's
// long-running operations.
//
// See https://learn.microsoft.com/graph/api/delegatedadminrelationship-list-operations.
func (c *Client) DelegatedAdminRelationshipOperations(ctx context.Context, id string) iter.Seq2[DelegatedAdminRelationshipOperation, error] {
	if err := checkRelationshipID(id); err != nil {
		return fail[DelegatedAdminRelationshipOperation](err)
	}
	return list[DelegatedAdminRelationshipOperation](ctx, c, relationshipsPath+"/"+id+"/operations", nil)
}

// UpdateDelegatedAdminAccessAssignment sets the roles of access assignment
// assignmentID of relationship id, if it still has etag (its @odata.etag);
// otherwise the error matches ErrPreconditionFailed and nothing changed.
// The roles must be among the relationship's. Graph answers 200 with the
// assignment when the roles are those it holds already, and otherwise
// 202 Accepted for a long-running operation: accepted is then true, the
// assignment is not returned, and DelegatedAdminRelationshipOperations
// follows the change.
//
// See https://learn.microsoft.com/graph/api/delegatedadminaccessassignment-update.
func (c *Client) UpdateDelegatedAdminAccessAssignment(ctx context.Context, id, assignmentID, etag string, roleIDs ...string) (a DelegatedAdminAccessAssignment, accepted bool, err error) {
	if err := checkRelationshipID(id); err != nil {
		return a, false, err
	}
	if err := checkSegment("access assignment id", assignmentID); err != nil {
		return a, false, err
	}
	if etag == "" {
		return a, false, invalidArg("updating access assignment %s needs its ETag", assignmentID)
	}
	if len(roleIDs) == 0 {
		return a, false, invalidArg("an access assignment needs at least one role")
	}
	var in DelegatedAdminAccess
	for _, r := range roleIDs {
		if err := checkGUID("role definition id", r); err != nil {
			return a, false, err
		}
		in.UnifiedRoles = append(in.UnifiedRoles, UnifiedRole{RoleDefinitionID: r})
	}
	// As with the relationship, a replay with the same ETag fails with
	// 412 once the first landed: retried on throttling only.
	err = c.do(ctx, request{method: http.MethodPatch, path: relationshipsPath + "/" + id + "/accessAssignments/" + assignmentID,
		body: map[string]any{"accessDetails": in}, class: httpx.RetryThrottleOnly, header: http.Header{"If-Match": {etag}}}, &a)
	return a, err == nil && a.ID == "", err
}
