package sam

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/samkit/samkit/graph"
)

// ConsentPlanOptions configures Partner.PlanConsent and
// Partner.ApplyConsent. The SAM app, the partner tenant (through whose
// Partner Center ApplyConsent consents), the concurrency
// (DefaultConcurrency when not set) and the logger are the Partner's.
type ConsentPlanOptions struct {
	// Manifest is what the app should hold in every tenant; the zero
	// Manifest means DefaultManifest().
	Manifest Manifest
	// Prune makes ApplyConsent remove what the SAM app holds beyond the
	// manifest: extra scopes, grants on other resources, other app roles.
	Prune bool
}

func (o ConsentPlanOptions) withDefaults() (ConsentPlanOptions, error) {
	if len(o.Manifest.Resources) == 0 {
		o.Manifest = DefaultManifest()
	}
	return o, o.Manifest.Validate()
}

// PlanConsent reads the SAM app's consent in each of tenants, concurrently,
// and returns, in the order of the tenants, what each lacks and holds
// beyond the manifest. It costs one Graph request per tenant. A tenant
// that cannot be read has its ConsentDrift.Err set.
func (p *Partner) PlanConsent(ctx context.Context, tenants []Tenant, opts ConsentPlanOptions) ([]ConsentDrift, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	r, appID := p.newRun(Checks{DelegatedGraph: true}, ""), p.p.ApplicationID()
	out := make([]ConsentDrift, len(tenants))
	eachIndex(ctx, p.concurrency, len(tenants), func(i int) {
		out[i] = r.consentDrift(ctx, tenants[i].ID, appID, o.Manifest)
	})
	for i := range out {
		if out[i].Tenant == "" {
			out[i] = ConsentDrift{Tenant: tenants[i].ID, Err: ctx.Err()}
		}
	}
	return out, ctx.Err()
}

// ConsentApplied is what ApplyConsent did in one tenant.
type ConsentApplied struct {
	Tenant string `json:"tenant"`
	// Before is the plan it applied; After the consent read back.
	Before ConsentDrift `json:"before"`
	After  ConsentDrift `json:"after"`
	// Pushed is the consent pushed when something was missing.
	Pushed *PushResult `json:"pushed,omitzero"`
	// Removed counts the grants, scopes and assignments pruned.
	Removed int `json:"removed"`
	// Err is why the tenant is not as the manifest says; nil when it is.
	Err error `json:"-"`
}

// readBackWaits are the pauses before the second and third reads of the
// consent after a change: Graph's directory replicates writes within
// seconds, so an immediate read may miss one.
// https://learn.microsoft.com/graph/best-practices-concept#handling-expected-errors
var readBackWaits = []time.Duration{2 * time.Second, 5 * time.Second}

// ApplyConsent plans the consent in each of tenants, then, concurrently,
// pushes what a tenant lacks (PushConsent, which completes grants and
// assigns app roles), removes with Prune what it holds beyond the
// manifest, and reads the consent back to verify it. Tenants without
// drift are not written to, so applying twice changes nothing.
func (p *Partner) ApplyConsent(ctx context.Context, tenants []Tenant, opts ConsentPlanOptions) ([]ConsentApplied, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	push, err := PushOptions{Manifest: o.Manifest}.withDefaults()
	if err != nil {
		return nil, err
	}
	pc, err := p.partnerCenter()
	if err != nil {
		return nil, err
	}
	ps := &pushing{PushOptions: push, p: p, appID: p.p.ApplicationID(), pc: pc}
	r := p.newRun(Checks{DelegatedGraph: true}, "")
	out := make([]ConsentApplied, len(tenants))
	eachIndex(ctx, p.concurrency, len(tenants), func(i int) {
		out[i] = r.applyConsent(ctx, o, ps, tenants[i].ID)
	})
	for i := range out {
		if out[i].Tenant == "" {
			out[i] = ConsentApplied{Tenant: tenants[i].ID, Err: ctx.Err()}
		}
	}
	return out, ctx.Err()
}

func (r *run) applyConsent(ctx context.Context, o ConsentPlanOptions, push *pushing, tenant string) ConsentApplied {
	res := ConsentApplied{Tenant: tenant}
	res.Before = r.consentDrift(ctx, tenant, push.appID, o.Manifest)
	res.After = res.Before
	if res.Err = res.Before.Err; res.Err != nil {
		return res
	}
	changed := false
	if res.Before.Missing() {
		p := push.one(ctx, tenant)
		res.Pushed, changed = &p, true
		if res.Err = p.Err; res.Err != nil {
			return res
		}
		res.After = r.consentDrift(ctx, tenant, push.appID, o.Manifest)
		if res.Err = res.After.Err; res.Err != nil {
			return res
		}
	}
	if o.Prune && res.After.Extra() {
		n, err := r.prune(ctx, tenant, o.Manifest, res.After)
		res.Removed, changed = n, true
		if err != nil {
			res.Err = fmt.Errorf("sam: pruning the consent in tenant %s: %w", tenant, err)
			return res
		}
	}
	if !changed {
		return res
	}
	// Read back until the consent is as planned, or the waits run out.
	for i := 0; ; i++ {
		res.After = r.consentDrift(ctx, tenant, push.appID, o.Manifest)
		ok := res.After.Err == nil && !res.After.Missing() && !(o.Prune && res.After.Extra())
		if ok {
			return res
		}
		if i == len(readBackWaits) || res.After.Err != nil {
			break
		}
		t := time.NewTimer(readBackWaits[i])
		select {
		case <-ctx.Done():
			t.Stop()
			res.Err = ctx.Err()
			return res
		case <-t.C:
		}
	}
	res.Err = res.After.Err
	if res.Err == nil {
		res.Err = fmt.Errorf("sam: the consent in tenant %s still differs from the manifest after applying: run the plan again to see what", tenant)
	}
	return res
}

// prune removes what d holds beyond the manifest m. Scopes to remove are
// removed from a grant that, after the push, holds every scope m names
// on its resource, so the grant keeps exactly those.
func (r *run) prune(ctx context.Context, tenant string, m Manifest, d ConsentDrift) (int, error) {
	src := r.p.Source(tenant, r.cloud.Graph.Scope())
	g, err := graph.New(src, r.graphOpts...)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range d.ScopesToRemove {
		ra, _ := m.Resource(c.ResourceAppID)
		if err := g.UpdateOAuth2PermissionGrantScope(ctx, c.GrantID, ra.GrantScope()); err != nil {
			return n, fmt.Errorf("removing %s from the grant on %s: %w", strings.Join(c.Scopes, " "), c.Resource, err)
		}
		n += len(c.Scopes)
	}
	for _, c := range d.GrantsToRemove {
		if err := g.DeleteOAuth2PermissionGrant(ctx, c.GrantID); err != nil {
			return n, fmt.Errorf("removing the grant on %s: %w", c.Resource, err)
		}
		n++
	}
	for _, c := range d.RolesToRemove {
		if err := g.DeleteAppRoleAssignment(ctx, d.ServicePrincipalID, c.AssignmentID); err != nil {
			return n, fmt.Errorf("removing app role %s on %s: %w", c.AppRoleID, c.Resource, err)
		}
		n++
	}
	return n, nil
}
