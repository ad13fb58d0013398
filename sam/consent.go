package sam

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/partner"
)

// Pushing consent makes the SAM app usable in a customer tenant. Partner
// Center's application consent (the CPV consent) creates the app's service
// principal there and grants its delegated permissions for all users;
// application permissions have no place in it, so they are then assigned
// inside the customer tenant through Microsoft Graph, as the partner admin
// acting through the SAM app. Both halves check what exists first, so
// pushing again changes nothing.
// https://learn.microsoft.com/partner-center/developer/control-panel-vendor-apis

// PushOptions configures Partner.PushConsent.
type PushOptions struct {
	// Manifest is what to consent; the zero Manifest means DefaultManifest().
	Manifest Manifest
	// DisplayName names the consent in Partner Center; DefaultDisplayName
	// when empty.
	DisplayName string
	// Progress, if set, receives each tenant's result as it is known,
	// one call at a time.
	Progress func(PushResult)
}

// ConsentState says what Partner Center did with a consent.
type ConsentState string

// The states of a Partner Center consent.
const (
	ConsentCreated        ConsentState = "created"
	ConsentAlreadyExisted ConsentState = "already-existed"
)

// PushResult reports the consent of the SAM app in one customer tenant.
type PushResult struct {
	Tenant string
	// PartnerConsent is what the CPV consent did; "" if it was not made.
	PartnerConsent ConsentState
	// GrantsCreated and GrantsUpdated count delegated grants made or
	// completed in the tenant beyond what the CPV consent made;
	// AssignmentsCreated counts application permissions assigned.
	GrantsCreated, GrantsUpdated, AssignmentsCreated int
	// Err is why the tenant's consent is incomplete; nil when done.
	Err error
}

// ErrCannotAssignRoles means the SAM app's delegated permissions in the
// customer tenant do not allow assigning application permissions: the
// manifest needs one that does.
var ErrCannotAssignRoles = errors.New("sam: the SAM app may not assign application permissions in the customer tenant")

// DefaultPushConcurrency is how many tenants Partner.PushConsent works on
// at once unless WithConcurrency says otherwise.
const DefaultPushConcurrency = 4

func (o PushOptions) withDefaults() (PushOptions, error) {
	if len(o.Manifest.Resources) == 0 {
		o.Manifest = DefaultManifest()
	}
	if err := o.Manifest.Validate(); err != nil {
		return o, fmt.Errorf("sam: PushOptions.Manifest: %w", err)
	}
	if o.DisplayName == "" {
		o.DisplayName = DefaultDisplayName
	}
	return o, nil
}

// pushing is one PushConsent call: its options and what every tenant's
// push shares.
type pushing struct {
	PushOptions
	p     *Partner
	appID string
	pc    *partner.Client
}

// PushConsent consents the SAM app in each customer tenant of tenants (ids):
// the CPV consent through Partner Center, then, inside the tenant, any
// delegated grant the consent lacks and every application permission. It
// is idempotent. Tenants are worked on concurrently (WithConcurrency,
// DefaultPushConcurrency by default), and one that fails does not stop
// the others.
//
// The results are in the order of tenants, each with its Err. The error
// joins those of the tenants that failed; when the options are wrong it
// is the only answer and the results are nil.
func (p *Partner) PushConsent(ctx context.Context, tenants []string, opts PushOptions) ([]PushResult, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	pc, err := p.partnerCenter()
	if err != nil {
		return nil, err
	}
	run := &pushing{PushOptions: o, p: p, appID: p.p.ApplicationID(), pc: pc}
	conc := p.concurrency
	if conc == 0 {
		conc = DefaultPushConcurrency
	}
	out := make([]PushResult, len(tenants))
	var (
		wg       sync.WaitGroup
		progress sync.Mutex
	)
	sem := make(chan struct{}, conc)
	for i, t := range tenants {
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
				out[i] = run.one(ctx, t)
			case <-ctx.Done():
				out[i] = PushResult{Tenant: t, Err: ctx.Err()}
			}
			if o.Progress != nil {
				progress.Lock()
				defer progress.Unlock()
				o.Progress(out[i])
			}
		})
	}
	wg.Wait()
	var errs []error
	for _, r := range out {
		errs = append(errs, r.Err)
	}
	return out, errors.Join(errs...)
}

func (o *pushing) one(ctx context.Context, tenant string) PushResult {
	res := PushResult{Tenant: tenant}
	if err := o.push(ctx, &res); err != nil {
		res.Err = fmt.Errorf("sam: consent in tenant %s: %w", tenant, err)
	}
	return res
}

