package sam

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/internal/httpx"
)

// Coverage answers, for every customer at once, "does the partner's admin
// hold the roles samkit needs there?": a role is held through an active
// GDAP relationship that includes it, an active access assignment of it
// to a partner security group, and the admin's membership of that group
// (https://learn.microsoft.com/partner-center/customers/gdap-assign-microsoft-entra-roles).
// It reads the partner's state once — every relationship, the access
// assignments of the active ones, the admin's memberships — and works out
// each tenant in memory, so its cost follows the relationships and groups,
// not tenants × roles.

// Operation is something samkit does in customer tenants.
type Operation string

// samkit's operations.
const (
	OperationListTenants Operation = "ListTenants"
	OperationCheckAccess Operation = "CheckAccess"
	OperationPushConsent Operation = "PushConsent"
	OperationExchange    Operation = "Exchange"
)

// Role template ids of the roles of DefaultRoleTemplate and of those that
// hold all their permissions.
const (
	roleDirectoryReaders    = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"
	roleGlobalReader        = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"
	roleCloudAppAdmin       = "158c047a-c907-4556-b7ef-446551a6b5f7"
	rolePrivilegedRoleAdmin = "e8611ab8-c189-46e8-94e1-60213ab1f814"
	roleExchangeAdmin       = "29232cdf-9323-42fd-ade2-1d097af3e4de"
)

// operationRoles are the roles of DefaultRoleTemplate each operation needs
// in a customer tenant (each role's Why says what for). ListTenants needs
// none there: it reads the partner's own lists.
var operationRoles = []struct {
	op    Operation
	roles []string
}{
	{OperationListTenants, nil},
	{OperationCheckAccess, []string{roleDirectoryReaders, roleExchangeAdmin}},
	{OperationPushConsent, []string{roleCloudAppAdmin, rolePrivilegedRoleAdmin}},
	{OperationExchange, []string{roleExchangeAdmin}},
}

// Operations lists samkit's operations.
func Operations() []Operation {
	out := make([]Operation, len(operationRoles))
	for i, o := range operationRoles {
		out[i] = o.op
	}
	return out
}

// OperationRoles returns the Entra roles operation op needs in a customer
// tenant (none for ListTenants); op is matched without regard to case.
func OperationRoles(op string) (Operation, []EntraRole, error) {
	for _, o := range operationRoles {
		if strings.EqualFold(string(o.op), op) {
			roles := make([]EntraRole, len(o.roles))
			for i, id := range o.roles {
				roles[i] = EntraRole{ID: id, Name: entraRoles[id]}
			}
			return o.op, roles, nil
		}
	}
	names := make([]string, len(operationRoles))
	for i, o := range operationRoles {
		names[i] = string(o.op)
	}
	return "", nil, fmt.Errorf("no samkit operation %q: choose one of %s", op, strings.Join(names, ", "))
}

// operationsNeeding lists the operations that need role.
func operationsNeeding(role string) []Operation {
	var out []Operation
	for _, o := range operationRoles {
		if slices.Contains(o.roles, role) {
			out = append(out, o.op)
		}
	}
	return out
}

// satisfying lists the roles that give role's permissions: the role, and
// those that hold all of its permissions — Global Administrator holds
// every one, Global Reader reads all that Directory Readers reads
// (https://learn.microsoft.com/entra/identity/role-based-access-control/permissions-reference).
func satisfying(role string) []string {
	out := []string{role}
	if role == roleDirectoryReaders {
		out = append(out, roleGlobalReader)
	}
	if role != graph.GlobalAdminRoleTemplateID {
		out = append(out, graph.GlobalAdminRoleTemplateID)
	}
	return out
}

// WithGDAPConcurrency bounds how many requests Coverage sends at once
// (DefaultConcurrency when n <= 0); Partner.GDAP passes the Partner's.
func WithGDAPConcurrency(n int) GDAPOption { return func(c *gdapConfig) { c.conc = n } }

// CoverageOptions tunes Coverage.
type CoverageOptions struct {
	// User is the partner user whose roles count, by object id or
	// userPrincipalName; the signed-in user when empty. Another user's
	// memberships need User.Read.All (or GroupMember.Read.All).
	User string
	// Template holds the roles needed; DefaultRoleTemplate (what samkit's
	// operations need) when it names none.
	Template RoleTemplate
	// Tenants limits the report to these customer tenants; every customer
	// with a GDAP relationship, whatever its status, when empty.
	Tenants []string
}

