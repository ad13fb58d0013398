package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/samkit/samkit/sam"
)

// consentPlanFlags are the flags consent plan and consent apply share.
type consentPlanFlags struct {
	all         bool
	filter      tenantFilter
	concurrency int
	manifest    string
	prune       bool
}

func (f *consentPlanFlags) flags(c *cobra.Command, prune string) {
	c.Flags().BoolVar(&f.all, "all", false, "every customer tenant")
	f.filter.flags(c)
	c.Flags().IntVar(&f.concurrency, "concurrency", sam.DefaultConcurrency, "tenants read at once")
	c.Flags().StringVar(&f.manifest, "manifest", "", "permissions beyond samctl's defaults (JSON, as an app's requiredResourceAccess)")
	c.Flags().BoolVar(&f.prune, "prune", false, prune)
}

// run checks the arguments, as consent push does, and calls do with the
// tenants and the manifest.
func (f *consentPlanFlags) run(a *app, c *cobra.Command, args []string, do func(context.Context, *session, []sam.Tenant, sam.Manifest) error) error {
	switch {
	case f.all && len(args) > 0:
		return usageError{err: errors.New("name tenants or use --all, not both"), cmd: c.CommandPath()}
	case !f.all && len(args) == 0:
		return usageError{err: errors.New("name at least one tenant, or use --all"), cmd: c.CommandPath()}
	case !f.all && (len(f.filter.include) > 0 || len(f.filter.exclude) > 0):
		return usageError{err: errors.New("--tenant and --exclude go with --all; without it, name the tenants as arguments"), cmd: c.CommandPath()}
	case f.concurrency < 0:
		return usageError{err: fmt.Errorf("--concurrency %d is negative", f.concurrency), cmd: c.CommandPath()}
	}
	list, err := f.filter.options(c)
	if err != nil {
		return err
	}
	m, err := loadManifest(f.manifest)
	if err != nil {
		return err
	}
	ctx := c.Context()
	s, tenants, _, err := a.sessionTenants(ctx, list, args, sam.WithConcurrency(f.concurrency))
	if err != nil {
		return err
	}
	return do(ctx, s, tenants, m)
}

// sessionTenants opens the session and lists the tenants, those named
// when any are, printing the listing's warnings unless the output is JSON.
// When the listing fails, the session comes with the error. opts are the
// Partner's options (the command's concurrency).
func (a *app) sessionTenants(ctx context.Context, list sam.ListOptions, named []string, opts ...sam.Option) (*session, []sam.Tenant, []string, error) {
	s, err := a.session(ctx, opts...)
	if err != nil {
		return nil, nil, nil, err
	}
	tenants, warnings, err := s.listTenants(ctx, list)
	if err != nil {
		return s, nil, nil, err
	}
	if len(named) > 0 {
		if tenants, err = pick(tenants, named); err != nil {
			return nil, nil, nil, err
		}
	}
	if !a.jsonOut {
		for _, w := range warnings {
			printf(a.stderr, "warning: %s\n", w)
		}
	}
	return s, tenants, warnings, nil
}

func (f *consentPlanFlags) options(m sam.Manifest) sam.ConsentPlanOptions {
	return sam.ConsentPlanOptions{Manifest: m, Prune: f.prune}
}

func (a *app) consentPlanCommand() *cobra.Command {
	var f consentPlanFlags
	c := &cobra.Command{
		Use:   "plan <tenant>... | --all",
		Short: "Show, per tenant, how the SAM app's consent differs from the manifest",
		Long: `plan reads, in each customer tenant, the SAM app's delegated grants and
application permissions, and shows how they differ from the manifest:
grants to add, scopes to add to an existing grant, application permissions
to assign, and with --prune what the app holds beyond the manifest. It
changes nothing; "samctl consent apply" does what it shows.

The exit code is 0 when there is nothing to apply, 1 when a tenant differs
or could not be read.`,
		Example: `  samctl consent plan --all
  samctl consent plan contoso.onmicrosoft.com --prune
  samctl consent plan --all -o json | jq '.tenants[] | select(.scopesToAdd)'`,
		RunE: func(c *cobra.Command, args []string) error {
			return f.run(a, c, args, func(ctx context.Context, s *session, tenants []sam.Tenant, m sam.Manifest) error {
				plan, err := s.sp.PlanConsent(ctx, tenants, f.options(m))
				if err != nil && plan == nil {
					return err
				}
				return a.writePlan(tenants, plan, f.prune)
			})
		},
	}
	f.flags(c, "also show what the SAM app holds beyond the manifest, which apply --prune removes")
	return c
}

func (a *app) consentApplyCommand() *cobra.Command {
	var f consentPlanFlags
	c := &cobra.Command{
		Use:   "apply <tenant>... | --all",
		Short: "Make the SAM app's consent in each tenant what the manifest says",
		Long: `apply does what "samctl consent plan" shows, concurrently: it pushes the
consent a tenant lacks (as "samctl consent push" does, completing grants
and assigning application permissions), with --prune removes what the app
holds beyond the manifest, and reads each tenant's consent back to verify
it. A tenant already as the manifest says is not written to, so applying
twice changes nothing.

The exit code is 0 when every tenant was verified, 1 otherwise.`,
		Example: `  samctl consent apply --all
  samctl consent apply contoso.onmicrosoft.com --prune`,
		RunE: func(c *cobra.Command, args []string) error {
			return f.run(a, c, args, func(ctx context.Context, s *session, tenants []sam.Tenant, m sam.Manifest) error {
				res, err := s.sp.ApplyConsent(ctx, tenants, f.options(m))
				if err != nil && res == nil {
					return err
				}
				return a.writeApplied(tenants, res)
			})
		},
	}
	f.flags(c, "also remove what the SAM app holds beyond the manifest (extra scopes, grants, application permissions)")
	return c
}