func (o *pushing) push(ctx context.Context, res *PushResult) error {
	consent := partner.ApplicationConsent{ApplicationID: o.appID, DisplayName: o.DisplayName}
	for _, r := range o.Manifest.Resources {
		if len(r.Delegated) == 0 {
			continue
		}
		g := partner.ApplicationGrant{EnterpriseApplicationID: r.ResourceAppID}
		for _, p := range r.Delegated {
			g.Scopes = append(g.Scopes, p.Name)
		}
		consent.Grants = append(consent.Grants, g)
	}
	cr, err := o.pc.CreateApplicationConsent(ctx, res.Tenant, consent)
	if err != nil {
		return fmt.Errorf("the Partner Center application consent: %w", err)
	}
	res.PartnerConsent = ConsentCreated
	if cr.AlreadyExisted {
		res.PartnerConsent = ConsentAlreadyExisted
	}

	g, err := o.p.graph(res.Tenant)
	if err != nil {
		return err
	}
	if res.PartnerConsent == ConsentCreated {
		// The consent has just made the service principal: reads of it
		// may miss it for a few seconds.
		g.MarkCreated(o.appID)
	}
	client, err := g.ServicePrincipalByAppID(ctx, o.appID)
	if err != nil {
		return fmt.Errorf("reading the SAM app's service principal: %w", err)
	}
	grants, err := graph.Collect(g.OAuth2PermissionGrants(ctx, client.ID))
	if err != nil {
		return fmt.Errorf("reading the SAM app's delegated grants: %w", err)
	}
	assignments, err := graph.Collect(g.AppRoleAssignments(ctx, client.ID))
	if err != nil {
		return fmt.Errorf("reading the SAM app's application permissions: %w", err)
	}
	for _, r := range o.Manifest.Resources {
		rsp, err := g.ServicePrincipalByAppID(ctx, r.ResourceAppID)
		if err != nil {
			return fmt.Errorf("reading the service principal of %s: %w", r.label(), err)
		}
		if len(r.Delegated) > 0 {
			if err := pushGrant(ctx, g, client, rsp, r, grants, res); err != nil {
				return err
			}
		}
		for _, p := range r.Application {
			if slices.ContainsFunc(assignments, func(a graph.AppRoleAssignment) bool {
				return a.ResourceID == rsp.ID && strings.EqualFold(a.AppRoleID, p.ID)
			}) {
				continue
			}
			_, err := g.AssignAppRole(ctx, rsp.ID, graph.AppRoleAssignment{PrincipalID: client.ID, AppRoleID: p.ID})
			if errors.Is(err, graph.ErrForbidden) {
				return fmt.Errorf("%w: assigning %s on %s was refused (%w); add a delegated permission that allows it, such as AppRoleAssignment.ReadWrite.All on Microsoft Graph, to the manifest, run setup again, then push consent again",
					ErrCannotAssignRoles, p, r.label(), err)
			}
			if err != nil {
				return fmt.Errorf("assigning application permission %s on %s: %w", p, r.label(), err)
			}
			res.AssignmentsCreated++
		}
	}
	return nil
}

// pushGrant completes the app's AllPrincipals grant on a resource, which
// the CPV consent normally made whole already.
func pushGrant(ctx context.Context, g *graph.Client, client, rsp graph.ServicePrincipal, r ResourceAccess, grants []graph.OAuth2PermissionGrant, res *PushResult) error {
	i := slices.IndexFunc(grants, func(gr graph.OAuth2PermissionGrant) bool {
		return gr.ResourceID == rsp.ID && gr.ConsentType == graph.ConsentAllPrincipals
	})
	if i < 0 {
		if _, err := g.CreateOAuth2PermissionGrant(ctx, graph.OAuth2PermissionGrant{ClientID: client.ID,
			ConsentType: graph.ConsentAllPrincipals, ResourceID: rsp.ID, Scope: r.GrantScope()}); err != nil {
			return fmt.Errorf("granting the delegated permissions on %s: %w", r.label(), err)
		}
		res.GrantsCreated++
		return nil
	}
	scopes, changed := mergeScopes(grants[i].Scopes(), r.Delegated)
	if !changed {
		return nil
	}
	if err := g.UpdateOAuth2PermissionGrantScope(ctx, grants[i].ID, strings.Join(scopes, " ")); err != nil {
		return fmt.Errorf("adding delegated permissions on %s: %w", r.label(), err)
	}
	res.GrantsUpdated++
	return nil
}
