package sam

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/samkit/samkit/graph"
	"github.com/samkit/samkit/internal/httpx"
	"github.com/samkit/samkit/partner"
	"github.com/samkit/samkit/token"
)

// Pushing consent makes the SAM app usable in a customer tenant. Partner
// Center's application consent (the CPV consent) creates the app's service
// principal there and grants its delegated permissions for all users;
// application permissions have no place in it, so they are then assigned
// inside the customer tenant through Microsoft Graph, as the partner admin
// acting through the SAM app. Both halves check what exists first, so
// pushing again changes nothing.
// https://learn.microsoft.com/partner-center/developer/control-panel-vendor-apis

// PushOptions configures PushConsent and PushConsents.
type PushOptions struct {
	// Provider holds the SAM app's credentials (refresh token included).
	// Build it with token.WithRefreshTokenStore so rotations are kept.
	Provider *token.Provider
	// TenantID is the partner tenant and ApplicationID the SAM app: the
	// Credentials the Provider was built from.
	TenantID, ApplicationID string
	// Manifest is what to consent; the zero Manifest means DefaultManifest().
	Manifest Manifest
	// DisplayName names the consent in Partner Center; DefaultDisplayName
	// when empty.
	DisplayName string
	// Concurrency bounds how many tenants PushConsents works on at once;
	// 4 when zero.
	Concurrency int
	// Progress, if set, receives each tenant's result as it is known,
	// one call at a time.
	Progress func(PushResult)
	// Logger receives debug logs of every request, secrets redacted.
	Logger *slog.Logger
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

// DefaultPushConcurrency is how many tenants PushConsents works on at once.
const DefaultPushConcurrency = 4

func (o PushOptions) withDefaults() (PushOptions, error) {
	if o.Provider == nil {
		return o, errors.New("sam: PushOptions.Provider is nil")
	}
	if err := httpx.ValidTenant(o.TenantID); err != nil {
		return o, fmt.Errorf("sam: PushOptions.TenantID: %w", err)
	}
	if !httpx.IsGUID(o.ApplicationID) {
		return o, fmt.Errorf("sam: PushOptions.ApplicationID %q is not a GUID", o.ApplicationID)
	}
	if len(o.Manifest.Resources) == 0 {
		o.Manifest = DefaultManifest()
	}
	if err := o.Manifest.Validate(); err != nil {
		return o, fmt.Errorf("sam: PushOptions.Manifest: %w", err)
	}
	if o.DisplayName == "" {
		o.DisplayName = DefaultDisplayName
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultPushConcurrency
	}
	return o, nil
}

// PushConsent consents the SAM app in one customer tenant: the CPV consent
// through Partner Center, then, inside the tenant, any delegated grant the
// consent lacks and every application permission. It is idempotent. The
// error is also the result's Err.
func PushConsent(ctx context.Context, opts PushOptions, customerTenantID string) (PushResult, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return PushResult{Tenant: customerTenantID, Err: err}, err
	}
	pc, err := newPushPartner(o)
	if err != nil {
		return PushResult{Tenant: customerTenantID, Err: err}, err
	}
	res := pushOne(ctx, o, pc, customerTenantID)
	if o.Progress != nil {
		o.Progress(res)
	}
	return res, res.Err
}

// PushConsents runs PushConsent for each tenant, Concurrency at a time,
// and returns the results in the order of tenants. An error in one tenant
// does not stop the others.
func PushConsents(ctx context.Context, opts PushOptions, tenants []string) ([]PushResult, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	pc, err := newPushPartner(o)
	if err != nil {
		return nil, err
	}
	out := make([]PushResult, len(tenants))
	var (
		wg       sync.WaitGroup
		progress sync.Mutex
	)
	sem := make(chan struct{}, o.Concurrency)
	for i, t := range tenants {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
				out[i] = pushOne(ctx, o, pc, t)
			case <-ctx.Done():
				out[i] = PushResult{Tenant: t, Err: ctx.Err()}
			}
			if o.Progress != nil {
				progress.Lock()
				defer progress.Unlock()
				o.Progress(out[i])
			}
		}()
	}
	wg.Wait()
	return out, nil
}

func newPushPartner(o PushOptions) (*partner.Client, error) {
	c := o.Provider.Cloud()
	opts := []partner.Option{partner.WithCloud(c), partner.WithHTTPClient(o.Provider.HTTPClient())}
	if o.Logger != nil {
		opts = append(opts, partner.WithLogger(o.Logger))
	}
	return partner.New(o.Provider.Source(o.TenantID, c.PartnerCenter.Scope()), opts...)
}

func pushOne(ctx context.Context, o PushOptions, pc *partner.Client, tenant string) PushResult {
	res := PushResult{Tenant: tenant}
	if err := pushConsent(ctx, o, pc, &res); err != nil {
		res.Err = fmt.Errorf("sam: consent in tenant %s: %w", tenant, err)
	}
	return res
}

func pushConsent(ctx context.Context, o PushOptions, pc *partner.Client, res *PushResult) error {
	consent := partner.ApplicationConsent{ApplicationID: o.ApplicationID, DisplayName: o.DisplayName}
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
	cr, err := pc.CreateApplicationConsent(ctx, res.Tenant, consent)
	if err != nil {
		return fmt.Errorf("the Partner Center application consent: %w", err)
	}
	res.PartnerConsent = ConsentCreated
	if cr.AlreadyExisted {
		res.PartnerConsent = ConsentAlreadyExisted
	}

	c := o.Provider.Cloud()
	gopts := []graph.Option{graph.WithCloud(c), graph.WithHTTPClient(o.Provider.HTTPClient())}
	if o.Logger != nil {
		gopts = append(gopts, graph.WithLogger(o.Logger))
	}
	g, err := graph.New(o.Provider.Source(res.Tenant, c.Graph.Scope()), gopts...)
	if err != nil {
		return err
	}
	if res.PartnerConsent == ConsentCreated {
		// The consent has just made the service principal: reads of it
		// may miss it for a few seconds.
		g.MarkCreated(o.ApplicationID)
	}
	client, err := g.ServicePrincipalByAppID(ctx, o.ApplicationID)
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