// planTenantJSON is one tenant of consent plan's JSON.
type planTenantJSON struct {
	sam.ConsentDrift
	Name  string `json:"name"`
	Error string `json:"error,omitzero"`
	Hint  string `json:"hint,omitzero"`
}

func planTenantOf(t sam.Tenant, d sam.ConsentDrift, prune bool) planTenantJSON {
	if !prune {
		d.ScopesToRemove, d.GrantsToRemove, d.RolesToRemove = nil, nil, nil
	}
	out := planTenantJSON{ConsentDrift: d, Name: t.DisplayName}
	if d.Err != nil {
		out.Error, out.Hint = oneLine(d.Err), fixFor(d.Err)
	}
	return out
}

func (a *app) writePlan(tenants []sam.Tenant, plan []sam.ConsentDrift, prune bool) error {
	var out struct {
		OK      bool             `json:"ok"`
		Tenants []planTenantJSON `json:"tenants"`
	}
	out.OK, out.Tenants = true, []planTenantJSON{}
	differ := 0
	for i, d := range plan {
		p := planTenantOf(tenants[i], d, prune)
		if d.Err != nil || p.Missing() || p.Extra() {
			out.OK = false
			differ++
		}
		out.Tenants = append(out.Tenants, p)
	}
	if a.jsonOut {
		if err := a.printJSON(out); err != nil {
			return err
		}
	} else {
		for i, p := range out.Tenants {
			writeTenantPlan(a.stdout, tenants[i], p)
		}
		printf(a.stdout, "\n%s, %d to change\n", plural(len(plan), "tenant", "tenants"), differ)
	}
	if !out.OK {
		return silentFailure{code: exitFailed}
	}
	return nil
}

func writeTenantPlan(w io.Writer, t sam.Tenant, p planTenantJSON) {
	switch {
	case p.Err != nil:
		printf(w, "%s %s: %s\n", markFail, t.Label(), reason(p.Err))
		if p.Hint != "" {
			printf(w, "    fix: %s\n", p.Hint)
		}
		return
	case !p.Missing() && !p.Extra():
		printf(w, "%s %s: as the manifest says\n", markOK, t.Label())
		return
	}
	printf(w, "%s %s:\n", markFail, t.Label())
	if p.NoServicePrincipal {
		printLine(w, "  the SAM app is not consented here")
	}
	for _, g := range p.GrantsToAdd {
		printf(w, "  + grant on %s: %s\n", g.Resource, strings.Join(g.Scopes, " "))
	}
	for _, g := range p.ScopesToAdd {
		printf(w, "  + scopes on %s: %s\n", g.Resource, strings.Join(g.Scopes, " "))
	}
	for _, r := range p.RolesToAdd {
		printf(w, "  + application permission on %s: %s\n", r.Resource, orDash(r.Name))
	}
	for _, g := range p.ScopesToRemove {
		printf(w, "  - scopes on %s: %s\n", g.Resource, strings.Join(g.Scopes, " "))
	}
	for _, g := range p.GrantsToRemove {
		printf(w, "  - grant on %s: %s\n", g.Resource, strings.Join(g.Scopes, " "))
	}
	for _, r := range p.RolesToRemove {
		printf(w, "  - application permission on %s: %s\n", r.Resource, r.AppRoleID)
	}
}

// appliedJSON is one tenant of consent apply's JSON.
type appliedJSON struct {
	TenantID string           `json:"tenantId"`
	Name     string           `json:"name"`
	Changed  bool             `json:"changed"`
	Added    int              `json:"added"`
	Removed  int              `json:"removed"`
	Verified bool             `json:"verified"`
	Before   sam.ConsentDrift `json:"before"`
	Error    string           `json:"error,omitzero"`
	Hint     string           `json:"hint,omitzero"`
}

func (a *app) writeApplied(tenants []sam.Tenant, res []sam.ConsentApplied) error {
	var out struct {
		OK      bool          `json:"ok"`
		Tenants []appliedJSON `json:"tenants"`
	}
	out.OK, out.Tenants = true, []appliedJSON{}
	for i, r := range res {
		j := appliedJSON{TenantID: r.Tenant, Name: tenants[i].DisplayName, Removed: r.Removed, Before: r.Before, Verified: r.Err == nil}
		if r.Pushed != nil {
			j.Added = r.Pushed.GrantsCreated + r.Pushed.GrantsUpdated + r.Pushed.AssignmentsCreated
		}
		j.Changed = r.Pushed != nil || r.Removed > 0
		if r.Err != nil {
			out.OK = false
			j.Error, j.Hint = oneLine(r.Err), fixFor(r.Err)
		}
		out.Tenants = append(out.Tenants, j)
	}
	if a.jsonOut {
		if err := a.printJSON(out); err != nil {
			return err
		}
	} else {
		failed := 0
		for i, j := range out.Tenants {
			switch {
			case j.Error != "":
				failed++
				printf(a.stdout, "%s %s: %s\n", markFail, tenants[i].Label(), reason(res[i].Err))
				if j.Hint != "" {
					printf(a.stdout, "    fix: %s\n", j.Hint)
				}
			case j.Changed:
				printf(a.stdout, "%s %s: %d added, %d removed, verified\n", markOK, tenants[i].Label(), j.Added, j.Removed)
			default:
				printf(a.stdout, "%s %s: nothing to change\n", markOK, tenants[i].Label())
			}
		}
		printf(a.stdout, "\n%s, %d failed\n", plural(len(res), "tenant", "tenants"), failed)
	}
	if !out.OK {
		return silentFailure{code: exitFailed}
	}
	return nil
}
