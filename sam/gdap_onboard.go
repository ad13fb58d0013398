package sam

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/internal/httpx"
	"github.com/samkit/samkit/token"
)

// Onboarding a customer takes it from no relationship to a passing access
// check: invite → lock for approval → the customer's approval → access
// assignments → CPV consent → access check. Each step reads what Microsoft
// holds before it writes (the relationship by its unique display name, its
// status, its assignments, the consent), so a run that stopped anywhere is
// continued by running it again with the same options, and a finished one
// changes nothing. No local journal is kept: Microsoft's state is the only
// one that cannot drift.

// OnboardStep names a step of Partner.Onboard.
type OnboardStep string

// The steps of an onboarding, in order.
const (
	// OnboardInvite creates the relationship from a role template.
	OnboardInvite OnboardStep = "invite"
	// OnboardLock locks it for approval: the invitation link works from then.
	OnboardLock OnboardStep = "lock"
	// OnboardApproval waits for the customer's admin to approve it.
	OnboardApproval OnboardStep = "approval"
	// OnboardAssign gives its roles to partner security groups (with the
	// admin in them) and waits until the assignments are active.
	OnboardAssign OnboardStep = "assign"
	// OnboardConsent pushes the SAM app's CPV consent to the customer.
	OnboardConsent OnboardStep = "consent"
	// OnboardCheck checks access in the customer.
	OnboardCheck OnboardStep = "check"
)

// OnboardSteps lists the steps in the order they run.
func OnboardSteps() []OnboardStep {
	return []OnboardStep{OnboardInvite, OnboardLock, OnboardApproval, OnboardAssign, OnboardConsent, OnboardCheck}
}

// Onboard reports its steps with Setup's StepStatus: StepStarted, StepDone
// and StepFailed, and these two.
const (
	// StepWaiting: the step waits on Microsoft or the customer; Detail
	// says for what.
	StepWaiting StepStatus = "waiting"
	// StepAlreadyDone: the step was found done; nothing was changed.
	StepAlreadyDone StepStatus = "already-done"
)

// OnboardEvent reports a step's progress.
type OnboardEvent struct {
	Step   OnboardStep `json:"step"`
	Status StepStatus  `json:"status"`
	// RelationshipID is the relationship's id, once known.
	RelationshipID string `json:"relationshipId,omitzero"`
	// Detail says what was done or found, for people.
	Detail string `json:"detail,omitzero"`
	// Err is why the step failed.
	Err error `json:"-"`
}

// OnboardOptions describes an onboarding.
type OnboardOptions struct {
	// Customer is the customer's tenant id. Empty onboards a new customer:
	// the invitation names none, and the tenant is known once its admin
	// approves; DisplayName is then required, to find the relationship
	// again on a re-run.
	Customer string
	// DisplayName names the relationship (unique among the partner's, at
	// most 50 characters); OnboardName(Customer) when empty.
	DisplayName string
	// Template holds the roles and may name their groups;
	// DefaultRoleTemplate when empty.
	Template RoleTemplate
	// Duration is an ISO 8601 duration from P1D to P2Y; P730D when empty.
	Duration string
	// AutoExtend asks for automatic 180-day extension.
	AutoExtend bool
	// Assign chooses the groups; the template's groups when Groups is nil,
	// and the signed-in admin as the member when Members is nil (so that
	// the access check, made as that admin, can pass).
	Assign AssignOptions
	// NoWait stops after the invitation while the customer has yet to
	// approve: Onboard then returns ErrAwaitingApproval with the link.
	NoWait bool
	// Timeout bounds each wait (approval, assignments becoming active),
	// counted in polls; zero waits as long as ctx allows.
	Timeout time.Duration
	// Poll is the pause between reads while waiting; 30 seconds when zero.
	Poll time.Duration
	// Sleep pauses between reads and retries; a timer on ctx when nil.
	// Tests pass their own.
	Sleep func(ctx context.Context, d time.Duration) error
	// Manifest is what the CPV consent grants; DefaultManifest when empty.
	// GDAPManifest belongs in the partner tenant only, not here.
	Manifest Manifest
	// ConsentAttempts bounds the consent push and the access check when
	// they meet AADSTS65001 because a new consent has not reached every
	// sign-in server yet; 6 when zero. The pauses start at ConsentBackoff
	// (15 seconds when zero) and double.
	ConsentAttempts int
	ConsentBackoff  time.Duration
	// Checks chooses the access checks (see Checks for the zero value).
	Checks Checks
	// Progress, when set, hears every step's events, one call at a time.
	Progress func(OnboardEvent)
}

