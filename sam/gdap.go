package sam

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/token"
)

// GDAP manages a partner's GDAP relationships with its customers: invite,
// follow, assign roles to the partner's security groups, extend, and find
// those about to end. Its calls run as the partner's admin in the partner
// tenant, so the SAM app needs the delegated permissions
// DelegatedAdminRelationship.ReadWrite.All and, for Assign,
// Group.ReadWrite.All (or Directory.ReadWrite.All), and the admin must be
// in the partner's Admin Agents group.
//
// See https://learn.microsoft.com/partner-center/customers/gdap-introduction.
type GDAP struct {
	g    *graph.Client
	now  func() time.Time
	conc int // requests Coverage sends at once (gdap_coverage.go)
}

// GDAPOption configures NewGDAP.
type GDAPOption func(*gdapConfig)

type gdapConfig struct {
	graph     *graph.Client
	graphOpts []graph.Option
	now       func() time.Time
	conc      int
}

// WithGDAPGraph makes GDAP use g, a Graph client of the partner tenant,
// instead of one made from the token provider.
func WithGDAPGraph(g *graph.Client) GDAPOption { return func(c *gdapConfig) { c.graph = g } }

// WithGDAPGraphOptions passes options to the Graph client NewGDAP makes.
func WithGDAPGraphOptions(opts ...graph.Option) GDAPOption {
	return func(c *gdapConfig) { c.graphOpts = append(c.graphOpts, opts...) }
}

// WithGDAPClock sets what Expiring takes as now (time.Now by default).
func WithGDAPClock(now func() time.Time) GDAPOption { return func(c *gdapConfig) { c.now = now } }

