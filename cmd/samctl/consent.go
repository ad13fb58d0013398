package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/samkit/samkit/internal/httpx"
	"github.com/samkit/samkit/sam"
)

func (a *app) consentCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "consent",
		Short: "Manage the SAM app's consent in customer tenants",
		Long: `consent groups the commands that install the SAM app in customer tenants:
push consents it; plan shows how each tenant's consent differs from the
manifest, and apply makes it so.`,
		Example: `  samctl consent push contoso.onmicrosoft.com
  samctl consent push --all
  samctl consent plan --all
  samctl consent apply --all`,
		Args: subcommandArgs,
		RunE: func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	c.AddCommand(a.consentPushCommand(), a.consentPlanCommand(), a.consentApplyCommand())
	return c
}

func (a *app) consentPushCommand() *cobra.Command {
	var (
		all         bool
		filter      tenantFilter
		concurrency int
		manifest    string
	)
	c := &cobra.Command{
		Use:   "push <tenant>... | --all",
		Short: "Consent the SAM app in customer tenants (CPV consent)",
		Long: `push consents the SAM app in customer tenants as a Control Panel Vendor:
Partner Center installs the app and grants its delegated permissions, then
its application permissions are assigned inside each tenant. It is the fix
for AADSTS65001 (consent required) in "samctl check", and pushing again
changes nothing that is already in place.

Name the tenants (id or domain; a domain is looked up in the tenant list,
an id that no list names yet is consented all the same), or use --all for
every customer tenant.`,
		Example: `  samctl consent push 1c8f0e9a-6b7e-4b1f-9d0c-2f3a4b5c6d7e
  samctl consent push fabrikam.onmicrosoft.com contoso.onmicrosoft.com
  samctl consent push --all --exclude litware.onmicrosoft.com`,
		RunE: func(c *cobra.Command, args []string) error {
			switch {
			case all && len(args) > 0:
				return usageError{err: errors.New("name tenants or use --all, not both"), cmd: c.CommandPath()}
			case !all && len(args) == 0:
				return usageError{err: errors.New("name at least one tenant, or use --all"), cmd: c.CommandPath()}
			case !all && (len(filter.include) > 0 || len(filter.exclude) > 0):
				return usageError{err: errors.New("--tenant and --exclude go with --all; without it, name the tenants as arguments"), cmd: c.CommandPath()}
			}
			list, err := filter.options(c)
			if err != nil {
				return err
			}
			m, err := loadManifest(manifest)
			if err != nil {
				return err
			}
			return a.consentPush(c.Context(), list, args, m, concurrency)
		},
	}
	c.Flags().BoolVar(&all, "all", false, "every customer tenant")
	filter.flags(c)
	c.Flags().IntVar(&concurrency, "concurrency", sam.DefaultPushConcurrency, "tenants consented at once")
	c.Flags().StringVar(&manifest, "manifest", "", "permissions to consent beyond samctl's defaults (JSON, as an app's requiredResourceAccess)")
	return c
}

// pushJSON is a consent push in --json output.
type pushJSON struct {
	OK      bool             `json:"ok"`
	Results []pushResultJSON `json:"results"`
}

type pushResultJSON struct {
	TenantID           string `json:"tenantId"`
	Tenant             string `json:"tenant"`
	PartnerConsent     string `json:"partnerConsent,omitempty"`
	GrantsCreated      int    `json:"grantsCreated"`
	GrantsUpdated      int    `json:"grantsUpdated"`
	AssignmentsCreated int    `json:"assignmentsCreated"`
	Error              string `json:"error,omitempty"`
	Hint               string `json:"hint,omitempty"`
}

func (a *app) consentPush(ctx context.Context, list sam.ListOptions, named []string, m sam.Manifest, concurrency int) error {
	var opts []sam.Option
	if concurrency > 0 {
		opts = append(opts, sam.WithConcurrency(concurrency))
	}
	s, err := a.session(ctx, opts...)
	if err != nil {
		return err
	}
	tenants, warnings, err := s.listTenants(ctx, list)
	if err != nil {
		return err
	}
	if len(named) > 0 {
		if tenants, err = pick(tenants, named); err != nil {
			return err
		}
	}
	for _, w := range warnings {
		printf(a.stderr, "warning: %s\n", w)
	}
	results, err := a.push(ctx, s, tenants, m)
	if err != nil {
		return err
	}
	failed := writePushResults(a, tenants, results)
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case failed > 0 || len(warnings) > 0:
		return silentFailure{code: exitFailed}
	}
	return nil
}