// OnboardResult is where an onboarding stands.
type OnboardResult struct {
	// Customer is the customer's tenant id, once known.
	Customer string `json:"customer,omitzero"`
	// Relationship is the GDAP relationship as last read.
	Relationship graph.DelegatedAdminRelationship `json:"relationship"`
	// Link is the invitation link for the customer's admin.
	Link string `json:"link,omitzero"`
	// Steps holds the last event of each step reached, in order.
	Steps []OnboardEvent `json:"steps"`
	// Assignments are the roles and their groups.
	Assignments []RoleAssignment `json:"assignments,omitzero"`
	// Consent is the consent push's result, once made.
	Consent *PushResult `json:"-"`
	// Access is the access check's result in the customer, once made.
	Access *TenantResult `json:"access,omitzero"`
}

// Complete reports whether every step is done.
func (r OnboardResult) Complete() bool {
	if len(r.Steps) != len(OnboardSteps()) {
		return false
	}
	for _, e := range r.Steps {
		if e.Status != StepDone && e.Status != StepAlreadyDone {
			return false
		}
	}
	return true
}

// ErrAwaitingApproval: OnboardOptions.NoWait stopped the onboarding while
// the customer has yet to approve the relationship; run it again later.
var ErrAwaitingApproval = errors.New("sam: the GDAP relationship awaits the customer's approval")

// ErrOnboardCheckFailed: the onboarding went through but the access check
// of the customer failed; OnboardResult.Access says how.
var ErrOnboardCheckFailed = errors.New("sam: the access check of the onboarded customer failed")

// OnboardName is the relationship name Onboard gives an existing
// customer: "samkit " and its tenant id, 43 characters.
func OnboardName(customer string) string { return "samkit " + strings.ToLower(customer) }

const (
	defaultOnboardPoll            = 30 * time.Second
	defaultConsentAttempts        = 6
	defaultConsentBackoff         = 15 * time.Second
	onboardAssignmentsActiveLabel = "access assignments active"
)

// onboarding is one Onboard call.
type onboarding struct {
	OnboardOptions
	p   *Partner
	d   *GDAP
	res *OnboardResult
}

// Onboard onboards a customer, step by step (see OnboardStep), reporting
// each to o.Progress. Run again with the same options, it continues where
// the last run stopped, and reports done steps as StepAlreadyDone.
//
// The SAM app needs GDAPManifest's permissions in the partner tenant. The
// error names the step that failed; the result says how far it got.
func (p *Partner) Onboard(ctx context.Context, o OnboardOptions) (OnboardResult, error) {
	res := OnboardResult{Customer: strings.ToLower(o.Customer), Steps: []OnboardEvent{}}
	switch {
	case o.Customer != "" && !httpx.IsGUID(o.Customer):
		return res, fmt.Errorf("sam: customer %q is not a tenant id (a GUID): give the customer's tenant id, or none for a new customer", o.Customer)
	case o.Customer == "" && o.DisplayName == "":
		return res, errors.New("sam: onboarding a new customer needs a display name for its relationship, to find it again when the onboarding is run again")
	}
	if o.DisplayName == "" {
		o.DisplayName = OnboardName(o.Customer)
	}
	if len(o.Template.Roles) == 0 {
		o.Template = DefaultRoleTemplate()
	}
	if o.Poll <= 0 {
		o.Poll = defaultOnboardPoll
	}
	if o.Sleep == nil {
		o.Sleep = sleepCtx
	}
	if o.ConsentAttempts <= 0 {
		o.ConsentAttempts = defaultConsentAttempts
	}
	if o.ConsentBackoff <= 0 {
		o.ConsentBackoff = defaultConsentBackoff
	}
	if o.Assign.Groups == nil {
		o.Assign.Groups = o.Template.Groups()
	}
	d, err := p.GDAP()
	if err != nil {
		return res, err
	}
	run := &onboarding{OnboardOptions: o, p: p, d: d, res: &res}
	for _, step := range []func(context.Context) error{run.invite, run.approve, run.assign, run.consent, run.check} {
		if err := step(ctx); err != nil {
			return res, err
		}
	}
	return res, nil
}

