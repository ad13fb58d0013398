package sam

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/internal/httpx"
	"github.com/samkit/samkit/partner"
)

// Offboarding a customer undoes onboarding: the SAM app's CPV consent is
// removed from the customer (while the relationships still give the
// partner rights there), then the partner's relationships with it end.

// OffboardKind names what an offboarding action does.
type OffboardKind string

// The kinds of offboarding actions, in the order they run.
const (
	// OffboardRemoveConsent removes the SAM app's CPV consent.
	OffboardRemoveConsent OffboardKind = "remove-consent"
	// OffboardTerminate ends a relationship (deletes one still created).
	OffboardTerminate OffboardKind = "terminate-relationship"
)

// The states of an offboarding action.
const (
	// OffboardToDo: the action will be taken (a plan's answer).
	OffboardToDo = "to-do"
	// OffboardDone: this run took it.
	OffboardDone = "done"
	// OffboardAlreadyDone: nothing was left to do.
	OffboardAlreadyDone = "already-done"
	// OffboardLeft: the action cannot be taken; Detail says why.
	OffboardLeft = "left"
	// OffboardFailed: the action failed; Err says why.
	OffboardFailed = "failed"
)

// OffboardAction is one thing an offboarding does.
type OffboardAction struct {
	Kind OffboardKind `json:"kind"`
	// Target is the relationship's id, or the SAM app's application id.
	Target string `json:"target"`
	// Name is the relationship's display name.
	Name string `json:"name,omitzero"`
	// Status is the relationship's status as read, before the action.
	Status string `json:"status,omitzero"`
	State  string `json:"state"`
	Detail string `json:"detail,omitzero"`
	Err    error  `json:"-"`
}

// OffboardPlan is what offboarding customer does, or did.
type OffboardPlan struct {
	Customer string           `json:"customer"`
	Actions  []OffboardAction `json:"actions"`
}

// ToDo counts the actions still to take.
func (p OffboardPlan) ToDo() int {
	n := 0
	for _, a := range p.Actions {
		if a.State == OffboardToDo || a.State == OffboardFailed {
			n++
		}
	}
	return n
}

// PlanOffboard says what Offboard would do for customer, changing
// nothing: remove the SAM app's consent if the app is there, and end each
// of the partner's relationships with the customer that is created or
// active.
func (p *Partner) PlanOffboard(ctx context.Context, customer string) (OffboardPlan, error) {
	if !httpx.IsGUID(customer) {
		return OffboardPlan{}, fmt.Errorf("sam: customer %q is not a tenant id (a GUID): give the customer's tenant id", customer)
	}
	plan := OffboardPlan{Customer: strings.ToLower(customer), Actions: []OffboardAction{}}
	consent := OffboardAction{Kind: OffboardRemoveConsent, Target: p.p.ApplicationID(), State: OffboardToDo}
	if g, err := p.graph(customer); err != nil {
		return plan, err
	} else if _, err := g.ServicePrincipalByAppID(ctx, consent.Target); errors.Is(err, graph.ErrNotFound) {
		consent.State, consent.Detail = OffboardAlreadyDone, "the SAM app is not in the customer's tenant"
	} else if err != nil {
		// Without rights in the tenant the app cannot be looked for;
		// Partner Center still removes the consent, or says there is none.
		consent.Detail = "could not look for the SAM app in the tenant (" + firstLine(err.Error()) + "); Partner Center will be asked to remove it"
	}
	plan.Actions = append(plan.Actions, consent)
	g, err := p.graph(p.p.TenantID())
	if err != nil {
		return plan, err
	}
	for rel, err := range g.DelegatedAdminRelationships(ctx, "") {
		if err != nil {
			return plan, fmt.Errorf("listing GDAP relationships: %w", err)
		}
		if !strings.EqualFold(rel.Customer.TenantID, customer) {
			continue
		}
		a := OffboardAction{Kind: OffboardTerminate, Target: rel.ID, Name: rel.DisplayName, Status: rel.Status, State: OffboardAlreadyDone}
		switch rel.Status {
		case graph.RelationshipCreated, graph.RelationshipActive:
			a.State = OffboardToDo
		case graph.RelationshipApprovalPending:
			a.State, a.Detail = OffboardLeft, "awaits the customer's approval: a partner cannot withdraw it; unapproved, it lapses after 90 days"
		}
		plan.Actions = append(plan.Actions, a)
	}
	return plan, nil
}

// Offboard removes the SAM app's CPV consent from customer and ends the
// partner's relationships with it, as PlanOffboard lists them, reporting
// each action to progress (when set) as it is taken. Run again, it finds
// everything done. The error joins the failed actions'.
func (p *Partner) Offboard(ctx context.Context, customer string, progress func(OffboardAction)) (OffboardPlan, error) {
	plan, err := p.PlanOffboard(ctx, customer)
	if err != nil {
		return plan, err
	}
	pc, err := p.partnerCenter()
	if err != nil {
		return plan, err
	}
	d, err := p.GDAP()
	if err != nil {
		return plan, err
	}
	var errs []error
	for i := range plan.Actions {
		a := &plan.Actions[i]
		if a.State != OffboardToDo {
			continue
		}
		switch a.Kind {
		case OffboardRemoveConsent:
			err = pc.DeleteApplicationConsent(ctx, plan.Customer, a.Target)
			if errors.Is(err, partner.ErrNotFound) {
				a.State, a.Detail, err = OffboardAlreadyDone, "Partner Center holds no consent of the SAM app for the customer", nil
			}
		case OffboardTerminate:
			var rel graph.DelegatedAdminRelationship
			if rel, err = d.Terminate(ctx, a.Target); err == nil && rel.Status != "" {
				a.Detail = "now " + rel.Status
			}
		}
		switch {
		case err != nil:
			a.State, a.Err = OffboardFailed, err
			errs = append(errs, fmt.Errorf("offboarding %s, %s %s: %w", plan.Customer, a.Kind, a.Target, err))
		case a.State == OffboardToDo:
			a.State = OffboardDone
		}
		if progress != nil {
			progress(*a)
		}
		if ctx.Err() != nil {
			return plan, ctx.Err()
		}
	}
	return plan, errors.Join(errs...)
}