// GDAPUser is the partner user whose access Coverage and Trace follow.
type GDAPUser struct {
	ID                string `json:"id"`
	UserPrincipalName string `json:"userPrincipalName,omitzero"`
	DisplayName       string `json:"displayName,omitzero"`
}

func (u GDAPUser) label() string { return cmp.Or(u.UserPrincipalName, u.ID) }

// CoverageReport is Coverage's answer.
type CoverageReport struct {
	User     GDAPUser         `json:"user"`
	Template string           `json:"template"`
	Roles    []EntraRole      `json:"roles"`
	Tenants  []TenantCoverage `json:"tenants"`
}

// Complete reports whether the user holds every role in every tenant.
func (r *CoverageReport) Complete() bool {
	return !slices.ContainsFunc(r.Tenants, func(t TenantCoverage) bool { return !t.Complete() })
}

// TenantCoverage is one customer tenant's roles: those the user holds and
// those missing, each with the link that is missing and the fix.
type TenantCoverage struct {
	TenantID    string        `json:"tenantId"`
	DisplayName string        `json:"displayName,omitzero"`
	Covered     []CoveredRole `json:"covered"`
	Missing     []MissingRole `json:"missing"`
}

// Complete reports whether no role is missing in the tenant.
func (t TenantCoverage) Complete() bool { return len(t.Missing) == 0 }

// CoveredRole is a role the user holds in a tenant, and through what.
type CoveredRole struct {
	Role       EntraRole   `json:"role"`
	Operations []Operation `json:"operations,omitzero"`
	// Via is the role held: Role itself, or one that holds all its
	// permissions (Global Administrator).
	Via              EntraRole `json:"via"`
	RelationshipID   string    `json:"relationshipId"`
	RelationshipName string    `json:"relationshipName"`
	GroupID          string    `json:"groupId"`
	GroupName        string    `json:"groupName,omitzero"`
}

// MissingRole is a role the user lacks in a tenant.
type MissingRole struct {
	Role       EntraRole   `json:"role"`
	Operations []Operation `json:"operations,omitzero"`
	// Link is the first link of the chain that is missing.
	Link Link `json:"link"`
	// Why says what is missing, with ids and names.
	Why string `json:"why"`
	// Fix is the samctl command that adds the missing link.
	Fix string `json:"fix"`
}

// Coverage reports, per customer tenant, which roles of o.Template (by
// default those samkit's operations need) the user holds through GDAP,
// and for each missing role the missing link and the command that adds
// it.
//
// Its Graph requests do not grow with tenants × roles: one for the user,
// the user's memberships (pages of 999), every relationship (pages of
// 300), and the access assignments of the active relationships in $batch
// calls of 20 relationships, sent on the Partner's concurrency.
func (d *GDAP) Coverage(ctx context.Context, o CoverageOptions) (*CoverageReport, error) {
	tpl := o.Template
	if len(tpl.Roles) == 0 {
		tpl = DefaultRoleTemplate()
	}
	if err := tpl.validate(); err != nil {
		return nil, err
	}
	for _, t := range o.Tenants {
		if !httpx.IsGUID(t) {
			return nil, fmt.Errorf("sam: Coverage: tenant %q is not a tenant id (a GUID)", t)
		}
	}
	v, err := d.readView(ctx, o.User, "", o.Tenants)
	if err != nil {
		return nil, err
	}
	rep := &CoverageReport{User: v.user, Template: tpl.Name, Roles: tpl.Roles, Tenants: []TenantCoverage{}}
	tenants := o.Tenants
	if len(tenants) == 0 {
		tenants = v.customers()
	}
	for _, t := range tenants {
		tc := TenantCoverage{TenantID: strings.ToLower(t), DisplayName: v.customerName(t), Covered: []CoveredRole{}, Missing: []MissingRole{}}
		for _, role := range tpl.Roles {
			rt := v.trace(t, role, tpl.Name, d.now())
			ops := operationsNeeding(role.ID)
			if rt.Covered {
				tc.Covered = append(tc.Covered, CoveredRole{Role: role, Operations: ops, Via: rt.Via,
					RelationshipID: rt.RelationshipID, RelationshipName: rt.RelationshipName, GroupID: rt.GroupID, GroupName: rt.GroupName})
				continue
			}
			last := rt.Steps[len(rt.Steps)-1]
			tc.Missing = append(tc.Missing, MissingRole{Role: role, Operations: ops, Link: rt.Missing, Why: last.Detail, Fix: rt.Fix})
		}
		rep.Tenants = append(rep.Tenants, tc)
	}
	return rep, nil
}

