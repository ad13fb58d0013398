package testserver

import (
	"slices"
	"time"
)

// GDAP's state machine and the delegated access it grants.
//
// A relationship moves created → approvalPending (lockForApproval) →
// active (the customer's admin approves) → expired at endDateTime, or
// active → terminationRequested (terminate) → terminated. Microsoft passes
// through approved and activating, and terminating, in between; the fake
// goes straight through them, as a client polling every few seconds sees
// them rarely.
// https://learn.microsoft.com/graph/api/resources/delegatedadminrelationship
// https://learn.microsoft.com/partner-center/customers/gdap-introduction

// Relationship statuses (delegatedAdminRelationshipStatus).
const (
	RelCreated              = "created"
	RelApprovalPending      = "approvalPending"
	RelActive               = "active"
	RelExpired              = "expired"
	RelTerminationRequested = "terminationRequested"
	RelTerminated           = "terminated"
)

// RelationshipState is what the Graph GDAP API adds to a relationship.
type RelationshipState struct {
	// Duration is the ISO 8601 duration the partner asked for ("P730D");
	// empty for seeded relationships, whose duration is End − Created.
	Duration string
	// Activated is when the customer approved; zero before.
	Activated time.Time
	// Modified is when the relationship last changed.
	Modified time.Time
	// Version counts changes: it is the relationship's entity tag.
	Version int
	// TerminateAt is when a requested termination completes.
	TerminateAt time.Time
	Requests    []*RelationshipRequest
	Assignments []*AccessAssignment
	Operations  []*RelationshipOperation
}

// RelationshipRequest is a delegatedAdminRelationshipRequest.
type RelationshipRequest struct {
	ID, Action, Status string
	Created, Modified  time.Time
}

// AccessAssignment is a delegatedAdminAccessAssignment: the roles a
// partner security group holds in the customer through the relationship.
type AccessAssignment struct {
	ID      string
	GroupID string
	RoleIDs []string
	// Status is pending, active, deleting or deleted.
	Status            string
	Created, Modified time.Time
	// DoneAt is when a pending or deleting assignment settles.
	DoneAt  time.Time
	Version int
}

// RelationshipOperation is a delegatedAdminRelationshipOperation: the
// long-running removal of Global Administrator from an active
// relationship, or a change of an access assignment's roles
// (https://learn.microsoft.com/graph/api/resources/delegatedadminrelationshipoperation).
type RelationshipOperation struct {
	ID, Type, Status  string
	Data              string
	Created, Modified time.Time
	DoneAt            time.Time
	// RoleIDs are the relationship's roles once the operation succeeds,
	// or the assignment's when AssignmentID is set.
	RoleIDs      []string
	AssignmentID string
}

// gdapInvitationLife is how long a customer has to approve an invitation.
const gdapInvitationLife = 90 * 24 * time.Hour

// gdapAdvance brings rel up to now: pending assignments turn active,
// deleting ones deleted, unanswered invitations lapse, requested
// terminations complete, running operations succeed, and an active
// relationship past its end either extends itself by 180 days
// (autoExtendDuration P180D) or expires.
func gdapAdvance(rel *Relationship, now time.Time) {
	st := &rel.GDAP
	for _, op := range st.Operations {
		// A failed operation (a test sets one so) changes nothing.
		if op.Status == "succeeded" || op.Status == "failed" || now.Before(op.DoneAt) {
			continue
		}
		op.Status, op.Modified = "succeeded", op.DoneAt
		if op.AssignmentID == "" {
			rel.RoleIDs = slices.Clone(op.RoleIDs)
			gdapTouch(rel, op.DoneAt)
			continue
		}
		for _, a := range st.Assignments {
			if a.ID == op.AssignmentID {
				a.RoleIDs, a.Modified = slices.Clone(op.RoleIDs), op.DoneAt
				a.Version++
			}
		}
	}
	for _, a := range st.Assignments {
		switch {
		case a.Status == "pending" && !now.Before(a.DoneAt):
			a.Status, a.Modified = "active", a.DoneAt
			a.Version++
		case a.Status == "deleting" && !now.Before(a.DoneAt):
			a.Status, a.Modified = "deleted", a.DoneAt
			a.Version++
		}
	}
	// An invitation its customer leaves unanswered lapses: "GDAP
	// relationship requests expire after 90 days"
	// (https://learn.microsoft.com/partner-center/customers/gdap-faq).
	// Counted from the lockForApproval request; a relationship seeded as
	// approvalPending, which has none, waits as long as a test needs.
	if rel.Status == RelApprovalPending {
		for _, r := range st.Requests {
			if lapse := r.Created.Add(gdapInvitationLife); r.Action == "lockForApproval" && !now.Before(lapse) {
				rel.Status, rel.End = RelExpired, lapse
				gdapTouch(rel, lapse)
				break
			}
		}
	}
	if rel.Status == RelTerminationRequested && !now.Before(st.TerminateAt) {
		rel.Status, rel.End = RelTerminated, st.TerminateAt
		for _, r := range st.Requests {
			if r.Action == "terminate" && r.Status == "pending" {
				r.Status, r.Modified = "succeeded", st.TerminateAt
			}
		}
		gdapTouch(rel, st.TerminateAt)
	}
	for rel.Status == RelActive && !rel.End.IsZero() && !now.Before(rel.End) {
		if !rel.AutoExtend {
			rel.Status = RelExpired
			gdapTouch(rel, rel.End)
			break
		}
		rel.End = rel.End.Add(180 * 24 * time.Hour)
		gdapTouch(rel, now)
	}
}