// emit records e as its step's latest event and reports it.
func (o *onboarding) emit(step OnboardStep, status StepStatus, detail string, err error) {
	e := OnboardEvent{Step: step, Status: status, RelationshipID: o.res.Relationship.ID, Detail: detail, Err: err}
	if i := slices.IndexFunc(o.res.Steps, func(x OnboardEvent) bool { return x.Step == step }); i >= 0 {
		o.res.Steps[i] = e
	} else {
		o.res.Steps = append(o.res.Steps, e)
	}
	if o.Progress != nil {
		o.Progress(e)
	}
}

// fail reports step failed with err and returns err naming the step.
func (o *onboarding) fail(step OnboardStep, err error) error {
	if errors.Is(err, graph.ErrForbidden) && (step == OnboardInvite || step == OnboardLock || step == OnboardAssign) {
		err = fmt.Errorf("%w: the SAM app needs DelegatedAdminRelationship.ReadWrite.All and Group.ReadWrite.All in the partner tenant (sam.GDAPManifest; samctl setup --gdap), and the admin must be in Admin Agents", err)
	}
	o.emit(step, StepFailed, "", err)
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("onboarding, step %s: %w", step, err)
}

// allAlreadyDone reports whether every step before the check was found
// done.
func (o *onboarding) allAlreadyDone() bool {
	for _, e := range o.res.Steps {
		if e.Step != OnboardCheck && e.Status != StepAlreadyDone {
			return false
		}
	}
	return true
}

// invite finds or creates the relationship, and locks it for approval.
func (o *onboarding) invite(ctx context.Context) error {
	o.emit(OnboardInvite, StepStarted, o.DisplayName, nil)
	rel, found, err := o.d.createInvite(ctx, InviteOptions{Customer: o.Customer, DisplayName: o.DisplayName,
		Template: o.Template, Duration: o.Duration, AutoExtend: o.AutoExtend})
	if err != nil {
		return o.fail(OnboardInvite, err)
	}
	o.res.Relationship = rel
	if found {
		o.emit(OnboardInvite, StepAlreadyDone, fmt.Sprintf("%q is %s", rel.DisplayName, rel.Status), nil)
	} else {
		o.emit(OnboardInvite, StepDone, fmt.Sprintf("%q created, %d roles", rel.DisplayName, len(rel.AccessDetails.UnifiedRoles)), nil)
	}
	o.emit(OnboardLock, StepStarted, "", nil)
	switch rel.Status {
	case graph.RelationshipCreated:
		if o.res.Relationship, err = o.d.lock(ctx, rel.ID); err != nil {
			return o.fail(OnboardLock, err)
		}
		o.res.Link = InvitationLink(rel.ID)
		o.emit(OnboardLock, StepDone, "the invitation link works: "+o.res.Link, nil)
	case graph.RelationshipApprovalPending:
		o.res.Link = InvitationLink(rel.ID)
		o.emit(OnboardLock, StepAlreadyDone, "the invitation link works: "+o.res.Link, nil)
	case graph.RelationshipActive:
		o.emit(OnboardLock, StepAlreadyDone, "approved already", nil)
	case graph.RelationshipApproved, graph.RelationshipActivating:
		// Approved, on its way to active: the approval step waits for it.
		o.emit(OnboardLock, StepAlreadyDone, "approved already", nil)
	default:
		return o.fail(OnboardLock, fmt.Errorf("sam: GDAP relationship %q (%s) is %s and will not become active: offboard or choose another display name to invite the customer again",
			rel.DisplayName, rel.ID, rel.Status))
	}
	return nil
}

