package sam

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/internal/httpx"
)

// Trace follows one user's access to one role in one customer tenant link
// by link — relationships, their roles, access assignments, groups,
// membership — and stops at the first link missing. Coverage reads the
// same chain for every tenant and role.

// Link is one link of the chain through which a partner user holds a role
// in a customer tenant.
type Link string

// The links, in the order Trace follows them.
const (
	// LinkRelationship: an active GDAP relationship with the customer.
	LinkRelationship Link = "relationship"
	// LinkRole: the role among an active relationship's roles.
	LinkRole Link = "role"
	// LinkAssignment: an active access assignment of the role to a
	// partner security group.
	LinkAssignment Link = "assignment"
	// LinkMembership: the user in that group (directly or through nested
	// groups).
	LinkMembership Link = "membership"
)

// TraceStep is one thing Trace looked at.
type TraceStep struct {
	Link  Link `json:"link"`
	Found bool `json:"found"`
	// ID and Name identify the relationship, assignment or group looked at.
	ID   string `json:"id,omitzero"`
	Name string `json:"name,omitzero"`
	// Detail says it for people: "relationship "Contoso" (…) expired on
	// 2026-01-31".
	Detail string `json:"detail"`
}

// RoleTrace is the chain for one role, up to the first missing link.
type RoleTrace struct {
	Role  EntraRole   `json:"role"`
	Steps []TraceStep `json:"steps"`
	// Covered is set when the user holds the role (or one that holds all
	// its permissions, named by Via) through the relationship and group
	// named here.
	Covered          bool      `json:"covered"`
	Via              EntraRole `json:"via,omitzero"`
	RelationshipID   string    `json:"relationshipId,omitzero"`
	RelationshipName string    `json:"relationshipName,omitzero"`
	GroupID          string    `json:"groupId,omitzero"`
	GroupName        string    `json:"groupName,omitzero"`
	// Missing is the first missing link and Fix the samctl command that
	// adds it, when not Covered.
	Missing Link   `json:"missing,omitzero"`
	Fix     string `json:"fix,omitzero"`
}

// TraceOptions says whose access to what, where.
type TraceOptions struct {
	// Tenant is the customer's tenant id.
	Tenant string
	// User is the partner user, by object id or userPrincipalName; the
	// signed-in user when empty.
	User string
	// Operation names a samkit operation (OperationCheckAccess…) whose
	// roles are traced; or Role names one role, by id or built-in name.
	Operation string
	Role      string
}

// TraceReport is Trace's answer: one chain per role traced.
type TraceReport struct {
	Tenant    string      `json:"tenantId"`
	User      GDAPUser    `json:"user"`
	Operation Operation   `json:"operation,omitzero"`
	Roles     []RoleTrace `json:"roles"`
}

// Covered reports whether the user holds every role traced.
func (r *TraceReport) Covered() bool {
	return !slices.ContainsFunc(r.Roles, func(t RoleTrace) bool { return !t.Covered })
}

// Trace says why o.User can or cannot do o.Operation (or hold o.Role) in
// o.Tenant: each relationship with the tenant (an expired or terminated
// one says so, with its date), whether an active one includes the role,
// the access assignments giving it to partner groups, and whether the
// user is in one of them; each chain stops at its first missing link,
// with the command that adds it. It reads the user, the user's groups,
// the tenant's relationships, their access assignments and the names of
// the groups they name.
func (d *GDAP) Trace(ctx context.Context, o TraceOptions) (*TraceReport, error) {
	if !httpx.IsGUID(o.Tenant) {
		return nil, fmt.Errorf("sam: Trace: tenant %q is not a tenant id (a GUID)", o.Tenant)
	}
	rep := &TraceReport{Tenant: strings.ToLower(o.Tenant), Roles: []RoleTrace{}}
	var roles []EntraRole
	switch {
	case (o.Operation == "") == (o.Role == ""):
		return nil, fmt.Errorf("sam: Trace: give an operation (%s) or a role, one of the two", operationList())
	case o.Operation != "":
		op, rs, err := OperationRoles(o.Operation)
		if err != nil {
			return nil, err
		}
		rep.Operation, roles = op, rs
	default:
		t := RoleTemplate{Name: "trace", Roles: []EntraRole{{ID: o.Role}}}
		if !httpx.IsGUID(o.Role) {
			t.Roles[0] = EntraRole{Name: o.Role}
		}
		if err := t.validate(); err != nil {
			return nil, fmt.Errorf("sam: Trace: %w", err)
		}
		roles = t.Roles
	}
	v, err := d.readView(ctx, o.User, o.Tenant, nil)
	if err != nil {
		return nil, err
	}
	if err := d.readGroupNames(ctx, v); err != nil {
		return nil, err
	}
	rep.User = v.user
	for _, role := range roles {
		rep.Roles = append(rep.Roles, v.trace(rep.Tenant, role, "", d.now()))
	}
	return rep, nil
}

