package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/samkit/samkit/exchange"
	"github.com/samkit/samkit/sam"
)

// allChecks are the checks --checks accepts, in the order they run.
var allChecks = []sam.Check{sam.CheckDelegatedGraph, sam.CheckDelegatedExchange, sam.CheckAppGraph, sam.CheckPartnerCenter}

func parseChecks(names []string) (sam.Checks, error) {
	var c sam.Checks
	for _, n := range names {
		switch sam.Check(strings.TrimSpace(n)) {
		case sam.CheckDelegatedGraph:
			c.DelegatedGraph = true
		case sam.CheckDelegatedExchange:
			c.DelegatedExchange = true
		case sam.CheckAppGraph:
			c.AppGraph = true
		case sam.CheckPartnerCenter:
			c.PartnerCenter = true
		default:
			return c, fmt.Errorf("unknown check %q: use %s", n, joinChecks(allChecks))
		}
	}
	return c, nil
}

func joinChecks(cs []sam.Check) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = string(c)
	}
	return strings.Join(s, ", ")
}

// tenantFilter is the --tenant, --exclude and --include-mlt flags that
// check, tenants and consent push share.
type tenantFilter struct {
	include, exclude []string
	mlt              bool
}

func (f *tenantFilter) flags(c *cobra.Command) {
	c.Flags().StringSliceVar(&f.include, "tenant", nil, "only these tenants (id or domain; repeat or separate with commas)")
	c.Flags().StringSliceVar(&f.exclude, "exclude", nil, "leave out these tenants (id or domain)")
	c.Flags().BoolVar(&f.mlt, "include-mlt", false, "also list tenants reached only through Microsoft-led transition (MLT_) relationships")
}

// options checks the flags and returns them as sam's list options. An
// empty --tenant is refused: it would otherwise select every tenant.
func (f *tenantFilter) options(c *cobra.Command) (sam.ListOptions, error) {
	for _, flag := range []struct {
		name    string
		entries []string
	}{{"tenant", f.include}, {"exclude", f.exclude}} {
		empty := c.Flags().Changed(flag.name) && len(flag.entries) == 0
		for _, e := range flag.entries {
			empty = empty || strings.TrimSpace(e) == ""
		}
		if empty {
			return sam.ListOptions{}, usageError{err: withFix(fmt.Errorf("--%s is empty", flag.name),
				"name a tenant by id or domain (samctl tenants lists them), or leave the flag out"), cmd: c.CommandPath()}
		}
	}
	return sam.ListOptions{Include: f.include, Exclude: f.exclude, IncludeMLT: f.mlt}, nil
}

func (a *app) checkCommand() *cobra.Command {
	var (
		filter      tenantFilter
		checks      []string
		concurrency int
		exoAPI      string
	)
	c := &cobra.Command{
		Use:   "check",
		Short: "Check access to every customer tenant",
		Long: `check lists the customer tenants (GDAP relationships, contracts and Partner
Center) and checks, in each, that the SAM app gets a token and that the
token works: a Graph read and Exchange's Get-OrganizationConfig, as the
partner's admin. Each failure comes with the service's error code and what
to do about it; the last line is the old test script's summary.

--exchange-api chooses the Exchange admin API: beta (InvokeCommand, which
Exchange.Manage opens; the default) or v2 (the Exchange Online Admin API
v2.0, in preview, whose tokens need Exchange.ManageV2).

The exit code is 0 only when every check passed.`,
		Example: `  samctl check
  samctl check --tenant contoso.onmicrosoft.com --tenant 1c8f…
  samctl check --checks delegated-graph,app-graph,partner-center --concurrency 64
  samctl check --exchange-api v2
  samctl check --json | jq '.failures[] | [.tenant, .code] | @tsv'`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			cs, err := parseChecks(checks)
			if err != nil {
				return usageError{err: err, cmd: c.CommandPath()}
			}
			if concurrency < 0 {
				return usageError{err: fmt.Errorf("--concurrency %d is negative", concurrency), cmd: c.CommandPath()}
			}
			api, err := exchange.ParseAPI(exoAPI)
			if err != nil {
				return usageError{err: withFix(fmt.Errorf("--exchange-api %q is unknown", exoAPI), "use v2 or beta"), cmd: c.CommandPath()}
			}
			list, err := filter.options(c)
			if err != nil {
				return err
			}
			return a.check(c.Context(), list, cs, concurrency, api)
		},
	}
	filter.flags(c)
	c.Flags().StringSliceVar(&checks, "checks", []string{string(sam.CheckDelegatedGraph), string(sam.CheckDelegatedExchange)},
		"checks to run: "+joinChecks(allChecks))
	c.Flags().IntVar(&concurrency, "concurrency", sam.DefaultConcurrency, "tenants checked at once")
	c.Flags().StringVar(&exoAPI, "exchange-api", "beta", "Exchange admin API the check calls: v2 (Admin API v2.0) or beta (InvokeCommand)")
	_ = c.RegisterFlagCompletionFunc("exchange-api", fixedCompletion("v2", "beta"))
	names := make([]string, len(allChecks))
	for i, k := range allChecks {
		names[i] = string(k)
	}
	_ = c.RegisterFlagCompletionFunc("checks", fixedCompletion(names...))
	return c
}

func (a *app) check(ctx context.Context, list sam.ListOptions, checks sam.Checks, concurrency int, api exchange.API) error {
	s, err := a.session(ctx, sam.WithConcurrency(concurrency))
	if err != nil {
		return err
	}
	tenants, warnings, err := s.listTenants(ctx, list)
	if err != nil {
		return err
	}
	if !a.jsonOut {
		for _, w := range warnings {
			printf(a.stderr, "warning: %s\n", w)
		}
		printf(a.stderr, "Checking %s…\n", plural(len(tenants), "tenant", "tenants"))
	}
	rep, err := a.runCheck(ctx, s, tenants, checks, api)
	if err != nil && rep == nil {
		return err
	}
	reqs, toks := s.counter.Requests(), s.counter.TokenRequests()
	if rep.Stopped != nil && !a.jsonOut {
		// The credentials were refused: no tenant's row would say more
		// than that failure, told once.
		return rep.Stopped.Err
	}
	if a.jsonOut {
		if jerr := a.printJSON(reportJSON(rep, reqs, toks, warnings)); jerr != nil {
			return jerr
		}
	} else {
		writeReport(a.stdout, rep, nil)
	}
	switch {
	case err != nil:
		return err
	case rep.Stopped != nil:
		return rep.Stopped.Err
	case !rep.OK() || len(warnings) > 0:
		return silentFailure{code: exitFailed}
	}
	return nil
}

// runCheck runs the session's Partner.Check with a progress display,
// through the Exchange admin API api (the default when empty).
func (a *app) runCheck(ctx context.Context, s *session, tenants []sam.Tenant, checks sam.Checks, api exchange.API) (*sam.AccessReport, error) {
	bar := a.progress(len(tenants), "checking")
	failed := 0
	rep, err := s.sp.Check(ctx, tenants, sam.CheckOptions{
		Checks: checks, ExchangeAPI: api,
		Progress: func(r sam.TenantResult, done, _ int) {
			if r.Failed() {
				failed++
			}
			bar.set(done, failed)
		},
	})
	bar.finish()
	return rep, err
}
