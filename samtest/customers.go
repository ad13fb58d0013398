package samtest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/samkit/samkit/internal/testserver"
)

// Problem is what is wrong with a broken customer: each is a failure real
// partners meet, produced by the fake behaving as Microsoft's services do.
type Problem string

// The problems a customer can have.
const (
	// Healthy: delegated and app-only access work everywhere.
	Healthy Problem = ""
	// ConsentBlocked: Partner Center refuses CPV consent for the customer
	// (403), so the SAM app is not consented there and token requests
	// answer AADSTS65001 (token.ErrConsentRequired).
	ConsentBlocked Problem = "consent-blocked"
	// OutsideGDAPGroups: the partner's admin is not in the security
	// groups of the GDAP relationship: delegated tokens answer AADSTS50020.
	OutsideGDAPGroups Problem = "outside-gdap-groups"
	// MFARequired: the customer's Conditional Access demands MFA at every
	// sign-in, which a refresh token cannot answer: AADSTS50076.
	MFARequired Problem = "mfa-required"
	// ExchangeDenied: the admin holds no Exchange management role in the
	// customer: Exchange answers 403, Graph works.
	ExchangeDenied Problem = "exchange-denied"
	// Throttled: Graph answers the customer's first two reads of /users
	// with 429 and Retry-After: 1, then serves them.
	Throttled Problem = "throttled"
	// Deleted: the customer's tenant is gone while its GDAP relationship
	// and contract are still listed: token requests answer AADSTS90002.
	Deleted Problem = "deleted"
)

// Describe says, for people, what is wrong and what a client meets.
func (p Problem) Describe() string { return testserver.Problem(p).Describe() }

// Customer is one of the partner's customers.
type Customer struct {
	// ID is the customer's tenant id, Domain its default domain.
	ID, Name, Domain string
	Problem          Problem
}

// CustomerSpec describes a customer for AddCustomer.
type CustomerSpec struct {
	// ID is the tenant id (a random GUID when empty).
	ID string
	// Name is the display name ("Customer N" when empty).
	Name string
	// Domain is the default domain (derived from the name when empty).
	Domain string
	// Problem breaks the customer (Healthy when empty).
	Problem Problem
	// NotConsented leaves the SAM app unconsented in the customer, as in
	// one that has just signed: token requests answer AADSTS65001 until
	// consent is pushed (sam.Partner.PushConsent).
	NotConsented bool
}

// Customers returns the partner's customers: the broken ones first, then
// the healthy ones, then those AddCustomer added and the prospects whose
// invitation ApproveRelationship approved, in order.
func (s *Server) Customers() []Customer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.customers)
}

// AddCustomer adds a customer tenant, listed by an active GDAP
// relationship, a reseller contract and Partner Center, with three users
// besides its admin, and consents the SAM app there unless the spec or
// its problem says otherwise.
func (s *Server) AddCustomer(spec CustomerSpec) (Customer, error) {
	if spec.Problem != Healthy && !slices.Contains(testserver.Problems(), testserver.Problem(spec.Problem)) {
		return Customer{}, fmt.Errorf("samtest: unknown problem %q: use one of the Problem constants", spec.Problem)
	}
	if spec.ID != "" || spec.Domain != "" {
		for _, key := range []string{spec.ID, spec.Domain} {
			if _, ok := s.Tenant(key); key != "" && ok {
				return Customer{}, fmt.Errorf("samtest: a tenant %s exists already: leave CustomerSpec.ID and Domain empty for new ones", key)
			}
		}
	}
	sc := s.fake.AddProblemCustomer(testserver.CustomerSpec{
		ID: spec.ID, Name: spec.Name, Domain: spec.Domain, GDAP: true, Contract: true, PartnerCenter: true,
	}, testserver.Problem(spec.Problem))
	if !spec.NotConsented {
		// GrantSandboxConsent skips where consent cannot be given.
		if err := s.fake.GrantSandboxConsent(s.app.AppID, testserver.SandboxInfo{Customers: []testserver.SandboxCustomer{sc}}); err != nil {
			return Customer{}, fmt.Errorf("samtest: consenting the SAM app in %s: %w", sc.ID, err)
		}
	}
	c := customerOf(sc)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.customers = append(s.customers, c)
	return c, nil
}

func customerOf(c testserver.SandboxCustomer) Customer {
	return Customer{ID: c.ID, Name: c.Name, Domain: c.Domain, Problem: Problem(c.Problem)}
}

// Tenant is a snapshot of a tenant's state in the fake.
type Tenant struct {
	ID, Name, Domain string
	// Users are the tenant's users, by UPN.
	Users []User
	// Consented says whether the SAM app is consented in the tenant (has
	// a service principal there).
	Consented bool
	// Deleted says whether the tenant was deleted.
	Deleted bool
}

// User is a directory user.
type User struct {
	ID, UPN, DisplayName string
}

// Tenant returns a snapshot of the tenant whose id or domain is id, the
// partner's included, and whether there is one. A deleted tenant is found
// by its id.
func (s *Server) Tenant(id string) (Tenant, bool) {
	var out Tenant
	found := false
	s.fake.Read(func(w *testserver.World) {
		t := w.Tenants[strings.ToLower(id)]
		if t == nil {
			t = w.TenantByIDOrDomain(id)
		}
		if t == nil {
			return
		}
		found = true
		out = Tenant{ID: t.ID, Name: t.DisplayName, Domain: t.DefaultDomain, Deleted: t.Deleted,
			Consented: t.ServicePrincipalByAppID(s.app.AppID) != nil}
		for _, u := range t.Users {
			out.Users = append(out.Users, User{ID: u.ID, UPN: u.UPN, DisplayName: u.DisplayName})
		}
		slices.SortFunc(out.Users, func(a, b User) int { return cmp.Compare(a.UPN, b.UPN) })
	})
	return out, found
}
