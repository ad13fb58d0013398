package main

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/samkit/samkit/sam"
)

func (a *app) tenantsCommand() *cobra.Command {
	var filter tenantFilter
	c := &cobra.Command{
		Use:   "tenants",
		Short: "List the customer tenants",
		Long: `tenants lists the partner's customer tenants from its active GDAP
relationships, its contracts and Partner Center's customer list, merged by
tenant id, with the sources that name each one.

A source that cannot be read is reported and the exit code is 1; the
tenants the other sources listed are still printed.`,
		Example: `  samctl tenants
  samctl tenants --include-mlt --json | jq -r '.tenants[].id'`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			list, err := filter.options(c)
			if err != nil {
				return err
			}
			return a.tenants(c.Context(), list)
		},
	}
	filter.flags(c)
	return c
}

func (a *app) tenants(ctx context.Context, opts sam.ListOptions) error {
	s, err := a.session(ctx)
	if err != nil {
		return err
	}
	tenants, warnings, err := s.listTenants(ctx, opts)
	if err != nil {
		return err
	}
	if a.jsonOut {
		if tenants == nil {
			tenants = []sam.Tenant{}
		}
		err = a.printJSON(struct {
			Tenants  []sam.Tenant `json:"tenants"`
			Warnings []string     `json:"warnings,omitempty"`
		}{tenants, warnings})
	} else {
		writeTenants(a, tenants, warnings)
	}
	if err == nil && len(warnings) > 0 {
		return silentFailure{code: exitFailed}
	}
	return err
}

func writeTenants(a *app, tenants []sam.Tenant, warnings []string) {
	tw := table(a.stdout)
	printLine(tw, "NAME\tTENANT ID\tDOMAIN\tSOURCES")
	for _, t := range tenants {
		sources := make([]string, len(t.Sources))
		for i, s := range t.Sources {
			sources[i] = string(s)
		}
		name := orDash(t.DisplayName)
		if t.ReadOnlyMLT {
			name += " (MLT only)"
		}
		printf(tw, "%s\t%s\t%s\t%s\n", name, t.ID, orDash(t.DefaultDomain), strings.Join(sources, ","))
	}
	tw.Flush()
	printf(a.stdout, "\n%s\n", plural(len(tenants), "tenant", "tenants"))
	for _, w := range warnings {
		printf(a.stderr, "warning: %s\n", w)
	}
}
