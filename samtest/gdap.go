package samtest

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/samkit/samkit/internal/testserver"
)

// Relationship is a snapshot of one of the partner's GDAP relationships,
// as Graph shows it at the fake's clock
// (https://learn.microsoft.com/graph/api/resources/delegatedadminrelationship).
type Relationship struct {
	ID, DisplayName string
	// CustomerID and CustomerName name the customer's tenant; both are
	// empty for an invitation that named none until a tenant approves it.
	CustomerID, CustomerName string
	// Status is Graph's delegatedAdminRelationshipStatus: "created",
	// "approvalPending", "active", "terminationRequested", "terminated"
	// or "expired". The fake goes straight through "approved",
	// "activating" and "terminating".
	Status string
	// RoleIDs are the Entra role definition ids the relationship holds.
	RoleIDs []string
	// End is when the relationship ends (or ended): its endDateTime,
	// zero until the customer approves.
	End        time.Time
	AutoExtend bool
	// Assignments are the access assignments made through Graph.
	Assignments []AccessAssignment
}

// AccessAssignment is a snapshot of a delegatedAdminAccessAssignment: the
// roles a security group of the partner holds in the customer
// (https://learn.microsoft.com/graph/api/resources/delegatedadminaccessassignment).
type AccessAssignment struct {
	ID string
	// GroupID and GroupName name the partner's security group.
	GroupID, GroupName string
	RoleIDs            []string
	// Status is "pending", "active", "deleting" or "deleted": an
	// assignment turns active, or deleted, World.GDAPDelay after it was
	// asked for.
	Status string
	// AdminIsMember says whether the partner's admin, whose refresh token
	// Credentials holds, is a member of the group.
	AdminIsMember bool
}

// Relationships returns the partner's GDAP relationships, oldest first,
// as Graph would list them now: pending assignments whose GDAPDelay has
// passed on the fake's clock are active, requested terminations complete,
// and unanswered invitations lapse after 90 days.
func (s *Server) Relationships() []Relationship {
	var out []Relationship
	admin := s.fake.Partner().AdminID
	s.fake.ReadGDAP(func(w *testserver.World) {
		p := w.Partner
		for _, r := range p.Relationships {
			rel := Relationship{ID: r.ID, DisplayName: r.DisplayName, CustomerID: r.CustomerTenantID, CustomerName: r.CustomerName,
				Status: r.Status, RoleIDs: slices.Clone(r.RoleIDs), End: r.End, AutoExtend: r.AutoExtend}
			for _, a := range r.GDAP.Assignments {
				g := p.Groups[a.GroupID]
				aa := AccessAssignment{ID: a.ID, GroupID: a.GroupID, RoleIDs: slices.Clone(a.RoleIDs), Status: a.Status}
				if g != nil {
					aa.GroupName, aa.AdminIsMember = g.DisplayName, g.Members[admin]
				}
				rel.Assignments = append(rel.Assignments, aa)
			}
			out = append(out, rel)
		}
	})
	return out
}

// AddProspect adds a tenant called name that is no customer of the
// partner yet: no GDAP relationship, no contract, not in Partner Center,
// and the SAM app not consented there. Onboarding makes it one: invite it
// with a relationship that names no customer (sam.Partner.Onboard without
// OnboardOptions.Customer), then approve the relationship as its admin
// with ApproveRelationship.
func (s *Server) AddProspect(name string) (Customer, error) {
	if strings.TrimSpace(name) == "" {
		return Customer{}, fmt.Errorf("samtest: AddProspect needs the prospect's name, which names its tenant and domain")
	}
	return customerOf(s.fake.AddProspect(name)), nil
}

// ApproveRelationship plays the admin of tenant customerTenantID opening
// the invitation link of relationship id and approving it: the
// relationship turns active for two years (or the duration it asked for)
// and the tenant becomes a customer, listed in Partner Center, where the
// SAM app's consent can be pushed to it; Customers lists it from then.
//
// Only a relationship locked for approval ("approvalPending") can be
// approved; one that names a customer can be approved by that customer
// alone. customerTenantID may be empty for one that names its customer.
func (s *Server) ApproveRelationship(id, customerTenantID string) error {
	if err := s.fake.ApproveRelationship(id, customerTenantID); err != nil {
		return fmt.Errorf("samtest: %s", strings.TrimPrefix(err.Error(), "testserver: "))
	}
	var approved testserver.SandboxCustomer
	s.fake.Read(func(w *testserver.World) {
		for _, r := range w.Partner.Relationships {
			if r.ID == id {
				if t := w.Tenants[r.CustomerTenantID]; t != nil {
					approved = testserver.SandboxCustomer{ID: t.ID, Name: t.DisplayName, Domain: t.DefaultDomain}
				}
			}
		}
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	if approved.ID != "" && !slices.ContainsFunc(s.customers, func(c Customer) bool { return strings.EqualFold(c.ID, approved.ID) }) {
		s.customers = append(s.customers, customerOf(approved))
	}
	return nil
}