// approve waits until the customer has approved, and learns its tenant.
func (o *onboarding) approve(ctx context.Context) error {
	rel := o.res.Relationship
	if rel.Status == graph.RelationshipActive {
		o.emit(OnboardApproval, StepAlreadyDone, "approved by "+rel.Customer.TenantID, nil)
	} else {
		waitFor := "for the customer's admin to approve"
		if rel.Status != graph.RelationshipApprovalPending {
			waitFor = "for Microsoft to activate the approved relationship"
		}
		o.emit(OnboardApproval, StepWaiting, waitFor, nil)
		if o.NoWait && rel.Status == graph.RelationshipApprovalPending {
			return ErrAwaitingApproval
		}
		var err error
		rel, err = o.d.WaitActive(ctx, rel.ID, WaitOptions{Poll: o.Poll, Timeout: o.Timeout, Sleep: o.Sleep})
		if err != nil {
			return o.fail(OnboardApproval, err)
		}
		o.res.Relationship = rel
		o.emit(OnboardApproval, StepDone, "approved by "+rel.Customer.TenantID, nil)
	}
	if o.Customer != "" && !strings.EqualFold(o.Customer, rel.Customer.TenantID) {
		return o.fail(OnboardApproval, fmt.Errorf("sam: GDAP relationship %q (%s) was approved by tenant %s, not %s", rel.DisplayName, rel.ID, rel.Customer.TenantID, o.Customer))
	}
	o.res.Customer = strings.ToLower(rel.Customer.TenantID)
	o.res.Link = ""
	return nil
}

// assign gives the roles to their groups and waits until every
// assignment is active with its roles.
func (o *onboarding) assign(ctx context.Context) error {
	o.emit(OnboardAssign, StepStarted, "", nil)
	a := o.Assign
	if a.Members == nil {
		me, err := o.d.g.Me(ctx)
		if err != nil {
			return o.fail(OnboardAssign, fmt.Errorf("reading the signed-in admin, to put in the groups: %w", err))
		}
		a.Members = []string{me.ID}
	}
	out, err := o.d.Assign(ctx, o.res.Relationship.ID, a)
	o.res.Assignments = out
	if err != nil {
		return o.fail(OnboardAssign, err)
	}
	already := !slices.ContainsFunc(out, func(r RoleAssignment) bool { return !r.AlreadyAssigned })
	groups := map[string]bool{}
	for _, r := range out {
		groups[r.GroupName] = true
	}
	detail := fmt.Sprintf("%d roles in %d groups", len(out), len(groups))
	for polls := 0; ; polls++ {
		pending, err := o.pendingAssignments(ctx, out)
		if err != nil {
			return o.fail(OnboardAssign, err)
		}
		if pending == 0 {
			break
		}
		already = false
		if o.Timeout > 0 && time.Duration(polls+1)*o.Poll > o.Timeout {
			return o.fail(OnboardAssign, fmt.Errorf("%w: %d of %d roles are still not active in their access assignments after %v",
				ErrWaitTimedOut, pending, len(out), o.Timeout))
		}
		o.emit(OnboardAssign, StepWaiting, fmt.Sprintf("%d of %d roles active", len(out)-pending, len(out)), nil)
		if err := o.Sleep(ctx, o.Poll); err != nil {
			return o.fail(OnboardAssign, err)
		}
	}
	if already {
		o.emit(OnboardAssign, StepAlreadyDone, detail+", "+onboardAssignmentsActiveLabel, nil)
	} else {
		o.emit(OnboardAssign, StepDone, detail+", "+onboardAssignmentsActiveLabel, nil)
	}
	return nil
}