// gdapView is what Coverage and Trace read of the partner's GDAP state.
type gdapView struct {
	user GDAPUser
	// userArg is how the user was named: "" for the signed-in user.
	userArg string
	// rels holds each customer's relationships, the usable first.
	rels map[string][]graph.DelegatedAdminRelationship
	// assigns holds the access assignments of active relationships.
	assigns map[string][]graph.DelegatedAdminAccessAssignment
	// member holds the user's groups, id to name.
	member map[string]string
	// names holds the names of other groups, when read (Trace).
	names map[string]string
}

// readView reads the user, the user's groups, the relationships (with
// customer only, when set) and the access assignments of the active ones
// with a customer among tenants (all when tenants is empty).
func (d *GDAP) readView(ctx context.Context, user, customer string, tenants []string) (*gdapView, error) {
	v := &gdapView{userArg: user, rels: map[string][]graph.DelegatedAdminRelationship{},
		assigns: map[string][]graph.DelegatedAdminAccessAssignment{}, member: map[string]string{}, names: map[string]string{}}
	var all []graph.DelegatedAdminRelationship
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		var u graph.User
		var err error
		if user == "" {
			u, err = d.g.Me(gctx)
		} else {
			u, err = d.g.User(gctx, user)
		}
		if err != nil {
			return fmt.Errorf("reading partner user %s: %w", cmp.Or(user, "(signed in)"), err)
		}
		v.user = GDAPUser{ID: u.ID, UserPrincipalName: u.UserPrincipalName, DisplayName: u.DisplayName}
		return nil
	})
	g.Go(func() error {
		for o, err := range d.g.TransitiveMemberOfUser(gctx, user, graph.ListOptions{Top: 999, Select: []string{"id", "displayName"}}) {
			if err != nil {
				return fmt.Errorf("listing the groups of partner user %s: %w", cmp.Or(user, "(signed in)"), err)
			}
			if o.IsGroup() {
				v.member[strings.ToLower(o.ID)] = o.DisplayName
			}
		}
		return nil
	})
	g.Go(func() error {
		var err error
		if all, err = graph.Collect(d.g.DelegatedAdminRelationshipsFor(gctx, customer)); err != nil {
			return fmt.Errorf("listing GDAP relationships: %w", err)
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, t := range tenants {
		want[strings.ToLower(t)] = true
	}
	var active []string
	for _, r := range all {
		t := strings.ToLower(r.Customer.TenantID)
		if t == "" || (len(want) > 0 && !want[t]) {
			continue
		}
		v.rels[t] = append(v.rels[t], r)
		if r.Status == graph.RelationshipActive {
			active = append(active, r.ID)
		}
	}
	for _, rs := range v.rels {
		slices.SortStableFunc(rs, func(a, b graph.DelegatedAdminRelationship) int {
			return cmp.Or(-cmp.Compare(relRank(a), relRank(b)), b.EndDateTime.Compare(a.EndDateTime))
		})
	}
	return v, d.readAssignments(ctx, active, v.assigns)
}

func relRank(r graph.DelegatedAdminRelationship) int {
	if r.Status == graph.RelationshipActive {
		return 1
	}
	return 0
}

// readAssignments reads the access assignments of relationships ids into
// out, graph.BatchLimit relationships per request, d.conc requests at
// once.
func (d *GDAP) readAssignments(ctx context.Context, ids []string, out map[string][]graph.DelegatedAdminAccessAssignment) error {
	chunks := slices.Collect(slices.Chunk(ids, graph.BatchLimit))
	var (
		mu       sync.Mutex
		firstErr error
	)
	eachIndex(ctx, d.conc, len(chunks), func(i int) {
		got, err := d.g.DelegatedAdminAccessAssignmentsOf(ctx, chunks[i])
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			return
		}
		for j, id := range chunks[i] {
			out[id] = got[j]
		}
	})
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// customers lists the tenants with a relationship, by name then id.
func (v *gdapView) customers() []string {
	out := make([]string, 0, len(v.rels))
	for t := range v.rels {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b string) int {
		return cmp.Or(strings.Compare(strings.ToLower(v.customerName(a)), strings.ToLower(v.customerName(b))), strings.Compare(a, b))
	})
	return out
}

func (v *gdapView) customerName(t string) string {
	for _, r := range v.rels[strings.ToLower(t)] {
		if r.Customer.DisplayName != "" {
			return r.Customer.DisplayName
		}
	}
	return ""
}

// groupName is a group's name when known.
func (v *gdapView) groupName(id string) string {
	return cmp.Or(v.member[strings.ToLower(id)], v.names[strings.ToLower(id)])
}