// gdapTouch records a change to rel at t: a new entity tag.
func gdapTouch(rel *Relationship, t time.Time) {
	rel.GDAP.Version++
	rel.GDAP.Modified = t
}

// RelationshipsFor returns every relationship the partner holds with
// customer, in the order of Relationships, through the same index as
// RelationshipFor.
func (t *Tenant) RelationshipsFor(customer string) []*Relationship {
	idx := &t.relIndex
	if !idx.current(t.Relationships) {
		idx.build(t.Relationships)
	}
	pick := func() ([]*Relationship, bool) {
		var out []*Relationship
		for _, i := range idx.by[customer] {
			if r := t.Relationships[i]; r.CustomerTenantID == customer {
				out = append(out, r)
			} else {
				return nil, false
			}
		}
		return out, true
	}
	out, ok := pick()
	if !ok {
		idx.build(t.Relationships)
		out, _ = pick()
	}
	if len(out) == 0 {
		// None indexed: scan, in case one gained its customer in place
		// (an invitation without a customer, approved).
		for _, r := range t.Relationships {
			if r.CustomerTenantID == customer {
				out = append(out, r)
			}
		}
	}
	return out
}

// partnerAccessLocked returns the roles partner user u holds in customer
// tenant t, and whether u may sign in there at all: the union, over every
// active relationship with t, of the roles assigned by active access
// assignments to groups u belongs to (and, for seeded relationships, of
// every role when AdminInGroups). "A partner admin's access in a customer
// is the union over every active relationship with that customer of the
// roles assigned to groups the admin belongs to" (MICROSOFT-APIS.md §2b;
// https://learn.microsoft.com/graph/api/resources/delegatedadminaccessassignment:
// "once it's active, the members of the access container get access to
// the roles specified").
func (s *Server) partnerAccessLocked(u *User, t *Tenant) (roles []string, ok bool) {
	p := s.world.Partner
	if u == nil || p == nil || u.HomeTenant != p.ID || t.ID == p.ID {
		return nil, false
	}
	now := s.clock.Now()
	add := func(ids []string) {
		ok = true
		for _, id := range ids {
			if !slices.Contains(roles, id) {
				roles = append(roles, id)
			}
		}
	}
	for _, rel := range p.RelationshipsFor(t.ID) {
		gdapAdvance(rel, now)
		if rel.Status != RelActive {
			continue
		}
		if rel.AdminInGroups {
			add(rel.RoleIDs)
		}
		for _, a := range rel.GDAP.Assignments {
			if g := p.Groups[a.GroupID]; a.Status == "active" && g != nil && g.Members[u.ID] {
				add(a.RoleIDs)
			}
		}
	}
	return roles, ok
}

// seedStaffedAssignments gives a seeded relationship the access
// assignments a partner makes once a customer approves: each of its roles
// to the partner's security group "GDAP - <role>" (found or created, the
// scheme samkit's Assign uses), active, with member in each group. So
// what the relationship grants shows through Graph as it does for one
// made through the API: assignments, groups and memberships
// (https://learn.microsoft.com/graph/api/resources/delegatedadminaccessassignment).
func seedStaffedAssignments(p *Tenant, rel *Relationship, member string, now time.Time) {
	for _, role := range rel.RoleIDs {
		name := "GDAP - " + graphRoleNames[role]
		if graphRoleNames[role] == "" {
			name = "GDAP - " + role
		}
		var g *Group
		for _, id := range graphSortedKeys(p.Groups) {
			if p.Groups[id].DisplayName == name {
				g = p.Groups[id]
				break
			}
		}
		if g == nil {
			g = &Group{ID: newID(), DisplayName: name, Members: map[string]bool{},
				Description: "Partner staff holding this role in GDAP customers."}
			p.Groups[g.ID] = g
		}
		g.Members[member] = true
		rel.GDAP.Assignments = append(rel.GDAP.Assignments, &AccessAssignment{ID: newID(), GroupID: g.ID,
			RoleIDs: []string{role}, Status: "active", Created: now, Modified: now, DoneAt: now})
	}
}

// ReadGDAP runs fn as Read does, once every relationship of the partner
// has been brought up to the fake's clock, as Graph's reads of them are:
// a snapshot taken outside Graph then shows what a client would see.
func (s *Server) ReadGDAP(fn func(w *World)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.world.Partner; p != nil {
		now := s.clock.Now()
		for _, rel := range p.Relationships {
			gdapAdvance(rel, now)
		}
	}
	fn(s.world)
}