// NewGDAP returns GDAP operations for partner tenant partnerTenant, with
// tokens from p.
func NewGDAP(p *token.Provider, partnerTenant string, opts ...GDAPOption) (*GDAP, error) {
	cfg := gdapConfig{now: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	g := cfg.graph
	if g == nil {
		if p == nil {
			return nil, errors.New("sam: NewGDAP needs a token provider (or WithGDAPGraph)")
		}
		if partnerTenant == "" {
			return nil, errors.New("sam: NewGDAP needs the partner's tenant id")
		}
		c := p.Cloud()
		gopts := append([]graph.Option{graph.WithCloud(c), graph.WithHTTPClient(p.HTTPClient())}, cfg.graphOpts...)
		var err error
		if g, err = graph.New(p.Source(partnerTenant, c.Graph.Scope()), gopts...); err != nil {
			return nil, err
		}
	}
	return &GDAP{g: g, now: cfg.now, conc: cfg.conc}, nil
}

// InvitationLink is where a customer's admin approves relationship id.
func InvitationLink(id string) string {
	return "https://admin.microsoft.com/AdminPortal/Home#/partners/invitation/granularAdminRelationships/" + id
}

// InviteOptions describes an invitation.
type InviteOptions struct {
	// Customer is the customer's tenant id; empty invites a new customer
	// (whichever tenant's admin approves).
	Customer string
	// DisplayName names the relationship, unique among the partner's, at
	// most 50 characters. Re-running Invite with the same name continues
	// that relationship instead of making another.
	DisplayName string
	// Template holds the roles; DefaultRoleTemplate when empty.
	Template RoleTemplate
	// Duration is an ISO 8601 duration from P1D to P2Y; P730D when empty.
	Duration string
	// AutoExtend asks for automatic 180-day extension, which Microsoft
	// refuses for a relationship holding Global Administrator.
	AutoExtend bool
}

// Invitation is a relationship awaiting the customer's approval.
type Invitation struct {
	Relationship graph.DelegatedAdminRelationship `json:"relationship"`
	// Link is what to send the customer's admin.
	Link string `json:"link"`
	// Resumed is set when a relationship of that name existed already.
	Resumed bool `json:"resumed,omitzero"`
}

// ErrCannotAutoExtend: a relationship holding Global Administrator cannot
// extend itself ("relationships with the Microsoft Entra Global
// Administrator role can't be auto extended",
// https://learn.microsoft.com/partner-center/customers/gdap-faq).
var ErrCannotAutoExtend = errors.New("sam: a GDAP relationship with the Global Administrator role cannot auto-extend")

// Invite creates a relationship from a template and locks it for
// approval, returning the link for the customer's admin. It is
// resumable: a relationship of the same display name that is still
// created is locked, one awaiting approval is returned as it is.
func (d *GDAP) Invite(ctx context.Context, o InviteOptions) (Invitation, error) {
	rel, found, err := d.createInvite(ctx, o)
	if err != nil {
		return Invitation{}, err
	}
	inv := Invitation{Relationship: rel, Link: InvitationLink(rel.ID), Resumed: found}
	switch rel.Status {
	case graph.RelationshipCreated:
		locked, err := d.lock(ctx, rel.ID)
		if err != nil {
			return inv, err
		}
		inv.Relationship = locked
		return inv, nil
	case graph.RelationshipApprovalPending:
		return inv, nil
	}
	return inv, fmt.Errorf("sam: GDAP relationship %q (%s) is %s already, not awaiting approval: choose another display name for a new invitation",
		o.DisplayName, rel.ID, rel.Status)
}

// createInvite checks o and finds the relationship it names, or creates
// it in status created; found says it existed.
func (d *GDAP) createInvite(ctx context.Context, o InviteOptions) (rel graph.DelegatedAdminRelationship, found bool, err error) {
	if len(o.Template.Roles) == 0 {
		o.Template = DefaultRoleTemplate()
	}
	if err := o.Template.validate(); err != nil {
		return rel, false, err
	}
	if o.Duration == "" {
		o.Duration = "P730D"
	}
	// Trimmed before use: spaces around a name show in no listing, and a
	// name the service stores trimmed (samkit's fake does) would not match
	// the untrimmed one on a re-run, which would try to create it again.
	o.DisplayName = strings.TrimSpace(o.DisplayName)
	if o.DisplayName == "" {
		return rel, false, errors.New("sam: an invitation needs a display name, unique among your GDAP relationships (at most 50 characters)")
	}
	if o.AutoExtend && o.Template.HasGlobalAdmin() {
		return rel, false, fmt.Errorf("%w: template %q holds it; drop AutoExtend or the role", ErrCannotAutoExtend, o.Template.Name)
	}
	if rel, found, err = d.byName(ctx, o.DisplayName); err != nil {
		return rel, false, err
	}
	if found {
		if o.Customer != "" && rel.Customer.TenantID != "" && !strings.EqualFold(rel.Customer.TenantID, o.Customer) {
			return rel, true, fmt.Errorf("sam: GDAP relationship %q (%s) is for customer %s, not %s: choose another display name",
				o.DisplayName, rel.ID, rel.Customer.TenantID, o.Customer)
		}
		return rel, true, nil
	}
	in := graph.NewDelegatedAdminRelationship{DisplayName: o.DisplayName, Duration: o.Duration}
	if o.Customer != "" {
		in.Customer = &graph.DelegatedAdminCustomerRef{TenantID: o.Customer}
	}
	for _, id := range o.Template.RoleIDs() {
		in.AccessDetails.UnifiedRoles = append(in.AccessDetails.UnifiedRoles, graph.UnifiedRole{RoleDefinitionID: id})
	}
	if o.AutoExtend {
		in.AutoExtendDuration = "P180D"
	}
	if rel, err = d.g.CreateDelegatedAdminRelationship(ctx, in); err != nil {
		return rel, false, fmt.Errorf("creating GDAP relationship %q: %w", o.DisplayName, err)
	}
	return rel, false, nil
}

// lock locks created relationship id for the customer's approval and
// returns it as it now is.
func (d *GDAP) lock(ctx context.Context, id string) (graph.DelegatedAdminRelationship, error) {
	if _, err := d.g.RequestDelegatedAdminRelationship(ctx, id, graph.ActionLockForApproval); err != nil {
		return graph.DelegatedAdminRelationship{}, fmt.Errorf("locking GDAP relationship %s for approval: %w", id, err)
	}
	return d.g.GetDelegatedAdminRelationship(ctx, id)
}

// byName finds the partner's relationship called name.
func (d *GDAP) byName(ctx context.Context, name string) (graph.DelegatedAdminRelationship, bool, error) {
	for rel, err := range d.g.DelegatedAdminRelationships(ctx, "") {
		if err != nil {
			return graph.DelegatedAdminRelationship{}, false, fmt.Errorf("listing GDAP relationships: %w", err)
		}
		if strings.EqualFold(rel.DisplayName, name) {
			return rel, true, nil
		}
	}
	return graph.DelegatedAdminRelationship{}, false, nil
}

// RelationshipStatus is a relationship with its access assignments.
type RelationshipStatus struct {
	Relationship graph.DelegatedAdminRelationship       `json:"relationship"`
	Assignments  []graph.DelegatedAdminAccessAssignment `json:"accessAssignments"`
	// Link is the invitation link while the customer has yet to approve.
	Link string `json:"link,omitzero"`
}

// Status reads relationship id and its access assignments.
func (d *GDAP) Status(ctx context.Context, id string) (RelationshipStatus, error) {
	rel, err := d.g.GetDelegatedAdminRelationship(ctx, id)
	if err != nil {
		return RelationshipStatus{}, fmt.Errorf("reading GDAP relationship %s: %w", id, err)
	}
	st := RelationshipStatus{Relationship: rel}
	if rel.Status == graph.RelationshipApprovalPending {
		st.Link = InvitationLink(id)
	}
	if rel.Status == graph.RelationshipActive {
		if st.Assignments, err = graph.Collect(d.g.DelegatedAdminAccessAssignments(ctx, id)); err != nil {
			return st, fmt.Errorf("reading the access assignments of GDAP relationship %s: %w", id, err)
		}
	}
	return st, nil
}

// AssignOptions tunes Assign.
type AssignOptions struct {
	// GroupPrefix starts each group's name; "GDAP" when empty, giving
	// "GDAP - Exchange Administrator".
	GroupPrefix string
	// Groups names the group for a role (by role id), overriding the
	// prefix: a role template's groups (RoleTemplate.Groups). Roles that
	// share a group are given to it in one access assignment.
	Groups map[string]string
	// Members are partner users (object ids) to put in every group, such
	// as the admin who runs samkit; members already in stay as they are.
	Members []string
}

// RoleAssignment reports one role of a relationship and its group.
type RoleAssignment struct {
	RoleID    string `json:"roleDefinitionId"`
	RoleName  string `json:"roleName"`
	GroupID   string `json:"groupId"`
	GroupName string `json:"groupName"`
	// GroupCreated is set when Assign created the group.
	GroupCreated bool `json:"groupCreated,omitzero"`
	// AssignmentID and Status are the access assignment's.
	AssignmentID string `json:"assignmentId"`
	Status       string `json:"status"`
	// AlreadyAssigned is set when the group held the role already.
	AlreadyAssigned bool `json:"alreadyAssigned,omitzero"`
	// Updated is set when the group's assignment existed without the
	// role and Assign added it (a long-running change in Microsoft).
	Updated bool `json:"updated,omitzero"`
}

// GroupName is the partner security group Assign uses for a role:
// "<prefix> - <role name>" (the role's id when samkit does not know it).
func GroupName(prefix, roleID string) string {
	if prefix == "" {
		prefix = "GDAP"
	}
	name := EntraRoleName(roleID)
	if name == "" {
		name = strings.ToLower(roleID)
	}
	return prefix + " - " + name
}

var nicknameUnsafe = regexp.MustCompile(`[^a-z0-9]+`)

// Assign gives each role of active relationship id to a partner security
// group, finding or creating the group by name: the one o.Groups names
// for the role, else GroupName. A group holds its roles in one access
// assignment; one that exists without some of them is updated (PATCH
// with its ETag). A re-run changes nothing that is in place: a group
// holding its role (pending or active) is reported AlreadyAssigned.
func (d *GDAP) Assign(ctx context.Context, id string, o AssignOptions) ([]RoleAssignment, error) {
	rel, err := d.g.GetDelegatedAdminRelationship(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("reading GDAP relationship %s: %w", id, err)
	}
	if rel.Status != graph.RelationshipActive {
		return nil, fmt.Errorf("sam: GDAP relationship %q (%s) is %s: roles can be assigned once the customer has approved it and it is active",
			rel.DisplayName, id, rel.Status)
	}
	existing, err := graph.Collect(d.g.DelegatedAdminAccessAssignments(ctx, id))
	if err != nil {
		return nil, fmt.Errorf("reading the access assignments of GDAP relationship %s: %w", id, err)
	}
	// The roles of each group, groups in the order of their first role.
	var names []string
	roles := map[string][]string{}
	for _, role := range rel.AccessDetails.UnifiedRoles {
		name := o.Groups[strings.ToLower(role.RoleDefinitionID)]
		if name == "" {
			name = GroupName(o.GroupPrefix, role.RoleDefinitionID)
		}
		if _, ok := roles[name]; !ok {
			names = append(names, name)
		}
		roles[name] = append(roles[name], role.RoleDefinitionID)
	}
	var out []RoleAssignment
	for _, name := range names {
		group, created, err := d.group(ctx, name)
		if err != nil {
			return out, err
		}
		for _, m := range o.Members {
			if err := d.g.AddGroupMember(ctx, group, m); err != nil {
				return out, fmt.Errorf("adding %s to group %q: %w", m, name, err)
			}
		}
		rs, err := d.assignGroup(ctx, id, group, roles[name], existing)
		if err != nil {
			return out, fmt.Errorf("assigning %s to group %q in GDAP relationship %s: %w", roleLabels(roles[name]), name, id, err)
		}
		for i := range rs {
			rs[i].GroupName, rs[i].GroupCreated = name, created
		}
		out = append(out, rs...)
	}
	return out, nil
}

// assignGroup gives roles to group through its one live assignment in
// relationship id: creating it, or adding what it lacks.
func (d *GDAP) assignGroup(ctx context.Context, id, group string, roles []string, existing []graph.DelegatedAdminAccessAssignment) ([]RoleAssignment, error) {
	report := func(a graph.DelegatedAdminAccessAssignment, status string, held []string, updated bool) []RoleAssignment {
		out := make([]RoleAssignment, len(roles))
		for i, r := range roles {
			already := slices.ContainsFunc(held, func(h string) bool { return strings.EqualFold(h, r) })
			out[i] = RoleAssignment{RoleID: r, RoleName: EntraRoleName(r), GroupID: group, AssignmentID: a.ID, Status: status,
				AlreadyAssigned: already, Updated: updated && !already}
		}
		return out
	}
	i := slices.IndexFunc(existing, func(a graph.DelegatedAdminAccessAssignment) bool {
		return a.AccessContainer.AccessContainerID == group && (a.Status == graph.AssignmentActive || a.Status == graph.AssignmentPending)
	})
	if i < 0 {
		a, err := d.g.CreateDelegatedAdminAccessAssignment(ctx, id, group, roles...)
		if err != nil {
			return nil, err
		}
		return report(a, a.Status, nil, false), nil
	}
	a := existing[i]
	var held []string
	for _, r := range a.AccessDetails.UnifiedRoles {
		held = append(held, r.RoleDefinitionID)
	}
	union := slices.Clone(held)
	for _, r := range roles {
		if !slices.ContainsFunc(union, func(h string) bool { return strings.EqualFold(h, r) }) {
			union = append(union, r)
		}
	}
	if len(union) == len(held) {
		return report(a, a.Status, held, false), nil
	}
	if _, _, err := d.g.UpdateDelegatedAdminAccessAssignment(ctx, id, a.ID, a.ETag, union...); err != nil {
		return nil, err
	}
	return report(a, "updating", held, true), nil
}

func roleLabels(ids []string) string {
	labels := make([]string, len(ids))
	for i, id := range ids {
		labels[i] = roleLabel(id)
	}
	return strings.Join(labels, ", ")
}

func roleLabel(id string) string {
	if n := EntraRoleName(id); n != "" {
		return n
	}
	return "role " + id
}

// group finds the security group called name, or creates it.
func (d *GDAP) group(ctx context.Context, name string) (id string, created bool, err error) {
	groups, err := graph.Collect(d.g.GroupsByDisplayName(ctx, name))
	if err != nil {
		return "", false, fmt.Errorf("looking for security group %q: %w", name, err)
	}
	switch len(groups) {
	case 0:
	case 1:
		return groups[0].ID, false, nil
	default:
		return "", false, fmt.Errorf("sam: %d groups are called %q: rename or delete all but one, then run again", len(groups), name)
	}
	nick := strings.Trim(nicknameUnsafe.ReplaceAllString(strings.ToLower(name), "-"), "-")
	g, err := d.g.CreateSecurityGroup(ctx, name, nick, "Partner staff holding this role in GDAP customers (managed by samkit).")
	if err != nil {
		return "", false, fmt.Errorf("creating security group %q: %w", name, err)
	}
	return g.ID, true, nil
}

// Extension is what Extend did.
type Extension struct {
	Relationship graph.DelegatedAdminRelationship `json:"relationship"`
	// Changed is set when auto-extension was off and is now on.
	Changed bool `json:"changed"`
}

// Extend turns on 180-day auto-extension of relationship id. A
// relationship holding Global Administrator cannot auto-extend: the error
// then matches ErrCannotAutoExtend and says so.
func (d *GDAP) Extend(ctx context.Context, id string) (Extension, error) {
	for attempt := 0; ; attempt++ {
		rel, err := d.g.GetDelegatedAdminRelationship(ctx, id)
		if err != nil {
			return Extension{}, fmt.Errorf("reading GDAP relationship %s: %w", id, err)
		}
		if rel.AutoExtendDuration == "P180D" {
			return Extension{Relationship: rel}, nil
		}
		if why := whyNoAutoExtend(rel); why != "" {
			return Extension{Relationship: rel}, fmt.Errorf("%w: %s", ErrCannotAutoExtend, why)
		}
		if rel.Status != graph.RelationshipActive && rel.Status != graph.RelationshipCreated {
			return Extension{Relationship: rel}, fmt.Errorf("sam: GDAP relationship %q (%s) is %s: only a created or active relationship can be set to auto-extend",
				rel.DisplayName, id, rel.Status)
		}
		ext := "P180D"
		upd, _, err := d.g.UpdateDelegatedAdminRelationship(ctx, id, rel.ETag, graph.DelegatedAdminRelationshipPatch{AutoExtendDuration: &ext})
		if errors.Is(err, graph.ErrPreconditionFailed) && attempt == 0 {
			continue // changed meanwhile: read it again, once
		}
		if err != nil {
			return Extension{Relationship: rel}, fmt.Errorf("setting GDAP relationship %s to auto-extend: %w", id, err)
		}
		return Extension{Relationship: upd, Changed: true}, nil
	}
}

// whyNoAutoExtend says why rel cannot auto-extend, or "".
func whyNoAutoExtend(rel graph.DelegatedAdminRelationship) string {
	if slices.ContainsFunc(rel.AccessDetails.UnifiedRoles, func(r graph.UnifiedRole) bool {
		return strings.EqualFold(r.RoleDefinitionID, graph.GlobalAdminRoleTemplateID)
	}) {
		return fmt.Sprintf("relationship %q holds Global Administrator (%s); remove that role (allowed while it is active) or invite again without it",
			rel.DisplayName, graph.GlobalAdminRoleTemplateID)
	}
	return ""
}

// ExpiringRelationship is an active relationship ending soon.
type ExpiringRelationship struct {
	Relationship graph.DelegatedAdminRelationship `json:"relationship"`
	EndsIn       time.Duration                    `json:"-"`
	// AutoExtends says whether it will extend itself at its end.
	AutoExtends bool `json:"autoExtends"`
	// WhyNot says why it cannot auto-extend, when it cannot.
	WhyNot string `json:"whyNot,omitzero"`
}

// Expiring lists the active relationships that end within the given
// time, soonest first, and whether each will extend itself.
func (d *GDAP) Expiring(ctx context.Context, within time.Duration) ([]ExpiringRelationship, error) {
	if within < 0 {
		return nil, fmt.Errorf("sam: Expiring needs a window of zero or more, not %v", within)
	}
	now := d.now()
	var out []ExpiringRelationship
	for rel, err := range d.g.DelegatedAdminRelationships(ctx, graph.RelationshipActive) {
		if err != nil {
			return nil, fmt.Errorf("listing GDAP relationships: %w", err)
		}
		if rel.EndDateTime.IsZero() || rel.EndDateTime.After(now.Add(within)) {
			continue
		}
		e := ExpiringRelationship{Relationship: rel, EndsIn: rel.EndDateTime.Sub(now), AutoExtends: rel.AutoExtendDuration == "P180D"}
		if !e.AutoExtends {
			e.WhyNot = whyNoAutoExtend(rel)
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b ExpiringRelationship) int {
		return a.Relationship.EndDateTime.Compare(b.Relationship.EndDateTime)
	})
	return out, nil
}

// WaitOptions tunes WaitActive.
type WaitOptions struct {
	// Poll is the pause between reads; 30 seconds when zero.
	Poll time.Duration
	// Timeout bounds the wait, counted in polls (Timeout/Poll of them);
	// zero waits as long as ctx allows.
	Timeout time.Duration
	// Progress, when set, hears each status read.
	Progress func(status string)
	// Sleep pauses between reads (tests pass their own); a timer on ctx
	// when nil.
	Sleep func(ctx context.Context, d time.Duration) error
}

// ErrWaitTimedOut: what was waited for, a relationship or its access
// assignments, was not active within the wait's timeout.
var ErrWaitTimedOut = errors.New("sam: a GDAP wait timed out")

// WaitActive reads relationship id until it is active, and returns it. It
// stops with an error when the relationship can no longer become active
// (expired, terminated, or being terminated), when the timeout passes, or
// when ctx ends.
func (d *GDAP) WaitActive(ctx context.Context, id string, o WaitOptions) (graph.DelegatedAdminRelationship, error) {
	if o.Poll <= 0 {
		o.Poll = 30 * time.Second
	}
	sleep := o.Sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	for polls := 0; ; polls++ {
		rel, err := d.g.GetDelegatedAdminRelationship(ctx, id)
		if err != nil {
			return rel, fmt.Errorf("reading GDAP relationship %s: %w", id, err)
		}
		if o.Progress != nil {
			o.Progress(rel.Status)
		}
		switch rel.Status {
		case graph.RelationshipActive:
			return rel, nil
		case graph.RelationshipExpired, graph.RelationshipTerminated, graph.RelationshipTerminationRequested, "terminating":
			return rel, fmt.Errorf("sam: GDAP relationship %q (%s) is %s and will not become active: invite the customer again", rel.DisplayName, id, rel.Status)
		case graph.RelationshipCreated:
			return rel, fmt.Errorf("sam: GDAP relationship %q (%s) is not locked for approval yet: run Invite (samctl gdap invite) again with its name", rel.DisplayName, id)
		}
		if o.Timeout > 0 && time.Duration(polls+1)*o.Poll > o.Timeout {
			return rel, fmt.Errorf("%w: %q (%s) is still %s after %v; the customer's admin approves at %s", ErrWaitTimedOut, rel.DisplayName, id, rel.Status, o.Timeout, InvitationLink(id))
		}
		if err := sleep(ctx, o.Poll); err != nil {
			return rel, err
		}
	}
}

// sleepCtx pauses for d, or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Terminate ends active relationship id: it turns terminationRequested,
// then terminated, and its roles stop working in the customer. A
// relationship still being prepared (created) is deleted instead; one
// already ending or ended is left as it is.
func (d *GDAP) Terminate(ctx context.Context, id string) (graph.DelegatedAdminRelationship, error) {
	rel, err := d.g.GetDelegatedAdminRelationship(ctx, id)
	if err != nil {
		return rel, fmt.Errorf("reading GDAP relationship %s: %w", id, err)
	}
	switch rel.Status {
	case graph.RelationshipCreated:
		if err := d.g.DeleteDelegatedAdminRelationship(ctx, id, rel.ETag); err != nil {
			return rel, fmt.Errorf("deleting GDAP relationship %s: %w", id, err)
		}
		return rel, nil
	case graph.RelationshipActive:
		if _, err := d.g.RequestDelegatedAdminRelationship(ctx, id, graph.ActionTerminate); err != nil {
			return rel, fmt.Errorf("terminating GDAP relationship %s: %w", id, err)
		}
		return d.g.GetDelegatedAdminRelationship(ctx, id)
	case graph.RelationshipTerminationRequested, "terminating", graph.RelationshipTerminated, graph.RelationshipExpired:
		return rel, nil
	}
	return rel, fmt.Errorf("sam: GDAP relationship %q (%s) is %s: Microsoft lets a partner end only an active relationship, or delete one still created",
		rel.DisplayName, id, rel.Status)
}

// GDAP returns the partner's GDAP operations, sharing the Partner's
// tokens, HTTP client, retry policy and logger.
func (p *Partner) GDAP(opts ...GDAPOption) (*GDAP, error) {
	g, err := p.graph(p.p.TenantID())
	if err != nil {
		return nil, err
	}
	return NewGDAP(p.p, p.p.TenantID(), append([]GDAPOption{WithGDAPGraph(g), WithGDAPConcurrency(p.concurrency)}, opts...)...)
}