func operationList() string {
	var names []string
	for _, op := range Operations() {
		names = append(names, string(op))
	}
	return strings.Join(names, ", ")
}

// readGroupNames reads the names of the groups the view's assignments
// name that the user is not in: a trace names each group it looks at.
func (d *GDAP) readGroupNames(ctx context.Context, v *gdapView) error {
	for _, as := range v.assigns {
		for _, a := range as {
			id := strings.ToLower(a.AccessContainer.AccessContainerID)
			if id == "" || v.groupName(id) != "" || !httpx.IsGUID(id) {
				continue
			}
			g, err := d.g.Group(ctx, id)
			if err != nil {
				var ge *graph.Error
				if errors.As(err, &ge) && ge.StatusCode == http.StatusNotFound {
					v.names[id] = "(deleted group)"
					continue
				}
				return fmt.Errorf("reading partner group %s: %w", id, err)
			}
			v.names[id] = g.DisplayName
		}
	}
	return nil
}

// trace follows the chain for role in tenant. template names the template
// an invitation should use ("" or the default: none).
func (v *gdapView) trace(tenant string, role EntraRole, template string, now time.Time) RoleTrace {
	rt := RoleTrace{Role: role, Steps: []TraceStep{}}
	tenant = strings.ToLower(tenant)
	user := v.user.label()
	missing := func(link Link, fix string, step TraceStep) RoleTrace {
		step.Link = link
		rt.Steps = append(rt.Steps, step)
		rt.Missing, rt.Fix = link, fix
		return rt
	}
	invite := inviteFix(tenant, template, now)

	// Relationships with the tenant.
	rels := v.rels[tenant]
	var active []graph.DelegatedAdminRelationship
	for _, r := range rels {
		st := TraceStep{Link: LinkRelationship, ID: r.ID, Name: r.DisplayName, Found: r.Status == graph.RelationshipActive, Detail: relationshipState(r)}
		rt.Steps = append(rt.Steps, st)
		if st.Found {
			active = append(active, r)
		}
	}
	if len(rels) == 0 {
		return missing(LinkRelationship, invite, TraceStep{Detail: fmt.Sprintf("the partner has no GDAP relationship with tenant %s", tenant)})
	}
	if len(active) == 0 {
		// Each relationship's step says what became of it; the last one
		// read stands for the chain's end.
		rt.Steps = rt.Steps[:len(rt.Steps)-1]
		last := rels[len(rels)-1]
		return missing(LinkRelationship, invite, TraceStep{ID: last.ID, Name: last.DisplayName,
			Detail: relationshipState(last) + "; no relationship with the tenant is active"})
	}

	// The role among an active relationship's.
	sat := satisfying(role.ID)
	var holding []graph.DelegatedAdminRelationship
	for _, r := range active {
		if held := heldRoles(r.AccessDetails.UnifiedRoles, sat); len(held) > 0 {
			holding = append(holding, r)
			rt.Steps = append(rt.Steps, TraceStep{Link: LinkRole, Found: true, ID: r.ID, Name: r.DisplayName,
				Detail: fmt.Sprintf("relationship %q (%s) includes %s", r.DisplayName, r.ID, roleNames(held))})
		}
	}
	if len(holding) == 0 {
		var names []string
		for _, r := range active {
			names = append(names, fmt.Sprintf("%q (%s)", r.DisplayName, r.ID))
		}
		return missing(LinkRole, invite, TraceStep{ID: role.ID, Name: role.Name,
			Detail: fmt.Sprintf("no active relationship includes %s: %s %s, and an active relationship's roles cannot change",
				roleLabel(role.ID), strings.Join(names, ", "), plural(len(names), "does not", "do not"))})
	}

	// Active access assignments of the role to partner groups.
	type grant struct {
		rel  graph.DelegatedAdminRelationship
		a    graph.DelegatedAdminAccessAssignment
		role string
	}
	var grants []grant
	var pending []string
	for _, r := range holding {
		relHeld := heldRoles(r.AccessDetails.UnifiedRoles, sat)
		for _, a := range v.assigns[r.ID] {
			held := heldRoles(a.AccessDetails.UnifiedRoles, relHeld)
			switch {
			case len(held) == 0:
			case a.Status == graph.AssignmentActive:
				grants = append(grants, grant{rel: r, a: a, role: held[0]})
				gid := a.AccessContainer.AccessContainerID
				rt.Steps = append(rt.Steps, TraceStep{Link: LinkAssignment, Found: true, ID: a.ID, Name: v.groupName(gid),
					Detail: fmt.Sprintf("access assignment %s gives %s to group %s in relationship %q", a.ID, roleNames(held), v.groupLabel(gid), r.DisplayName)})
			case a.Status == graph.AssignmentPending:
				pending = append(pending, fmt.Sprintf("%s (to group %s)", a.ID, v.groupLabel(a.AccessContainer.AccessContainerID)))
			}
		}
	}
	if len(grants) == 0 {
		r := holding[0]
		detail := fmt.Sprintf("no active access assignment gives %s to a partner group in relationship %q (%s)", roleLabel(role.ID), r.DisplayName, r.ID)
		fix := assignFix(r.ID, v.user.ID)
		if len(pending) > 0 {
			detail += "; pending: " + strings.Join(pending, ", ") + " (Microsoft activates an assignment within minutes)"
			fix = "wait a few minutes, then run samctl gdap coverage again"
		}
		return missing(LinkAssignment, fix, TraceStep{ID: r.ID, Name: r.DisplayName, Detail: detail})
	}

	// The user in one of those groups.
	var groups []string
	for _, g := range grants {
		gid := strings.ToLower(g.a.AccessContainer.AccessContainerID)
		if name, ok := v.member[gid]; ok {
			rt.Steps = append(rt.Steps, TraceStep{Link: LinkMembership, Found: true, ID: gid, Name: name,
				Detail: fmt.Sprintf("%s is a member of group %s", user, v.groupLabel(gid))})
			rt.Covered = true
			rt.Via = EntraRole{ID: g.role, Name: EntraRoleName(g.role)}
			rt.RelationshipID, rt.RelationshipName, rt.GroupID, rt.GroupName = g.rel.ID, g.rel.DisplayName, gid, name
			return rt
		}
		if !slices.Contains(groups, v.groupLabel(gid)) {
			groups = append(groups, v.groupLabel(gid))
		}
	}
	g := grants[0]
	gid := strings.ToLower(g.a.AccessContainer.AccessContainerID)
	return missing(LinkMembership, assignFix(g.rel.ID, v.user.ID), TraceStep{ID: gid, Name: v.groupName(gid),
		Detail: fmt.Sprintf("%s is not a member of group %s, which holds %s in relationship %q: add them to it",
			user, strings.Join(groups, " or "), roleLabel(role.ID), g.rel.DisplayName)})
}