// pick finds the named tenants in the list, by id or domain. A tenant id
// that no list names is kept: a customer who has just signed may not be
// listed yet, and Partner Center knows it by id.
func pick(listed []sam.Tenant, named []string) ([]sam.Tenant, error) {
	var out []sam.Tenant
	for _, n := range named {
		i := slices.IndexFunc(listed, func(t sam.Tenant) bool {
			return strings.EqualFold(t.ID, n) || slices.ContainsFunc(t.Domains, func(d string) bool { return strings.EqualFold(d, n) })
		})
		switch {
		case i >= 0:
			out = append(out, listed[i])
		case httpx.IsGUID(n):
			out = append(out, sam.Tenant{ID: strings.ToLower(n)})
		default:
			return nil, withFix(fmt.Errorf("no customer tenant has the domain %q", n), "check the domain with 'samctl tenants', or give the tenant id")
		}
	}
	return out, nil
}

// push consents the app in tenants, showing progress. Each tenant's
// failure is in its result; the error is for a push that could not start.
func (a *app) push(ctx context.Context, s *session, tenants []sam.Tenant, m sam.Manifest) ([]sam.PushResult, error) {
	ids := make([]string, len(tenants))
	for i, t := range tenants {
		ids[i] = t.ID
	}
	bar := a.progress(len(ids), "consenting")
	done, failed := 0, 0
	results, err := s.sp.PushConsent(ctx, ids, sam.PushOptions{
		Manifest: m,
		Progress: func(r sam.PushResult) {
			done++
			if r.Err != nil {
				failed++
			}
			bar.set(done, failed)
		},
	})
	bar.finish()
	if results != nil {
		return results, nil
	}
	return nil, err
}

// pushJSONOf describes the consent of each tenant.
func pushJSONOf(tenants []sam.Tenant, results []sam.PushResult) pushJSON {
	out := pushJSON{OK: true, Results: []pushResultJSON{}}
	for i, r := range results {
		t := tenants[i]
		rj := pushResultJSON{TenantID: t.ID, Tenant: t.DisplayName, PartnerConsent: string(r.PartnerConsent),
			GrantsCreated: r.GrantsCreated, GrantsUpdated: r.GrantsUpdated, AssignmentsCreated: r.AssignmentsCreated}
		if r.Err != nil {
			out.OK = false
			rj.Error, rj.Hint = oneLine(r.Err), fixFor(r.Err)
		}
		out.Results = append(out.Results, rj)
	}
	return out
}

// writePushResults prints each tenant's consent and returns how many
// failed.
func writePushResults(a *app, tenants []sam.Tenant, results []sam.PushResult) int {
	out := pushJSONOf(tenants, results)
	failed := 0
	for _, r := range out.Results {
		if r.Error != "" {
			failed++
		}
	}
	if a.jsonOut {
		_ = a.printJSON(out)
		return failed
	}
	for i, r := range out.Results {
		if results[i].Err == nil {
			printf(a.stdout, "%s %s: %s\n", markOK, orDash(r.Tenant), pushSummary(results[i]))
			continue
		}
		printf(a.stdout, "%s %s: %s\n", markFail, orDash(r.Tenant), reason(results[i].Err))
		if r.Hint != "" {
			printf(a.stdout, "    fix: %s\n", r.Hint)
		}
	}
	printf(a.stdout, "\n%s, %d consented, %d failed\n", plural(len(results), "tenant", "tenants"), len(results)-failed, failed)
	return failed
}

func pushSummary(r sam.PushResult) string {
	s := "consented"
	if r.PartnerConsent == sam.ConsentAlreadyExisted {
		s = "already consented"
	}
	if n := r.GrantsCreated + r.GrantsUpdated + r.AssignmentsCreated; n > 0 {
		s += fmt.Sprintf(" (%d grants or assignments added)", n)
	}
	return s
}

// loadManifest is samctl's manifest: sam's default, plus the file's
// permissions when one is given.
func loadManifest(path string) (sam.Manifest, error) {
	m := sam.DefaultManifest()
	if path == "" {
		return m, nil
	}
	extra, err := readManifest(path)
	if err != nil {
		return sam.Manifest{}, err
	}
	return m.Merge(extra), nil
}