// pendingAssignments counts the roles of want not yet held by an active
// assignment of their group.
func (o *onboarding) pendingAssignments(ctx context.Context, want []RoleAssignment) (int, error) {
	as, err := graph.Collect(o.d.g.DelegatedAdminAccessAssignments(ctx, o.res.Relationship.ID))
	if err != nil {
		return 0, fmt.Errorf("reading the access assignments of GDAP relationship %s: %w", o.res.Relationship.ID, err)
	}
	pending := 0
	var ops []graph.DelegatedAdminRelationshipOperation
	for _, w := range want {
		if !slices.ContainsFunc(as, func(a graph.DelegatedAdminAccessAssignment) bool {
			return a.Status == graph.AssignmentActive && a.AccessContainer.AccessContainerID == w.GroupID &&
				slices.ContainsFunc(a.AccessDetails.UnifiedRoles, func(r graph.UnifiedRole) bool { return strings.EqualFold(r.RoleDefinitionID, w.RoleID) })
		}) {
			pending++
			if w.Updated {
				// The role was added to an existing assignment: Graph
				// applies that in a long-running operation, and one that
				// failed never adds it.
				if ops == nil {
					if ops, err = graph.Collect(o.d.g.DelegatedAdminRelationshipOperations(ctx, o.res.Relationship.ID)); err != nil {
						return 0, fmt.Errorf("reading the operations of GDAP relationship %s: %w", o.res.Relationship.ID, err)
					}
				}
				if op, ok := lastAssignmentUpdate(ops, w.RoleID); ok && op.Status == graph.OperationFailed {
					return 0, fmt.Errorf("sam: operation %s, adding %s to the access assignment of group %q in GDAP relationship %s, failed: run again to retry it",
						op.ID, roleLabel(w.RoleID), w.GroupName, o.res.Relationship.ID)
				}
			}
		}
		// An assignment that failed or is going away never turns active:
		// waiting for it would last until the timeout, or for ever.
		if i := slices.IndexFunc(as, func(a graph.DelegatedAdminAccessAssignment) bool { return a.ID == w.AssignmentID }); i >= 0 {
			switch a := as[i]; a.Status {
			case graph.AssignmentError, graph.AssignmentDeleting, graph.AssignmentDeleted:
				return 0, fmt.Errorf("sam: access assignment %s, giving %s to group %q in GDAP relationship %s, is %s and will not turn active: delete it if it is still there, then run again",
					a.ID, roleLabel(w.RoleID), w.GroupName, o.res.Relationship.ID, a.Status)
			}
		}
	}
	return pending, nil
}

// lastAssignmentUpdate returns the newest access assignment update among
// ops whose roles include roleID. Its data names the roles, not the
// assignment; the newest is the one the last Assign started, as a re-run
// starts a new one for a role still missing.
func lastAssignmentUpdate(ops []graph.DelegatedAdminRelationshipOperation, roleID string) (graph.DelegatedAdminRelationshipOperation, bool) {
	var last graph.DelegatedAdminRelationshipOperation
	found := false
	for _, op := range ops {
		if op.OperationType != graph.OperationAccessAssignmentUpdate || (found && op.CreatedDateTime.Before(last.CreatedDateTime)) {
			continue
		}
		var data struct{ AccessDetails graph.DelegatedAdminAccess }
		if json.Unmarshal([]byte(op.Data), &data) != nil ||
			!slices.ContainsFunc(data.AccessDetails.UnifiedRoles, func(r graph.UnifiedRole) bool { return strings.EqualFold(r.RoleDefinitionID, roleID) }) {
			continue
		}
		last, found = op, true
	}
	return last, found
}

// notPropagated reports whether err is AADSTS65001 (consent required),
// which right after a consent means it has not reached every sign-in
// server yet: "it can take some time for the consent to propagate"
// (https://learn.microsoft.com/partner-center/developer/control-panel-vendor-apis).
func notPropagated(err error) bool { return errors.Is(err, token.ErrConsentRequired) }