// groupLabel names a group for people: its name and id, or its id.
func (v *gdapView) groupLabel(id string) string {
	if n := v.groupName(id); n != "" {
		return fmt.Sprintf("%q (%s)", n, strings.ToLower(id))
	}
	return strings.ToLower(id)
}

// relationshipState says what a relationship's status means today.
func relationshipState(r graph.DelegatedAdminRelationship) string {
	name := fmt.Sprintf("relationship %q (%s)", r.DisplayName, r.ID)
	date := func(t time.Time) string { return t.UTC().Format(time.DateOnly) }
	switch r.Status {
	case graph.RelationshipActive:
		if r.EndDateTime.IsZero() {
			return name + " is active"
		}
		return fmt.Sprintf("%s is active until %s", name, date(r.EndDateTime))
	case graph.RelationshipExpired:
		return fmt.Sprintf("%s expired on %s", name, date(cmp.Or(r.EndDateTime, r.LastModifiedDateTime)))
	case graph.RelationshipTerminated:
		return fmt.Sprintf("%s was terminated on %s", name, date(cmp.Or(r.EndDateTime, r.LastModifiedDateTime)))
	case graph.RelationshipApprovalPending:
		return fmt.Sprintf("%s awaits the customer's approval at %s", name, InvitationLink(r.ID))
	case graph.RelationshipTerminationRequested, "terminating":
		return name + " is being terminated"
	}
	return fmt.Sprintf("%s is %s, not active", name, r.Status)
}

// heldRoles returns the roles of have that are among want.
func heldRoles(have []graph.UnifiedRole, want []string) []string {
	var out []string
	for _, r := range have {
		if slices.ContainsFunc(want, func(w string) bool { return strings.EqualFold(w, r.RoleDefinitionID) }) {
			out = append(out, strings.ToLower(r.RoleDefinitionID))
		}
	}
	return out
}

func roleNames(ids []string) string {
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = roleLabel(id)
	}
	return strings.Join(names, ", ")
}

// inviteFix is the command that asks the customer for a new relationship,
// named for the tenant and the day so that it is new (an ended
// relationship keeps its name).
func inviteFix(tenant, template string, now time.Time) string {
	fix := fmt.Sprintf("samctl gdap invite --customer %s --name samkit-%s-%s", tenant, tenant[:min(8, len(tenant))], now.UTC().Format("20060102"))
	if template != "" && !strings.EqualFold(template, DefaultRoleTemplateName) {
		fix += " --template " + template
	}
	return fix
}

// assignFix is the command that assigns a relationship's roles to groups
// and puts user in them.
func assignFix(rel, user string) string {
	return fmt.Sprintf("samctl gdap assign %s --add-member %s", rel, user)
}