// retryNotPropagated runs try until it does not fail with AADSTS65001, at
// most ConsentAttempts times, pausing with doubling waits in between.
func (o *onboarding) retryNotPropagated(ctx context.Context, step OnboardStep, try func() error) error {
	wait := o.ConsentBackoff
	for attempt := 1; ; attempt++ {
		err := try()
		if !notPropagated(err) || attempt == o.ConsentAttempts {
			return err
		}
		o.emit(step, StepWaiting, fmt.Sprintf("the consent has not reached every sign-in server yet (AADSTS65001): attempt %d of %d in %v",
			attempt+1, o.ConsentAttempts, wait), nil)
		if err := o.Sleep(ctx, wait); err != nil {
			return err
		}
		wait *= 2
	}
}

// consent pushes the SAM app's CPV consent to the customer.
func (o *onboarding) consent(ctx context.Context) error {
	o.emit(OnboardConsent, StepStarted, "", nil)
	var r PushResult
	err := o.retryNotPropagated(ctx, OnboardConsent, func() error {
		rs, err := o.p.PushConsent(ctx, []string{o.res.Customer}, PushOptions{Manifest: o.Manifest})
		if len(rs) == 1 {
			r = rs[0]
		}
		return err
	})
	if err != nil {
		return o.fail(OnboardConsent, err)
	}
	o.res.Consent = &r
	if r.PartnerConsent == ConsentAlreadyExisted && r.GrantsCreated+r.GrantsUpdated+r.AssignmentsCreated == 0 {
		o.emit(OnboardConsent, StepAlreadyDone, "the SAM app is consented", nil)
		return nil
	}
	o.emit(OnboardConsent, StepDone, pushSummary(r), nil)
	return nil
}

// pushSummary says what a consent push did in a tenant, leaving out what it
// did not have to do: "created; 2 app roles assigned".
func pushSummary(r PushResult) string {
	parts := []string{string(r.PartnerConsent)}
	for _, c := range []struct {
		n    int
		what string
	}{{r.GrantsCreated, "grants added"}, {r.GrantsUpdated, "grants completed"}, {r.AssignmentsCreated, "app roles assigned"}} {
		if c.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c.n, c.what))
		}
	}
	return strings.Join(parts, "; ")
}

// check checks access in the customer. It only reads, so it always runs;
// it reports StepAlreadyDone when every step before it was found done.
func (o *onboarding) check(ctx context.Context) error {
	o.emit(OnboardCheck, StepStarted, "", nil)
	var tr TenantResult
	err := o.retryNotPropagated(ctx, OnboardCheck, func() error {
		rep, err := o.p.Check(ctx, []Tenant{{ID: o.res.Customer, DisplayName: o.res.Relationship.Customer.DisplayName}}, CheckOptions{Checks: o.Checks})
		if err != nil {
			return err
		}
		if rep.Stopped != nil {
			return rep.Stopped.Err
		}
		if len(rep.Tenants) != 1 {
			return fmt.Errorf("sam: the access check reported %d tenants, not 1", len(rep.Tenants))
		}
		tr = rep.Tenants[0]
		for _, c := range tr.Checks {
			switch {
			case c.OK():
			case c.Err != nil:
				return c.Err
			default:
				return fmt.Errorf("sam: %s %s: %s", c.Check, c.Outcome, c.Message)
			}
		}
		return nil
	})
	if tr.Checks != nil {
		o.res.Access = &tr
	}
	if err != nil {
		return o.fail(OnboardCheck, fmt.Errorf("%w: %w", ErrOnboardCheckFailed, err))
	}
	names := make([]string, len(tr.Checks))
	for i, c := range tr.Checks {
		names[i] = string(c.Check)
	}
	status := StepDone
	if o.allAlreadyDone() {
		status = StepAlreadyDone
	}
	o.emit(OnboardCheck, status, "passed: "+strings.Join(names, ", "), nil)
	return nil
}
